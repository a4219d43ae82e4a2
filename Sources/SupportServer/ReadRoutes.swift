import EventLog
import Hummingbird
import NIOCore
import Projections
import SupportDomain
import SupportService

/// The projected read models (SPEC §5, §7): queues, workloads, metrics, satisfaction, the ticket list.
package struct ReadRoutes: Sendable {
    let backend: SupportBackend
    var runner: ProjectionRunner { backend.projections }

    static let queueReaders: Set<Role> = [.agent, .manager, .auditor, .admin]
    static let metricReaders: Set<Role> = [.manager, .auditor, .admin]

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.get("queues") { request, context in try await queues(request, context) }
        group.get("queues/:team") { request, context in try await teamQueue(request, context) }
        group.get("agents") { request, context in try await agents(request, context) }
        group.get("agents/:id/queue") { request, context in try await agentQueue(request, context) }
        group.get("metrics/response-times") { request, context in try await responseTimes(request, context) }
        group.get("satisfaction") { request, context in try await satisfaction(request, context) }
        group.post("metrics/what-if") { request, context in try await whatIf(request, context) }
        group.get("tickets") { request, context in try await ticketList(request, context) }
        group.post("queues/:team/claim") { request, context in
            guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
            let team = try context.pathIdentifier("team")
            _ = try QueryParameters(request, allowed: [])
            // A retried claim (same key, same team) answers with the ticket it claimed.
            var idempotency: IdempotencyKey?
            if let key = request.headers[.idempotencyKey] {
                guard TicketCommands.isValidIdempotencyKey(key) else {
                    throw Problem.badRequest("Idempotency-Key must be 1 to 255 printable ASCII characters")
                }
                idempotency = TicketCommands.idempotencyKey(
                    key, principal: principal, method: "POST", path: "/v1/queues/\(team)/claim", body: [])
            }
            return try await backend.commands.claim(team: team, principal: principal, idempotency: idempotency)?.response
                ?? Response(status: .noContent)
        }
    }

    /// The evaluation instant and the projection to answer from: the live one, or the projection
    /// of the events with `at` <= asOf (``ProjectionRunner/asOf(_:)``: from a snapshot and the few
    /// events after it, or, without snapshots, a fold of the whole log). It is computed on a thread
    /// of its own, a few at once (``PointInTimeFolds``; beyond, 503 with `Retry-After`), so that
    /// it never holds up the other requests; a read without `asOf` never waits for one.
    private func evaluate<R: Sendable>(
        asOf: Timestamp?,
        _ body: @escaping @Sendable (borrowing SupportProjection, Timestamp) throws -> R
    ) async throws -> R {
        if let asOf {
            let runner = self.runner
            let store = backend.store
            // With the snapshots ready an answer takes well under a second; else about one fold of the log.
            let retryAfter = {
                runner.pointInTime?.isCaughtUp == true ? 1 : PointInTimeFolds.retryAfter(events: (try? store.head.seq) ?? 0)
            }
            return try await backend.pointInTime.run(retryAfter: retryAfter()) {
                let past: SupportProjection
                do { past = try runner.asOf(asOf) } catch { throw Problem(.serviceUnavailable, "\(error)") }
                return try body(past, asOf)
            }
        }
        let now = backend.clock()
        return try runner.read { try body($0, now) }
    }

    private func window(_ query: QueryParameters) throws(Problem) -> TimeWindow {
        let from = try query.instant("from"), to = try query.instant("to")
        if let from, let to, from > to { throw Problem.badRequest("\"from\" (\(from)) is after \"to\" (\(to))") }
        return TimeWindow(from: from, to: to)
    }

    private static let queueParameters: Set<String> = ["asOf", "from", "to", "limit"]

    func queues(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try context.reader(Self.queueReaders, "queues")
        let query = try QueryParameters(request, allowed: Self.queueParameters)
        let asOf = try query.instant("asOf")
        _ = try window(query)
        _ = try query.integer("limit", in: 1...Int.max)
        return try await evaluate(asOf: asOf) { projection, at in
            return JSONResponse.make(QueuesAnswer(projection.queues(at: at), at: at))
        }
    }

    func teamQueue(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        try await queue(request, context, owner: ("team", try context.pathIdentifier("team"))) { projection, name, at, limit in
            projection.teamQueue(name, at: at, limit: limit)
        }
    }

    func agentQueue(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        try await queue(request, context, owner: ("agent", try context.pathIdentifier("id"))) { projection, name, at, limit in
            projection.agentQueue(name, at: at, limit: limit)
        }
    }

    /// A team's or an agent's queue: the same parameters, checks and answer for both.
    private func queue(
        _ request: Request, _ context: SupportRequestContext, owner: (key: String, value: String),
        entries: @escaping @Sendable (borrowing SupportProjection, String, Timestamp, Int?) -> [QueueEntry]
    ) async throws -> Response {
        _ = try context.reader(Self.queueReaders, "queues")
        let query = try QueryParameters(request, allowed: Self.queueParameters)
        let asOf = try query.instant("asOf")
        _ = try window(query)
        let limit = try query.integer("limit", in: 1...Int.max)
        return try await evaluate(asOf: asOf) { projection, at in
            JSONResponse.make(bytes: QueueAnswer.body(owner: owner, entries: entries(projection, owner.value, at, limit), at: at))
        }
    }

    func agents(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try context.reader(Self.queueReaders, "workloads")
        let query = try QueryParameters(request, allowed: Self.queueParameters)
        let asOf = try query.instant("asOf")
        let window = try window(query)
        _ = try query.integer("limit", in: 1...Int.max)
        return try await evaluate(asOf: asOf) { projection, at in
            return JSONResponse.make(
                AgentsAnswer(
                    projection.workloads(window: window), window: window, at: at,
                    capacity: projection.capacity, policyHash: runner.policyHash))
        }
    }

    func responseTimes(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try context.reader(Self.metricReaders, "response-time metrics")
        let query = try QueryParameters(request, allowed: ["from", "to", "groupBy", "clock", "asOf"])
        let asOf = try query.instant("asOf")
        let window = try window(query)
        let groupBy = try query.enumeration("groupBy", GroupBy.self) ?? GroupBy.none
        let clock = try query.enumeration("clock", SLAClock.self) ?? .calendar
        return try await evaluate(asOf: asOf) { projection, at in
            return JSONResponse.make(
                ResponseTimesAnswer(
                    projection.responseTimes(at: at, window: window, groupBy: groupBy, clock: clock),
                    window: window, clock: clock, groupBy: groupBy, at: at, policyHash: runner.policyHash))
        }
    }

    func satisfaction(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try context.reader(Self.metricReaders, "satisfaction")
        let query = try QueryParameters(request, allowed: ["bucket", "from", "to", "groupBy", "asOf"])
        let asOf = try query.instant("asOf")
        let window = try window(query)
        let groupBy = try query.enumeration("groupBy", GroupBy.self) ?? GroupBy.none
        let bucket = try query.enumeration("bucket", BucketName.self) ?? .week
        let calendar = backend.levels.calendar
        return try await evaluate(asOf: asOf) { projection, at in
            return JSONResponse.make(
                SatisfactionAnswer(
                    projection.satisfaction(window: window, bucket: bucket.unit, groupBy: groupBy),
                    bucket: bucket.rawValue, groupBy: groupBy, window: window,
                    timeZone: backend.levels.policy.timeZoneIdentifier, at: at,
                    policyHash: runner.policyHash, bucketStart: calendar.formatBucketStart))
        }
    }

    /// `POST /v1/metrics/what-if`: the response-time, satisfaction and queue figures of the current
    /// policy and of a proposed one (the body's `policy` overlay) side by side
    /// (``SupportBackend/whatIf(_:)``). The body is read strictly (``WhatIfQuery/init(body:)``)
    /// after 401 and 403; a too large one is 413.
    func whatIf(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try context.reader(Self.metricReaders, "what-if metrics")
        _ = try QueryParameters(request, allowed: [])
        var request = request
        let body: [UInt8]
        do { body = Array(buffer: try await request.collectBody(upTo: TicketCommands.maximumBody)) } catch let error as HTTPError
            where error.status == .contentTooLarge
        {
            throw Problem(.contentTooLarge, "the body exceeds \(TicketCommands.maximumBody) bytes")
        } catch is NIOTooManyBytesError {
            throw Problem(.contentTooLarge, "the body exceeds \(TicketCommands.maximumBody) bytes")
        }
        let query: WhatIfQuery
        do { query = try WhatIfQuery(body: body) } catch { throw Problem(error) }
        let result: WhatIfResult
        do { result = try await backend.whatIf(query) } catch { throw Problem(error) }
        return JSONResponse.make(WhatIfAnswer(result))
    }

    func ticketList(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        let principal = try context.reader(Set(Role.allCases), "tickets")
        let query = try QueryParameters(request, allowed: ["status", "team", "assignee", "customer", "tag", "limit", "after", "asOf"])
        let asOf = try query.instant("asOf")
        var filter = TicketFilter(
            status: try query.enumeration("status", TicketStatus.self), team: query.string("team"),
            assignee: query.string("assignee"), customer: query.string("customer"), tag: query.string("tag"))
        let limit = try query.integer("limit", in: 1...1000) ?? 100
        let after = query.string("after")
        if principal.role == .customer {
            // Customers see only their own tickets; asking for another customer's gives an empty list.
            if let asked = filter.customer, !Identifier.same(asked, principal.id) {
                return JSONResponse.make(TicketListAnswer(noTicketsAt: asOf ?? backend.clock()))
            }
            filter.customer = principal.id
        }
        let matching = filter
        return try await evaluate(asOf: asOf) { projection, at in
            let page: TicketPage
            do { page = try projection.tickets(matching: matching, at: at, limit: limit, after: after) } catch let error as DomainError {
                throw Problem(error)
            }
            return JSONResponse.make(TicketListAnswer(page, at: at))
        }
    }
}

/// The `bucket` query parameter.
enum BucketName: String, CaseIterable {
    case day, week, month
    var unit: BucketUnit {
        switch self {
        case .day: .day
        case .week: .week
        case .month: .month
        }
    }
}
