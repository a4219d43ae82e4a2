import EventLog
import Hummingbird
import NIOCore
import Projections
import Prometheus
import SupportDomain
import SupportService
import Synchronization

/// The Prometheus metrics of GET /metrics (SPEC §7): events, append latency, projection lag and
/// each team's queue depth and breached tickets. Queue gauges are refreshed at each scrape.
///
/// Team labels are bounded: the `teamLimit` teams with the deepest queues are labelled one by
/// one, the others summed under `team="(other)"`, and the gauges of a team that is no longer
/// labelled (it left, or fell to the rest) are dropped, so a desk with many or short-lived teams
/// does not grow the exposition without end.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let events: Counter
    private let appendDuration: DurationHistogram
    private let lag: Gauge
    private let longPolls: Gauge
    private let countedSeq = Mutex<UInt64>(0)
    /// Teams labelled one by one at most.
    let teamLimit: Int
    /// The gauges registered per label value. Keyed by `String` (canonical equivalence) as the
    /// registry keys its series: teams spelled `é` and `e\u{301}` share one series, summed.
    private let teamGauges = Mutex<[String: TeamGauges]>([:])

    private struct TeamGauges {
        var depth: Gauge
        var breached: Gauge
    }

    /// The label of the teams beyond ``teamLimit`` (a team of that name is always summed there).
    static let otherTeams = "(other)"

    private static var depthDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "ledgerdesk", metricName: "queue_depth", unitName: "",
            helpText: "Tickets awaiting an agent in the team's queue.")
    }
    private static var breachedDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "ledgerdesk", metricName: "queue_breached", unitName: "",
            helpText: "Tickets in the team's queue with a breached SLA.")
    }

    init(teamLimit: Int) {
        self.teamLimit = max(0, teamLimit)
        events = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "ledgerdesk", metricName: "events", unitName: "total", helpText: "Events in the log."))
        appendDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "ledgerdesk", metricName: "append_duration", unitName: "seconds",
                helpText: "Time from submitting an append to its durable acknowledgement."),
            buckets: [
                .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1),
            ])
        lag = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "ledgerdesk", metricName: "projection_lag", unitName: "events",
                helpText: "Events in the log the projections have not applied yet."))
        longPolls = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "ledgerdesk", metricName: "long_polls_waiting", unitName: "",
                helpText: "Requests to GET /v1/events waiting for new events (capped by --max-long-polls)."))
    }

    /// Records one append's latency.
    func recordAppend(_ duration: Duration) {
        appendDuration.record(duration)
    }

    /// The Prometheus text exposition, with the gauges brought up to date.
    func render(backend: SupportBackend) -> [UInt8] {
        let head = (try? backend.store.head.seq) ?? 0
        let delta = countedSeq.withLock { counted -> UInt64 in
            defer { counted = max(counted, head) }
            return head > counted ? head - counted : 0
        }
        if delta > 0 { events.increment(by: Int64(delta)) }
        lag.set(Double(head - min(head, backend.projections.appliedSeq)))
        longPolls.set(Double(backend.longPolls.inUse))
        let now = backend.clock()
        let queues = backend.projections.read { $0.queues(at: now) }
        let labelled = Self.labelled(queues.map { ($0.team, $0.depth, $0.breached) }, limit: teamLimit)
        var sums: [String: (depth: Int, breached: Int)] = [:]
        for (team, depth, breached) in labelled {
            let sum = sums[team] ?? (0, 0)
            sums[team] = (sum.depth + depth, sum.breached + breached)
        }
        teamGauges.withLock { gauges in
            var kept: [String: TeamGauges] = [:]
            for (team, sum) in sums {
                let g =
                    gauges[team]
                    ?? TeamGauges(
                        depth: registry.makeGauge(descriptor: Self.depthDescriptor, labels: [("team", team)]),
                        breached: registry.makeGauge(descriptor: Self.breachedDescriptor, labels: [("team", team)]))
                g.depth.set(Double(sum.depth))
                g.breached.set(Double(sum.breached))
                kept[team] = g
            }
            for (key, g) in gauges where kept[key] == nil {
                registry.unregisterGauge(g.depth)
                registry.unregisterGauge(g.breached)
            }
            gauges = kept
        }
        return registry.emitToBuffer()
    }

    /// The label values and their numbers: the `limit` teams with the deepest queues (then most
    /// breached, then by name), and when there are more, the rest summed under ``otherTeams``.
    static func labelled(_ queues: [(team: String, depth: Int, breached: Int)], limit: Int) -> [(team: String, depth: Int, breached: Int)] {
        let named = queues.filter { $0.team != otherTeams }
        guard named.count > limit || named.count < queues.count else { return queues }
        let ranked = named.sorted { a, b in
            if a.depth != b.depth { return a.depth > b.depth }
            if a.breached != b.breached { return a.breached > b.breached }
            return Identifier.precedes(a.team, b.team)
        }
        var result = Array(ranked.prefix(limit))
        var rest = (team: otherTeams, depth: 0, breached: 0)
        for q in ranked.dropFirst(limit) + queues.filter({ $0.team == otherTeams }) {
            rest.depth += q.depth
            rest.breached += q.breached
        }
        result.append(rest)
        return result
    }
}
