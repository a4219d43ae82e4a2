/// The rules every store applies to an append, in one place so that the LMDB store and the
/// in-memory one cannot drift apart: the request's own checks, the writer's decision, the
/// expected version, time order within a stream, the precondition, and sealing the events into
/// the hash chain.
///
/// Rule failures are returned as values and write nothing; errors thrown by the snapshot
/// (storage failures) are thrown and abort the caller's whole batch.
enum AppendRules {
    /// The longest stream id, event type or actor field, in UTF-8 bytes.
    static let fieldLimit = 4096

    /// What is wrong with a request before it reaches the writer, or nil.
    static func problem(with request: AppendRequest) -> String? {
        if request.decision != nil { return nil }  // checked once decided
        if request.stream.isEmpty { return "the stream id is empty" }
        if request.events.isEmpty { return "no events to append" }
        let limit = fieldLimit
        if request.stream.utf8.count > limit { return "the stream id is longer than \(limit) bytes" }
        for event in request.events {
            if event.type.isEmpty { return "an event has no type" }
            if event.type.utf8.count > limit || event.actor.kind.utf8.count > limit || event.actor.id.utf8.count > limit {
                return "an event's type or actor is longer than \(limit) bytes"
            }
        }
        return nil
    }

    /// Refuses the malformed requests at once and hands the others to `write`; answers in the
    /// order of `requests`.
    static func screen(
        _ requests: [AppendRequest],
        write: ([AppendRequest]) async -> [Result<AppendResult, EventLogError>]
    ) async
        -> [Result<AppendResult, EventLogError>]
    {
        var checked: [AppendRequest] = []
        var invalid: [Int: EventLogError] = [:]
        for (k, request) in requests.enumerated() {
            if let problem = problem(with: request) { invalid[k] = .invalidRequest(problem) } else { checked.append(request) }
        }
        if invalid.isEmpty { return await write(checked) }
        var results = checked.isEmpty ? [] : await write(checked)
        for (k, error) in invalid.sorted(by: { $0.key < $1.key }) { results.insert(.failure(error), at: k) }
        return results
    }

    /// The answer to a decision that chose to append nothing.
    static let nothingAppended = AppendResult(stream: "", events: [], replayed: false, response: nil)

    /// Lets a request's decision (if any) choose what to append: the request to go on with, nil
    /// when the decision appends nothing, or why it was refused.
    static func decide(
        _ proposed: AppendRequest, in snapshot: LogSnapshot, now: Timestamp
    ) throws
        -> Result<AppendRequest?, EventLogError>
    {
        guard let decision = proposed.decision else { return .success(proposed) }
        let decided: DecidedAppend?
        do {
            decided = try decision(snapshot, now)
        } catch let error as LMDBError {
            throw error
        } catch {
            return .failure(.rejected(error))
        }
        guard let decided else { return .success(nil) }
        var request = proposed
        request.stream = decided.stream
        request.events = decided.events
        request.expectedVersion = decided.expectedVersion
        request.decision = nil
        if let problem = problem(with: request) { return .failure(.invalidRequest(problem)) }
        return .success(request)
    }

    /// One event ready to be written: its stored form and its public value.
    struct SealedEvent {
        var record: EventRecord
        var event: RecordedEvent
    }

    /// Checks the expected version, time order and precondition of a (decided) request against
    /// the log after `head`, and seals its events into the chain: seq, version, `at`,
    /// `recorded`, `prev` and `hash`. `tail` is the stream's last version and the `at` of its
    /// last event as `snapshot` shows them (nil for a new stream): the store reads it, the LMDB
    /// one through the stream's number, which then keys the events' index entries.
    static func seal(
        _ request: AppendRequest, tail: (version: UInt64, at: Timestamp)?, in snapshot: LogSnapshot, now: Timestamp,
        head: LogHead, envelope: EnvelopeFormat
    ) throws -> Result<[SealedEvent], EventLogError> {
        let current = tail?.version ?? 0
        switch request.expectedVersion {
        case .any: break
        case .noStream where current == 0: break
        case .exactly(let v) where v == current: break
        default:
            return .failure(.wrongExpectedVersion(stream: request.stream, expected: request.expectedVersion, actual: current))
        }
        var ats: [Timestamp] = []
        ats.reserveCapacity(request.events.count)
        var previous = tail?.at ?? Timestamp(milliseconds: .min)
        for event in request.events {
            let at = event.at ?? max(now, previous)
            if at < previous {
                return .failure(.timeWentBackwards(stream: request.stream, at: at, last: previous))
            }
            ats.append(at)
            previous = at
        }
        if let precondition = request.precondition {
            do {
                try precondition(snapshot, ats[0])
            } catch let error as LMDBError {
                throw error
            } catch {
                return .failure(.rejected(error))
            }
        }

        var sealed: [SealedEvent] = []
        sealed.reserveCapacity(request.events.count)
        var prev = head
        var canonical: [UInt8] = []
        for (k, event) in request.events.enumerated() {
            let seq = prev.seq + 1
            let version = current + UInt64(k) + 1
            var data: [UInt8] = []
            if let binary = event.binaryData { data = binary } else { BinaryJSON.encode(event.data, into: &data) }
            canonical.removeAll(keepingCapacity: true)
            try data.withUnsafeBytes { raw in
                try envelope.appendCanonical(
                    seq: seq, stream: request.stream, version: version, type: event.type, at: ats[k],
                    recorded: now, actor: event.actor, binaryData: raw, to: &canonical)
            }
            let hash = EnvelopeFormat.chainHash(prev: prev.hash, canonical: canonical)
            let record = EventRecord(
                seq: seq, version: version, at: ats[k], recorded: now, prev: prev.hash,
                hash: hash, stream: request.stream, type: event.type, actor: event.actor,
                data: data)
            sealed.append(
                SealedEvent(
                    record: record,
                    event: RecordedEvent(
                        seq: seq, stream: request.stream, version: version, type: event.type, at: ats[k], recorded: now,
                        actor: event.actor, data: event.data, prev: prev.hash, hash: hash)))
            prev = LogHead(seq: seq, hash: hash)
        }
        return .success(sealed)
    }
}
