import EventLog
import SupportDomain

// The projection's state as row streams (ProjectionCheckpointCodec.swift): which fields each
// record has, how they are written (instants as deltas from a nearby instant of the same record or
// of the previous record, so that they take few bytes), and how they are read back and checked.

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

// MARK: Records

/// The lengths of a name table's names.
struct NameRows: CheckpointRecords {
    static let optionalFields = [false]
    let names: [String]

    func visit<Sink: CheckpointRowSink>(_ sink: inout Sink) {
        for name in names {
            sink.put(Int64(name.utf8.count))
            sink.endRecord()
        }
    }
}

/// ``TicketState``: instants relative to `openedAt` (due and breach instants of a turn relative
/// to its start), index fields, and the enumerations and flags packed in one field.
struct TicketRows: CheckpointRecords {
    static let optionalFields = [
        false, false, false, false, false,   // openedAt, version, statusSince, lastEnteredAwaiting, turnStart
        true, true, true, true,              // turnDue, turnBreachAt, resolutionDue, resolutionBreachAt
        false, false, false, false,          // waitCalendar, waitBusiness, workCalendar, workBusiness
        true, false,                         // resolutionEnd (0: nil), resolutionBusiness
        false, false, false, true,           // customer, product, team, assignee
        false, true, true, true,             // resolutionTeam, resolutionAgent, lastAgentMessage, lastRating
        false,                               // flags
    ]
    let tickets: [TicketState]

    func visit<Sink: CheckpointRowSink>(_ sink: inout Sink) {
        tickets.withUnsafeBufferPointer { tickets in
            for t in tickets {
                let never = Sentinel.never
                sink.put(t.openedAt)
                sink.put(t.version)
                sink.put(t.statusSince &- t.openedAt)
                sink.put(t.lastEnteredAwaiting &- t.openedAt)
                sink.put(t.turnStart &- t.openedAt)
                sink.put(optional: t.turnDue == never ? nil : t.turnDue &- t.turnStart)
                sink.put(optional: t.turnBreachAt == never ? nil : t.turnBreachAt &- t.turnStart)
                sink.put(optional: t.resolutionDue == never ? nil : t.resolutionDue &- t.openedAt)
                sink.put(optional: t.resolutionBreachAt == never ? nil : t.resolutionBreachAt &- t.openedAt)
                sink.put(t.waitCalendar)
                sink.put(t.waitBusiness)
                sink.put(t.workCalendar)
                sink.put(t.workBusiness)
                sink.put(optional: t.resolutionEnd == 0 ? nil : t.resolutionEnd &- t.openedAt)
                sink.put(t.resolutionBusiness)
                sink.put(t.customer)
                sink.put(t.product)
                sink.put(t.team)
                sink.put(index: t.assignee)
                sink.put(t.resolutionTeam)
                sink.put(index: t.resolutionAgent)
                sink.put(index: t.lastAgentMessage)
                sink.put(index: t.lastRating)
                var flags = CheckpointCodes.code(t.status)
                flags |= CheckpointCodes.code(t.priority) << 3
                flags |= CheckpointCodes.code(t.channel) << 5
                flags |= CheckpointCodes.code(t.resolutionPriority) << 8
                flags |= Int64(t.resolutionOutcome.rawValue) << 10
                flags |= (t.hasTurn ? 1 : 0) << 12
                flags |= (t.turnIsFirst ? 1 : 0) << 13
                flags |= (t.hasAnsweredTurn ? 1 : 0) << 14
                sink.put(flags)
                sink.endRecord()
            }
        }
    }
}

/// ``TicketInfo``: the lengths of its strings (which follow the stream, in this order), the
/// opener (whose id is usually the customer's, then not repeated), and its number of tags.
struct InfoRows: CheckpointRecords {
    static let optionalFields = [false, true, false, false, true, false]
    let infos: [TicketInfo]
    let tickets: [TicketState]
    let customers: NameTable

