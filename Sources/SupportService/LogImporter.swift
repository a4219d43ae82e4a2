import EventLog
import Foundation
import SupportDomain
import Synchronization

/// One event to import: an envelope line's content, in log order.
package struct ImportLine: Sendable {
    package var ticket: String
    package var type: String
    package var at: Timestamp
    package var actor: EventActor
    package var data: JSONValue
    /// When present, must be the ticket's next version; lets a cut import resume.
    package var version: UInt64?

    package init(ticket: String, type: String, at: Timestamp, actor: EventActor, data: JSONValue, version: UInt64? = nil) {
        self.ticket = ticket; self.type = type; self.at = at; self.actor = actor; self.data = data; self.version = version
    }
}

/// What an import did (SPEC §8).
package struct ImportSummary: Sendable, Equatable {
    /// Events this request appended.
    package var imported: Int
    /// Tickets this request opened.
    package var tickets: Int
    /// The seq of the last event in the log after the import.
    package var lastSeq: UInt64

    package init(imported: Int, tickets: Int, lastSeq: UInt64) {
        self.imported = imported
        self.tickets = tickets
        self.lastSeq = lastSeq
    }
}

/// Imports events in log order through the same rules as live commands: the whole input is
/// validated first (a bad line appends nothing), then appended in chunks. Lines already in the
/// log (same ticket and version, type, `at`, actor and stored data) are skipped, so an import
/// cut by a crash can simply be run again.
///
/// Memory stays bounded whatever the input's size: lines are parsed and validated as they
/// arrive (``ImportSession``), the validated ones wait in a spool file in the data directory,
/// and the per-ticket state held meanwhile has no message bodies.
package struct LogImporter: Sendable {
    let backend: SupportBackend
    /// Appends per commit by default (``ServerLimits/importChunkEvents`` sets it).
    package static let chunkSize = ServerLimits.default.importChunkEvents
    /// The longest line accepted, in bytes without its line ending (1 MiB); longer is 400 naming the line.
    package static let maximumLineLength = 1 << 20

    package init(backend: SupportBackend) { self.backend = backend }

    /// Reads one NDJSON line (an export line re-imports as is: seq, recorded, prev and hash are ignored).
    package static func parse(line bytes: [UInt8], number: Int) throws(ServiceError) -> ImportLine {
        let result = bytes.withUnsafeBytes { raw -> Result<ImportLine, ServiceError> in
            do throws(ServiceError) { return .success(try parse(line: raw, number: number)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Reads one NDJSON line in place (see ``parse(line:number:)-(([UInt8],_))``).
    package static func parse(line bytes: UnsafeRawBufferPointer, number: Int) throws(ServiceError) -> ImportLine {
        if let line = readPlainLine(bytes) { return line }
        return try parseWholeEnvelope(line: bytes, number: number)
    }

    /// The fields of an envelope line, as bits.
    private enum EnvelopeField: UInt16 {
        case seq = 1, ticket = 2, version = 4, type = 8, at = 16, recorded = 32, actor = 64, data = 128, prev = 256, hash = 512

        init?(_ name: UnsafeRawBufferPointer) {
            switch name.count {
            case 2 where name.elementsEqual("at".utf8): self = .at
            case 3 where name.elementsEqual("seq".utf8): self = .seq
            case 4 where name.elementsEqual("type".utf8): self = .type
            case 4 where name.elementsEqual("data".utf8): self = .data
            case 4 where name.elementsEqual("prev".utf8): self = .prev
            case 4 where name.elementsEqual("hash".utf8): self = .hash
            case 5 where name.elementsEqual("actor".utf8): self = .actor
            case 6 where name.elementsEqual("ticket".utf8): self = .ticket
            case 7 where name.elementsEqual("version".utf8): self = .version
            case 8 where name.elementsEqual("recorded".utf8): self = .recorded
            default: return nil
            }
        }
    }

    /// A good line whose member names are plain ASCII, read member by member without building
    /// the envelope object; nil for anything else (``parseWholeEnvelope(line:number:)`` then
    /// answers, with the exact problem when there is one). What it reads is what that would.
    private static func readPlainLine(_ bytes: UnsafeRawBufferPointer) -> ImportLine? {
        var seen: UInt16 = 0
        var ticket: String?, type: String?, at: Timestamp?, actor: EventActor?, data: JSONValue?, version: UInt64?
        let read = JSONParser.readObject(bytes) { name, parser in
            // An unknown or repeated name: the exact path names the problem.
            guard let field = EnvelopeField(name), seen & field.rawValue == 0 else { return false }
            seen |= field.rawValue
            switch field {
            case .ticket: ticket = parser.memberString()
            case .type: type = parser.memberString()
            case .at: at = parser.memberString().flatMap { Timestamp(rfc3339: $0) }
            case .data: data = parser.memberValue()
            case .actor:
                guard case .object(let o)? = parser.memberValue(), o.count == 2, case .string(let kind)? = o["kind"],
                    case .string(let id)? = o["id"]
                else { return false }
                actor = EventActor(kind: kind, id: id)
                return true
            case .version:
                switch parser.memberValue() {
                case .null?: return true
                case .int(let i)? where i >= 1: version = UInt64(i)
                default: return false
                }
                return true
            case .seq:
                switch parser.memberValue() {
                case .int?, .null?: return true
                default: return false
                }
            case .recorded, .prev, .hash:
                switch parser.memberValue() {
                case .string?, .null?: return true
                default: return false
                }
            }
            switch field {
            case .ticket: return ticket != nil
            case .type: return type != nil
            case .at: return at != nil
            default: return data != nil
            }
        }
        guard read, let ticket, let type, let at, let actor, let data else { return nil }
        return ImportLine(ticket: ticket, type: type, at: at, actor: actor, data: data, version: version)
    }

    /// Reads one line through the whole envelope object, naming the first problem (what
    /// ``parse(line:number:)-(UnsafeRawBufferPointer,_)`` answers; tests compare the two).
    package static func parseWholeEnvelope(line bytes: UnsafeRawBufferPointer, number: Int) throws(ServiceError) -> ImportLine {
        func bad(_ detail: String) -> ServiceError { ServiceError(.badRequest, "line \(number): \(detail)", line: number) }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes: bytes) } catch { throw bad("malformed JSON: \(error)") }
        guard case .object(let o) = value else { throw bad("each line must be a JSON object") }
        func allowed(_ key: String) -> Bool {
            switch key {
            case "seq", "ticket", "version", "type", "at", "recorded", "actor", "data", "prev", "hash": return true
            default: return false
            }
        }
        if o.keys.contains(where: { !allowed($0) }),
            let unknown = o.keys.sorted(by: Identifier.precedes).first(where: { !allowed($0) })
        {
            throw bad("unknown field \"\(unknown)\"")
        }
        guard case .string(let ticket)? = o["ticket"] else { throw bad("\"ticket\" must be a string") }
        guard case .string(let type)? = o["type"] else { throw bad("\"type\" must be a string") }
        guard case .string(let atText)? = o["at"], let at = Timestamp(rfc3339: atText) else {
            throw bad("\"at\" must be an RFC 3339 UTC instant such as 2026-03-01T10:22:33.000Z")
        }
        guard case .object(let actor)? = o["actor"], actor.count == 2, case .string(let kind)? = actor["kind"],
            case .string(let id)? = actor["id"]
        else {
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
                ("prev", .string), ("prev", .null), ("hash", .string), ("hash", .null):
                break
            default: throw bad("\"\(key)\" has the wrong type")
            }
        }
        return ImportLine(
            ticket: ticket, type: type, at: at, actor: EventActor(kind: kind, id: id),
            data: data, version: version)
    }

    /// Starts a streaming import: ``ImportSession/feed(_:)`` it the NDJSON bytes, then
    /// ``ImportSession/finish(shouldStop:)``.
    package func session(maximumLineLength: Int = LogImporter.maximumLineLength) throws(ServiceError) -> ImportSession {
        try ImportSession(importer: self, maximumLineLength: maximumLineLength)
    }

    /// Validates every line, then appends the new ones in chunks. `shouldStop` is asked between
    /// chunks (graceful shutdown stops an import at a chunk boundary).
    package func run(_ lines: [ImportLine], shouldStop: @Sendable () -> Bool = { false }) async throws(ServiceError) -> ImportSummary {
        let session = try session()
        for (k, line) in lines.enumerated() { try session.add(line, number: k + 1) }
        return try await session.finish(shouldStop: shouldStop)
    }

    /// One line read back from the spool, ready to append.
    /// (`event` is nil for a line of the `$webhooks` stream, whose `data` is then the validated webhook event's.)
    private typealias SpooledLine = (number: Int, line: ImportLine, event: TicketEvent?, binaryData: [UInt8])

    /// Reads the next chunk of spooled lines (empty after the last).
    private func nextChunk(_ spool: ImportSpool) throws(ServiceError) -> [SpooledLine] {
        var chunk: [SpooledLine] = []
        while chunk.count < backend.limits.importChunkEvents, let entry = try spool.next() {
            if entry.line.ticket == StreamName.webhooks {
                chunk.append((entry.number, entry.line, nil, entry.binaryData))
                continue
            }
            let event: TicketEvent
            do { event = try TicketEvent(type: entry.line.type, data: entry.line.data) } catch {
                throw ServiceError(
                    .internalError, "line \(entry.number): no longer valid when read back: \(error.detail)",
                    line: entry.number)
            }
            chunk.append((entry.number, entry.line, event, entry.binaryData))
        }
        return chunk
    }

    /// Appends the spooled lines in chunks, in order. While a chunk is being committed, the next
    /// one is read back from the spool (a failure to read it is reported after the chunk's own
    /// results, as if read after them).
    fileprivate func append(
        _ spool: ImportSpool, versions: inout [[UInt8]: UInt64],
        shouldStop: @Sendable () -> Bool
    ) async throws(ServiceError) -> ImportSummary {
        let store = backend.store
        var summary = ImportSummary(imported: 0, tickets: 0, lastSeq: (try? store.head.seq) ?? 0)
        guard !shouldStop() else { return summary }
        var next = Result<[SpooledLine], ServiceError> { () throws(ServiceError) in try nextChunk(spool) }
        while true {
            let chunk = try next.get()
            guard !chunk.isEmpty else { break }
            var requests: [AppendRequest] = []
            requests.reserveCapacity(chunk.count)
            for (_, line, event, binaryData) in chunk {
                // Hold the imported ids so server-assigned ids skip them.
                backend.commands.directory.observe(line.ticket)
                let key = Array(line.ticket.utf8)
                let current = versions[key] ?? 0
                requests.append(
                    AppendRequest(
                        stream: line.ticket,
                        events: [
                            ProposedEvent(
                                type: line.type, at: line.at, actor: line.actor, data: event?.data ?? line.data, binaryData: binaryData)
                        ],
                        expectedVersion: .exactly(current)))
                versions[key] = current + 1
            }
            async let committed = store.append(contentsOf: requests)
            next = Result { () throws(ServiceError) in try nextChunk(spool) }
            var raced: [Int] = []
            for (k, result) in await committed.enumerated() {
                let item = chunk[k]
                switch result {
                case .success(let appended):
                    count(appended, item.event, into: &summary)
                case .failure(.wrongExpectedVersion) where item.line.version == nil && item.event != nil:
                    // A live write reached the ticket since validation: re-check this line against the
                    // ticket as it is now, inside the write transaction, below.
                    raced.append(k)
                case .failure(let error):
                    throw ServiceError(ServiceError(error).kind, "line \(item.number): \(error)", line: item.number)
                }
            }
            for k in raced {
                let item = chunk[k]
                guard let event = item.event else { continue }
                let appended = try await appendRechecked(item.line, event, number: item.number)
                count(appended, item.event, into: &summary)
                versions[Array(item.line.ticket.utf8)] = appended.lastVersion
            }
            if shouldStop() { break }
        }
        return summary
    }

    private func count(_ appended: AppendResult, _ event: TicketEvent?, into summary: inout ImportSummary) {
        summary.imported += appended.events.count
        summary.lastSeq = max(summary.lastSeq, appended.lastSeq)
        if case .opened = event { summary.tickets += 1 }
    }

    /// Appends a line (one without a `version`) whose ticket moved since validation, with its rules
    /// re-checked against the ticket's current state inside the write transaction.
    private func appendRechecked(_ line: ImportLine, _ event: TicketEvent, number: Int) async throws(ServiceError) -> AppendResult {
        guard let actor = SupportActor(line.actor) else {
            throw ServiceError(.badRequest, "line \(number): unknown actor kind", line: number)
        }
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
            let refused = ServiceError(error)
            throw ServiceError(refused.kind == .forbidden ? .conflict : refused.kind, "line \(number): \(refused.detail)", line: number)
        }
    }
}

