import EventLog
import SupportDomain

// The projection's state as checkpoint records (the format is described at `ProjectionCheckpoint`):
// which fields each record has, how they are written (instants as deltas from a nearby instant of
// the same record or of the previous record, so that they take few bytes), and how they are read
// back and checked.

// MARK: Codes of the enumerations (stable, whatever the declaration order)

enum CheckpointCodes {
    static let statuses: [TicketStatus] = [.new, .open, .pending, .onHold, .solved, .closed]
    static let priorities: [Priority] = [.low, .normal, .high, .urgent]
    static let channels: [Channel] = [.email, .web, .phone, .chat, .api]
    static let actorKinds: [ActorKind] = [.customer, .agent, .manager, .admin, .system]

    @inline(__always)
    static func code(_ status: TicketStatus) -> Int64 {
        switch status {
        case .new: 0
        case .open: 1
        case .pending: 2
        case .onHold: 3
        case .solved: 4
        case .closed: 5
        }
    }

    @inline(__always) static func code(_ priority: Priority) -> Int64 { Int64(priority.urgencyRank) }

    @inline(__always)
    static func code(_ channel: Channel) -> Int64 {
        switch channel {
        case .email: 0
        case .web: 1
        case .phone: 2
        case .chat: 3
        case .api: 4
        }
    }

    @inline(__always)
    static func code(_ kind: ActorKind) -> Int64 {
        switch kind {
        case .customer: 0
        case .agent: 1
        case .manager: 2
        case .admin: 3
        case .system: 4
        }
    }

    /// Instants must lie within ±2^60 ms (±36 million years), durations within ±2^62 ms: far
    /// beyond any log, and narrow enough that the fold's and the queries' arithmetic on them
    /// cannot overflow.
    @inline(__always) static func isInstant(_ value: Int64) -> Bool { value >= -(1 << 60) && value <= 1 << 60 }
    @inline(__always) static func isDuration(_ value: Int64) -> Bool { value >= -(1 << 62) && value <= 1 << 62 }
    /// A ticket or reply version: at least 1, and far from overflowing when the fold adds 1.
    @inline(__always) static func isVersion(_ value: UInt64) -> Bool { value >= 1 && value < 1 << 62 }
    @inline(__always) static func isIndex(_ value: Int64, below count: Int) -> Bool { value >= 0 && value < count }
}

// MARK: Encoding

extension ProjectionCheckpoint {
    static func encode(_ p: SupportProjection) -> [UInt8] {
        var out: [UInt8] = []
        // Ample for the benchmark logs (about 40 bytes per ticket and 6 per other record), so
        // that the array rarely grows.
        out.reserveCapacity(4096 + 64 * p.tickets.count + 8 * (p.replies.count + p.agentMessages.count + p.ratings.count))
        out += magic
        out.appendUInt32(SupportProjection.formatVersion)
        out.appendLittleEndian(p.appliedSeq)
        let hash = Array(p.levels.policy.hash.utf8)
        out.appendUInt32(UInt32(hash.count))
        out += hash
        for count in [
            p.tickets.count, p.teams.count, p.agents.count, p.customers.count, p.tagNames.count,
            p.replies.count, p.agentMessages.count, p.ratings.count,
        ] {
            out.appendVarint(UInt64(count))
        }
        for table in [p.ticketKeys, p.teams, p.agents, p.customers, p.tagNames] {
            for name in table.names { out.appendString(name) }
        }
        encodeTickets(p.tickets, &out)
        encodeInfos(p.infos, tickets: p.tickets, customers: p.customers, &out)
        encodeReplies(p.replies, &out)
        encodeMessages(p.agentMessages, &out)
        encodeRatings(p.ratings, &out)
        out += repeatElement(0, count: checksumSize)
        out.withUnsafeMutableBytes { seal($0) }
        return out
    }

