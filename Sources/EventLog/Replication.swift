/// One event as a replicated log carries it: the record exactly as the log stores it (seq,
/// stream, version, envelope, `recorded`, `prev`, `hash`) and the idempotency entries that the
/// request it ends wrote, so that a retry of that request answers the same on every node.
///
/// A leader's writer hands these to its ``LogReplicator`` before it commits them; a follower
/// writes them with ``EventStore/applyReplicated(_:)``, which checks the chain as `verify` does.
public struct ReplicatedEvent: Sendable, Equatable {
    /// The event's position in the log.
    public var seq: UInt64
    /// The event's chain hash.
    public var hash: EventHash
    /// The stored record (the bytes the log keeps under `seq`).
    public var record: [UInt8]
    /// The idempotency entries written with the request this event ends (usually none or one).
    public var idempotency: [IdempotencyEntry]

    /// An idempotency key's stored first answer, as the log keeps it.
    public struct IdempotencyEntry: Sendable, Equatable {
        /// The storage key (derived from the key the client sent).
        public var key: [UInt8]
        /// The stored record of the first answer.
        public var value: [UInt8]

        /// An entry of `key` holding `value`.
        public init(key: [UInt8], value: [UInt8]) {
            self.key = key
            self.value = value
        }
    }

    /// An event at `seq` with its stored record and idempotency entries.
    public init(seq: UInt64, hash: EventHash, record: [UInt8], idempotency: [IdempotencyEntry] = []) {
        self.seq = seq
        self.hash = hash
        self.record = record
        self.idempotency = idempotency
    }

    /// The frame a replicated log stores for the event: a format byte, the record, the entries.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.format]
        out.appendVarint(UInt64(record.count))
        out.append(contentsOf: record)
        out.appendVarint(UInt64(idempotency.count))
        for entry in idempotency {
            out.appendVarint(UInt64(entry.key.count))
            out.append(contentsOf: entry.key)
            out.appendVarint(UInt64(entry.value.count))
            out.append(contentsOf: entry.value)
        }
        return out
    }

    /// Reads a frame written by ``encoded()``; its seq and hash are the record's own. Throws
    /// ``EventLogError/corruptRecord(seq:reason:)`` (naming `expectedSeq`) for anything else.
    public init(decoding frame: [UInt8], expectedSeq: UInt64) throws(EventLogError) {
        func refuse(_ reason: String) -> EventLogError {
            .corruptRecord(seq: expectedSeq, reason: "the replicated log's frame \(reason)")
        }
        guard let (record, entries) = frame.withUnsafeBytes({ Self.fields(of: $0) }) else {
            throw refuse("is unreadable")
        }
        let decoded: EventRecord
        do {
            decoded = try record.withUnsafeBytes { raw throws(EventRecord.DecodingFailure) in try EventRecord(decoding: raw) }
        } catch {
            throw refuse("holds an unreadable record (\(error))")
        }
        guard decoded.seq == expectedSeq else { throw refuse("holds seq \(decoded.seq)") }
        self.init(seq: decoded.seq, hash: decoded.hash, record: record, idempotency: entries)
    }

    static let format: UInt8 = 1

    /// The record and entries of a frame, or nil when it is not one.
    private static func fields(of raw: UnsafeRawBufferPointer) -> ([UInt8], [IdempotencyEntry])? {
        var reader = ByteReader(raw)
        do {
            guard try reader.byte() == format else { return nil }
            let record = Array(try reader.bytes(count: Int(clamping: try reader.varint())))
            let count = try reader.varint()
            guard count <= 1024 else { return nil }
            var entries: [IdempotencyEntry] = []
            for _ in 0..<count {
                let key = Array(try reader.bytes(count: Int(clamping: try reader.varint())))
                let value = Array(try reader.bytes(count: Int(clamping: try reader.varint())))
                entries.append(IdempotencyEntry(key: key, value: value))
            }
            return reader.isAtEnd ? (record, entries) : nil
        } catch {
            return nil
        }
    }
}

/// The seam between the log's single writer and a replicated log that orders the writes of a
/// cluster (NATS JetStream in `supportd --cluster`; the lead's stream is the log).
///
/// The writer thread calls ``replicate(_:)`` with each commit group's new events, in seq order,
/// while the group's transaction is still open: the group commits locally only once the
/// replicated log has stored every one of its events, so a node's log is always a prefix of the
/// replicated one. A refusal aborts the group: nothing is committed here, its callers get the
/// error, and whatever part of the group the replicated log did store reaches this log again the
/// way a follower's events do (``EventStore/applyReplicated(_:)``).
public protocol LogReplicator: Sendable {
    /// Stores `events` (consecutive, the first one right after the replicated log's last) in the
    /// replicated log, or throws ``EventLogError/replicationFailed(_:)``. Called on the writer's
    /// own thread, which it may block (never on Swift's cooperative pool).
    func replicate(_ events: [ReplicatedEvent]) throws(EventLogError)
}