/// One import in progress. Lines are parsed and checked against the rules as they arrive (the
/// first bad one throws, naming its line) and spooled; ``finish(shouldStop:)`` then appends them.
/// Nothing is appended before the whole input has passed. Not thread-safe: one task feeds it.
package final class ImportSession {
    /// The log version of every ticket the input touches, when validation first read it: where
    /// the appends start (filled by the validation's lookup, so both see the same stream).
    private final class LogVersions { var byTicket: [[UInt8]: UInt64] = [:] }

    private let importer: LogImporter
    private var lines: NDJSONLines
    private var validation: ImportValidation
    private let logVersions = LogVersions()
    private let spool: ImportSpool

    fileprivate init(importer: LogImporter, maximumLineLength: Int) throws(ServiceError) {
        self.importer = importer
        lines = NDJSONLines(maximumLength: maximumLineLength)
        let store = importer.backend.store
        let versions = logVersions
        validation = ImportValidation(now: importer.backend.clock(), limits: importer.backend.levels.policy.limits, keepsThreads: false) {
            id in
            // A `$` stream holds no ticket (a merge into one finds none).
            guard StreamName.isTicket(id) else { return nil }
            let events = try store.events(inStream: id)
            versions.byTicket[Array(id.utf8)] = events.last?.version ?? 0
            return try Ticket.fold(events)
        }
        spool = try ImportSpool(in: store.configuration.directory)
    }

    /// Where the validated lines wait (tests check its permissions).
    package var spoolPath: String { spool.path }

    /// Takes the next bytes of NDJSON input (any split, lines may straddle calls).
    ///
    /// The lines the bytes complete are parsed and given the checks of their own line on both
    /// cores (``PreparedLines``), then checked against their tickets and spooled in order, so the
    /// first bad line, and its reason, are the ones a line-by-line reading finds.
    package func feed(_ bytes: some BidirectionalCollection<UInt8>) throws(ServiceError) {
        let batch = PreparedLines()
        var failure: ServiceError?
        do throws(ServiceError) {
            try lines.feed(bytes) { line, number throws(ServiceError) in batch.take(line, number: number) }
        } catch {
            // A line too long: the complete lines before it go first.
            failure = error
        }
        try add(batch)
        if let failure { throw failure }
    }

    /// Adds `batch`'s lines in order while a helper thread parses and pre-checks them ahead
    /// (``PreparedLines``).
    private func add(_ batch: PreparedLines) throws(ServiceError) {
        guard !batch.isEmpty else { return }
        let clock = validation.clock
        batch.start(limits: clock.limits, now: clock.now)
        defer { batch.stop() }
        for slice in 0..<batch.sliceCount {
            for prepared in batch.slice(slice) {
                try add(try prepared.line.get(), number: prepared.number, prechecked: prepared)
            }
        }
    }

    /// Takes one line that was already parsed.
    package func add(_ line: ImportLine, number: Int) throws(ServiceError) {
        try add(line, number: number, prechecked: nil)
    }

    /// Adds a parsed line; `prechecked` holds the checks of its own line and its spool record
    /// when they were made ahead (``PreparedLines``).
    private func add(_ line: ImportLine, number: Int, prechecked: PreparedLine?) throws(ServiceError) {
        let store = importer.backend.store
        do {
            if !StreamName.isTicket(line.ticket) {
                try addSystemLine(line, number: number)
                return
            }
            if let version = line.version {
                let key = Array(line.ticket.utf8)
                let inLog: UInt64
                if let known = logVersions.byTicket[key] {
                    inLog = known
                } else {
                    inLog = try store.read { try $0.version(of: line.ticket) }
                    logVersions.byTicket[key] = inLog
                }
                if version <= inLog {
                    let stored = try store.read { try $0.events(inStream: line.ticket, fromVersion: version, throughVersion: version) }
                    // Compare with the data as it would be stored (optional nulls dropped).
                    let normalized = (try? TicketEvent(type: line.type, data: line.data))?.data ?? line.data
                    if let stored = stored.first, stored.type == line.type, stored.at == line.at, stored.actor == line.actor,
                        stored.data == normalized
                    {
                        return
                    }
                    throw DomainError(.conflict, "version \(version) of \(line.ticket) is already in the log with other content")
                }
            }
            if let prechecked, let checked = prechecked.checked {
                _ = try validation.add(try checked.get(), ticket: line.ticket, at: line.at, version: line.version)
                try spool.append(encoded: prechecked.record)
            } else {
                let event = try validation.add(
                    ticket: line.ticket, type: line.type, at: line.at, actor: line.actor,
                    data: line.data, version: line.version)
                var validated = line
                validated.data = event.data
                try spool.append(ImportSpool.Entry(number: number, line: validated))
            }
        } catch let error as DomainError {
            throw ServiceError(error.kind == .badRequest ? .badRequest : .conflict, "line \(number): \(error.detail)", line: number)
        } catch let error as EventLogError {
            throw ServiceError(error)
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.unavailable, "line \(number): \(error)")
        }
    }

    /// The `$webhooks` stream as the log holds it, then as the lines before have left it (read on
    /// the first line of the stream).
    private var webhooks: (endpoints: WebhookEndpoints, version: UInt64)?

    /// A line of a stream that is no ticket (`$...`): only `$webhooks` lines are taken, each a valid
    /// webhook event by an admin, following the stream as the log and the lines before left it
    /// (a line already in the log, same version and content, is skipped); anything else is 409.
    private func addSystemLine(_ line: ImportLine, number: Int) throws {
        guard line.ticket == StreamName.webhooks else {
            throw DomainError(.conflict, "\(line.ticket): ticket ids starting with $ are reserved for the system's own streams")
        }
        let store = importer.backend.store
        if webhooks == nil {
            let events = try store.events(inStream: StreamName.webhooks)
            webhooks = (try WebhookEndpoints.fold(events), events.last?.version ?? 0)
            logVersions.byTicket[Array(line.ticket.utf8)] = events.last?.version ?? 0
        }
        guard var (endpoints, version) = webhooks else { return }
        let event: WebhookEvent
        do { event = try WebhookEvent(type: line.type, data: line.data) } catch {
            throw DomainError(.conflict, "\(StreamName.webhooks): \(error.detail)")
        }
        if let asked = line.version, asked <= version {
            let stored = try store.read { try $0.events(inStream: line.ticket, fromVersion: asked, throughVersion: asked) }
            if let stored = stored.first, stored.type == line.type, stored.at == line.at, stored.actor == line.actor,
                stored.data == event.data
            {
                return
            }
            throw DomainError(.conflict, "version \(asked) of \(line.ticket) is already in the log with other content")
        }
        if let asked = line.version, asked != version + 1 {
            throw DomainError(.conflict, "version \(asked) of \(line.ticket) does not follow version \(version)")
        }
        guard line.actor.kind == ActorKind.admin.rawValue, Identifier.problem(with: line.actor.id) == nil else {
            throw DomainError(.conflict, "\(StreamName.webhooks) events are an admin's")
        }
        if line.at > validation.clock.now { throw DomainError(.conflict, "at \(line.at) is after the server clock") }
        try endpoints.apply(event, seq: 0, version: version + 1)
        version += 1
        webhooks = (endpoints, version)
        var validated = line
        validated.data = event.data
        try spool.append(ImportSpool.Entry(number: number, line: validated))
    }

    /// Ends the input and appends every validated line in chunks; `shouldStop` is asked between
    /// chunks (graceful shutdown stops an import at a chunk boundary).
    package func finish(shouldStop: @Sendable () -> Bool = { false }) async throws(ServiceError) -> ImportSummary {
        defer { spool.remove() }
        let batch = PreparedLines()
        try lines.finish { line, number throws(ServiceError) in batch.take(line, number: number) }
        try add(batch)
        try spool.flush()
        var versions = logVersions.byTicket
        logVersions.byTicket = [:]
        // The validation state is no longer needed: free it before appending.
        validation = ImportValidation(now: .init(milliseconds: 0), limits: .default, lookup: { _ in nil })
        return try await importer.append(spool, versions: &versions, shouldStop: shouldStop)
    }
}