    /// ``TicketState``: `openedAt` relative to the previous ticket's, its other instants relative
    /// to `openedAt` (the due and breach instants of a turn relative to its start), and the
    /// enumerations and flags packed in one value.
    private static func encodeTickets(_ tickets: ChunkedArray<TicketState>, _ out: inout [UInt8]) {
        let never = Sentinel.never
        var previousOpenedAt: Int64 = 0
        for t in tickets {
            out.appendZigZag(t.openedAt, after: &previousOpenedAt)
            out.appendVarint(t.version)
            out.appendZigZag(t.statusSince &- t.openedAt)
            out.appendZigZag(t.lastEnteredAwaiting &- t.openedAt)
            out.appendZigZag(t.turnStart &- t.openedAt)
            out.appendZigZag(optional: t.turnDue == never ? nil : t.turnDue &- t.turnStart)
            out.appendZigZag(optional: t.turnBreachAt == never ? nil : t.turnBreachAt &- t.turnStart)
            out.appendZigZag(optional: t.resolutionDue == never ? nil : t.resolutionDue &- t.openedAt)
            out.appendZigZag(optional: t.resolutionBreachAt == never ? nil : t.resolutionBreachAt &- t.openedAt)
            out.appendZigZag(t.waitCalendar)
            out.appendZigZag(t.waitBusiness)
            out.appendZigZag(t.workCalendar)
            out.appendZigZag(t.workBusiness)
            out.appendZigZag(optional: t.resolutionEnd == 0 ? nil : t.resolutionEnd &- t.openedAt)
            out.appendZigZag(t.resolutionBusiness)
            out.appendVarint(UInt64(t.customer))
            out.appendVarint(UInt64(t.product))
            out.appendVarint(UInt64(t.team))
            out.appendIndex(t.assignee)
            out.appendVarint(UInt64(t.resolutionTeam))
            out.appendIndex(t.resolutionAgent)
            out.appendIndex(t.lastAgentMessage)
            out.appendIndex(t.lastRating)
            var flags = UInt64(CheckpointCodes.code(t.status))
            flags |= UInt64(CheckpointCodes.code(t.priority)) << 3
            flags |= UInt64(CheckpointCodes.code(t.channel)) << 5
            flags |= UInt64(CheckpointCodes.code(t.resolutionPriority)) << 8
            flags |= UInt64(t.resolutionOutcome.rawValue) << 10
            flags |= (t.hasTurn ? 1 : 0) << 12
            flags |= (t.turnIsFirst ? 1 : 0) << 13
            flags |= (t.hasAnsweredTurn ? 1 : 0) << 14
            out.appendVarint(flags)
        }
    }

    /// ``TicketInfo``: the opener's kind and which strings follow, packed in one value; the
    /// strings (the opener's id only when it is not the customer's); the tags.
    private static func encodeInfos(
        _ infos: ChunkedArray<TicketInfo>, tickets: ChunkedArray<TicketState>, customers: NameTable,
        _ out: inout [UInt8]
    ) {
        for (info, t) in zip(infos, tickets) {
            let openerIsCustomer = Identifier.same(info.openedBy.id, customers[t.customer])
            var flags = UInt64(CheckpointCodes.code(info.openedBy.kind))
            flags |= (openerIsCustomer ? 1 : 0) << 3
            flags |= (info.context == nil ? 0 : 1) << 4
            flags |= (info.mergedInto == nil ? 0 : 1) << 5
            out.appendVarint(flags)
            out.appendString(info.subject)
            if let context = info.context { out.appendString(context) }
            if !openerIsCustomer { out.appendString(info.openedBy.id) }
            if let mergedInto = info.mergedInto { out.appendString(mergedInto) }
            out.appendVarint(UInt64(info.tags.count))
            for tag in info.tags { out.appendVarint(UInt64(tag)) }
        }
    }

    /// ``ReplyValue``: its end relative to the previous reply's; priority, first and outcome packed.
    private static func encodeReplies(_ replies: ChunkedArray<ReplyValue>, _ out: inout [UInt8]) {
        var previousEnd: Int64 = 0
        for r in replies {
            out.appendZigZag(r.end, after: &previousEnd)
            out.appendZigZag(r.calendar)
            out.appendZigZag(r.business)
            out.appendVarint(UInt64(r.ticket))
            out.appendVarint(UInt64(r.team))
            out.appendVarint(UInt64(r.agent))
            out.appendVarint(UInt64(CheckpointCodes.code(r.priority)) | (r.isFirst ? 4 : 0) | UInt64(r.outcome.rawValue) << 3)
        }
    }

