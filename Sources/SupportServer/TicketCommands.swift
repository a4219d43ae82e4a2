import Crypto
import EventLog
import HTTPTypes
import Hummingbird
import NIOCore
import Projections
import SupportDomain

/// Runs the write routes: checks in the order SPEC §7 answers, decides the command against the
/// ticket's current state, and appends with an expected version so a concurrent write is
/// detected (retried, or 412 under `If-Match`).
struct TicketCommands: Sendable {
    let store: EventStore
    let levels: ServiceLevels
    let directory: TicketDirectory
    let projections: ProjectionRunner
    let metrics: ServerMetrics
    let clock: @Sendable () -> Timestamp

    /// Appends and records the latency (`ledgerdesk_append_duration_seconds`).
    func append(_ request: AppendRequest) async throws(EventLogError) -> AppendResult {
        let start = ContinuousClock.now
        defer { metrics.recordAppend(ContinuousClock.now - start) }
        return try await store.append(request)
    }

    /// Bodies over this are 413 (SPEC §7: 1 MiB).
    static let maximumBody = 1 << 20
    /// How often a command is re-decided after losing a race to another write.
    static let maximumAttempts = 16

    /// Recently written tickets, so a command does not fold the whole stream again.
    let cache = TicketCache()

    /// Reads a ticket's current state: from the cache when it holds the stream's current
    /// version (one index lookup), else by folding the stream.
    func load(_ id: String) throws(Problem) -> Ticket? {
        do {
            let version = try store.read { try $0.version(of: id) }
            guard version > 0 else { return nil }
            if let cached = cache.ticket(id), cached.version == version { return cached }
            let ticket = try Ticket.fold(try store.events(inStream: id))
            if let ticket { cache.store(ticket) }
            return ticket
        } catch let error as DomainError {
            throw Problem(.serviceUnavailable, "ticket \(id) cannot be read: \(error.detail)")
        } catch let error as EventLogError {
            throw Problem(error)
        } catch {
            throw Problem(.serviceUnavailable, "\(error)")
        }
    }

    /// A ticket the principal may see, or 404 (another customer's ticket looks exactly like a missing one).
    func visibleTicket(_ id: String, to principal: Principal) throws(Problem) -> Ticket {
        guard let ticket = try load(id), principal.role != .customer || Identifier.same(ticket.customer, principal.id) else {
            throw .notFound("ticket \(id) not found")
        }
        return ticket
    }

