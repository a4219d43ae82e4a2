import EventLog
import SupportDomain

/// The read models of SPEC §4 and §5 — queues, agent workloads, response-time metrics,
/// satisfaction and the ticket list — as one value folded from the log.
///
/// Apply every event in log (seq) order with ``apply(_:)``; then ask a query at an evaluation
/// instant. A point-in-time answer (`asOf=T`) is the same two steps: fold only the events whose
/// `at` <= T, in log order, and evaluate at T. Nothing in the state depends on when it is read:
/// the sort keys of the queues and the SLA due instants only change when a ticket changes, and
/// whether a running interval is breached is decided by the query.
///
/// The state is compact (no message bodies; names interned; per-ticket records of plain data),
/// and the fold does no per-event allocation beyond the values it records.
///
/// The fold trusts the log: events were checked against SPEC §2.2 when appended. It reads only
/// the members it needs and refuses an event it cannot read (unknown type or actor kind, a
/// missing or mistyped member, a ticket that was never opened, a version out of order) with a
/// `badRequest` ``DomainError``, leaving the state as it was. References a valid log never holds
/// (a rating of no agent message) are ignored.
public struct SupportProjection: Sendable {
    /// The policy and business calendar the projection was built under.
    public let levels: ServiceLevels
    /// The seq of the last event applied; 0 before any. Events at or below it are skipped.
    public internal(set) var appliedSeq: UInt64 = 0

    // Tickets, by dense index.
    /// Ticket ids, by ticket index.
    var ticketKeys = NameTable()
    var ticketIDs: [String] { ticketKeys.names }
    var tickets: [TicketState] = []
    var infos: [TicketInfo] = []

    // Names.
    /// Teams and products (a ticket's first team is its product).
    var teams = NameTable()
    var agents = NameTable()
    var customers = NameTable()
    var tagNames = NameTable()

    // Per team (by team index).
    var teamTicketCounts: [Int] = []
    var teamQueues: [SortedChunks<QueueItem>] = []
    // Per agent (by agent index).
    var agentLoads: [AssignedCounts] = []
    var agentQueues: [SortedChunks<QueueItem>] = []
    // Per customer: their tickets.
    var customerTickets: [[UInt32]] = []

    /// Every ticket, ascending by (openedAt, id).
    var openingOrder = SortedChunks<OpeningItem>()

    // Values.
    var replies: [ReplyValue] = []
    var agentMessages: [AgentMessage] = []
    var ratings: [RatingRecord] = []

    /// The policy's targets by `priority.urgencyRank * 3 + metric`.
    private let targets: [SLATarget?]

    /// An empty projection under a policy.
    public init(levels: ServiceLevels) {
        self.levels = levels
        var targets: [SLATarget?] = []
        for priority in [Priority.low, .normal, .high, .urgent] {
            for metric in [SLAMetric.firstReply, .nextReply, .resolution] {
                targets.append(levels.target(metric, priority: priority))
            }
        }
        self.targets = targets
    }

    /// How many tickets the projection holds.
    public var ticketCount: Int { tickets.count }

    /// The policy's agent capacity.
    public var capacity: Int { levels.policy.capacity }

    // MARK: Applying events

    /// Applies a sequence of events in log order. On an error the events before the refused one
    /// stay applied (``appliedSeq`` tells how far it got).
    public mutating func apply(contentsOf events: some Sequence<RecordedEvent>) throws(DomainError) {
        for event in events { try apply(event) }
    }

