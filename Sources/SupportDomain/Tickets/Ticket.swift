import EventLog

/// A ticket as folded from its events: the state every command is decided against.
public struct Ticket: Sendable, Equatable {
    /// One entry of the public thread or the internal notes.
    public struct ThreadEntry: Sendable, Equatable {
        /// A public message or an internal note.
        public enum Kind: String, Sendable { case message, note }
        /// The version of the event that wrote the entry.
        public var version: UInt64
        /// When the entry was written (the event's `at`).
        public var at: Timestamp
        /// Whether the entry is a message or a note.
        public var kind: Kind
        /// Who wrote the entry.
        public var author: SupportActor
        /// The entry's text.
        public var body: String
        /// The files attached to a message (none on notes).
        public var attachments: [Attachment]
        /// The quoted history below the new text of a mailed message, if any.
        public var quoted: String?
        /// The mail the entry was taken from, if any.
        public var email: TicketEvent.MailOrigin?
        /// The automatic reaction a note of the automations records, if any.
        public var automation: AutomationRecord? = nil
    }

    /// A customer turn that has not ended yet (SPEC §4).
    public typealias RunningTurn = TicketLifecycle.RunningTurn

    /// The ticket's id (its stream in the log).
    public let id: String
    /// The version of the ticket's last event (its stream version).
    public private(set) var version: UInt64
    /// The status and customer turns, moved by the one transition function of the rules.
    public private(set) var lifecycle: TicketLifecycle
    /// The current priority.
    public private(set) var priority: Priority
    /// The team the ticket is with.
    public private(set) var team: String
    /// The agent the ticket is assigned to, if any.
    public private(set) var assignee: String?
    /// The customer the ticket is for.
    public let customer: String
    /// The subject given at opening.
    public let subject: String
    /// The channel the ticket came in by.
    public let channel: Channel
    /// The product the ticket is about.
    public let product: String
    /// Free-form context given at opening, if any.
    public let context: String?
    /// Sorted by code point.
    public private(set) var tags: [String]
    /// When the ticket was opened.
    public let openedAt: Timestamp
    /// Who opened the ticket.
    public let openedBy: SupportActor
    /// The ticket this one was merged into, if any.
    public private(set) var mergedInto: String?
    /// The `at` of the last event.
    public private(set) var lastAt: Timestamp
    /// The messages and notes, in log order (the opening body is the first message).
    public private(set) var thread: [ThreadEntry]
    /// Versions of the agents' public messages, in order: what a rating may point at.
    public private(set) var agentMessageVersions: [UInt64]
    /// The Message-IDs of the ticket's mail, in log order: those it was taken from and those its
    /// replies were delivered as (what a reply's `References` lists).
    public private(set) var mailMessageIDs: [String]

    /// When the current assignee was assigned (the `at` of that `ticket.assigned`); nil while
    /// unassigned.
    public private(set) var assignedAt: Timestamp?
    /// When the ticket came to its current team (its opening, or the move to it).
    public private(set) var teamSince: Timestamp
    /// The automatic reactions its running intervals have had (issue 14).
    public private(set) var reactions: ReactionsTaken

    /// The current status.
    public var status: TicketStatus { lifecycle.status }
    /// The customer turn awaiting an agent's reply, if any.
    public var runningTurn: RunningTurn? { lifecycle.runningTurn }
    /// Whether some turn has ended with an agent message.
    public var hasAnsweredTurn: Bool { lifecycle.hasAnsweredTurn }
    /// The last instant the ticket entered `new` or `open`.
    public var lastEnteredAwaitingAgent: Timestamp { lifecycle.lastEnteredAwaitingAgent }

    /// The ticket right after its `ticket.opened` (version 1).
    public init(id: String, opened e: TicketEvent.Opened, at: Timestamp, by actor: SupportActor) {
        self.id = id
        version = 1
        lifecycle = TicketLifecycle(openedAt: at, by: actor.kind)
        priority = e.priority
        team = e.product
        assignee = nil
        customer = e.customer
        subject = e.subject
        channel = e.channel
        product = e.product
        context = e.context
        tags = []
        openedAt = at
        openedBy = actor
        mergedInto = nil
        lastAt = at
        thread = [
            ThreadEntry(
                version: 1, at: at, kind: .message, author: actor, body: e.body, attachments: e.attachments ?? [],
                quoted: e.quoted, email: e.email)
        ]
        agentMessageVersions = []
        mailMessageIDs = e.email.map { [$0.messageId] } ?? []
        assignedAt = nil
        teamSince = at
        reactions = ReactionsTaken()
    }

    /// Whether the interval of `metric` runs: the customer turn it measures, or the resolution
    /// while the ticket is neither solved nor closed.
    public func isRunning(_ metric: SLAMetric) -> Bool {
        switch metric {
        case .firstReply, .nextReply: runningTurn?.metric == metric
        case .resolution: !status.isResolved
        }
    }

