import EventLog
import Hummingbird
import Projections
import SupportDomain

/// The projected read models (SPEC §5, §7): queues, workloads, metrics, satisfaction, the ticket list.
public struct ReadRoutes: Sendable {
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
        group.get("tickets") { request, context in try await ticketList(request, context) }
        group.post("queues/:team/claim") { request, context in
            guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
            let team = try context.pathIdentifier("team")
            _ = try QueryParameters(request, allowed: [])
            return try await backend.commands.claim(team: team, principal: principal) ?? Response(status: .noContent)
        }
    }

    private func principal(_ context: SupportRequestContext, _ roles: Set<Role>, _ what: String) throws(Problem) -> Principal {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        guard roles.contains(principal.role) else { throw Problem.forbidden("a \(principal.role.rawValue) may not read \(what)") }
        return principal
    }

    /// The evaluation instant and the projection to answer from: the live one, or a fold of the
    /// events with `at` <= asOf. Such a fold scans the whole log: it runs on a thread of its own,
    /// a few at once (``PointInTimeFolds``; beyond, 503 with `Retry-After`), so that it never
    /// holds up the other requests; a read without `asOf` never waits for one.
    private func evaluate<R: Sendable>(asOf: Timestamp?,
                                       _ body: @escaping @Sendable (borrowing SupportProjection, Timestamp) throws -> R) async throws -> R {
        if let asOf {
            let runner = self.runner
            let store = backend.store
            return try await backend.pointInTime.run(retryAfter: PointInTimeFolds.retryAfter(events: (try? store.head.seq) ?? 0)) {
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
        _ = try principal(context, Self.queueReaders, "queues")
        let query = try QueryParameters(request, allowed: Self.queueParameters)
        let asOf = try query.instant("asOf")
        _ = try window(query)
        _ = try query.integer("limit", in: 1...Int.max)
        return try await evaluate(asOf: asOf) { projection, at in
            let list = projection.queues(at: at).map { q -> JSONValue in
                .object(["team": .string(q.team), "depth": .int(Int64(q.depth)), "breached": .int(Int64(q.breached)),
                         "oldestWaitingSince": q.oldestWaitingSince.json])
            }
            return JSONResponse.make(.object(["evaluatedAt": at.json, "queues": .array(list)]))
        }
    }

    /// A queue entry as a JSON value: the reference form that ``queueAnswer(owner:entries:at:)``
    /// writes directly (the tests check that both give the same bytes), also used by tools.
    public static func entry(_ e: QueueEntry) -> JSONValue {
        .object(["id": .string(e.id), "subject": .string(e.subject), "customer": .string(e.customer),
                 "priority": .string(e.priority.rawValue), "status": .string(e.status.rawValue), "assignee": e.assignee.json,
                 "channel": .string(e.channel.rawValue), "waitingSince": e.waitingSince.json, "nextDue": e.nextDue.json,
                 "nextDueTarget": e.nextDueTarget.map { .string($0.rawValue) } ?? .null, "breached": .bool(e.breached)])
    }

    /// A queue answer written straight to bytes in canonical member order: queue reads are the
    /// hottest route, and building a dictionary per entry to sort its keys costs more than the query.
    static func queueAnswer(owner: (key: String, value: String), entries: [QueueEntry], at: Timestamp) -> Response {
        var out: [UInt8] = []
        out.reserveCapacity(128 + entries.count * 320)
        // Members in canonical order: "agent" < "entries" < "evaluatedAt" < "team".
        let ownerFirst = BinaryJSON.canonicalKeyOrder(owner.key, "entries")
        out.append(UInt8(ascii: "{"))
        if ownerFirst {
            CanonicalJSON.appendStringLiteral(owner.key, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendStringLiteral(owner.value, to: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""entries":["#.utf8)
        for (k, e) in entries.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"assignee":"#.utf8)
            if let a = e.assignee { CanonicalJSON.appendStringLiteral(a, to: &out) } else { out.append(contentsOf: "null".utf8) }
            out.append(contentsOf: (e.breached ? #","breached":true,"channel":""# : #","breached":false,"channel":""#).utf8)
            out.append(contentsOf: e.channel.rawValue.utf8)
            out.append(contentsOf: #"","customer":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.customer, to: &out)
            out.append(contentsOf: #","id":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.id, to: &out)
            out.append(contentsOf: #","nextDue":"#.utf8)
            appendInstant(e.nextDue, to: &out)
            out.append(contentsOf: #","nextDueTarget":"#.utf8)
            if let t = e.nextDueTarget { out.append(contentsOf: "\"\(t.rawValue)\"".utf8) } else { out.append(contentsOf: "null".utf8) }
            out.append(contentsOf: #","priority":""#.utf8); out.append(contentsOf: e.priority.rawValue.utf8)
            out.append(contentsOf: #"","status":""#.utf8); out.append(contentsOf: e.status.rawValue.utf8)
            out.append(contentsOf: #"","subject":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.subject, to: &out)
            out.append(contentsOf: #","waitingSince":"#.utf8)
            appendInstant(e.waitingSince, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"evaluatedAt":"#.utf8)
        appendInstant(at, to: &out)
        if !ownerFirst {
            out.append(UInt8(ascii: ","))
            CanonicalJSON.appendStringLiteral(owner.key, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendStringLiteral(owner.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return JSONResponse.make(bytes: out)
    }

    private static func appendInstant(_ t: Timestamp?, to out: inout [UInt8]) {
        guard let t else { out.append(contentsOf: "null".utf8); return }
        out.append(UInt8(ascii: "\""))
        t.appendRFC3339(to: &out)
        out.append(UInt8(ascii: "\""))
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
    private func queue(_ request: Request, _ context: SupportRequestContext, owner: (key: String, value: String),
                       entries: @escaping @Sendable (borrowing SupportProjection, String, Timestamp, Int?) -> [QueueEntry]) async throws -> Response {
        _ = try principal(context, Self.queueReaders, "queues")
        let query = try QueryParameters(request, allowed: Self.queueParameters)
        let asOf = try query.instant("asOf")
        _ = try window(query)
        let limit = try query.integer("limit", in: 1...Int.max)
        return try await evaluate(asOf: asOf) { projection, at in
            Self.queueAnswer(owner: owner, entries: entries(projection, owner.value, at, limit), at: at)
        }
    }

    static func ratings(_ r: RatingSummary) -> JSONValue {
        .object(["count": .int(Int64(r.count)), "mean": r.mean.map(JSONValue.double) ?? .null, "csat": r.csat.map(JSONValue.double) ?? .null])
    }

    func agents(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try principal(context, Self.queueReaders, "workloads")
        let query = try QueryParameters(request, allowed: Self.queueParameters)
        let asOf = try query.instant("asOf")
        let window = try window(query)
        _ = try query.integer("limit", in: 1...Int.max)
        return try await evaluate(asOf: asOf) { projection, at in
            let list = projection.workloads(window: window).map { w -> JSONValue in
                .object(["agent": .string(w.agent),
                         "assigned": .object(["newOpen": .int(Int64(w.assigned.newOpen)), "pending": .int(Int64(w.assigned.pending)),
                                              "onHold": .int(Int64(w.assigned.onHold))]),
                         "solved": .int(Int64(w.solved)), "replies": .int(Int64(w.replies)),
                         "satisfaction": Self.ratings(w.satisfaction), "overloaded": .bool(w.overloaded)])
            }
            return JSONResponse.make(.object([
                "from": window.from.json, "to": window.to.json, "evaluatedAt": at.json,
                "capacity": .int(Int64(projection.capacity)), "agents": .array(list), "policyHash": .string(runner.policyHash)]))
        }
    }

    /// Milliseconds as a JSON number of seconds with at most 3 fraction digits.
    static func seconds(_ ms: Int64?) -> JSONValue {
        guard let ms else { return .null }
        return ms % 1000 == 0 ? .int(ms / 1000) : .double(Double(ms) / 1000)
    }

    static func metric(_ m: MetricSummary) -> JSONValue {
        let s = m.statistics
        var o: [String: JSONValue] = ["count": .int(Int64(s.count)), "min": seconds(s.min), "max": seconds(s.max),
                                      "mean": seconds(s.mean), "p50": seconds(s.p50), "p90": seconds(s.p90), "p99": seconds(s.p99)]
        if let sla = m.sla {
            o["sla"] = .object(["achieved": .int(Int64(sla.achieved)), "breached": .int(Int64(sla.breached)),
                                "compliance": sla.compliance.map(JSONValue.double) ?? .null])
        }
        return .object(o)
    }

    func responseTimes(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try principal(context, Self.metricReaders, "response-time metrics")
        let query = try QueryParameters(request, allowed: ["from", "to", "groupBy", "clock", "asOf"])
        let asOf = try query.instant("asOf")
        let window = try window(query)
        let groupBy = try query.enumeration("groupBy", GroupBy.self) ?? GroupBy.none
        let clock = try query.enumeration("clock", SLAClock.self) ?? .calendar
        return try await evaluate(asOf: asOf) { projection, at in
            let groups = projection.responseTimes(at: at, window: window, groupBy: groupBy, clock: clock).map { g -> JSONValue in
                .object(["key": g.key.json, "firstReply": Self.metric(g.firstReply), "nextReply": Self.metric(g.nextReply),
                         "resolution": Self.metric(g.resolution), "requesterWait": Self.metric(g.requesterWait),
                         "agentWork": Self.metric(g.agentWork)])
            }
            return JSONResponse.make(.object([
                "from": window.from.json, "to": window.to.json, "clock": .string(clock.rawValue), "groupBy": .string(groupBy.rawValue),
                "evaluatedAt": at.json, "groups": .array(groups), "policyHash": .string(runner.policyHash)]))
        }
    }

    func satisfaction(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try principal(context, Self.metricReaders, "satisfaction")
        let query = try QueryParameters(request, allowed: ["bucket", "from", "to", "groupBy", "asOf"])
        let asOf = try query.instant("asOf")
        let window = try window(query)
        let groupBy = try query.enumeration("groupBy", GroupBy.self) ?? GroupBy.none
        let bucket = try query.enumeration("bucket", BucketName.self) ?? .week
        let calendar = backend.levels.calendar
        return try await evaluate(asOf: asOf) { projection, at in
            let groups = projection.satisfaction(window: window, bucket: bucket.unit, groupBy: groupBy).map { g -> JSONValue in
                .object(["key": g.key.json, "series": .array(g.series.map { p in
                    .object(["bucketStart": .string(calendar.formatBucketStart(p.bucketStart)), "count": .int(Int64(p.count)),
                             "mean": .double(p.mean), "csat": .double(p.csat)])
                })])
            }
            return JSONResponse.make(.object([
                "bucket": .string(bucket.rawValue), "groupBy": .string(groupBy.rawValue), "from": window.from.json,
                "to": window.to.json, "timeZone": .string(backend.levels.policy.timeZoneIdentifier), "evaluatedAt": at.json,
                "groups": .array(groups), "policyHash": .string(runner.policyHash)]))
        }
    }

    func ticketList(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        let principal = try principal(context, Set(Role.allCases), "tickets")
        let query = try QueryParameters(request, allowed: ["status", "team", "assignee", "customer", "tag", "limit", "after"])
        var filter = TicketFilter(status: try query.enumeration("status", TicketStatus.self), team: query.string("team"),
                                  assignee: query.string("assignee"), customer: query.string("customer"), tag: query.string("tag"))
        let limit = try query.integer("limit", in: 1...1000) ?? 100
        let after = query.string("after")
        if principal.role == .customer {
            // Customers see only their own tickets; asking for another customer's gives an empty list.
            if let asked = filter.customer, !Identifier.same(asked, principal.id) {
                let now = backend.clock()
                return JSONResponse.make(.object(["evaluatedAt": now.json, "tickets": .array([]), "next": .null]))
            }
            filter.customer = principal.id
        }
        let matching = filter
        return try await evaluate(asOf: nil) { projection, at in
            let page: TicketPage
            do { page = try projection.tickets(matching: matching, at: at, limit: limit, after: after) } catch let error as DomainError { throw Problem(error) }
            let list = page.tickets.map { t -> JSONValue in
                .object(["id": .string(t.id), "version": .int(Int64(t.version)), "status": .string(t.status.rawValue),
                         "priority": .string(t.priority.rawValue), "team": .string(t.team), "assignee": t.assignee.json,
                         "customer": .string(t.customer), "subject": .string(t.subject), "channel": .string(t.channel.rawValue),
                         "product": .string(t.product), "context": t.context.json, "tags": .array(t.tags.map(JSONValue.string)),
                         "openedAt": t.openedAt.json, "openedBy": TicketRepresentation.actor(t.openedBy),
                         "mergedInto": t.mergedInto.json, "waitingSince": t.waitingSince.json, "nextDue": t.nextDue.json,
                         "nextDueTarget": t.nextDueTarget.map { .string($0.rawValue) } ?? .null, "breached": .bool(t.breached),
                         "evaluatedAt": at.json])
            }
            return JSONResponse.make(.object(["evaluatedAt": at.json, "tickets": .array(list), "next": page.next.json]))
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