    /// ``AgentMessage``: its instant relative to the previous message's, and the ticket's previous
    /// message as a distance back (0: none).
    private static func encodeMessages(_ messages: ChunkedArray<AgentMessage>, _ out: inout [UInt8]) {
        var previousAt: Int64 = 0
        for (i, m) in messages.enumerated() {
            out.appendZigZag(m.at, after: &previousAt)
            out.appendVarint(m.version)
            out.appendVarint(UInt64(m.agent))
            out.appendDistance(from: i, backTo: m.previous)
        }
    }

    /// ``RatingRecord``: its instant relative to the previous rating's, the ticket's previous
    /// rating as a distance back (0: none), score and priority packed.
    private static func encodeRatings(_ ratings: ChunkedArray<RatingRecord>, _ out: inout [UInt8]) {
        var previousAt: Int64 = 0
        for (i, r) in ratings.enumerated() {
            out.appendZigZag(r.at, after: &previousAt)
            out.appendVarint(r.replyVersion)
            out.appendVarint(UInt64(r.ticket))
            out.appendVarint(UInt64(r.agent))
            out.appendVarint(UInt64(r.team))
            out.appendDistance(from: i, backTo: r.previous)
            out.appendVarint(UInt64(r.score) | UInt64(CheckpointCodes.code(r.priority)) << 3)
        }
    }
}

// MARK: Decoding

extension ProjectionCheckpoint {
    typealias Failure = ProjectionCheckpointError

    static func decode(_ bytes: UnsafeRawBufferPointer, levels: ServiceLevels) -> Result<SupportProjection, Failure> {
        do throws(Failure) {
            return .success(try decodeOrThrow(bytes, levels: levels))
        } catch {
            return .failure(error)
        }
    }

    private static func decodeOrThrow(_ bytes: UnsafeRawBufferPointer, levels: ServiceLevels) throws(Failure) -> SupportProjection {
        var r = try headerReader(bytes)
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard version == SupportProjection.formatVersion else {
            throw .unknownFormatVersion(found: version, expected: SupportProjection.formatVersion)
        }
        guard isSealed(bytes) else { throw .damaged("checksum mismatch") }
        let header = try ProjectionCheckpointHeader(&r)
        let expected = levels.policy.hash
        guard header.policyHash == expected else { throw .policyMismatch(found: header.policyHash, expected: expected) }

        var p = SupportProjection(levels: levels)
        p.appliedSeq = header.appliedSeq
        let indexLimit = Int(UInt32.max - 2)
        let ticketCount = try r.count("counts", limit: indexLimit)
        let teamCount = try r.count("counts", limit: indexLimit)
        let agentCount = try r.count("counts", limit: indexLimit)
        let customerCount = try r.count("counts", limit: indexLimit)
        let tagCount = try r.count("counts", limit: indexLimit)
        let replyCount = try r.count("counts", limit: Int.max)
        let messageCount = try r.count("counts", limit: indexLimit)
        let ratingCount = try r.count("counts", limit: indexLimit)

        p.ticketKeys = try names(&r, count: ticketCount, "ticket ids")
        p.teams = try names(&r, count: teamCount, "teams")
        p.agents = try names(&r, count: agentCount, "agents")
        p.customers = try names(&r, count: customerCount, "customers")
        p.tagNames = try names(&r, count: tagCount, "tags")
        p.tickets = ChunkedArray(
            try tickets(
                &r, count: ticketCount, teams: teamCount, agents: agentCount, customers: customerCount,
                messages: messageCount, ratings: ratingCount))
        p.infos = ChunkedArray(try infos(&r, tickets: p.tickets, customers: p.customers, tags: tagCount))
        p.replies = ChunkedArray(try replies(&r, count: replyCount, tickets: ticketCount, teams: teamCount, agents: agentCount))
        p.agentMessages = ChunkedArray(try messages(&r, count: messageCount, agents: agentCount))
        p.ratings = ChunkedArray(try ratings(&r, count: ratingCount, tickets: ticketCount, teams: teamCount, agents: agentCount))
        guard r.remaining == 0 else { throw .damaged("\(r.remaining) bytes after the state") }
        rebuildIndexes(&p)
        return p
    }

