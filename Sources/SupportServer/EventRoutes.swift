import EventLog
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import SupportDomain
import SupportService

/// The auditors' view of the log: the feed with long-polling, the head, and one ticket's history.
struct EventRoutes {
    let backend: SupportBackend

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.get("events") { request, context in try await feed(request: request, context: context) }
        group.get("events/head") { request, context in try head(request: request, context: context) }
        group.get("tickets/:id/history") { request, context in try history(request: request, context: context) }
        group.get("tickets/:id/sla") { request, context in try await slaClocks(request: request, context: context) }
    }

    /// GET /v1/events?after=SEQ&limit=N&wait=S: the log in order; waits up to S seconds when
    /// nothing is new (at most `limits.concurrentLongPolls` such waits at once, beyond: 503
    /// with `Retry-After`), and answers at once (no events) when the server shuts down.
    func feed(request: Request, context: SupportRequestContext) async throws -> Response {
        _ = try context.reader([.auditor, .admin], "the event log")
        let query = try QueryParameters(request, allowed: ["after", "limit", "wait"])
        let after = try query.unsigned("after") ?? 0
        let limit = try query.integer("limit", in: 1...1000) ?? 100
        let wait = try query.integer("wait", in: 0...60) ?? 0
        var events: [RecordedEvent]
        do { events = try backend.store.events(after: after, limit: limit) } catch { throw Problem(error) }
        if events.isEmpty, wait > 0 {
            // Each waiting poll holds a connection and a task: a bounded number wait at once.
            let longPolls = backend.longPolls
            guard longPolls.tryEnter() else {
                throw Problem.retryLater(
                    .serviceUnavailable, seconds: 1,
                    "\(longPolls.limit) long-polls are waiting already; retry, or poll without \"wait\"")
            }
            defer { longPolls.leave() }
            let store = backend.store
            let shutdown = backend.shutdown
            let arrived =
                shutdown.isTriggered
                ? false
                : await withTaskGroup(of: Bool.self) { group in
                    group.addTask { await store.waitForEvents(after: after) }
                    group.addTask {
                        await shutdown.wait()
                        return false
                    }
                    group.addTask {
                        try? await Task.sleep(for: .seconds(wait))
                        return false
                    }
                    let first = await group.next() ?? false
                    group.cancelAll()
                    return first
                }
            if arrived {
                do { events = try backend.store.events(after: after, limit: limit) } catch { throw Problem(error) }
            }
        }
        let format = backend.store.configuration.envelope
        var body: [UInt8] = Array(#"{"events":["#.utf8)
        for (k, event) in events.enumerated() {
            if k > 0 { body.append(UInt8(ascii: ",")) }
            body += format.jsonLine(of: event)
        }
        body += Array(#"],"last":\#(events.last?.seq ?? after)}"#.utf8)
        return JSONResponse.make(bytes: body)
    }

    /// GET /v1/events/head: `{"seq", "hash"}` of the last event, for auditors to note.
    func head(request: Request, context: SupportRequestContext) throws -> Response {
        _ = try context.reader([.auditor, .admin], "the log head")
        _ = try QueryParameters(request, allowed: [])
        let head: LogHead
        do { head = try backend.store.head } catch { throw Problem(error) }
        return JSONResponse.make(EventsHeadAnswer(head))
    }

    /// The events of a ticket a staff member may read: 404 for an unknown ticket and for a
    /// customer's look at another customer's (404 before 403: a customer must not learn whether
    /// it exists), then 403 for a role outside `roles`.
    private func staffReadableEvents(
        _ context: SupportRequestContext, _ roles: Set<Role>, _ what: String
    ) throws -> (id: String, events: [RecordedEvent]) {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        let id = try context.ticketIdentifier("id")
        let events: [RecordedEvent]
        do { events = try backend.store.events(inStream: id) } catch { throw Problem(error) }
        guard let first = events.first else { throw Problem.notFound("ticket \(id) not found") }
        if principal.role == .customer {
            let owner = (try? TicketEvent(type: first.type, data: first.data)).flatMap { e -> String? in
                if case .opened(let o) = e { return o.customer } else { return nil }
            }
            if owner.map({ !Identifier.same($0, principal.id) }) ?? true { throw Problem.notFound("ticket \(id) not found") }
        }
        _ = try context.reader(roles, what)
        return (id, events)
    }

    /// GET /v1/tickets/{id}/sla?asOf=: every SLA interval of the ticket explained (the events
    /// with `at` <= asOf, evaluated at asOf; else all, evaluated now).
    func slaClocks(request: Request, context: SupportRequestContext) async throws -> Response {
        let (id, events) = try staffReadableEvents(context, [.agent, .manager, .auditor, .admin], "SLA clocks")
        let query = try QueryParameters(request, allowed: ["asOf"])
        let asOf = try query.instant("asOf")
        let answer = try await backend.explainClocks(ticket: id, events: events, asOf: asOf)
        guard let answer else { throw Problem.notFound("ticket \(id) did not exist at \(asOf.map { $0.rfc3339 } ?? "")") }
        return JSONResponse.make(answer)
    }

    /// GET /v1/tickets/{id}/history: every event of the ticket, each with the ticket's state
    /// right after it (evaluated at the event's `at`).
    func history(request: Request, context: SupportRequestContext) throws -> Response {
        let (id, events) = try staffReadableEvents(context, [.agent, .manager, .auditor, .admin], "ticket history")
        _ = try QueryParameters(request, allowed: [])
        return JSONResponse.make(
            bytes: try TicketHistory.body(
                ticket: id, events: events, envelope: backend.store.configuration.envelope,
                levels: backend.levels))
    }
}
