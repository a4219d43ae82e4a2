import Dispatch
import EventLog
import NATSClient
import Synchronization

/// The leader's side of the replicated log: the ``LogReplicator`` the log's writer hands each
/// commit group to. It publishes the group's events to the JetStream stream, each with
/// `Nats-Expected-Last-Sequence` = its seq - 1 (so a deposed leader's writes are refused by
/// JetStream itself) and `Nats-Msg-Id` = its hash (so a repeated publish is stored once), and
/// returns once JetStream has stored them all on a quorum.
///
/// It refuses every group while this node does not lead, and once its lease's validity has run
/// out (a leader paused past its lease finds it lapsed when it resumes). Any failure to store a
/// group steps the node down: it follows the stream again (where part of the group may be) and
/// leads again only from the stream's head.
package final class StreamReplicator: LogReplicator {
    private struct State {
        var stream: JetStream?
        var leading = false
        var validUntil = ContinuousClock.now
        /// Why the node last stepped down (for the refusals' detail).
        var reason = "this node has not taken the lead"
        /// The last seq JetStream acknowledged to this node.
        var lastStored: UInt64 = 0
    }

    private let configuration: ClusterConfiguration
    private let state = Mutex(State())
    /// Longest a group waits for JetStream's acknowledgements before the node steps down.
    private let publishTimeout: Duration

    package init(configuration: ClusterConfiguration, publishTimeout: Duration = .seconds(5)) {
        self.configuration = configuration
        self.publishTimeout = publishTimeout
    }

    /// Whether the node leads now (and its lease is still valid).
    package var isLeading: Bool {
        state.withLock { $0.leading && ContinuousClock.now < $0.validUntil }
    }

    /// The last seq JetStream stored for this node's writes (0 before any).
    var lastStoredSeq: UInt64 { state.withLock { $0.lastStored } }

    func attach(_ stream: JetStream) { state.withLock { $0.stream = stream } }

    /// Leads until `validUntil` (moved on by each refresh of the lease).
    func lead(until validUntil: ContinuousClock.Instant) {
        state.withLock {
            $0.leading = true
            $0.validUntil = validUntil
        }
    }

    /// Stops leading at once (no group is stored after this returns, save one already publishing).
    func stepDown(_ reason: String) {
        state.withLock {
            $0.leading = false
            $0.reason = reason
        }
    }

    package func replicate(_ events: [ReplicatedEvent]) throws(EventLogError) {
        let refusal = state.withLock { s -> String? in
            guard s.leading else { return s.reason }
            guard ContinuousClock.now < s.validUntil else {
                s.leading = false
                s.reason = "the lease of \(configuration.node) lapsed"
                return s.reason
            }
            return s.stream == nil ? "not connected to JetStream" : nil
        }
        if let refusal { throw .replicationFailed("\(configuration.node) does not lead the cluster (\(refusal))") }
        guard !events.isEmpty, let stream = state.withLock({ $0.stream }) else { return }
        // A message over the servers' max_payload would be refused after the group's first
        // events went out: refuse the group whole, before anything is published (the node
        // still leads; the NATS servers' `max_payload` should be raised, docs/operations.md).
        let limit = stream.connection.maximumPayload - 512
        let frames = events.map { $0.encoded() }
        if let (event, frame) = zip(events, frames).first(where: { $0.1.count > limit }) {
            throw .replicationFailed(
                "event \(event.seq) is \(frame.count) bytes, over what the NATS servers take in one message (max_payload \(limit + 512))")
        }
        let publications = zip(events, frames).map { event, frame in
            configuration.publication(of: event, frame: frame)
        }
        // The writer's own thread waits here (never a thread of Swift's pool): one group at a
        // time is on its way, as one commit at a time is.
        let answers = Mutex<[Result<PubAck, JetStreamError>]?>(nil)
        let done = DispatchSemaphore(value: 0)
        let timeout = publishTimeout
        Task {
            let results = await stream.publishAll(publications, timeout: timeout)
            answers.withLock { $0 = results }
            done.signal()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        guard done.wait(timeout: .now() + seconds + 2) == .success, let results = answers.withLock({ $0 }) else {
            return try fail("JetStream did not answer in time")
        }
        for (event, result) in zip(events, results) {
            switch result {
            case .success(let ack) where ack.sequence == event.seq:
                continue
            case .success(let ack):
                return try fail("JetStream stored seq \(event.seq) at sequence \(ack.sequence)")
            case .failure(let error):
                if error.isWrongLastSequence {
                    return try fail("the stream holds events this node has not applied (another node led meanwhile)")
                }
                return try fail("JetStream refused seq \(event.seq): \(error)")
            }
        }
        if results.count != events.count { return try fail("JetStream answered \(results.count) of \(events.count) events") }
        if let last = events.last?.seq { state.withLock { $0.lastStored = max($0.lastStored, last) } }
    }

    private func fail(_ reason: String) throws(EventLogError) {
        stepDown(reason)
        throw .replicationFailed("\(configuration.node) stepped down: \(reason)")
    }
}