    /// The indexes the fold maintains incrementally, each a function of the tickets: per team its
    /// ticket count and queue, per agent its loads and queue, per customer their tickets (by
    /// index, as opened), and every ticket in (openedAt, id) order.
    static func rebuildIndexes(_ p: inout SupportProjection) {
        let n = p.tickets.count
        var teamCounts = [Int](repeating: 0, count: p.teams.count)
        var loads = [AssignedCounts](repeating: AssignedCounts(), count: p.agents.count)
        var lastTicket = [UInt32](repeating: Sentinel.none, count: p.customers.count)
        var previousTicket: [UInt32] = []
        previousTicket.reserveCapacity(n)
        var teamItems = [[QueueItem]](repeating: [], count: p.teams.count)
        var agentItems = [[QueueItem]](repeating: [], count: p.agents.count)
        var opening: [OpeningItem] = []
        opening.reserveCapacity(n)
        for i in 0..<n {
            let t = p.tickets[i]
            let placement = p.placement(t, i)
            teamCounts[Int(placement.team)] += 1
            if placement.assignee != Sentinel.none {
                switch placement.load {
                case 0: loads[Int(placement.assignee)].newOpen += 1
                case 1: loads[Int(placement.assignee)].pending += 1
                case 2: loads[Int(placement.assignee)].onHold += 1
                default: break
                }
            }
            if let item = placement.item {
                teamItems[Int(placement.team)].append(item)
                if placement.assignee != Sentinel.none { agentItems[Int(placement.assignee)].append(item) }
            }
            previousTicket.append(lastTicket[Int(t.customer)])
            lastTicket[Int(t.customer)] = UInt32(i)
            opening.append(OpeningItem(openedAt: t.openedAt, ticket: UInt32(i)))
        }
        let ids = p.ticketIDs
        opening.sort { OpeningItem.precedes($0, $1, ids: ids) }
        p.openingOrder = SortedChunks(sorted: opening)
        p.teamTicketCounts = teamCounts
        p.agentLoads = loads
        p.customerLastTicket = ChunkedArray(lastTicket)
        p.previousCustomerTicket = ChunkedArray(previousTicket)
        p.teamQueues = teamItems.map { items in
            SortedChunks(sorted: items.sorted { QueueItem.precedes($0, $1, ids: ids) })
        }
        p.agentQueues = agentItems.map { items in
            SortedChunks(sorted: items.sorted { QueueItem.precedes($0, $1, ids: ids) })
        }
    }

    private static func names(_ r: inout CheckpointReader, count: Int, _ what: StaticString) throws(Failure) -> NameTable {
        var table = NameTable()
        table.reserveCapacity(count)
        for _ in 0..<count {
            let name = try r.string(what)
            guard table.intern(name).isNew else { throw .damaged("\(what): \(name) twice") }
        }
        return table
    }

