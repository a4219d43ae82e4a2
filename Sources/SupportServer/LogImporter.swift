import EventLog
import Foundation
import SupportDomain

/// One event to import: an envelope line's content, in log order.
public struct ImportLine: Sendable {
    public var ticket: String
    public var type: String
    public var at: Timestamp
    public var actor: EventActor
    public var data: JSONValue
    /// When present, must be the ticket's next version; lets a cut import resume.
    public var version: UInt64?

    public init(ticket: String, type: String, at: Timestamp, actor: EventActor, data: JSONValue, version: UInt64? = nil) {
        self.ticket = ticket; self.type = type; self.at = at; self.actor = actor; self.data = data; self.version = version
    }
}

/// What an import did (SPEC §8).
public struct ImportSummary: Sendable, Equatable {
    /// Events this request appended.
    public var imported: Int
    /// Tickets this request opened.
    public var tickets: Int
    public var lastSeq: UInt64
}

/// Imports events in log order through the same rules as live commands: the whole input is
/// validated first (a bad line appends nothing), then appended in chunks. Lines already in the
/// log (same ticket and version, type, `at`, actor and stored data) are skipped, so an import
/// cut by a crash can simply be run again.
public struct LogImporter: Sendable {
    let backend: SupportBackend
    /// Appends per commit.
    public static let chunkSize = 2000

    public init(backend: SupportBackend) { self.backend = backend }

