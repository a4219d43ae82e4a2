import EventLog
import SupportDomain

extension SupportProjection {
    // MARK: Queues (SPEC §5)

    /// One summary per team that some ticket is in (any status), by team in code point order:
    /// its depth (tickets awaiting an agent), how many of them are breached at `evaluation`, and
    /// the oldest waiting-since among them.
    public func queues(at evaluation: Timestamp) -> [QueueSummary] {
        let e = evaluation.milliseconds
        var result: [QueueSummary] = []
        for team in teams.indicesSortedByName() where teamTicketCounts[Int(team)] > 0 {
            var breached = 0
            var oldest = Sentinel.never
            teamQueues[Int(team)].forEach { item in
                let t = tickets[Int(item.ticket)]
                if t.isBreached(at: e) { breached += 1 }
                if item.waiting < oldest { oldest = item.waiting }
                return true
            }
            let depth = teamQueues[Int(team)].count
            result.append(
                QueueSummary(
                    team: teams[team], depth: depth, breached: breached,
                    oldestWaitingSince: depth == 0 ? nil : Timestamp(milliseconds: oldest)))
        }
        return result
    }

    /// A team's queue: its tickets awaiting an agent, ordered by next due (none last), priority
    /// (urgent first), waiting since (oldest first) and id (code point), cut at `limit`.
    /// Empty for a team with no ticket. O(limit).
    public func teamQueue(_ team: String, at evaluation: Timestamp, limit: Int? = nil) -> [QueueEntry] {
        guard let index = teams.index(of: team) else { return [] }
        return entries(of: teamQueues[Int(index)], at: evaluation, limit: limit)
    }

    /// An agent's queue: the tickets assigned to the agent that await an agent, across teams, in
    /// queue order, cut at `limit`. Empty for an agent with no ticket. O(limit).
    public func agentQueue(_ agent: String, at evaluation: Timestamp, limit: Int? = nil) -> [QueueEntry] {
        guard let index = agents.index(of: agent) else { return [] }
        return entries(of: agentQueues[Int(index)], at: evaluation, limit: limit)
    }

    /// The id of the first unassigned ticket of a team's queue (what a claim takes), or nil.
    package func firstUnassignedTicket(inTeam team: String) -> String? {
        firstUnassignedTicket(inTeam: team, skipping: { _ in false })?.id
    }

    /// The first unassigned ticket of a team's queue that `skipping` does not exclude, with its
    /// place in the queue, or nil. A claim skips the tickets that changed after ``appliedSeq``.
    package func firstUnassignedTicket(inTeam team: String, skipping: (String) -> Bool) -> QueuePosition? {
        guard let index = teams.index(of: team) else { return nil }
        var found: QueuePosition?
        teamQueues[Int(index)].forEach { item in
            let t = tickets[Int(item.ticket)]
            let id = ticketIDs[Int(item.ticket)]
            guard t.assignee == Sentinel.none, !skipping(id) else { return true }
            found = QueuePosition(
                nextDue: item.due == Sentinel.never ? nil : Timestamp(milliseconds: item.due),
                priority: t.priority, waitingSince: Timestamp(milliseconds: item.waiting), id: id)
            return false
        }
        return found
    }

    private func entries(of queue: SortedChunks<QueueItem>, at evaluation: Timestamp, limit: Int?) -> [QueueEntry] {
        let cut = min(max(limit ?? queue.count, 0), queue.count)
        guard cut > 0 else { return [] }
        var result: [QueueEntry] = []
        result.reserveCapacity(cut)
        queue.forEach { item in
            let i = Int(item.ticket)
            let t = tickets[i]
            let deadlines = t.deadlines
            let next = deadlines.nextDue
            result.append(
                QueueEntry(
                    id: ticketIDs[i], subject: infos[i].subject, customer: customers[t.customer], priority: t.priority,
                    status: t.status, assignee: t.assignee == Sentinel.none ? nil : agents[t.assignee], channel: t.channel,
                    waitingSince: t.lifecycle.waitingSince,
                    nextDue: next?.instant, nextDueTarget: next?.metric, breached: deadlines.isBreached(at: evaluation)))
            return result.count < cut
        }
        return result
    }

    // MARK: Ticket list (SPEC §5)

    /// A ticket without its thread, evaluated at `evaluation`; nil when it does not exist.
    public func ticket(_ id: String, at evaluation: Timestamp) -> TicketSummary? {
        guard let index = ticketKeys.index(of: id) else { return nil }
        return summary(Int(index), at: evaluation.milliseconds)
    }