    @inline(__always)
    func openerIsCustomer(_ i: Int) -> Bool {
        Identifier.same(infos[i].openedBy.id, customers[tickets[i].customer])
    }

    func visit<Sink: CheckpointRowSink>(_ sink: inout Sink) {
        for i in infos.indices {
            let info = infos[i]
            let isCustomer = openerIsCustomer(i)
            sink.put(Int64(info.subject.utf8.count))
            sink.put(optional: info.context.map { Int64($0.utf8.count) })
            sink.put(CheckpointCodes.code(info.openedBy.kind) | (isCustomer ? 8 : 0))
            sink.put(isCustomer ? 0 : Int64(info.openedBy.id.utf8.count))
            sink.put(optional: info.mergedInto.map { Int64($0.utf8.count) })
            sink.put(Int64(info.tags.count))
            sink.endRecord()
        }
    }

    /// The bytes of the strings.
    var stringBytes: Int {
        var total = 0
        for i in infos.indices {
            let info = infos[i]
            total += info.subject.utf8.count + (info.context?.utf8.count ?? 0) + (info.mergedInto?.utf8.count ?? 0)
            if !openerIsCustomer(i) { total += info.openedBy.id.utf8.count }
        }
        return total
    }

    func writeStrings(_ writer: inout CheckpointWriter) {
        for i in infos.indices {
            let info = infos[i]
            writer.utf8(info.subject)
            if let context = info.context { writer.utf8(context) }
            if !openerIsCustomer(i) { writer.utf8(info.openedBy.id) }
            if let mergedInto = info.mergedInto { writer.utf8(mergedInto) }
        }
    }
}

/// Every ticket's tag indices, ticket after ticket.
struct TagRows: CheckpointRecords {
    static let optionalFields = [false]
    let infos: [TicketInfo]

    var count: Int { infos.reduce(0) { $0 + $1.tags.count } }

    func visit<Sink: CheckpointRowSink>(_ sink: inout Sink) {
        for info in infos {
            for tag in info.tags {
                sink.put(tag)
                sink.endRecord()
            }
        }
    }
}

/// ``ReplyValue``: its end relative to the previous reply's.
struct ReplyRows: CheckpointRecords {
    static let optionalFields = [false, false, false, false, false, false, false]
    let replies: [ReplyValue]

    func visit<Sink: CheckpointRowSink>(_ sink: inout Sink) {
        replies.withUnsafeBufferPointer { replies in
            var previous: Int64 = 0
            for r in replies {
                sink.put(r.end &- previous)
                previous = r.end
                sink.put(r.calendar)
                sink.put(r.business)
                sink.put(r.ticket)
                sink.put(r.team)
                sink.put(r.agent)
                sink.put(CheckpointCodes.code(r.priority) | (r.isFirst ? 4 : 0) | Int64(r.outcome.rawValue) << 3)
                sink.endRecord()
            }
        }
    }
}

/// ``AgentMessage``: its instant relative to the previous message's, and the ticket's previous
/// message as a distance back.
struct MessageRows: CheckpointRecords {
    static let optionalFields = [false, false, false, true]
    let messages: [AgentMessage]

    func visit<Sink: CheckpointRowSink>(_ sink: inout Sink) {
        messages.withUnsafeBufferPointer { messages in
            var previous: Int64 = 0
            for (i, m) in messages.enumerated() {
                sink.put(m.at &- previous)
                previous = m.at
                sink.put(m.version)
                sink.put(m.agent)
                sink.put(optional: m.previous == Sentinel.none ? nil : Int64(i) - Int64(m.previous))
                sink.endRecord()
            }
        }
    }
}

/// ``RatingRecord``: its instant relative to the previous rating's, the ticket's previous rating
/// as a distance back, score and priority packed.
struct RatingRows: CheckpointRecords {
    static let optionalFields = [false, false, false, false, false, true, false]
    let ratings: [RatingRecord]

