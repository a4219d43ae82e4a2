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
    /// A replicated desk's node: 1 while it leads, and how far its log is behind the stream.
    private let clusterLeader: Gauge
    private let clusterLag: Gauge
    private let longPolls: Gauge
    private let mailPending: Gauge
    /// The counters of ``MailCounters/outcomeTotals``, in its order.
    private let mailOutcomes: [Counter]
    private let mailCounted = Mutex<[Int]>([0, 0, 0])
    private let automationReactions: [Counter]
    private let automationCounted = Mutex<[Int]>(Array(repeating: 0, count: AutomationCounters.names.count))
    private let mailReceived = Mutex<[String: Counter]>([:])
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
        clusterLeader = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "ledgerdesk", metricName: "cluster_leader", unitName: "",
                helpText: "1 while this node leads its replicated desk (and a single node), 0 while it follows."))
        clusterLag = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "ledgerdesk", metricName: "cluster_stream_lag", unitName: "events",
                helpText: "Events the replicated log holds (as last seen) that this node's log does not yet (0 for a single node)."))
        longPolls = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "ledgerdesk", metricName: "long_polls_waiting", unitName: "",
                helpText: "Requests to GET /v1/events waiting for new events (capped by --max-long-polls)."))
        mailPending = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "ledgerdesk", metricName: "mail_outbox_pending", unitName: "",
                helpText: "Agent replies the mail outbox has not delivered or given up yet."))
        let sent = MetricNameDescriptor(
            namespace: "ledgerdesk", metricName: "mail_sent", unitName: "total",
            helpText: "Attempts of the mail outbox, by outcome (delivered, failed for good, failed for now).")
        let reactions = MetricNameDescriptor(
            namespace: "ledgerdesk", metricName: "automation_reactions", unitName: "total",
            helpText: "Reactions the automations appended to the log, by rule (docs/automations.md).")
        let registry = self.registry
        automationReactions = AutomationCounters.names.map { registry.makeCounter(descriptor: reactions, labels: [("rule", $0)]) }
        mailOutcomes = [
            registry.makeCounter(descriptor: sent, labels: [("outcome", "delivered")]),
            registry.makeCounter(descriptor: sent, labels: [("outcome", "failed")]),
            registry.makeCounter(descriptor: sent, labels: [("outcome", "deferred")]),
        ]
    }

    /// Counts one message taken by `POST /v1/mail`, by what became of it.
    func recordMail(outcome: String) {
        let counter = mailReceived.withLock { counters in
            if let c = counters[outcome] { return c }
            let c = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "ledgerdesk", metricName: "mail_received", unitName: "total",
                    helpText: "Messages handed to POST /v1/mail, by outcome (opened, appended, duplicate, ignored, bounce)."),
                labels: [("outcome", outcome)])
            counters[outcome] = c
            return c
        }
        counter.increment()
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
        let cluster = backend.cluster?.status
        clusterLeader.set(cluster.map { $0.leading ? 1.0 : 0.0 } ?? 1)
        let streamSeq = cluster?.streamSeq ?? head
        clusterLag.set(Double(streamSeq - min(streamSeq, head)))
        longPolls.set(Double(backend.longPolls.inUse))
        let mail = backend.mailCounters
        mailPending.set(Double(mail.pending.load(ordering: .relaxed)))
        mailCounted.withLock { counted in
            for (k, (counter, value)) in zip(mailOutcomes, mail.outcomeTotals).enumerated() {
                if value > counted[k] { counter.increment(by: Int64(value - counted[k])) }
                counted[k] = max(counted[k], value)
            }
        }
        automationCounted.withLock { counted in
            for (k, (counter, value)) in zip(automationReactions, backend.automationCounters.totals).enumerated() {
                if value > counted[k] { counter.increment(by: Int64(value - counted[k])) }
                counted[k] = max(counted[k], value)
            }
        }
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