    func handle(route: CommandRoute, ticketID: String?, request: Request, context: SupportRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        var request = request

        // The body, up to the limit (413 comes after 404 and 403).
        var body: [UInt8]?
        do {
            let buffer = try await request.collectBody(upTo: Self.maximumBody)
            body = Array(buffer: buffer)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            body = nil
        } catch is NIOTooManyBytesError {
            body = nil
        }

        // The replay of an idempotent request already answered.
        let rawKey = request.headers[.idempotencyKey]
        let keyIsValid = rawKey.map { k in !k.isEmpty && k.utf8.count <= 255 && k.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
        var idempotency: IdempotencyKey?
        var keyConflict = false
        if let rawKey, keyIsValid == true, let body {
            // The path as decoded, so a retry that escapes the same id otherwise (%C3%A9, %c3%a9)
            // is the same request; for ids that need no escaping it is the path as sent.
            let path = ticketID.map { "/v1/tickets/\($0)/\(route.rawValue)" } ?? "/v1/tickets"
            var fingerprintInput = Array("\(request.method.rawValue)\n\(path)\n".utf8)
            fingerprintInput += body
            let fingerprint = Array(SHA256.hash(data: fingerprintInput))
            let scoped = "\(principal.role.rawValue)\u{0}\(principal.id)\u{0}\(rawKey)"
            let record: (fingerprint: [UInt8], stream: String, response: [UInt8]?, lastSeq: UInt64)?
            do { record = try store.read { try $0.idempotencyRecord(key: scoped) } } catch { throw Problem(error) }
            if let record {
                // The record is visible once its commit is; a power loss could still undo that
                // commit until it is durable, so neither its answer nor the conflict goes out before.
                guard await store.waitUntilDurable(record.lastSeq) else {
                    throw Problem(.serviceUnavailable, "the first request with this Idempotency-Key did not reach the disk; retry")
                }
                if record.fingerprint == fingerprint, let stored = record.response, let answer = WriteAnswer(decoding: stored) {
                    return try answer.replay(from: store)
                }
                keyConflict = true
            }
            idempotency = IdempotencyKey(key: scoped, fingerprint: fingerprint)
        }

        // 404, then 403.
        var ticket: Ticket?
        if let ticketID { ticket = try visibleTicket(ticketID, to: principal) }
        guard let actor = principal.actor, TicketRules.mayWrite(route.eventKind, as: actor.kind) else {
            throw Problem.forbidden("a \(principal.role.rawValue) may not \(route == .open ? "open tickets" : "post to /\(route.rawValue)")")
        }
        // 413, then 400.
        guard let body else { throw Problem(.contentTooLarge, "the body exceeds \(Self.maximumBody) bytes") }
        // The body first: what it asks for may be forbidden (`at`, `status`, another customer),
        // and 403 answers before every 400.
        let json: JSONValue
        do { json = try JSONParser.parse(body) } catch { throw Problem.badRequest("malformed JSON: \(error)") }
        let command: TicketCommand
        do { command = try TicketCommand.parse(route: route, body: json, actor: actor, limits: levels.policy.limits) } catch { throw Problem(error) }
        _ = try QueryParameters(request, allowed: [])
        if keyIsValid == false { throw Problem.badRequest("Idempotency-Key must be 1 to 255 printable ASCII characters") }
        var expectedVersion: UInt64?
        if let ifMatch = request.headers[.ifMatch] {
            var text = Substring(ifMatch.trimmingCharacters(in: .whitespaces))
            if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
            guard let v = UInt64(text), v >= 1 else { throw Problem.badRequest("If-Match must be a version in quotes, such as \"3\"") }
            expectedVersion = v
        }

        // 409 for a reused key, then 412, then the rules.
        if keyConflict { throw Problem.conflict("Idempotency-Key \(rawKey ?? "") was already used for a different request") }
        if let ticket {
            if let expectedVersion, expectedVersion != ticket.version {
                throw Problem(.preconditionFailed, "ticket \(ticket.id) is at version \(ticket.version), not \(expectedVersion)")
            }
            return try await change(ticket, command: command, principal: principal, idempotency: idempotency,
                                    ifMatch: expectedVersion != nil)
        }
        if expectedVersion != nil { throw Problem(.preconditionFailed, "If-Match cannot match a ticket that does not exist yet") }
        return try await open(command, principal: principal, idempotency: idempotency)
    }

    /// Checks a back-dated `at` against the clock (SPEC §7: between the ticket's last `at` and now).
    private func checkBackdating(_ command: TicketCommand, now: Timestamp) throws(Problem) {
        if let at = command.at, at > now {
            throw Problem.conflict("at \(at) is after the server clock (\(now))")
        }
    }

    private func change(_ initial: Ticket, command: TicketCommand, principal: Principal, idempotency: IdempotencyKey?,
                        ifMatch: Bool) async throws -> Response {
        var ticket = initial
        for _ in 0..<Self.maximumAttempts {
            let now = clock()
            try checkBackdating(command, now: now)
            let at = command.at ?? max(now, ticket.lastAt)
            let events: [TicketEvent]
            do { events = try TicketRules.decide(command, on: ticket, at: at) } catch { throw Problem(error) }
            var precondition: AppendRequest.Precondition?
            if case .merged(let into) = command.event {
                do { try TicketRules.checkMergeTarget(try load(into), into: into, at: at) } catch let error as DomainError {
                    throw Problem(error)
                }
                precondition = { snapshot, at in
                    let target = try Ticket.fold(snapshot.events(inStream: into))
                    try TicketRules.checkMergeTarget(target, into: into, at: at)
                }
            }
            let before = ticket
            let levels = self.levels
            var key = idempotency
            key?.response = { result in
                Self.answer(before: before, events: events, result: result, viewer: principal, levels: levels, status: 200)?
                    .answer.encoded() ?? []
            }
            let request = AppendRequest(
                stream: ticket.id,
                events: events.map { ProposedEvent(type: $0.kind.rawValue, at: command.at, actor: command.actor.eventActor, data: $0.data) },
                expectedVersion: .exactly(ticket.version), idempotency: key, precondition: precondition)
            let result: AppendResult
            do {
                result = try await append(request)
            } catch .wrongExpectedVersion {
                if ifMatch { throw Problem(.preconditionFailed, "ticket \(ticket.id) changed while this command was decided") }
                ticket = try visibleTicket(ticket.id, to: principal)
                continue
            } catch {
                throw Problem(error)
            }
            // The answer goes out once every projection has applied the write (read your writes).
            await projections.waitUntilApplied(result.lastSeq)
            return try response(for: result, before: before, events: events, viewer: principal, levels: levels, status: 200)
        }
        throw Problem(.serviceUnavailable, "ticket \(initial.id) is changing too fast; retry")
    }

    private func open(_ command: TicketCommand, principal: Principal, idempotency: IdempotencyKey?) async throws -> Response {
        let events: [TicketEvent]
        do { events = try TicketRules.decideOpening(command) } catch { throw Problem(error) }
        try checkBackdating(command, now: clock())
        let levels = self.levels
        var key = idempotency
        key?.response = { result in
            Self.answer(before: nil, events: events, result: result, viewer: principal, levels: levels, status: 201)?
                .answer.encoded() ?? []
        }
        for _ in 0..<Self.maximumAttempts {
            let id = directory.reserve()
            let request = AppendRequest(
                stream: id,
                events: events.map { ProposedEvent(type: $0.kind.rawValue, at: command.at, actor: command.actor.eventActor, data: $0.data) },
                expectedVersion: .noStream, idempotency: key)
            let result: AppendResult
            do {
                result = try await append(request)
            } catch .wrongExpectedVersion {
                continue // the id was taken (e.g. by an import): take the next one
            } catch {
                throw Problem(error)
            }
            await projections.waitUntilApplied(result.lastSeq)
            return try response(for: result, before: nil, events: events, viewer: principal, levels: levels, status: 201)
        }
        throw Problem(.serviceUnavailable, "no free ticket id found; retry")
    }

    func response(for result: AppendResult, before: Ticket?, events: [TicketEvent], viewer: Principal,
                          levels: ServiceLevels, status: Int) throws -> Response {
        if result.replayed {
            guard let stored = result.response, let answer = WriteAnswer(decoding: stored) else {
                throw Problem(.serviceUnavailable, "the stored answer of this idempotency key cannot be read")
            }
            do { return try answer.replay(from: store) } catch { throw Problem(error) }
        }
        guard let (answer, after) = Self.answer(before: before, events: events, result: result, viewer: viewer, levels: levels,
                                                status: status) else {
            throw Problem(.internalServerError, "the appended events make no ticket")
        }
        cache.store(after)
        return answer.response(for: after)
    }

    /// The ticket after the appended events.
    static func ticket(after before: Ticket?, events: [TicketEvent], result: AppendResult) -> Ticket? {
        var ticket = before
        for (event, recorded) in zip(events, result.events) {
            guard let actor = SupportActor(recorded.actor) else { continue }
            if var t = ticket {
                t.apply(event, version: recorded.version, at: recorded.at, actor: actor)
                ticket = t
            } else if case .opened(let opened) = event {
                ticket = Ticket(id: recorded.stream, opened: opened, at: recorded.at, by: actor)
            }
        }
        return ticket
    }

    /// The answer to the write (the ticket after the appended events) and that ticket; nil when
    /// the events make no ticket.
    static func answer(before: Ticket?, events: [TicketEvent], result: AppendResult, viewer: Principal,
                       levels: ServiceLevels, status: Int) -> (answer: WriteAnswer, ticket: Ticket)? {
        guard let ticket = ticket(after: before, events: events, result: result), let last = result.events.last else { return nil }
        return (WriteAnswer(ticket: ticket, at: last.recorded, levels: levels, viewer: viewer, status: status), ticket)
    }
}
