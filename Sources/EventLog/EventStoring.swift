/// An append-only event log: what the rest of the system needs of the event store.
///
/// ``EventStore`` keeps the log in LMDB on disk; ``InMemoryEventStore`` keeps it in memory, for
/// tests and tools. Both give the same guarantees (one shared test suite proves them):
///
/// - seq is global, 1-based and gap-free; a stream's version is 1-based and gap-free;
/// - every event carries `prev` and `hash` of the chain over its canonical JSON envelope;
/// - an append is atomic: all its events or none, checked against its
///   ``AppendRequest/expectedVersion``, its precondition and its decision inside the store's
///   serialised write;
/// - stream ids are compared by their UTF-8 bytes: canonically equivalent ids are different
///   streams;
/// - readers see the log up to the durable head, and nothing beyond it.
public protocol EventStoring: AnyObject, Sendable {
    /// How envelopes are written as JSON (the name of the stream field).
    var envelope: EnvelopeFormat { get }

    /// Appends several requests, each atomically and independently of the others (one may fail
    /// while the rest succeed); answers, in order, once all are durable.
    func append(contentsOf requests: [AppendRequest]) async -> [Result<AppendResult, EventLogError>]

    /// Runs `body` against a consistent snapshot of the log up to the durable head.
    ///
    /// `body` is synchronous on purpose: never hold a snapshot across an `await`.
    func read<R>(_ body: (LogSnapshot) throws -> R) throws(EventLogError) -> R

    /// The durable head: the last event readers see.
    var head: LogHead { get throws(EventLogError) }

    /// Waits until an event after `seq` is durable (readable). Returns false when the task is
    /// cancelled or the store closes first.
    func waitForEvents(after seq: UInt64) async -> Bool

    /// Waits until the event at `seq` is durable (at once when it is). Returns false when the
    /// store closes, the task is cancelled or the store fails first (then it never will be).
    func waitUntilDurable(_ seq: UInt64) async -> Bool

    /// Refuses further appends (``EventLogError/closed``) and wakes every waiter.
    func close()
}

extension EventStoring {
    /// Appends one request atomically and returns once it is durable.
    public func append(_ request: AppendRequest) async throws(EventLogError) -> AppendResult {
        try await append(contentsOf: [request])[0].get()
    }

    /// Up to `limit` events after `seq`.
    public func events(after seq: UInt64, limit: Int) throws(EventLogError) -> [RecordedEvent] {
        try read { try $0.events(after: seq, limit: limit) }
    }

    /// One stream's events from `fromVersion` on.
    public func events(inStream stream: String, fromVersion: UInt64 = 1) throws(EventLogError) -> [RecordedEvent] {
        try read { try $0.events(inStream: stream, fromVersion: fromVersion) }
    }

    /// The stream's last version (0 when it has no event).
    public func version(of stream: String) throws(EventLogError) -> UInt64 {
        try read { try $0.version(of: stream) }
    }

    /// The events after `seq` as they become durable, in order, for as long as the consumer
    /// iterates (see ``EventSubscription``).
    public func subscribe(after seq: UInt64, batchSize: Int = 1024) -> EventSubscription {
        EventSubscription(store: self, after: seq, batchSize: batchSize)
    }
}

extension EventLogError {
    /// What a store's ``EventStoring/read(_:)`` throws for an error out of its body.
    static func wrapping(_ error: any Error) -> EventLogError {
        switch error {
        case let error as EventLogError: error
        case let error as LMDBError: .storage("\(error)")
        default: .rejected(error)
        }
    }
}

/// The events of a log from a position on, waiting for new ones when caught up.
///
/// Reads in batches, each in its own short read, so a long-running subscriber never pins old
/// pages of the file. Ends when the consuming task is cancelled or the store closes.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent
    let store: any EventStoring
    let after: UInt64
    let batchSize: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(store: store, position: after, batchSize: Swift.max(1, batchSize))
    }

    /// Reads the next batch when the current one is consumed.
    public struct Iterator: AsyncIteratorProtocol {
        let store: any EventStoring
        var position: UInt64
        let batchSize: Int
        var buffer: [RecordedEvent] = []
        var index = 0

        public mutating func next() async throws(EventLogError) -> RecordedEvent? {
            while index >= buffer.count {
                buffer = try store.events(after: position, limit: batchSize)
                index = 0
                if buffer.isEmpty {
                    guard await store.waitForEvents(after: position) else { return nil }
                }
            }
            let event = buffer[index]
            index += 1
            position = event.seq
            return event
        }
    }
}
