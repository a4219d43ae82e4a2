import Synchronization

/// An event log held in memory: the same rules as ``EventStore`` (seq and version continuity,
/// the hash chain over the canonical envelope, expected versions, preconditions and decisions,
/// stream ids compared by UTF-8 bytes), without a file. For tests and tools that need a log but
/// not its durability.
///
/// Every append is durable as soon as it is appended (nothing is ever flushed). Idempotency keys
/// are not its concern: a request's ``AppendRequest/idempotency`` is ignored, and
/// `LogSnapshot.idempotencyRecord(key:)` finds nothing.
public final class InMemoryEventStore: EventStoring {
    /// How envelopes are written as JSON.
    public let envelope: EnvelopeFormat
    private let clock: @Sendable () -> Timestamp
    private let log: Mutex<InMemoryLog>
    private let headWatch = HeadWatch(head: .empty)

    /// An empty log. `clock` gives `recorded` (and `at` when an event leaves it open).
    public init(
        envelope: EnvelopeFormat = EnvelopeFormat(streamField: "stream"),
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) {
        self.envelope = envelope
        self.clock = clock
        log = Mutex(InMemoryLog())
    }

    /// Appends the requests one after the other, each atomically; answers in their order.
    public func append(contentsOf requests: [AppendRequest]) async -> [Result<AppendResult, EventLogError>] {
        await AppendRules.screen(requests) { checked in
            let (results, head) = log.withLock { log -> ([Result<AppendResult, EventLogError>], LogHead?) in
                guard !log.closed else { return (checked.map { _ in .failure(.closed) }, nil) }
                let now = clock()
                var results: [Result<AppendResult, EventLogError>] = []
                for request in checked {
                    do { results.append(try apply(request, to: log, now: now)) } catch { results.append(.failure(.wrapping(error))) }
                }
                return (results, log.head)
            }
            if let head { headWatch.publish(head) }
            return results
        }
    }

    private func apply(
        _ proposed: AppendRequest, to log: InMemoryLog, now: Timestamp
    ) throws
        -> Result<AppendResult, EventLogError>
    {
        let snapshot = LogSnapshot(log)
        let request: AppendRequest
        switch try AppendRules.decide(proposed, in: snapshot, now: now) {
        case .failure(let error): return .failure(error)
        case .success(nil): return .success(AppendRules.nothingAppended)
        case .success(let decided?): request = decided
        }
        switch try AppendRules.seal(
            request, tail: log.tail(of: request.stream), in: snapshot, now: now, head: log.head, envelope: envelope)
        {
        case .failure(let error):
            return .failure(error)
        case .success(let sealed):
            let events = sealed.map(\.event)
            log.append(events)
            return .success(AppendResult(stream: request.stream, events: events, replayed: false, response: nil))
        }
    }

    public func read<R>(_ body: (LogSnapshot) throws -> R) throws(EventLogError) -> R {
        do {
            return try log.withLock { try body(LogSnapshot($0)) }
        } catch {
            throw .wrapping(error)
        }
    }

    public var head: LogHead {
        get throws(EventLogError) { headWatch.head }
    }

    public func waitForEvents(after seq: UInt64) async -> Bool {
        await headWatch.wait(beyond: seq)
    }

    public func waitUntilDurable(_ seq: UInt64) async -> Bool {
        guard seq > 0 else { return true }
        return await headWatch.wait(beyond: seq - 1, endsOnFailure: true)
    }

    public func close() {
        log.withLock { $0.closed = true }
        headWatch.close()
    }
}

/// The events of an ``InMemoryEventStore``, and the index of its streams. Only touched under the
/// store's lock (hence unchecked: the lock is what makes it safe to share).
final class InMemoryLog: @unchecked Sendable {
    private(set) var events: [RecordedEvent] = []
    /// Each stream's seqs in version order, keyed by the id's UTF-8 bytes (Swift's `String`
    /// equality would merge canonically equivalent ids).
    private var streams: [[UInt8]: [UInt64]] = [:]
    var closed = false

    var head: LogHead {
        guard let last = events.last else { return .empty }
        return LogHead(seq: last.seq, hash: last.hash)
    }

    func append(_ new: [RecordedEvent]) {
        guard let stream = new.first?.stream else { return }
        streams[Array(stream.utf8), default: []].append(contentsOf: new.map(\.seq))
        events.append(contentsOf: new)
    }

    func event(seq: UInt64) -> RecordedEvent? {
        guard seq >= 1, seq <= UInt64(events.count) else { return nil }
        return events[Int(seq - 1)]
    }

    func forEachEvent(after: UInt64, _ body: (RecordedEvent) throws -> Bool) throws {
        guard after < UInt64(events.count) else { return }
        for event in events[Int(after)...] {
            guard try body(event) else { return }
        }
    }

    func tail(of stream: String) -> (version: UInt64, at: Timestamp)? {
        guard let seqs = streams[Array(stream.utf8)], let last = seqs.last, let event = event(seq: last) else { return nil }
        return (UInt64(seqs.count), event.at)
    }

    func events(inStream stream: String, fromVersion: UInt64, throughVersion: UInt64) -> [RecordedEvent] {
        guard let seqs = streams[Array(stream.utf8)] else { return [] }
        let first = max(1, fromVersion), last = min(UInt64(seqs.count), throughVersion)
        guard first <= last else { return [] }
        return seqs[Int(first - 1)..<Int(last)].compactMap { event(seq: $0) }
    }
}