/// A line parsed, given the checks of its own line and encoded for the spool ahead of the
/// checks against its ticket.
private struct PreparedLine: Sendable {
    var number: Int
    var line: Result<ImportLine, ServiceError>
    /// The line's own checks (``ImportValidation/check(ticket:type:at:actor:data:limits:now:)``);
    /// nil when the line did not parse.
    var checked: Result<ImportValidation.CheckedEvent, DomainError>?
    /// The line's spool record, when it passed its own checks.
    var record: [UInt8] = []

    init(bytes: UnsafeRawBufferPointer, number: Int, limits: InputLimits, now: Timestamp) {
        self.number = number
        line = Result { () throws(ServiceError) in try LogImporter.parse(line: bytes, number: number) }
        guard case .success(let parsed) = line else { return }
        let checked = Result { () throws(DomainError) in
            try ImportValidation.check(
                ticket: parsed.ticket, type: parsed.type, at: parsed.at, actor: parsed.actor, data: parsed.data,
                limits: limits, now: now)
        }
        self.checked = checked
        if case .success(let event) = checked {
            var validated = parsed
            validated.data = event.event.data
            ImportSpool.encode(ImportSpool.Entry(number: number, line: validated), to: &record)
        }
    }
}

/// The complete lines of one piece of input, copied together, then parsed and pre-checked
/// (``PreparedLine``) in slices: a helper thread prepares slices in order from the first on,
/// while the importing thread checks the prepared lines against their tickets, slice after
/// slice, preparing itself the next slice when the helper has not taken it yet. Each slice is
/// prepared by exactly one thread (the one that claims it) and read after it is done.
private final class PreparedLines: @unchecked Sendable {
    /// Lines per slice.
    static let sliceLines = 256

