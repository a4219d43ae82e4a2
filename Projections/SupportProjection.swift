import EventLog
import SupportDomain

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
/// The fold reads events with the domain's decoder (`TicketEvent.init(type:data:)`) and moves
/// status and turns with the domain's transition function (`TicketLifecycle`); it keeps only
/// the bookkeeping of its metrics. It refuses an event it cannot read (unknown type or actor
/// kind, data the decoder refuses, a ticket that was never opened, a version out of order) with
/// a `badRequest` `DomainError`, leaving the state as it was. It trusts the log's rules:
/// references a valid log never holds (a rating of no agent message) are ignored.
public struct SupportProjection: Sendable {
    /// The policy and business calendar the projection was built under.
    public let levels: ServiceLevels
    /// The seq of the last event applied; 0 before any. Events at or below it are skipped.
    public internal(set) var appliedSeq: UInt64 = 0

    // Tickets, by dense index.
    /// Ticket ids, by ticket index.
    var ticketKeys = NameTable()
    var ticketIDs: ChunkedArray<String> { ticketKeys.names }
    var tickets = ChunkedArray<TicketState>()
    var infos = ChunkedArray<TicketInfo>()

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
    // Per customer: their tickets, as a chain from the last one opened back (not an array per
    // customer: a copy would share none of a reseller's thousands of tickets once one is added).
    /// Per customer, their last ticket (``Sentinel/none``: none).
    var customerLastTicket = ChunkedArray<UInt32>()
    /// Per ticket, the previous ticket of the same customer (``Sentinel/none``: none).
    var previousCustomerTicket = ChunkedArray<UInt32>()

    /// Every ticket, ascending by (openedAt, id).
    var openingOrder = SortedChunks<OpeningItem>()

    // Values.
    var replies = ChunkedArray<ReplyValue>()
    var agentMessages = ChunkedArray<AgentMessage>()
    var ratings = ChunkedArray<RatingRecord>()

    /// An empty projection under a policy.
    public init(levels: ServiceLevels) {
        self.levels = levels
    }

    /// A customer's tickets, in the order they were opened.
    func tickets(ofCustomer customer: UInt32) -> [UInt32] {
        var out: [UInt32] = []
        var ticket = customerLastTicket[Int(customer)]
        while ticket != Sentinel.none {
            out.append(ticket)
            ticket = previousCustomerTicket[Int(ticket)]
        }
        return out.reversed()
    }

    /// Every customer's tickets, in the order they were opened.
    var customerTickets: [[UInt32]] { (0..<customers.count).map { tickets(ofCustomer: UInt32($0)) } }