    /// Applies events in log order, reading them in place (no copy of each envelope). On an error
    /// the events before the refused one stay applied (``appliedSeq`` tells how far it got).
    public mutating func apply(contentsOf events: some RandomAccessCollection<RecordedEvent>) throws(DomainError) {
        var failure: DomainError?
        let done: Void? = events.withContiguousStorageIfAvailable { buffer in
            for i in buffer.indices {
                do throws(DomainError) {
                    try apply(buffer[i])
                } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw failure }
        if done != nil { return }
        for event in events { try apply(event) }
    }

    /// Applies one event; events must come in log order (an event at or below ``appliedSeq`` is
    /// skipped). On error nothing changes.
    public mutating func apply(_ event: RecordedEvent) throws(DomainError) {
        guard event.seq > appliedSeq else { return }
        guard case .object(let data) = event.data else {
            throw Self.refusal(event, "its data is not an object")
        }
        let actor = try Self.actorKind(event)
        let at = event.at.milliseconds
        guard let kind = TicketEvent.Kind(rawValue: event.type) else {
            throw Self.refusal(event, "unknown event type \"\(event.type)\"")
        }
        switch kind {
        case .messagePosted:
            let i = try ticket(of: event)
            var t = tickets[i]
            let before = placement(t, i)
            if actor == .customer {
                if t.status == .pending || t.status == .onHold || t.status == .solved { enter(&t, .open, at: at) }
                if !t.hasTurn {
                    t.hasTurn = true
                    t.turnStart = at
                    t.turnIsFirst = !t.hasAnsweredTurn
                    refreshTurnDue(&t)
                }
            } else {
                let agent = internAgent(event.actor.id)
                agentMessages.append(AgentMessage(at: at, version: event.version, agent: agent, previous: t.lastAgentMessage))
                t.lastAgentMessage = UInt32(agentMessages.count - 1)
                if t.status == .new { enter(&t, .open, at: at) }
                if t.hasTurn {
                    let calendar = at - t.turnStart
                    let business = levels.calendar.businessDuration(from: Timestamp(milliseconds: t.turnStart), to: event.at)
                    let metric: SLAMetric = t.turnIsFirst ? .firstReply : .nextReply
                    replies.append(ReplyValue(
                        end: at, calendar: calendar, business: business, ticket: UInt32(i), team: t.team, agent: agent,
                        priority: t.priority, isFirst: t.turnIsFirst,
                        outcome: outcome(metric, t.priority, calendar: calendar, business: business)))
                    t.hasTurn = false
                    t.hasAnsweredTurn = true
                }
            }
            finish(&t, i, before: before, event: event)
        case .noteAdded:
            let i = try ticket(of: event)
            var t = tickets[i]
            if actor == .agent { _ = internAgent(event.actor.id) }
            t.version = event.version
            tickets[i] = t
        case .assigned:
            let i = try ticket(of: event)
            guard let agentValue = data["agent"] else { throw Self.refusal(event, "\"agent\" is required") }
            let agentName: String?
            switch agentValue {
            case .null: agentName = nil
            case .string(let s): agentName = s
            default: throw Self.refusal(event, "\"agent\" must be a string or null")
            }
            let teamName = try Self.optionalString(data, "team", event)
            var t = tickets[i]
            let before = placement(t, i)
            if let agentName { t.assignee = internAgent(agentName) } else { t.assignee = Sentinel.none }
            if let teamName { t.team = internTeam(teamName) }
            finish(&t, i, before: before, event: event)
        case .priorityChanged:
            let i = try ticket(of: event)
            let priority = try Self.enumeration(data, "priority", Priority.self, event)
            var t = tickets[i]
            let before = placement(t, i)
            t.priority = priority
            refreshTurnDue(&t)
            refreshResolutionDue(&t)
            finish(&t, i, before: before, event: event)
        case .statusChanged:
            let i = try ticket(of: event)
            let status = try Self.enumeration(data, "status", TicketStatus.self, event)
            guard status != .new else { throw Self.refusal(event, "\"status\" may not be new") }
            var t = tickets[i]
            let before = placement(t, i)
            enter(&t, status, at: at)
            finish(&t, i, before: before, event: event)
        case .escalated:
            let i = try ticket(of: event)
            let teamName = try Self.requiredString(data, "team", event)
            var t = tickets[i]
            let before = placement(t, i)
            t.team = internTeam(teamName)
            finish(&t, i, before: before, event: event)
        case .tagsChanged:
            let i = try ticket(of: event)
            let added = try Self.stringArray(data, "added", event)
            let removed = try Self.stringArray(data, "removed", event)
            var t = tickets[i]
            let before = placement(t, i)
            var tags = infos[i].tags
            for name in added where !removed.contains(where: { Identifier.same($0, name) }) {
                let tag = tagNames.intern(name).index
                if !tags.contains(tag) { tags.append(tag) }
            }
            for name in removed {
                if let tag = tagNames.index(of: name) { tags.removeAll { $0 == tag } }
            }
            infos[i].tags = tags
            finish(&t, i, before: before, event: event)
        case .merged:
            let i = try ticket(of: event)
            let into = try Self.requiredString(data, "into", event)
            var t = tickets[i]
            let before = placement(t, i)
            infos[i].mergedInto = into
            enter(&t, .closed, at: at)
            finish(&t, i, before: before, event: event)
        case .satisfactionRated:
            let i = try ticket(of: event)
            guard let score = data["score"]?.intValue, (1...5).contains(score) else {
                throw Self.refusal(event, "\"score\" must be an integer from 1 to 5")
            }
            var reply: UInt64?
            if let value = data["reply"], !value.isNull {
                guard let v = value.intValue, v >= 1 else { throw Self.refusal(event, "\"reply\" must be a version") }
                reply = UInt64(v)
            }
            var t = tickets[i]
            let before = placement(t, i)
            rate(&t, i, score: UInt8(score), reply: reply, at: at)
            finish(&t, i, before: before, event: event)
        case .opened:
            try open(event, data, actor: actor)
        }
        appliedSeq = event.seq
    }

    // MARK: The fold's steps

    /// Creates the ticket of a `ticket.opened`.
    private mutating func open(_ event: RecordedEvent, _ data: [String: JSONValue], actor: ActorKind) throws(DomainError) {
        guard event.version == 1 else { throw Self.refusal(event, "ticket.opened must be version 1") }
        let customerName = try Self.requiredString(data, "customer", event)
        let subject = try Self.requiredString(data, "subject", event)
        let channel = try Self.enumeration(data, "channel", Channel.self, event)
        let productName = try Self.requiredString(data, "product", event)
        let priority = try Self.enumeration(data, "priority", Priority.self, event)
        let context = try Self.optionalString(data, "context", event)
        guard ticketKeys.index(of: event.stream) == nil else {
            throw Self.refusal(event, "ticket \(event.stream) is already open")
        }
        guard tickets.count < Int(UInt32.max - 1) else { throw Self.refusal(event, "too many tickets") }

        let i = tickets.count
        let at = event.at.milliseconds
        let product = internTeam(productName)
        let (customer, isNewCustomer) = customers.intern(customerName)
        if isNewCustomer { customerTickets.append([]) }
        var t = TicketState(
            openedAt: at, version: 1, statusSince: at, lastEnteredAwaiting: at, turnStart: at,
            turnDue: Sentinel.never, turnBreachAt: Sentinel.never, resolutionDue: Sentinel.never,
            resolutionBreachAt: Sentinel.never, customer: customer, product: product, team: product,
            priority: priority, channel: channel, hasTurn: actor == .customer)
        if t.hasTurn { refreshTurnDue(&t) }
        refreshResolutionDue(&t)
        if actor == .agent { _ = internAgent(event.actor.id) }

        _ = ticketKeys.intern(event.stream)
        tickets.append(t)
        infos.append(TicketInfo(subject: subject, context: context,
                                openedBy: SupportActor(kind: actor, id: event.actor.id)))
        customerTickets[Int(customer)].append(UInt32(i))
        teamTicketCounts[Int(product)] += 1
        let ids = ticketIDs
        openingOrder.insert(OpeningItem(openedAt: at, ticket: UInt32(i))) { OpeningItem.precedes($0, $1, ids: ids) }
        if let item = placement(t, i).item {
            teamQueues[Int(product)].insert(item) { QueueItem.precedes($0, $1, ids: ids) }
        }
    }

    /// Stores the ticket and moves it in the per-team and per-agent structures.
    @inline(__always)
    private mutating func finish(_ t: inout TicketState, _ i: Int, before: Placement, event: RecordedEvent) {
        t.version = event.version
        tickets[i] = t
        if event.actor.kind == "agent", event.type != TicketEvent.Kind.messagePosted.rawValue { _ = internAgent(event.actor.id) }
        let after = placement(t, i)
        guard after != before else { return }
        if after.team != before.team {
            teamTicketCounts[Int(before.team)] -= 1
            teamTicketCounts[Int(after.team)] += 1
        }
        if after.assignee != before.assignee || after.load != before.load {
            if before.assignee != Sentinel.none { adjustLoad(before.assignee, before.load, by: -1) }
            if after.assignee != Sentinel.none { adjustLoad(after.assignee, after.load, by: 1) }
        }
        let ids = ticketIDs
        if after.team != before.team || after.item != before.item {
            if let item = before.item {
                let removed = teamQueues[Int(before.team)].remove(item) { QueueItem.precedes($0, $1, ids: ids) }
                assert(removed, "ticket \(i) was not in its team queue")
            }
            if let item = after.item { teamQueues[Int(after.team)].insert(item) { QueueItem.precedes($0, $1, ids: ids) } }
        }
        if after.assignee != before.assignee || after.item != before.item {
            if before.assignee != Sentinel.none, let item = before.item {
                let removed = agentQueues[Int(before.assignee)].remove(item) { QueueItem.precedes($0, $1, ids: ids) }
                assert(removed, "ticket \(i) was not in its agent queue")
            }
            if after.assignee != Sentinel.none, let item = after.item {
                agentQueues[Int(after.assignee)].insert(item) { QueueItem.precedes($0, $1, ids: ids) }
            }
        }
    }

    private mutating func adjustLoad(_ agent: UInt32, _ load: Int8, by delta: Int) {
        switch load {
        case 0: agentLoads[Int(agent)].newOpen += delta
        case 1: agentLoads[Int(agent)].pending += delta
        case 2: agentLoads[Int(agent)].onHold += delta
        default: break
        }
    }

    @inline(__always)
    func placement(_ t: TicketState, _ i: Int) -> Placement {
        let load: Int8
        switch t.status {
        case .new, .open: load = 0
        case .pending: load = 1
        case .onHold: load = 2
        case .solved, .closed: load = -1
        }
        var item: QueueItem?
        if load == 0 {
            item = QueueItem(due: t.nextDue.instant, waiting: t.hasTurn ? t.turnStart : t.lastEnteredAwaiting,
                             ticket: UInt32(i), urgency: UInt8(t.priority.urgencyRank))
        }
        return Placement(team: t.team, assignee: t.assignee, load: load, item: item)
    }

    /// Moves the ticket into a status: accumulates the time of the status it leaves, cancels a
    /// running turn on solved/closed, and records the resolution's end.
    private func enter(_ t: inout TicketState, _ status: TicketStatus, at: Int64) {
        let old = t.status
        if old == .new || old == .open || old == .onHold {
            let calendar = at - t.statusSince
            let business = levels.calendar.businessDuration(from: Timestamp(milliseconds: t.statusSince),
                                                             to: Timestamp(milliseconds: at))
            t.waitCalendar += calendar
            t.waitBusiness += business
            if old != .onHold {
                t.workCalendar += calendar
                t.workBusiness += business
            }
        }
        t.statusSince = at
        t.status = status
        if status.isAwaitingAgent { t.lastEnteredAwaiting = at }
        if status.isResolved { t.hasTurn = false }
        if status == .solved || (status == .closed && old != .solved) {
            let calendar = at - t.openedAt
            let business = levels.calendar.businessDuration(from: Timestamp(milliseconds: t.openedAt),
                                                            to: Timestamp(milliseconds: at))
            t.resolutionEnd = at
            t.resolutionBusiness = business
            t.resolutionTeam = t.team
            t.resolutionAgent = t.assignee
            t.resolutionPriority = t.priority
            t.resolutionOutcome = outcome(.resolution, t.priority, calendar: calendar, business: business)
        }
    }

    /// Records a rating: of the given reply, or of the latest agent message.
    private mutating func rate(_ t: inout TicketState, _ i: Int, score: UInt8, reply: UInt64?, at: Int64) {
        var message = t.lastAgentMessage
        if let reply {
            while message != Sentinel.none, agentMessages[Int(message)].version > reply {
                message = agentMessages[Int(message)].previous
            }
            guard message != Sentinel.none, agentMessages[Int(message)].version == reply else { return }
        }
        guard message != Sentinel.none else { return }
        let rated = agentMessages[Int(message)]
        var r = t.lastRating
        while r != Sentinel.none {
            if ratings[Int(r)].replyVersion == rated.version {
                ratings[Int(r)].at = at
                ratings[Int(r)].score = score
                ratings[Int(r)].team = t.team
                ratings[Int(r)].priority = t.priority
                return
            }
            r = ratings[Int(r)].previous
        }
        ratings.append(RatingRecord(at: at, replyVersion: rated.version, ticket: UInt32(i), agent: rated.agent,
                                    team: t.team, previous: t.lastRating, score: score, priority: t.priority))
        t.lastRating = UInt32(ratings.count - 1)
    }

    @inline(__always)
    private func target(_ metric: SLAMetric, _ priority: Priority) -> SLATarget? {
        let m: Int
        switch metric {
        case .firstReply: m = 0
        case .nextReply: m = 1
        case .resolution: m = 2
        }
        return targets[priority.urgencyRank * 3 + m]
    }

    /// Achieved when the duration on the target's clock is at most the target.
    private func outcome(_ metric: SLAMetric, _ priority: Priority, calendar: Int64, business: Int64) -> Outcome {
        guard let target = target(metric, priority) else { return .none }
        let duration = target.clock == .calendar ? calendar : business
        return duration <= target.milliseconds ? .achieved : .breached
    }

    /// The due instant (duration == target) and the breach instant (the earliest instant at
    /// which the duration exceeds the target, that is reaches target + 1 ms).
    private func dueAndBreach(start: Int64, target: SLATarget?) -> (Int64, Int64) {
        guard let target, let due = levels.due(start: Timestamp(milliseconds: start), target: target) else {
            return (Sentinel.never, Sentinel.never)
        }
        let breach: Int64?
        switch target.clock {
        case .calendar:
            let (sum, overflow) = due.milliseconds.addingReportingOverflow(1)
            breach = overflow ? nil : sum
        case .business:
            breach = levels.calendar.adding(businessMilliseconds: 1, to: due)?.milliseconds
        }
        return (due.milliseconds, breach ?? Sentinel.never)
    }

    private func refreshTurnDue(_ t: inout TicketState) {
        guard t.hasTurn else { return }
        (t.turnDue, t.turnBreachAt) = dueAndBreach(
            start: t.turnStart, target: target(t.turnIsFirst ? .firstReply : .nextReply, t.priority))
    }

    private func refreshResolutionDue(_ t: inout TicketState) {
        (t.resolutionDue, t.resolutionBreachAt) = dueAndBreach(start: t.openedAt, target: target(.resolution, t.priority))
    }

    // MARK: Names

    private mutating func internTeam(_ name: String) -> UInt32 {
        let (index, isNew) = teams.intern(name)
        if isNew {
            teamTicketCounts.append(0)
            teamQueues.append(SortedChunks())
        }
        return index
    }

    private mutating func internAgent(_ name: String) -> UInt32 {
        let (index, isNew) = agents.intern(name)
        if isNew {
            agentLoads.append(AssignedCounts())
            agentQueues.append(SortedChunks())
        }
        return index
    }

    // MARK: Reading events

    /// The index of the event's ticket, checking that the event is its next version.
    @inline(__always)
    private func ticket(of event: RecordedEvent) throws(DomainError) -> Int {
        guard let index = ticketKeys.index(of: event.stream) else {
            throw Self.refusal(event, "ticket \(event.stream) was not opened")
        }
        let i = Int(index)
        guard event.version == tickets[i].version + 1 else {
            throw Self.refusal(event, "version \(event.version) does not follow \(tickets[i].version) of \(event.stream)")
        }
        return i
    }

    private static func refusal(_ event: RecordedEvent, _ detail: String) -> DomainError {
        DomainError(.badRequest, "event \(event.seq) (\(event.type) on \(event.stream)): \(detail)")
    }

    @inline(__always)
    private static func actorKind(_ event: RecordedEvent) throws(DomainError) -> ActorKind {
        switch event.actor.kind {
        case "agent": return .agent
        case "customer": return .customer
        case "manager": return .manager
        case "admin": return .admin
        case "system": return .system
        default: throw refusal(event, "unknown actor kind \"\(event.actor.kind)\"")
        }
    }

    private static func requiredString(_ data: [String: JSONValue], _ key: String, _ event: RecordedEvent) throws(DomainError) -> String {
        guard case .string(let s)? = data[key] else { throw refusal(event, "\"\(key)\" must be a string") }
        return s
    }

    private static func optionalString(_ data: [String: JSONValue], _ key: String, _ event: RecordedEvent) throws(DomainError) -> String? {
        switch data[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw refusal(event, "\"\(key)\" must be a string")
        }
    }

    private static func enumeration<E: RawRepresentable>(_ data: [String: JSONValue], _ key: String, _: E.Type,
                                                         _ event: RecordedEvent) throws(DomainError) -> E
    where E.RawValue == String {
        guard case .string(let s)? = data[key], let value = E(rawValue: s) else {
            throw refusal(event, "\"\(key)\" is missing or not a known value")
        }
        return value
    }

    private static func stringArray(_ data: [String: JSONValue], _ key: String, _ event: RecordedEvent) throws(DomainError) -> [String] {
        switch data[key] {
        case nil, .null?: return []
        case .array(let items)?:
            var out: [String] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard case .string(let s) = item else { throw refusal(event, "\"\(key)\" must hold strings") }
                out.append(s)
            }
            return out
        default: throw refusal(event, "\"\(key)\" must be an array")
        }
    }
}
