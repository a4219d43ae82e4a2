import EventLog
import HTTPTypes
import Hummingbird
import SupportDomain

/// `/v1/tickets`: opening, the command routes and reading one ticket.
struct TicketRoutes {
    let backend: SupportBackend

    func register(on group: RouterGroup<SupportRequestContext>) {
        let commands = backend.commands
        group.post("tickets") { request, context in
            try await commands.handle(route: .open, ticketID: nil, request: request, context: context)
        }
        for route in CommandRoute.allCases where route != .open {
            group.post("tickets/:id/\(route.rawValue)") { request, context in
                let id = try context.pathIdentifier("id")
                return try await commands.handle(route: route, ticketID: id, request: request, context: context)
            }
        }
        group.get("tickets/:id") { request, context in
            try readTicket(request: request, context: context)
        }
    }

    /// GET /v1/tickets/{id}?asOf=: the ticket as of an instant (all events with `at` <= asOf).
    func readTicket(request: Request, context: SupportRequestContext) throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        let id = try context.pathIdentifier("id")
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
        let body = TicketRepresentation.full(ticket, at: evaluation, levels: backend.levels, viewer: principal)
        return JSONResponse.make(body, headers: [.eTag: "\"\(ticket.version)\""])
    }
}