    /// How many tickets the projection holds.
    package var ticketCount: Int { tickets.count }

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
        // A stream of the system's own (`$webhooks`) is no ticket: passed over, as applied.
        guard StreamName.isTicket(event.stream) else {
            appliedSeq = event.seq
            return
        }
        let envelope = Envelope(
            seq: event.seq, version: event.version, at: event.at, stream: event.stream, type: event.type,
            actorKind: event.actor.kind, actorID: event.actor.id)
        let actor = try Self.actorKind(envelope)
        let decoded: TicketEvent
        do {
            decoded = try TicketEvent(type: event.type, data: event.data)
        } catch {
            throw Self.refusal(envelope, error.detail)
        }
        try apply(envelope, decoded, actor: actor)
    }

    /// Applies one stored event read in place from its record (`seq` is the seq it is stored
    /// under): the same fold as ``apply(_:)`` of the decoded event, with the same outcome, but
    /// with no `RecordedEvent`, `JSONValue` or `String` made for it (beyond the names and subject
    /// the projection keeps). A record the in-place reading does not take (a refusal, or data not
    /// in the form the log writes) is decoded and applied as ``apply(_:)`` does, so refusals and
    /// their texts are those of ``apply(_:)``.
    ///
    /// - Returns: nil when applied (or skipped: at or below ``appliedSeq``), else the refusal
    ///   (nothing changed).
    /// - Throws: what a read of the log throws for a record it cannot decode at all.
    package mutating func apply(storedRecord record: UnsafeRawBufferPointer, seq: UInt64) throws(EventLogError) -> DomainError? {
        try apply(Self.prepare(storedRecord: record, seq: seq))
    }

    /// An event read in place from its stored record and decoded, ahead of its fold (a rebuild
    /// does this on its reading thread): ``apply(_:)-(PreparedEvent)`` folds it. Borrows the
    /// record's bytes: keep it only as long as they live.
    struct PreparedEvent {
        /// The seq the record is stored under.
        let seq: UInt64
        let record: UnsafeRawBufferPointer
        /// The event, nil when it is not read in place (the fold then does as
        /// ``apply(storedRecord:seq:)``).
        let read: (envelope: Envelope<StoredText>, event: TicketEventOf<StoredText>, actor: ActorKind)?

        /// When the event happened, nil when the record could not be read in place.
        var at: Timestamp? { read?.envelope.at }
    }

    /// Reads and decodes a stored record in place (no state involved: any thread).
    static func prepare(storedRecord record: UnsafeRawBufferPointer, seq: UInt64) -> PreparedEvent {
        PreparedEvent(seq: seq, record: record, read: StoredEventView(keySeq: seq, record: record).flatMap(read))
    }

    /// Folds a prepared event: the outcome of ``apply(storedRecord:seq:)`` of its record.
    mutating func apply(_ prepared: PreparedEvent) throws(EventLogError) -> DomainError? {
        if let read = prepared.read {
            // Read in place, so a read would have decoded it: skipped at or below the applied seq.
            if read.envelope.seq <= appliedSeq { return nil }
            if (try? apply(read.envelope, read.event, actor: read.actor)) != nil { return nil }
        } else if let view = StoredEventView(keySeq: prepared.seq, record: prepared.record), view.seq <= appliedSeq,
            BinaryJSON.end(of: 0, in: view.data) != nil
        {
            // Skipped, as long as a read would have decoded it.
            return nil
        }
        return try applyDecoding(storedRecord: prepared.record, seq: prepared.seq)
    }

    /// The event of a stored record read in place, nil when that reading does not take it.
    @inline(__always)
    private static func read(
        _ view: StoredEventView
    ) -> (envelope: Envelope<StoredText>, event: TicketEventOf<StoredText>, actor: ActorKind)? {
        let envelope = Envelope(
            seq: view.seq, version: view.version, at: view.at, stream: view.stream, type: view.type,
            actorKind: view.actorKind, actorID: view.actorID)
        guard let actor = envelope.actorKind.actorKind, let event = try? TicketEventOf<StoredText>(type: view.type, data: view.data) else {
            return nil
        }
        return (envelope, event, actor)
    }

    /// A record not taken in place: decoded as any read decodes it (which throws what that read
    /// throws) and applied as ``apply(_:)`` does.
    private mutating func applyDecoding(storedRecord record: UnsafeRawBufferPointer, seq: UInt64) throws(EventLogError) -> DomainError? {
        let event = try StoredEventView.recordedEvent(seq: seq, record: record)
        do {
            try apply(event)
            return nil
        } catch {
            return error
        }
    }

    /// What the fold reads of an event's envelope, with its texts as the event's.
    struct Envelope<Text: FoldText> {
        var seq: UInt64
        var version: UInt64
        var at: Timestamp
        var stream: Text
        var type: Text
        var actorKind: Text
        var actorID: Text
    }

    /// The fold of one decoded event, whatever holds its texts.
    private mutating func apply<Text: FoldText>(
        _ event: Envelope<Text>, _ decoded: TicketEventOf<Text>, actor: ActorKind
    ) throws(DomainError) {
        if case .opened(let opened) = decoded {
            try open(event, opened, actor: actor)
            appliedSeq = event.seq
            return
        }
        let i = try ticket(of: event)
        var t = tickets[i]
        let before = placement(t, i)
        // The author of an agent message.
        var author = Sentinel.none
        switch decoded {
        case .opened, .noteAdded, .statusChanged:
            break
        case .messagePosted:
            if actor != .customer {
                author = internAgent(event.actorID)
                agentMessages.append(
                    AgentMessage(
                        at: event.at.milliseconds, version: event.version, agent: author,
                        previous: t.lastAgentMessage))
                t.lastAgentMessage = UInt32(agentMessages.count - 1)
            }
        case .assigned(let assigned):
            if let agent = assigned.agent { t.assignee = internAgent(agent) } else { t.assignee = Sentinel.none }
            if let team = assigned.team { t.team = internTeam(team) }
        case .priorityChanged(let priority):
            t.priority = priority
            refreshReplyDeadline(&t)
            refreshResolutionDeadline(&t)
        case .escalated(let escalated):
            t.team = internTeam(escalated.team)
        case .tagsChanged(let change):
            var tags = infos[i].tags
            if let added = change.added {
                for name in added where !(change.removed.map { $0.contains { $0.same(as: name) } } ?? false) {
                    let tag = name.intern(in: &tagNames).index
                    if !tags.contains(tag) { tags.append(tag) }
                }
            }
            if let removed = change.removed {
                for name in removed {
                    if let tag = name.index(in: tagNames) { tags.removeAll { $0 == tag } }
                }
            }
            infos[i].tags = tags
        case .merged(let into):
            infos[i].mergedInto = into.string
        case .satisfactionRated(let rating):
            rate(&t, i, score: UInt8(rating.score), reply: rating.reply, at: event.at.milliseconds)
        case .delivered, .deliveryFailed, .slaWarning:
            break  // the outcome of mailing a reply, or a warning: no status, no metric
        }
        let transition = t.lifecycle.apply(decoded, at: event.at, actor: actor)
        measure(transition, &t, i, author: author, at: event.at)
        // An agent acting otherwise than by a message (which interned its author) is known too.
        if actor == .agent, author == Sentinel.none { _ = internAgent(event.actorID) }
        finish(&t, i, before: before, version: event.version)
        appliedSeq = event.seq
    }

    // MARK: The fold's steps

    /// Creates the ticket of a `ticket.opened`.
    private mutating func open<Text: FoldText>(
        _ event: Envelope<Text>, _ opened: TicketEventOf<Text>.Opened, actor: ActorKind
    ) throws(DomainError) {
        guard event.version == 1 else { throw Self.refusal(event, "ticket.opened must be version 1") }
        guard event.stream.index(in: ticketKeys) == nil else {
            throw Self.refusal(event, "ticket \(event.stream.string) is already open")
        }
        guard tickets.count < Int(UInt32.max - 1) else { throw Self.refusal(event, "too many tickets") }

        let i = tickets.count
        let at = event.at.milliseconds
        let product = internTeam(opened.product)
        let (customer, isNewCustomer) = opened.customer.intern(in: &customers)
        if isNewCustomer { customerLastTicket.append(Sentinel.none) }
        var t = TicketState(
            openedAt: at, lifecycle: TicketLifecycle(openedAt: event.at, by: actor), customer: customer,
            product: product, priority: opened.priority, channel: opened.channel)
        refreshReplyDeadline(&t)
        refreshResolutionDeadline(&t)
        if actor == .agent { _ = internAgent(event.actorID) }

        _ = event.stream.intern(in: &ticketKeys)
        tickets.append(t)
        infos.append(
            TicketInfo(
                subject: opened.subject.string, context: opened.context?.string,
                openedBy: SupportActor(kind: actor, id: event.actorID.string)))
        previousCustomerTicket.append(customerLastTicket[Int(customer)])
        customerLastTicket[Int(customer)] = UInt32(i)
        teamTicketCounts[Int(product)] += 1
        let ids = ticketIDs
        openingOrder.insert(OpeningItem(openedAt: at, ticket: UInt32(i))) { OpeningItem.precedes($0, $1, ids: ids) }
        if let item = placement(t, i).item {
            teamQueues[Int(product)].insert(item) { QueueItem.precedes($0, $1, ids: ids) }
        }
    }

    /// Measures what the lifecycle's transition did: the time spent in the status left (new,
    /// open and on-hold are requester wait; new and open agent work), the resolution reached, the
    /// reply a turn's end is (by `author`); a turn that started gets its reply deadline.
    private mutating func measure(
        _ transition: TicketLifecycle.Transition, _ t: inout TicketState, _ i: Int,
        author: UInt32, at: Timestamp
    ) {
        if let left = transition.left, left.status == .new || left.status == .open || left.status == .onHold {
            let calendar = at.milliseconds - left.since.milliseconds
            let business = levels.calendar.businessDuration(from: left.since, to: at)
            t.waitCalendar += calendar
            t.waitBusiness += business
            if left.status != .onHold {
                t.workCalendar += calendar
                t.workBusiness += business
            }
        }
        // Ended intervals are measured by the domain's one rule (`ServiceLevels.measure`), the
        // one a ticket's clock explanation uses too.
        if transition.reachedResolution {
            let measure = levels.measure(.resolution, priority: t.priority, from: Timestamp(milliseconds: t.openedAt), to: at)
            t.resolutionEnd = at.milliseconds
            t.resolutionBusiness = measure.business
            t.resolutionTeam = t.team
            t.resolutionAgent = t.assignee
            t.resolutionPriority = t.priority
            t.resolutionOutcome = Outcome(measure.achieved)
        }
        if transition.startedTurn { refreshReplyDeadline(&t) }
        if let turn = transition.endedTurn {
            let measure = levels.measure(turn.metric, priority: t.priority, from: turn.start, to: at)
            replies.append(
                ReplyValue(
                    end: at.milliseconds, calendar: measure.calendar, business: measure.business, ticket: UInt32(i), team: t.team,
                    agent: author, priority: t.priority, isFirst: turn.isFirstReply, outcome: Outcome(measure.achieved)))
        }
    }

    /// Stores the ticket and moves it in the per-team and per-agent structures.
    @inline(__always)
    private mutating func finish(_ t: inout TicketState, _ i: Int, before: Placement, version: UInt64) {
        t.version = version
        tickets[i] = t
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
        if load == 0, let waiting = t.waitingSince {
            item = QueueItem(due: t.nextDue.instant, waiting: waiting, ticket: UInt32(i), urgency: UInt8(t.priority.urgencyRank))
        }
        return Placement(team: t.team, assignee: t.assignee, load: load, item: item)
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
        ratings.append(
            RatingRecord(
                at: at, replyVersion: rated.version, ticket: UInt32(i), agent: rated.agent,
                team: t.team, previous: t.lastRating, score: score, priority: t.priority))
        t.lastRating = UInt32(ratings.count - 1)
    }

    /// Caches the running turn's deadline at the current priority (kept while no turn runs).
    private func refreshReplyDeadline(_ t: inout TicketState) {
        guard t.hasTurn else { return }
        (t.turnDue, t.turnBreachAt) = TicketState.cached(t.lifecycle.replyDeadline(priority: t.priority, levels: levels))
    }

    /// Caches the resolution's deadline at the current priority (also while resolved: a
    /// reopened ticket's resolution runs again).
    private func refreshResolutionDeadline(_ t: inout TicketState) {
        (t.resolutionDue, t.resolutionBreachAt) = TicketState.cached(
            TicketLifecycle.resolutionDeadline(
                openedAt: Timestamp(milliseconds: t.openedAt), priority: t.priority, levels: levels))
    }

    // MARK: Names

    private mutating func internTeam<Text: FoldText>(_ name: Text) -> UInt32 {
        let (index, isNew) = name.intern(in: &teams)
        if isNew {
            teamTicketCounts.append(0)
            teamQueues.append(SortedChunks())
        }
        return index
    }

    private mutating func internAgent<Text: FoldText>(_ name: Text) -> UInt32 {
        let (index, isNew) = name.intern(in: &agents)
        if isNew {
            agentLoads.append(AssignedCounts())
            agentQueues.append(SortedChunks())
        }
        return index
    }

    // MARK: Reading events

    /// The index of the event's ticket, checking that the event is its next version.
    @inline(__always)
    private func ticket<Text: FoldText>(of event: Envelope<Text>) throws(DomainError) -> Int {
        guard let index = event.stream.index(in: ticketKeys) else {
            throw Self.refusal(event, "ticket \(event.stream.string) was not opened")
        }
        let i = Int(index)
        guard event.version == tickets[i].version + 1 else {
            throw Self.refusal(event, "version \(event.version) does not follow \(tickets[i].version) of \(event.stream.string)")
        }
        return i
    }

    private static func refusal<Text: FoldText>(_ event: Envelope<Text>, _ detail: String) -> DomainError {
        DomainError(.badRequest, "event \(event.seq) (\(event.type.string) on \(event.stream.string)): \(detail)")
    }

    @inline(__always)
    private static func actorKind<Text: FoldText>(_ event: Envelope<Text>) throws(DomainError) -> ActorKind {
        guard let kind = event.actorKind.actorKind else {
            throw refusal(event, "unknown actor kind \"\(event.actorKind.string)\"")
        }
        return kind
    }
}