    /// Reads one NDJSON line (an export line re-imports as is: seq, recorded, prev and hash are ignored).
    public static func parse(line bytes: [UInt8], number: Int) throws(Problem) -> ImportLine {
        func bad(_ detail: String) -> Problem { Problem(.badRequest, "line \(number): \(detail)", line: number) }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw bad("malformed JSON: \(error)") }
        guard case .object(let o) = value else { throw bad("each line must be a JSON object") }
        let allowed: Set<String> = ["seq", "ticket", "version", "type", "at", "recorded", "actor", "data", "prev", "hash"]
        if let unknown = o.keys.sorted(by: Identifier.precedes).first(where: { !allowed.contains($0) }) {
            throw bad("unknown field \"\(unknown)\"")
        }
        guard case .string(let ticket)? = o["ticket"] else { throw bad("\"ticket\" must be a string") }
        guard case .string(let type)? = o["type"] else { throw bad("\"type\" must be a string") }
        guard case .string(let atText)? = o["at"], let at = Timestamp(rfc3339: atText) else {
            throw bad("\"at\" must be an RFC 3339 UTC instant such as 2026-03-01T10:22:33.000Z")
        }
        guard case .object(let actor)? = o["actor"], actor.count == 2, case .string(let kind)? = actor["kind"],
              case .string(let id)? = actor["id"] else {
            throw bad("\"actor\" must be {\"kind\", \"id\"}")
        }
        guard let data = o["data"] else { throw bad("\"data\" is required") }
        var version: UInt64?
        if let v = o["version"], !v.isNull {
            guard let i = v.intValue, i >= 1 else { throw bad("\"version\" must be an integer >= 1") }
            version = UInt64(i)
        }
        for key in ["seq", "recorded", "prev", "hash"] where o[key] != nil {
            // Ignored, but an envelope field of the wrong type is still malformed input.
            switch (key, o[key]!) {
            case ("seq", .int), ("seq", .null), ("recorded", .string), ("recorded", .null),
                 ("prev", .string), ("prev", .null), ("hash", .string), ("hash", .null): break
            default: throw bad("\"\(key)\" has the wrong type")
            }
        }
        return ImportLine(ticket: ticket, type: type, at: at, actor: EventActor(kind: kind, id: id),
                          data: data, version: version)
    }

    /// Validates every line, then appends the new ones in chunks. `shouldStop` is asked between
    /// chunks (graceful shutdown stops an import at a chunk boundary).
    public func run(_ lines: [ImportLine], shouldStop: @Sendable () -> Bool = { false }) async throws(Problem) -> ImportSummary {
        try await run(lines.enumerated().map { ($0.offset + 1, .success($0.element)) }, shouldStop: shouldStop)
    }

    /// Validates lines that were parsed (or failed to parse) with their 1-based line numbers:
    /// the first bad line, malformed or against a rule, answers.
    public func run(_ lines: [(number: Int, line: Result<ImportLine, Problem>)],
                    shouldStop: @Sendable () -> Bool = { false }) async throws(Problem) -> ImportSummary {
        let store = backend.store
        // Keyed by UTF-8 bytes: Swift's String equality would merge canonically equivalent ids.
        var streams: [[UInt8]: [RecordedEvent]] = [:]
        func logEvents(_ id: String) throws -> [RecordedEvent] {
            if let cached = streams[Array(id.utf8)] { return cached }
            let events = try store.events(inStream: id)
            streams[Array(id.utf8)] = events
            return events
        }
        var validation = ImportValidation(now: backend.clock(), limits: backend.levels.policy.limits) { id in try Ticket.fold(try logEvents(id)) }
        var toAppend: [(number: Int, line: ImportLine, event: TicketEvent)] = []
        for (number, parsed) in lines {
            let line: ImportLine
            switch parsed {
            case .success(let l): line = l
            case .failure(let problem): throw problem
            }
            do {
                if let version = line.version {
                    let existing = try logEvents(line.ticket)
                    if version <= UInt64(existing.count) {
                        let stored = existing[Int(version) - 1]
                        // Compare with the data as it would be stored (optional nulls dropped).
                        let normalized = (try? TicketEvent(type: line.type, data: line.data))?.data ?? line.data
                        let same = stored.type == line.type && stored.at == line.at && stored.actor == line.actor
                            && stored.data == normalized
                        if same { continue }
                        throw DomainError(.conflict, "version \(version) of \(line.ticket) is already in the log with other content")
                    }
                }
                let event = try validation.add(ticket: line.ticket, type: line.type, at: line.at, actor: line.actor,
                                               data: line.data, version: line.version)
                toAppend.append((number, line, event))
            } catch let error as DomainError {
                throw Problem(error.kind == .badRequest ? .badRequest : .conflict, "line \(number): \(error.detail)", line: number)
            } catch let error as EventLogError {
                throw Problem(error)
            } catch {
                throw Problem(.serviceUnavailable, "line \(number): \(error)")
            }
        }
        // Hold the imported ids so server-assigned ids skip them.
        for (_, line, _) in toAppend { backend.commands.directory.observe(line.ticket) }
        var versions: [[UInt8]: UInt64] = [:]
        for (id, events) in streams { versions[id] = UInt64(events.count) }
        var summary = ImportSummary(imported: 0, tickets: 0, lastSeq: (try? store.head.seq) ?? 0)
        var offset = 0
        while offset < toAppend.count {
            if shouldStop() { break }
            let chunk = toAppend[offset..<min(offset + Self.chunkSize, toAppend.count)]
            var requests: [AppendRequest] = []
            for (_, line, event) in chunk {
                let key = Array(line.ticket.utf8)
                let current = versions[key] ?? 0
                requests.append(AppendRequest(
                    stream: line.ticket,
                    events: [ProposedEvent(type: line.type, at: line.at, actor: line.actor, data: event.data)],
                    expectedVersion: .exactly(current)))
                versions[key] = current + 1
            }
            var raced: [Int] = []
            for (k, result) in await store.append(contentsOf: requests).enumerated() {
                let item = chunk[chunk.startIndex + k]
                switch result {
                case .success(let appended):
                    count(appended, item.event, into: &summary)
                case .failure(.wrongExpectedVersion) where item.line.version == nil:
                    // A live write reached the ticket since validation: re-check this line against the
                    // ticket as it is now, inside the write transaction, below.
                    raced.append(k)
                case .failure(let error):
                    throw Problem(Problem(error).status, "line \(item.number): \(error)", line: item.number)
                }
            }
            for k in raced {
                let item = chunk[chunk.startIndex + k]
                let appended = try await appendRechecked(item.line, item.event, number: item.number)
                count(appended, item.event, into: &summary)
                versions[Array(item.line.ticket.utf8)] = appended.lastVersion
            }
            offset += chunk.count
        }
        return summary
    }

    private func count(_ appended: AppendResult, _ event: TicketEvent, into summary: inout ImportSummary) {
        summary.imported += appended.events.count
        summary.lastSeq = max(summary.lastSeq, appended.lastSeq)
        if case .opened = event { summary.tickets += 1 }
    }

    /// Appends a line (one without a `version`) whose ticket moved since validation, with its rules
    /// re-checked against the ticket's current state inside the write transaction.
    private func appendRechecked(_ line: ImportLine, _ event: TicketEvent, number: Int) async throws(Problem) -> AppendResult {
        guard let actor = SupportActor(line.actor) else { throw Problem(.badRequest, "line \(number): unknown actor kind", line: number) }
        let command = TicketCommand(event: event, actor: actor, at: line.at)
        let id = line.ticket
        let request = AppendRequest(
            stream: id, events: [ProposedEvent(type: line.type, at: line.at, actor: line.actor, data: event.data)],
            expectedVersion: .any,
            precondition: { snapshot, at in
                if let ticket = try Ticket.fold(snapshot.events(inStream: id)) {
                    _ = try TicketRules.decide(command, on: ticket, at: at)
                    if case .merged(let into) = event {
                        try TicketRules.checkMergeTarget(try Ticket.fold(snapshot.events(inStream: into)), into: into, at: at)
                    }
                } else {
                    _ = try TicketRules.decideOpening(command)
                }
            })
        do {
            return try await backend.store.append(request)
        } catch {
            let problem = Problem(error)
            throw Problem(problem.status == .forbidden ? .conflict : problem.status, "line \(number): \(problem.detail)", line: number)
        }
    }
}
