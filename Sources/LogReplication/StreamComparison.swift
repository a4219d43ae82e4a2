import EventLog
import NATSClient

/// Whether a node's log is a prefix of the replicated log: its head's event, byte for byte, is
/// the stream's message at that sequence. With `verify` having proven the node's chain, that
/// proves every earlier event equal too (each hash covers the one before).
package struct StreamComparison: Sendable, Equatable {
    /// The node's head.
    package var head: LogHead
    /// The stream's last sequence.
    package var streamLastSeq: UInt64
    /// Why the log is not the stream's prefix; nil when it is.
    package var mismatch: String?

    /// Compares `store`'s head with the stream `name`.
    package static func compare(_ store: EventStore, with stream: JetStream, name: String) async throws -> StreamComparison {
        let head = try store.head
        guard let info = try await stream.streamInfo(name) else {
            return StreamComparison(head: head, streamLastSeq: 0, mismatch: "there is no stream \(name)")
        }
        var comparison = StreamComparison(head: head, streamLastSeq: info.state.lastSequence, mismatch: nil)
        guard head.seq > 0 else { return comparison }
        guard head.seq <= info.state.lastSequence else {
            comparison.mismatch = "the log's head (seq \(head.seq)) is beyond the stream's last sequence \(info.state.lastSequence)"
            return comparison
        }
        guard let message = try await stream.message(stream: name, sequence: head.seq) else {
            comparison.mismatch = "the stream holds no message at sequence \(head.seq)"
            return comparison
        }
        let theirs = try ReplicatedEvent(decoding: message.payload, expectedSeq: head.seq)
        guard let mine = try store.replicatedEvents(after: head.seq - 1, limit: 1).first, mine.record == theirs.record else {
            comparison.mismatch = "event \(head.seq) differs from the stream's (hash \(head.hash.hex) here, \(theirs.hash.hex) there)"
            return comparison
        }
        return comparison
    }
}