    func visit<Sink: CheckpointRowSink>(_ sink: inout Sink) {
        ratings.withUnsafeBufferPointer { ratings in
            var previous: Int64 = 0
            for (i, r) in ratings.enumerated() {
                sink.put(r.at &- previous)
                previous = r.at
                sink.put(r.replyVersion)
                sink.put(r.ticket)
                sink.put(r.agent)
                sink.put(r.team)
                sink.put(optional: r.previous == Sentinel.none ? nil : Int64(i) - Int64(r.previous))
                sink.put(Int64(r.score) | CheckpointCodes.code(r.priority) << 3)
                sink.endRecord()
            }
        }
    }
}

// MARK: Encoding

extension ProjectionCheckpoint {
    static func encode(_ p: SupportProjection) -> [UInt8] {
        let hash = Array(p.levels.policy.hash.utf8)
        let tables = [p.ticketKeys, p.teams, p.agents, p.customers, p.tagNames]
        let nameRows = tables.map { NameRows(names: $0.names) }
        let namePlans = nameRows.map { CheckpointStats.plan($0) }
        let nameBytes = tables.map { $0.names.reduce(0) { $0 + $1.utf8.count } }
        let tickets = TicketRows(tickets: p.tickets)
        let ticketPlan = CheckpointStats.plan(tickets)
        let infos = InfoRows(infos: p.infos, tickets: p.tickets, customers: p.customers)
        let infoPlan = CheckpointStats.plan(infos)
        let infoBytes = infos.stringBytes
        let tags = TagRows(infos: p.infos)
        let tagPlan = CheckpointStats.plan(tags)
        let replies = ReplyRows(replies: p.replies)
        let replyPlan = CheckpointStats.plan(replies)
        let messages = MessageRows(messages: p.agentMessages)
        let messagePlan = CheckpointStats.plan(messages)
        let ratings = RatingRows(ratings: p.ratings)
        let ratingPlan = CheckpointStats.plan(ratings)

        var size = 4 + 4 + 8 + 4 + hash.count + 9 * 8
        for (plan, bytes) in zip(namePlans, nameBytes) { size += plan.size + 8 + bytes }
        size += ticketPlan.size + infoPlan.size + 8 + infoBytes + tagPlan.size
        size += replyPlan.size + messagePlan.size + ratingPlan.size
        size += 8

        return [UInt8](unsafeUninitializedCapacity: size + 8) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var w = CheckpointWriter(base: raw.baseAddress!, capacity: raw.count)
            magic.withUnsafeBytes { w.bytes($0) }
            w.u32(SupportProjection.formatVersion)
            w.u64(p.appliedSeq)
            w.u32(UInt32(hash.count))
            hash.withUnsafeBytes { w.bytes($0) }
            for count in [p.tickets.count, p.teams.count, p.agents.count, p.customers.count, p.tagNames.count,
                          p.replies.count, p.agentMessages.count, p.ratings.count, tagPlan.count] {
                w.u64(UInt64(count))
            }
            for ((table, rows), (plan, bytes)) in zip(zip(tables, nameRows), zip(namePlans, nameBytes)) {
                w.rows(rows, plan)
                w.u64(UInt64(bytes))
                for name in table.names { w.utf8(name) }
            }
            w.rows(tickets, ticketPlan)
            w.rows(infos, infoPlan)
            w.u64(UInt64(infoBytes))
            infos.writeStrings(&w)
            w.rows(tags, tagPlan)
            w.rows(replies, replyPlan)
            w.rows(messages, messagePlan)
            w.rows(ratings, ratingPlan)
            precondition(w.position == size - 8, "checkpoint size \(w.position + 8) differs from its plan \(size)")
            seal(UnsafeMutableRawBufferPointer(rebasing: raw[..<size]))
            initialized = size
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
        let tagRefCount = try r.count("counts", limit: Int.max)

        p.ticketKeys = try names(&r, count: ticketCount, "ticket ids")
        p.teams = try names(&r, count: teamCount, "teams")
        p.agents = try names(&r, count: agentCount, "agents")
        p.customers = try names(&r, count: customerCount, "customers")
        p.tagNames = try names(&r, count: tagCount, "tags")
        p.tickets = try tickets(&r, count: ticketCount, teams: teamCount, agents: agentCount, customers: customerCount,
                                messages: messageCount, ratings: ratingCount)
        p.infos = try infos(&r, tickets: p.tickets, customers: p.customers, tags: tagCount, tagRefs: tagRefCount)
        p.replies = try replies(&r, count: replyCount, tickets: ticketCount, teams: teamCount, agents: agentCount)
        p.agentMessages = try messages(&r, count: messageCount, agents: agentCount)
        p.ratings = try ratings(&r, count: ratingCount, tickets: ticketCount, teams: teamCount, agents: agentCount)
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
        var customerTickets = [[UInt32]](repeating: [], count: p.customers.count)
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
            customerTickets[Int(t.customer)].append(UInt32(i))
            opening.append(OpeningItem(openedAt: t.openedAt, ticket: UInt32(i)))
        }
        let ids = p.ticketIDs
        opening.sort { OpeningItem.precedes($0, $1, ids: ids) }
        p.openingOrder = SortedChunks(sorted: opening)
        p.teamTicketCounts = teamCounts
        p.agentLoads = loads
        p.customerTickets = customerTickets
        p.teamQueues = teamItems.map { items in
            SortedChunks(sorted: items.sorted { QueueItem.precedes($0, $1, ids: ids) })
        }
        p.agentQueues = agentItems.map { items in
            SortedChunks(sorted: items.sorted { QueueItem.precedes($0, $1, ids: ids) })
        }
    }

    @inline(__always)
    private static func string(_ blob: UnsafeRawBufferPointer, _ offset: inout Int, _ length: Int64,
                               _ what: StaticString) throws(Failure) -> String {
        guard length >= 0, length <= Int64(blob.count - offset) else { throw .damaged("\(what): string out of bounds") }
        let bytes = UnsafeBufferPointer(rebasing: blob.assumingMemoryBound(to: UInt8.self)[offset..<offset + Int(length)])
        offset += Int(length)
        guard let string = String(validating: bytes, as: UTF8.self) else { throw .damaged("\(what): not UTF-8") }
        return string
    }

    private static func names(_ r: inout CheckpointReader, count: Int, _ what: StaticString) throws(Failure) -> NameTable {
        let rows = try r.rows(what, count: count, optional: NameRows.optionalFields)
        let blob = try r.bytes(try r.count(what, limit: r.remaining), what)
        var table = NameTable()
        table.reserveCapacity(count)
        var offset = 0
        try rows.read { (c: inout CheckpointRows.Cursor) throws(Failure) in
            for _ in 0..<count {
                let name = try string(blob, &offset, c.next(), what)
                c.endRecord()
                guard table.intern(name).isNew else { throw .damaged("\(what): \(name) twice") }
            }
        }
        guard offset == blob.count else { throw .damaged("\(what): \(blob.count - offset) bytes left over") }
        return table
    }

    private static func tickets(_ r: inout CheckpointReader, count: Int, teams: Int, agents: Int, customers: Int,
                                messages: Int, ratings: Int) throws(Failure) -> [TicketState] {
        let rows = try r.rows("tickets", count: count, optional: TicketRows.optionalFields)
        var out: [TicketState] = []
        out.reserveCapacity(count)
        typealias C = CheckpointCodes
        try rows.read { (c: inout CheckpointRows.Cursor) throws(Failure) in
            for _ in 0..<count {
                let openedAt = c.next()
                let version = c.nextUInt64()
                let statusSince = openedAt &+ c.next()
                let lastEnteredAwaiting = openedAt &+ c.next()
                let turnStart = openedAt &+ c.next()
                let turnDue = c.nextOptional().map { turnStart &+ $0 }
                let turnBreachAt = c.nextOptional().map { turnStart &+ $0 }
                let resolutionDue = c.nextOptional().map { openedAt &+ $0 }
                let resolutionBreachAt = c.nextOptional().map { openedAt &+ $0 }
                let waitCalendar = c.next(), waitBusiness = c.next(), workCalendar = c.next(), workBusiness = c.next()
                let resolutionEnd = c.nextOptional().map { openedAt &+ $0 }
                let resolutionBusiness = c.next()
                let customer = c.next(), product = c.next(), team = c.next(), assignee = c.nextOptional()
                let resolutionTeam = c.next(), resolutionAgent = c.nextOptional()
                let lastAgentMessage = c.nextOptional(), lastRating = c.nextOptional()
                let flags = c.next()
                c.endRecord()

                let status = Int(flags & 7), priority = Int(flags >> 3 & 3), channel = Int(flags >> 5 & 7)
                let outcome = Outcome(rawValue: UInt8(flags >> 10 & 3))
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
        }
        return out
    }

    private static func infos(_ r: inout CheckpointReader, tickets: [TicketState], customers: NameTable, tags: Int,
                              tagRefs: Int) throws(Failure) -> [TicketInfo] {
        let count = tickets.count
        let rows = try r.rows("ticket infos", count: count, optional: InfoRows.optionalFields)
        let blob = try r.bytes(try r.count("ticket infos", limit: r.remaining), "ticket infos")
        let tagRows = try r.rows("tags", count: tagRefs, optional: TagRows.optionalFields)
        var out: [TicketInfo] = []
        out.reserveCapacity(count)
        var offset = 0
        var tagsLeft = tagRefs
        try tagRows.read { (tagCursor: inout CheckpointRows.Cursor) throws(Failure) in
            try rows.read { (c: inout CheckpointRows.Cursor) throws(Failure) in
                for i in 0..<count {
                    let subjectLength = c.next(), contextLength = c.nextOptional(), opener = c.next()
                    let openerLength = c.next(), mergedIntoLength = c.nextOptional(), tagCount = c.next()
                    c.endRecord()
                    guard opener >= 0, opener & 7 < 5, opener >> 4 == 0, tagCount >= 0, tagCount <= Int64(tagsLeft) else {
                        throw .damaged("ticket info \(i): a field is out of range")
                    }
                    let subject = try string(blob, &offset, subjectLength, "ticket infos")
                    let context = try contextLength.map { (length) throws(Failure) in try string(blob, &offset, length, "ticket infos") }
                    let openerID: String
                    if opener & 8 != 0 {
                        openerID = customers[tickets[i].customer]
                    } else {
                        openerID = try string(blob, &offset, openerLength, "ticket infos")
                    }
                    let mergedInto = try mergedIntoLength.map { (length) throws(Failure) in try string(blob, &offset, length, "ticket infos") }
                    var tagIndices: [UInt32] = []
                    if tagCount > 0 {
                        tagIndices.reserveCapacity(Int(tagCount))
                        for _ in 0..<tagCount {
                            let tag = tagCursor.next()
                            tagCursor.endRecord()
                            guard CheckpointCodes.isIndex(tag, below: tags) else { throw .damaged("ticket info \(i): no tag \(tag)") }
                            tagIndices.append(UInt32(tag))
                        }
                        tagsLeft -= Int(tagCount)
                    }
                    out.append(TicketInfo(subject: subject, context: context, tags: tagIndices,
                                          openedBy: SupportActor(kind: CheckpointCodes.actorKinds[Int(opener & 7)], id: openerID),
                                          mergedInto: mergedInto))
                }
            }
        }
        guard offset == blob.count, tagsLeft == 0 else { throw .damaged("ticket infos: strings or tags left over") }
        return out
    }

    private static func replies(_ r: inout CheckpointReader, count: Int, tickets: Int, teams: Int,
                                agents: Int) throws(Failure) -> [ReplyValue] {
        let rows = try r.rows("replies", count: count, optional: ReplyRows.optionalFields)
        var out: [ReplyValue] = []
        out.reserveCapacity(count)
        typealias C = CheckpointCodes
        try rows.read { (c: inout CheckpointRows.Cursor) throws(Failure) in
            var previous: Int64 = 0
            for i in 0..<count {
                let end = previous &+ c.next()
                previous = end
                let calendar = c.next(), business = c.next(), ticket = c.next(), team = c.next(), agent = c.next()
                let flags = c.next()
                c.endRecord()
                let outcome = Outcome(rawValue: UInt8(truncatingIfNeeded: flags >> 3))
                guard C.isInstant(end), C.isDuration(calendar), C.isDuration(business), C.isIndex(ticket, below: tickets),
                      C.isIndex(team, below: teams), C.isIndex(agent, below: agents), flags >= 0, flags >> 5 == 0,
                      let outcome
                else { throw .damaged("reply \(i): a field is out of range") }
                out.append(ReplyValue(end: end, calendar: calendar, business: business, ticket: UInt32(ticket),
                                      team: UInt32(team), agent: UInt32(agent), priority: C.priorities[Int(flags & 3)],
                                      isFirst: flags & 4 != 0, outcome: outcome))
            }
        }
        return out
    }

    private static func messages(_ r: inout CheckpointReader, count: Int, agents: Int) throws(Failure) -> [AgentMessage] {
        let rows = try r.rows("agent messages", count: count, optional: MessageRows.optionalFields)
        var out: [AgentMessage] = []
        out.reserveCapacity(count)
        typealias C = CheckpointCodes
        try rows.read { (c: inout CheckpointRows.Cursor) throws(Failure) in
            var previousAt: Int64 = 0
            for i in 0..<count {
                let at = previousAt &+ c.next()
                previousAt = at
                let version = c.nextUInt64(), agent = c.next(), back = c.nextOptional()
                c.endRecord()
                // The ticket's previous message comes before this one: its chain always ends.
                guard C.isInstant(at), C.isVersion(version), C.isIndex(agent, below: agents),
                      back.map({ $0 >= 1 && $0 <= Int64(i) }) ?? true
                else { throw .damaged("agent message \(i): a field is out of range") }
                out.append(AgentMessage(at: at, version: version, agent: UInt32(agent),
                                        previous: back.map { UInt32(Int64(i) - $0) } ?? Sentinel.none))
            }
        }
        return out
    }

    private static func ratings(_ r: inout CheckpointReader, count: Int, tickets: Int, teams: Int,
                                agents: Int) throws(Failure) -> [RatingRecord] {
        let rows = try r.rows("ratings", count: count, optional: RatingRows.optionalFields)
        var out: [RatingRecord] = []
        out.reserveCapacity(count)
        typealias C = CheckpointCodes
        try rows.read { (c: inout CheckpointRows.Cursor) throws(Failure) in
            var previousAt: Int64 = 0
            for i in 0..<count {
                let at = previousAt &+ c.next()
                previousAt = at
                let version = c.nextUInt64(), ticket = c.next(), agent = c.next(), team = c.next()
                let back = c.nextOptional(), flags = c.next()
                c.endRecord()
                let score = flags & 7
                guard C.isInstant(at), C.isVersion(version), C.isIndex(ticket, below: tickets),
                      C.isIndex(agent, below: agents), C.isIndex(team, below: teams),
                      back.map({ $0 >= 1 && $0 <= Int64(i) }) ?? true, flags >= 0, flags >> 5 == 0, (1...5).contains(score)
                else { throw .damaged("rating \(i): a field is out of range") }
                out.append(RatingRecord(at: at, replyVersion: version, ticket: UInt32(ticket), agent: UInt32(agent),
                                        team: UInt32(team), previous: back.map { UInt32(Int64(i) - $0) } ?? Sentinel.none,
                                        score: UInt8(score), priority: C.priorities[Int(flags >> 3 & 3)]))
            }
        }
        return out
    }
}