    /// The ticket list: the tickets matching `filter`, ordered by `openedAt` descending then id
    /// descending (code point), at most `limit` of them, continuing after the ticket `after`.
    /// `next` is the id to pass as `after` for the following page, nil on the last one.
    ///
    /// - Throws: `badRequest` when `limit` < 1 or `after` is not in the filtered list.
    public func tickets(
        matching filter: TicketFilter, at evaluation: Timestamp, limit: Int,
        after: String? = nil
    ) throws(DomainError) -> TicketPage {
        guard limit >= 1 else { throw DomainError(.badRequest, "\"limit\" must be at least 1") }
        let e = evaluation.milliseconds
        let matcher = TicketMatcher(filter, in: self)
        var afterIndex: Int?
        if let after {
            guard let index = ticketKeys.index(of: after), matcher.matches(Int(index), in: self) else {
                throw DomainError(.badRequest, "\"after\": ticket \(after) is not in the list")
            }
            afterIndex = Int(index)
        }
        var page: [Int] = []
        var more = false
        func take(_ i: Int) -> Bool {
            guard matcher.matches(i, in: self) else { return true }
            if page.count == limit {
                more = true
                return false
            }
            page.append(i)
            return true
        }
        let ids = ticketIDs
        if let customer = matcher.customer {
            // A customer's tickets: few, sorted on the spot.
            let own = tickets(ofCustomer: customer).sorted { a, b in
                OpeningItem.precedes(
                    OpeningItem(openedAt: tickets[Int(b)].openedAt, ticket: b),
                    OpeningItem(openedAt: tickets[Int(a)].openedAt, ticket: a), ids: ids)
            }
            var start = 0
            if let afterIndex, let position = own.firstIndex(of: UInt32(afterIndex)) { start = position + 1 }
            for i in own[start...] where !take(Int(i)) { break }
        } else if !matcher.matchesNothing {
            var position: (Int, Int)?
            if let afterIndex {
                position = openingOrder.position(
                    of: OpeningItem(openedAt: tickets[afterIndex].openedAt, ticket: UInt32(afterIndex))
                ) {
                    OpeningItem.precedes($0, $1, ids: ids)
                }
            }
            openingOrder.forEachReversed(before: position) { take(Int($0.ticket)) }
        }
        return TicketPage(tickets: page.map { summary($0, at: e) }, next: more ? page.last.map { ticketIDs[$0] } : nil)
    }

    func summary(_ i: Int, at e: Int64) -> TicketSummary {
        let t = tickets[i]
        let info = infos[i]
        let (due, metric) = t.nextDue
        return TicketSummary(
            id: ticketIDs[i], version: t.version, status: t.status, priority: t.priority, team: teams[t.team],
            assignee: t.assignee == Sentinel.none ? nil : agents[t.assignee], customer: customers[t.customer],
            subject: info.subject, channel: t.channel, product: teams[t.product], context: info.context,
            tags: info.tags.map { tagNames[$0] }.sorted(by: Identifier.precedes), openedAt: Timestamp(milliseconds: t.openedAt),
            openedBy: info.openedBy, mergedInto: info.mergedInto, waitingSince: t.waitingSince.map(Timestamp.init(milliseconds:)),
            nextDue: due == Sentinel.never ? nil : Timestamp(milliseconds: due), nextDueTarget: metric,
            breached: t.isBreached(at: e))
    }
}

/// A ticket filter with its names resolved to indices.
private struct TicketMatcher {
    var status: TicketStatus?
    var team: UInt32?
    var assignee: UInt32?
    var customer: UInt32?
    var tag: UInt32?
    /// A named team, agent, customer or tag that no ticket ever had.
    var matchesNothing = false

    init(_ filter: TicketFilter, in projection: SupportProjection) {
        var unknown = false
        func resolve(_ name: String?, _ table: NameTable) -> UInt32? {
            guard let name else { return nil }
            guard let index = table.index(of: name) else {
                unknown = true
                return nil
            }
            return index
        }
        status = filter.status
        team = resolve(filter.team, projection.teams)
        assignee = resolve(filter.assignee, projection.agents)
        customer = resolve(filter.customer, projection.customers)
        tag = resolve(filter.tag, projection.tagNames)
        matchesNothing = unknown
    }

    func matches(_ i: Int, in projection: SupportProjection) -> Bool {
        if matchesNothing { return false }
        let t = projection.tickets[i]
        if let status, t.status != status { return false }
        if let team, t.team != team { return false }
        if let assignee, t.assignee != assignee { return false }
        if let customer, t.customer != customer { return false }
        if let tag, !projection.infos[i].tags.contains(tag) { return false }
        return true
    }
}
