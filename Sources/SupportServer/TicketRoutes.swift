import EventLog
import HTTPTypes
import Hummingbird
import NIOCore
import SupportDomain
import SupportService

/// `/v1/tickets`: opening, the command routes and reading one ticket.
struct TicketRoutes {
    let backend: SupportBackend

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.post("tickets") { request, context in
            try await command(.open, ticketID: nil, request: request, context: context)
        }
        for route in CommandRoute.allCases where route != .open {
            group.post("tickets/:id/\(route.rawValue)") { request, context in
                let id = try context.pathIdentifier("id")
                return try await command(route, ticketID: id, request: request, context: context)
            }
        }
        group.get("tickets/:id") { request, context in
            try readTicket(request: request, context: context)
        }
    }

    /// A write route: the request checked in the order SPEC §7 answers (a stored idempotent
    /// answer, 404, 403, 413, 400, 409 for a reused key), then the command runs in the service.
    func command(_ route: CommandRoute, ticketID: String?, request: Request, context: SupportRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        let commands = backend.commands
        var request = request

        // The body, up to the limit (413 comes after 404 and 403).
        var body: [UInt8]?
        do {
            let buffer = try await request.collectBody(upTo: TicketCommands.maximumBody)
            body = Array(buffer: buffer)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            body = nil
        } catch is NIOTooManyBytesError {
            body = nil
        }

        // The replay of an idempotent request already answered.
        let rawKey = request.headers[.idempotencyKey]
        let keyIsValid = rawKey.map(TicketCommands.isValidIdempotencyKey)
        var idempotency: IdempotencyKey?
        var keyConflict = false
        if let rawKey, keyIsValid == true, let body {
            // The path as decoded, so a retry that escapes the same id otherwise (%C3%A9, %c3%a9)
            // is the same request; for ids that need no escaping it is the path as sent.
            let path = ticketID.map { "/v1/tickets/\($0)/\(route.rawValue)" } ?? "/v1/tickets"
            let key = TicketCommands.idempotencyKey(rawKey, principal: principal, method: request.method.rawValue, path: path, body: body)
            switch try await IdempotentAnswers(store: backend.store).lookUp(key.key, fingerprint: key.fingerprint) {
            case .answered(let reply): return reply.response
            case .reused: keyConflict = true
            case .unused: break
            }
            idempotency = key
        }

        // 404, then 403.
        var ticket: Ticket?
        if let ticketID { ticket = try commands.visibleTicket(ticketID, to: principal) }
        guard let actor = principal.actor, TicketRules.mayWrite(route.eventKind, as: actor.kind) else {
            throw Problem.forbidden(
                "a \(principal.role.rawValue) may not \(route == .open ? "open tickets" : "post to /\(route.rawValue)")")
        }
        // 413, then 400.
        guard let body else { throw Problem(.contentTooLarge, "the body exceeds \(TicketCommands.maximumBody) bytes") }
        // The body first: what it asks for may be forbidden (`at`, `status`, another customer),
        // and 403 answers before every 400.
        let json: JSONValue
        do { json = try JSONParser.parse(body) } catch { throw Problem.badRequest("malformed JSON: \(error)") }
        let command: TicketCommand
        do {
            command = try TicketCommand.parse(route: route, body: json, actor: actor, limits: backend.levels.policy.limits)
        } catch { throw Problem(error) }
        _ = try QueryParameters(request, allowed: [])
        if keyIsValid == false { throw Problem.badRequest("Idempotency-Key must be 1 to 255 printable ASCII characters") }
        var expectedVersion: UInt64?
        if let ifMatch = request.headers[.ifMatch] {
            var text = Substring(ifMatch.trimmingCharacters(in: .whitespaces))
            if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
            guard let v = UInt64(text), v >= 1 else { throw Problem.badRequest("If-Match must be a version in quotes, such as \"3\"") }
            expectedVersion = v
        }

        // 409 for a reused key, then 412 and the rules (in the service).
        if keyConflict { throw Problem.conflict("Idempotency-Key \(rawKey ?? "") was already used for a different request") }
        return try await commands.run(
            command, on: ticket, principal: principal, idempotency: idempotency,
            expectedVersion: expectedVersion
        ).response
    }

    /// GET /v1/tickets/{id}?asOf=: the ticket as of an instant (all events with `at` <= asOf).
    func readTicket(request: Request, context: SupportRequestContext) throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        let id = try context.ticketIdentifier("id")
        let events: [RecordedEvent]
        do { events = try backend.store.events(inStream: id) } catch { throw Problem(error) }
        let current: Ticket?
        do { current = try Ticket.fold(events) } catch { throw Problem(.serviceUnavailable, error.detail) }
        guard let current, principal.role != .customer || Identifier.same(current.customer, principal.id) else {
            throw Problem.notFound("ticket \(id) not found")
        }
        let query = try QueryParameters(request, allowed: ["asOf"])
        let asOf = try query.instant("asOf")
        var ticket = current
        if let asOf {
            let prefix = events.prefix { $0.at <= asOf }
            guard !prefix.isEmpty else { throw Problem.notFound("ticket \(id) did not exist at \(asOf)") }
            do {
                guard let past = try Ticket.fold(prefix) else { throw Problem.notFound("ticket \(id) not found") }
                ticket = past
            } catch let error as DomainError {
                throw Problem(.serviceUnavailable, error.detail)
            }
        }
        let evaluation = asOf ?? backend.clock()
        let body = TicketBody(ticket, at: evaluation, levels: backend.levels, viewer: principal)
        return JSONResponse.make(body, headers: [.eTag: "\"\(ticket.version)\""])
    }
}

extension WriteReply {
    /// The reply as the HTTP answer: its status, `ETag`, `Location` and JSON body.
    var response: Response {
        var headers: HTTPFields = [.eTag: "\"\(version)\""]
        if let location { headers[.location] = location }
        return JSONResponse.make(bytes: body, status: HTTPResponse.Status(code: status), headers: headers)
    }
}