    private static func tickets(
        _ r: inout CheckpointReader, count: Int, teams: Int, agents: Int, customers: Int,
        messages: Int, ratings: Int
    ) throws(Failure) -> [TicketState] {
        var out: [TicketState] = []
        out.reserveCapacity(count)
        typealias C = CheckpointCodes
        var previousOpenedAt: Int64 = 0
        for _ in 0..<count {
            let openedAt = try r.int(after: &previousOpenedAt)
            let version = try r.varint()
            let statusSince = openedAt &+ (try r.int())
            let lastEnteredAwaiting = openedAt &+ (try r.int())
            let turnStart = openedAt &+ (try r.int())
            let turnDue = try r.optionalInt().map { turnStart &+ $0 }
            let turnBreachAt = try r.optionalInt().map { turnStart &+ $0 }
            let resolutionDue = try r.optionalInt().map { openedAt &+ $0 }
            let resolutionBreachAt = try r.optionalInt().map { openedAt &+ $0 }
            let waitCalendar = try r.int(), waitBusiness = try r.int(), workCalendar = try r.int(), workBusiness = try r.int()
            let resolutionEnd = try r.optionalInt().map { openedAt &+ $0 }
            let resolutionBusiness = try r.int()
            let customer = try r.uint(), product = try r.uint(), team = try r.uint(), assignee = try r.optionalIndex()
            let resolutionTeam = try r.uint(), resolutionAgent = try r.optionalIndex()
            let lastAgentMessage = try r.optionalIndex(), lastRating = try r.optionalIndex()
            let flags = try r.uint()

            let status = Int(flags & 7), priority = Int(flags >> 3 & 3), channel = Int(flags >> 5 & 7)
            let outcome = Outcome(rawValue: UInt8(truncatingIfNeeded: flags >> 10 & 3))
            guard C.isInstant(openedAt), C.isVersion(version), C.isInstant(statusSince),
                C.isInstant(lastEnteredAwaiting), C.isInstant(turnStart),
                turnDue.map(C.isInstant) ?? true, turnBreachAt.map(C.isInstant) ?? true,
                resolutionDue.map(C.isInstant) ?? true, resolutionBreachAt.map(C.isInstant) ?? true,
                C.isDuration(waitCalendar), C.isDuration(waitBusiness), C.isDuration(workCalendar),
                C.isDuration(workBusiness), resolutionEnd.map(C.isInstant) ?? true, C.isDuration(resolutionBusiness),
                C.isIndex(customer, below: customers), C.isIndex(product, below: teams), C.isIndex(team, below: teams),
                assignee.map({ C.isIndex($0, below: agents) }) ?? true, C.isIndex(resolutionTeam, below: teams),
                resolutionAgent.map({ C.isIndex($0, below: agents) }) ?? true,
                lastAgentMessage.map({ C.isIndex($0, below: messages) }) ?? true,
                lastRating.map({ C.isIndex($0, below: ratings) }) ?? true,
                flags >= 0, flags >> 15 == 0, status < 6, channel < 5, let outcome
            else { throw .damaged("ticket \(out.count): a field is out of range") }

            var t = TicketState(
                openedAt: openedAt, version: version, statusSince: statusSince, lastEnteredAwaiting: lastEnteredAwaiting,
                turnStart: turnStart, turnDue: turnDue ?? Sentinel.never, turnBreachAt: turnBreachAt ?? Sentinel.never,
                resolutionDue: resolutionDue ?? Sentinel.never, resolutionBreachAt: resolutionBreachAt ?? Sentinel.never,
                customer: UInt32(customer), product: UInt32(product), team: UInt32(team),
                priority: C.priorities[priority], channel: C.channels[channel], hasTurn: flags & 1 << 12 != 0)
            t.waitCalendar = waitCalendar
            t.waitBusiness = waitBusiness
            t.workCalendar = workCalendar
            t.workBusiness = workBusiness
            t.resolutionEnd = resolutionEnd ?? 0
            t.resolutionBusiness = resolutionBusiness
            t.assignee = assignee.map { UInt32($0) } ?? Sentinel.none
            t.resolutionTeam = UInt32(resolutionTeam)
            t.resolutionAgent = resolutionAgent.map { UInt32($0) } ?? Sentinel.none
            t.lastAgentMessage = lastAgentMessage.map { UInt32($0) } ?? Sentinel.none
            t.lastRating = lastRating.map { UInt32($0) } ?? Sentinel.none
            t.status = C.statuses[status]
            t.resolutionPriority = C.priorities[Int(flags >> 8 & 3)]
            t.resolutionOutcome = outcome
            t.turnIsFirst = flags & 1 << 13 != 0
            t.hasAnsweredTurn = flags & 1 << 14 != 0
            out.append(t)
        }
        return out
    }

