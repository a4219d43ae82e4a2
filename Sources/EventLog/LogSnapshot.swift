/// A consistent view of a log, as a store shows it to a read (``EventStoring/read(_:)``) or to an
/// append's precondition or decision.
///
/// Valid only during the closure that received it; do not keep it, and do not `await` while
/// holding it. A read sees the log up to the store's durable head; a precondition or decision
/// sees every committed event, including those of the same batch before it.
public struct LogSnapshot {
    enum Source {
        case lmdb(LMDBSnapshot)
        case memory(InMemoryLog)
    }

    let source: Source

    init(_ snapshot: LMDBSnapshot) { source = .lmdb(snapshot) }
    init(_ log: InMemoryLog) { source = .memory(log) }

    /// The last event's seq and hash (``LogHead/empty`` for an empty log).
    public func head() throws -> LogHead {
        switch source {
        case .lmdb(let s): try s.head()
        case .memory(let log): log.head
        }
    }

    /// The event at `seq`, or nil.
    public func event(seq: UInt64) throws -> RecordedEvent? {
        switch source {
        case .lmdb(let s): try s.event(seq: seq)
        case .memory(let log): log.event(seq: seq)
        }
    }

    /// Up to `limit` events with seq > `after`, in order.
    public func events(after: UInt64, limit: Int) throws -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        try forEachEvent(after: after) { event in
            out.append(event)
            return out.count < limit
        }
        return out
    }

    /// Calls `body` for each event with seq > `after`, in order, until it returns false.
    public func forEachEvent(after: UInt64, _ body: (RecordedEvent) throws -> Bool) throws {
        switch source {
        case .lmdb(let s): try s.forEachEvent(after: after, body)
        case .memory(let log): try log.forEachEvent(after: after, body)
        }
    }

    /// Calls `body` with each stored record with seq > `after`, in order, until it returns false:
    /// the seq it is stored under and its bytes (``StoredEventView``), valid only during the call.
    /// A log kept in memory hands each event encoded as the LMDB log stores it.
    package func forEachRecord(after: UInt64, _ body: (UInt64, UnsafeRawBufferPointer) throws -> Bool) throws {
        switch source {
        case .lmdb(let s): try s.forEachRecord(after: after, body)
        case .memory(let log):
            try log.forEachEvent(after: after) { event in
                try event.storedRecord.withUnsafeBytes { try body(event.seq, $0) }
            }
        }
    }

    /// What an idempotency key was first used for: the request's fingerprint, the stored answer
    /// and the last seq that request appended; nil when the key is unused (always, in a store
    /// that does not keep idempotency keys).
    ///
    /// The record is stored in the commit of its events and seen as soon as that commit is,
    /// which may be before it is durable: answer with it only once `lastSeq` is durable
    /// (``EventStoring/waitUntilDurable(_:)``).
    package func idempotencyRecord(
        key: String
    ) throws
        -> (fingerprint: [UInt8], stream: String, response: [UInt8]?, lastSeq: UInt64)?
    {
        switch source {
        case .lmdb(let s): try s.idempotencyRecord(key: key)
        case .memory: nil
        }
    }

    /// The stream's last version (0 when it has no event).
    public func version(of stream: String) throws -> UInt64 {
        switch source {
        case .lmdb(let s): try s.version(of: stream)
        case .memory(let log): log.tail(of: stream)?.version ?? 0
        }
    }

    /// The stream's events from `fromVersion` through `throughVersion`, in order.
    public func events(inStream stream: String, fromVersion: UInt64 = 1, throughVersion: UInt64 = .max) throws -> [RecordedEvent] {
        switch source {
        case .lmdb(let s): try s.events(inStream: stream, fromVersion: fromVersion, throughVersion: throughVersion)
        case .memory(let log): log.events(inStream: stream, fromVersion: fromVersion, throughVersion: throughVersion)
        }
    }
}