    private var bytes: [UInt8] = []
    private var spans: [(number: Int, start: Int, count: Int)] = []
    private var limits = InputLimits.default
    private var now = Timestamp(milliseconds: 0)
    /// The prepared slices, written once each by the thread that claimed them.
    private var slices: UnsafeMutableBufferPointer<[PreparedLine]> = .init(start: nil, count: 0)
    /// One per slice, signalled when the helper has prepared it.
    private var ready: [DispatchSemaphore] = []
    /// The next slice nobody claimed yet.
    private let nextUnclaimed = Atomic<Int>(0)
    /// Set when the importing thread is done (or gave up): the helper claims nothing more.
    private let stopped = Atomic<Bool>(false)
    /// The helper's state: 0 submitted, 1 running, 2 not needed any more (it will not run).
    private let helperState = Atomic<Int>(0)
    /// Signalled when a helper that ran has left.
    private let helperDone = DispatchSemaphore(value: 0)
    private var helperSubmitted = false

    var isEmpty: Bool { spans.isEmpty }
    var sliceCount: Int { (spans.count + Self.sliceLines - 1) / Self.sliceLines }

    deinit {
        slices.deinitialize()
        slices.deallocate()
    }

    func take(_ line: UnsafeRawBufferPointer, number: Int) {
        spans.append((number, bytes.count, line.count))
        bytes.append(contentsOf: line)
    }