    private static func infos(
        _ r: inout CheckpointReader, tickets: ChunkedArray<TicketState>, customers: NameTable,
        tags: Int
    ) throws(Failure) -> [TicketInfo] {
        var out: [TicketInfo] = []
        out.reserveCapacity(tickets.count)
        for i in tickets.indices {
            let flags = try r.uint()
            guard flags >= 0, flags & 7 < 5, flags >> 6 == 0 else { throw .damaged("ticket info \(i): a field is out of range") }
            let subject = try r.string("ticket infos")
            let context = flags & 1 << 4 != 0 ? try r.string("ticket infos") : nil
            let openerID = flags & 1 << 3 != 0 ? customers[tickets[i].customer] : try r.string("ticket infos")
            let mergedInto = flags & 1 << 5 != 0 ? try r.string("ticket infos") : nil
            let tagCount = try r.count("ticket infos", limit: tags)
            var tagIndices: [UInt32] = []
            tagIndices.reserveCapacity(tagCount)
            for _ in 0..<tagCount {
                let tag = try r.uint()
                guard CheckpointCodes.isIndex(tag, below: tags) else { throw .damaged("ticket info \(i): no tag \(tag)") }
                tagIndices.append(UInt32(tag))
            }
            out.append(
                TicketInfo(
                    subject: subject, context: context, tags: tagIndices,
                    openedBy: SupportActor(kind: CheckpointCodes.actorKinds[Int(flags & 7)], id: openerID),
                    mergedInto: mergedInto))
        }
        return out
    }

    private static func replies(
        _ r: inout CheckpointReader, count: Int, tickets: Int, teams: Int,
        agents: Int
    ) throws(Failure) -> [ReplyValue] {
        var out: [ReplyValue] = []
        out.reserveCapacity(count)
        typealias C = CheckpointCodes
        var previousEnd: Int64 = 0
        for i in 0..<count {
            let end = try r.int(after: &previousEnd)
            let calendar = try r.int(), business = try r.int(), ticket = try r.uint(), team = try r.uint(), agent = try r.uint()
            let flags = try r.uint()
            let outcome = Outcome(rawValue: UInt8(truncatingIfNeeded: flags >> 3))
            guard C.isInstant(end), C.isDuration(calendar), C.isDuration(business), C.isIndex(ticket, below: tickets),
                C.isIndex(team, below: teams), C.isIndex(agent, below: agents), flags >= 0, flags >> 5 == 0,
                let outcome
            else { throw .damaged("reply \(i): a field is out of range") }
            out.append(
                ReplyValue(
                    end: end, calendar: calendar, business: business, ticket: UInt32(ticket),
                    team: UInt32(team), agent: UInt32(agent), priority: C.priorities[Int(flags & 3)],
                    isFirst: flags & 4 != 0, outcome: outcome))
        }
        return out
    }

    private static func messages(_ r: inout CheckpointReader, count: Int, agents: Int) throws(Failure) -> [AgentMessage] {
        var out: [AgentMessage] = []
        out.reserveCapacity(count)
        typealias C = CheckpointCodes
        var previousAt: Int64 = 0
        for i in 0..<count {
            let at = try r.int(after: &previousAt)
            let version = try r.varint(), agent = try r.uint(), previous = try r.earlierRecord(before: i)
            // The ticket's previous message comes before this one: its chain always ends.
            guard C.isInstant(at), C.isVersion(version), C.isIndex(agent, below: agents), let previous
            else { throw .damaged("agent message \(i): a field is out of range") }
            out.append(AgentMessage(at: at, version: version, agent: UInt32(agent), previous: previous))
        }
        return out
    }

    private static func ratings(
        _ r: inout CheckpointReader, count: Int, tickets: Int, teams: Int,
        agents: Int
    ) throws(Failure) -> [RatingRecord] {
        var out: [RatingRecord] = []
        out.reserveCapacity(count)
        typealias C = CheckpointCodes
        var previousAt: Int64 = 0
        for i in 0..<count {
            let at = try r.int(after: &previousAt)
            let version = try r.varint(), ticket = try r.uint(), agent = try r.uint(), team = try r.uint()
            let previous = try r.earlierRecord(before: i), flags = try r.uint()
            let score = flags & 7
            guard C.isInstant(at), C.isVersion(version), C.isIndex(ticket, below: tickets),
                C.isIndex(agent, below: agents), C.isIndex(team, below: teams),
                let previous, flags >= 0, flags >> 5 == 0, (1...5).contains(score)
            else { throw .damaged("rating \(i): a field is out of range") }
            out.append(
                RatingRecord(
                    at: at, replyVersion: version, ticket: UInt32(ticket), agent: UInt32(agent),
                    team: UInt32(team), previous: previous,
                    score: UInt8(score), priority: C.priorities[Int(flags >> 3 & 3)]))
        }
        return out
    }
}
