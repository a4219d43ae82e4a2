import EventLog
import Hummingbird
import NIOCore
import Projections
import Prometheus
import Synchronization

/// The Prometheus metrics of GET /metrics (SPEC §7): events, append latency, projection lag and
/// each team's queue depth and breached tickets. Queue gauges are refreshed at each scrape.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let events: Counter
    private let appendDuration: DurationHistogram
    private let lag: Gauge
    private let countedSeq = Mutex<UInt64>(0)

    init() {
        events = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "ledgerdesk", metricName: "events", unitName: "total", helpText: "Events in the log."))
        appendDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "ledgerdesk", metricName: "append_duration", unitName: "seconds",
                                             helpText: "Time from submitting an append to its durable acknowledgement."),
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1)])
        lag = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "ledgerdesk", metricName: "projection_lag", unitName: "events",
            helpText: "Events in the log the projections have not applied yet."))
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
        let now = backend.clock()
        let queues = backend.projections.read { $0.queues(at: now) }
        for queue in queues {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "ledgerdesk", metricName: "queue_depth", unitName: "",
                                                                helpText: "Tickets awaiting an agent in the team's queue."),
                               labels: [("team", queue.team)]).set(Double(queue.depth))
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "ledgerdesk", metricName: "queue_breached", unitName: "",
                                                                helpText: "Tickets in the team's queue with a breached SLA."),
                               labels: [("team", queue.team)]).set(Double(queue.breached))
        }
        return registry.emitToBuffer()
    }
}