    /// Starts preparing (a helper thread when there is more than one slice).
    func start(limits: InputLimits, now: Timestamp) {
        self.limits = limits
        self.now = now
        let count = sliceCount
        slices = .allocate(capacity: count)
        slices.initialize(repeating: [])
        ready = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        guard count > 1 else { return }
        helperSubmitted = true
        DispatchQueue.global().async { [self] in
            // A helper that starts after the importing thread is done (a busy pool) does nothing.
            guard helperState.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else { return }
            while !stopped.load(ordering: .acquiring) {
                let k = nextUnclaimed.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
                guard k < count else { break }
                slices[k] = prepare(k)
                ready[k].signal()
            }
            helperDone.signal()
        }
    }

    /// Slice `k`, prepared: by this thread when nobody claimed it yet, else waited for. Ask for
    /// the slices in order.
    func slice(_ k: Int) -> [PreparedLine] {
        if nextUnclaimed.compareExchange(expected: k, desired: k + 1, ordering: .acquiringAndReleasing).exchanged {
            slices[k] = prepare(k)
        } else {
            ready[k].wait()
        }
        return slices[k]
    }

    /// Stops the helper: waits for it to leave when it is running, and makes sure it never runs
    /// when it has not started yet (the importing thread never waits for a thread that the pool
    /// has not given it).
    func stop() {
        stopped.store(true, ordering: .releasing)
        guard helperSubmitted else { return }
        if !helperState.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged {
            helperDone.wait()
        }
    }

    private func prepare(_ slice: Int) -> [PreparedLine] {
        let range = (slice * Self.sliceLines)..<min(spans.count, (slice + 1) * Self.sliceLines)
        return bytes.withUnsafeBytes { raw in
            range.map { k in
                let span = spans[k]
                return PreparedLine(
                    bytes: UnsafeRawBufferPointer(rebasing: raw[span.start..<(span.start + span.count)]), number: span.number,
                    limits: limits, now: now)
            }
        }
    }
}