    /// Applies one later event (version 2 on). Events are facts: the rules were checked when
    /// they were appended, so this never fails. Status and turns move through the lifecycle's
    /// one transition function (`TicketLifecycle.apply(_:at:actor:)`).
    public mutating func apply(_ event: TicketEvent, version: UInt64, at: Timestamp, actor: SupportActor) {
        self.version = version
        lastAt = at
        let before = lifecycle
        lifecycle.apply(event, at: at, actor: actor.kind)
        reactions.intervalsMoved(from: before, to: lifecycle)
        switch event {
        case .opened, .statusChanged, .satisfactionRated, .deliveryFailed:
            break
        case .slaWarning(let w):
            reactions.warned.insert(w.target)
        case .delivered(let d):
            mailMessageIDs.append(d.messageId)
        case .messagePosted(let m):
            thread.append(
                ThreadEntry(
                    version: version, at: at, kind: .message, author: actor, body: m.body,
                    attachments: m.attachments ?? [], quoted: m.quoted, email: m.email))
            if actor.kind != .customer { agentMessageVersions.append(version) }
            if let email = m.email { mailMessageIDs.append(email.messageId) }
        case .noteAdded(let n):
            thread.append(
                ThreadEntry(
                    version: version, at: at, kind: .note, author: actor, body: n.body, attachments: [], email: n.email,
                    automation: n.automation))
            if let record = n.automation, record.rule == .slaBreach, let target = record.target, actor.kind == .system {
                reactions.breachHandled.insert(target)
            }
        case .assigned(let a):
            assignee = a.agent
            assignedAt = a.agent == nil ? nil : at
            if let t = a.team { moveTeam(to: t, at: at) }
        case .priorityChanged(let p):
            priority = p
        case .escalated(let e):
            moveTeam(to: e.team, at: at)
        case .tagsChanged(let t):
            var set = tags
            for tag in t.added ?? [] where !set.contains(where: { Identifier.same($0, tag) }) { set.append(tag) }
            set.removeAll { tag in (t.removed ?? []).contains { Identifier.same($0, tag) } }
            tags = set.sorted(by: Identifier.precedes)
        case .merged(let into):
            mergedInto = into
        }
    }

    private mutating func moveTeam(to newTeam: String, at: Timestamp) {
        if !Identifier.same(newTeam, team) { teamSince = at }
        team = newTeam
    }

    /// The same ticket without its thread (bodies, attachments): all that deciding a command
    /// needs, compact enough to hold for every ticket of a large import.
    package func withoutThread() -> Ticket {
        var ticket = self
        ticket.thread = []
        return ticket
    }

    /// Folds a ticket's stream (its events in version order); nil for an empty stream.
    public static func fold(_ events: some Sequence<RecordedEvent>) throws(DomainError) -> Ticket? {
        var fold = TicketFold()
        for recorded in events { try fold.apply(recorded) }
        return fold.ticket
    }
}

/// Folds one ticket's stream event by event: the first event opens the ticket, every later one
/// applies to it. The one loop that the command path, import validation, a ticket's history and
/// the replay tool share.
public struct TicketFold: Sendable {
    /// The ticket after the events applied so far; nil before the first.
    public private(set) var ticket: Ticket?

    /// A fold that starts from `ticket` (nil: from an empty stream).
    public init(_ ticket: Ticket? = nil) { self.ticket = ticket }

    /// Decodes one recorded event of the stream and applies it; returns the typed event.
    @discardableResult
    public mutating func apply(_ recorded: RecordedEvent) throws(DomainError) -> TicketEvent {
        let event = try TicketEvent(type: recorded.type, data: recorded.data)
        guard let actor = SupportActor(recorded.actor) else {
            throw .badRequest("event \(recorded.seq) has an unknown actor kind \"\(recorded.actor.kind)\"")
        }
        try apply(event, ticket: recorded.stream, version: recorded.version, at: recorded.at, actor: actor)
        return event
    }

    /// Applies one typed event: it opens the ticket when none is folded yet, else it is the
    /// ticket's next event.
    public mutating func apply(
        _ event: TicketEvent, ticket id: String, version: UInt64, at: Timestamp,
        actor: SupportActor
    ) throws(DomainError) {
        if var current = ticket {
            current.apply(event, version: version, at: at, actor: actor)
            ticket = current
        } else if case .opened(let opened) = event {
            ticket = Ticket(id: id, opened: opened, at: at, by: actor)
        } else {
            throw .badRequest("ticket \(id) does not start with ticket.opened")
        }
    }
}

/// Which automatic reactions a ticket's running SLA intervals have had (issue 14): folded from the
/// log like the rest of the ticket, so that each happens once per interval whatever the
/// automations' runner forgot in a crash.
public struct ReactionsTaken: Sendable, Equatable {
    /// The targets whose running interval had its `sla.warning`.
    public internal(set) var warned: Set<SLAMetric> = []
    /// The targets whose running interval had its breach reaction.
    public internal(set) var breachHandled: Set<SLAMetric> = []

    /// Forgets what the intervals that ended (or started anew) had: a customer turn that ended
    /// or started, the resolution when the ticket was solved or closed.
    mutating func intervalsMoved(from before: TicketLifecycle, to after: TicketLifecycle) {
        if before.runningTurn != after.runningTurn {
            for metric in [SLAMetric.firstReply, .nextReply] {
                warned.remove(metric)
                breachHandled.remove(metric)
            }
        }
        if after.status.isResolved, !before.status.isResolved {
            warned.remove(.resolution)
            breachHandled.remove(.resolution)
        }
    }
}

/// What a ticket's service levels look like at one instant (SPEC §5).
public struct TicketServiceState: Sendable, Equatable {
    /// While awaiting an agent: the running turn's start, else when it last entered new/open.
    public var waitingSince: Timestamp?
    /// The earliest due instant of the running intervals.
    public var nextDue: Timestamp?
    /// Which target `nextDue` belongs to (a reply target wins a tie).
    public var nextDueTarget: SLAMetric?
    /// Whether a running interval has exceeded its target.
    public var breached: Bool
}

extension Ticket {
    /// The ticket's waiting time and SLA position evaluated at `evaluation`.
    public func serviceState(at evaluation: Timestamp, levels: ServiceLevels) -> TicketServiceState {
        let deadlines = lifecycle.deadlines(openedAt: openedAt, priority: priority, levels: levels)
        let next = deadlines.nextDue
        return TicketServiceState(
            waitingSince: lifecycle.waitingSince, nextDue: next?.instant, nextDueTarget: next?.metric,
            breached: deadlines.isBreached(at: evaluation))
    }
}