/// An event's text as the fold interns it: a `String` (a decoded event), or a stored record's
/// text read in place, interned by its bytes (a string is made only for a new name).
protocol FoldText: EventText where List: Sequence, List.Element == Self {
    /// The actor kind this text names (SPEC §2.1), nil for none.
    var actorKind: ActorKind? { get }
    func index(in table: NameTable) -> UInt32?
    func intern(in table: inout NameTable) -> (index: UInt32, isNew: Bool)
}

extension String: FoldText {
    @inline(__always)
    var actorKind: ActorKind? {
        switch self {
        case "agent": .agent
        case "customer": .customer
        case "manager": .manager
        case "admin": .admin
        case "system": .system
        default: nil
        }
    }

    @inline(__always) func index(in table: NameTable) -> UInt32? { table.index(of: self) }
    @inline(__always) func intern(in table: inout NameTable) -> (index: UInt32, isNew: Bool) { table.intern(self) }
}

extension StoredText: FoldText {
    /// By bytes: the kinds' names are ASCII, and a text of other bytes names none (nor does the
    /// string it decodes to; a refusal is then worded by the decoded path).
    @inline(__always)
    var actorKind: ActorKind? {
        let b = bytes
        switch b.count {
        case 5:
            if StoredText.same(b, "agent") { return .agent }
            if StoredText.same(b, "admin") { return .admin }
        case 6: if StoredText.same(b, "system") { return .system }
        case 7: if StoredText.same(b, "manager") { return .manager }
        case 8: if StoredText.same(b, "customer") { return .customer }
        default: break
        }
        return nil
    }

    @inline(__always)
    private static func same(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        bytes.count == name.utf8CodeUnitCount && memcmp(bytes.baseAddress!, name.utf8Start, bytes.count) == 0
    }

    // ASCII bytes are the decoded string's UTF-8; any other text is looked up as that string.
    @inline(__always)
    func index(in table: NameTable) -> UInt32? { isASCII ? table.index(utf8: bytes) : table.index(of: string) }

    @inline(__always)
    func intern(in table: inout NameTable) -> (index: UInt32, isNew: Bool) {
        isASCII ? table.intern(utf8: bytes) { string } : table.intern(string)
    }
}
