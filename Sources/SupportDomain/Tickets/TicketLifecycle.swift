import EventLog

/// A ticket's status and customer turns (SPEC §2.2, §4): the part of a ticket its events' rules
/// move.
///
/// `apply(_:at:actor:)` is the one place those rules are written: ``Ticket`` and the
/// projections' per-ticket records both hold a lifecycle and move it only through that function,
/// which reports what changed for the read models to measure.
public struct TicketLifecycle: Sendable, Equatable {
    /// A customer turn that has not ended yet (SPEC §4).
    public struct RunningTurn: Sendable, Equatable {
        /// The customer message (or customer opening) that started the turn.
        public var start: Timestamp
        /// True while no turn of the ticket has ended with an agent message: a first reply.
        public var isFirstReply: Bool

        package init(start: Timestamp, isFirstReply: Bool) {
            self.start = start
            self.isFirstReply = isFirstReply
        }

        /// The target the turn is measured against.
        @inlinable package var metric: SLAMetric { isFirstReply ? .firstReply : .nextReply }
    }

    /// A status the ticket left, and when it had entered it.
    package struct StatusSpan: Sendable, Equatable {
        package var status: TicketStatus
        package var since: Timestamp
    }

    /// What one event did to a lifecycle: what the read models measure.
    @usableFromInline
    package struct Transition: Sendable, Equatable {
        /// The status left: every status the event sets leaves the current one, even to enter
        /// the same status again.
        package var left: StatusSpan?
        /// Whether a customer turn started.
        package var startedTurn = false
        /// The turn an agent message ended: a reply.
        package var endedTurn: RunningTurn?
        /// Whether the ticket reached a resolution: it entered `solved`, or `closed` without
        /// being solved first.
        package var reachedResolution = false
    }

    // Instants first, flags last: the projection keeps one lifecycle per ticket, packed.

    /// When the current status was entered.
    public package(set) var statusSince: Timestamp
    /// The last instant the ticket entered `new` or `open`.
    public package(set) var lastEnteredAwaitingAgent: Timestamp
    /// The customer turn awaiting an agent's reply, if any.
    public package(set) var runningTurn: RunningTurn?
    /// The current status.
    public package(set) var status: TicketStatus
    /// Whether some turn has ended with an agent message.
    public package(set) var hasAnsweredTurn: Bool

    /// The lifecycle right after a ticket's opening: `new`; a customer's opening starts the first
    /// turn, an opening by anyone else counts as an agent message.
    package init(openedAt at: Timestamp, by opener: ActorKind) {
        status = .new
        statusSince = at
        runningTurn = opener == .customer ? RunningTurn(start: at, isFirstReply: true) : nil
        hasAnsweredTurn = false
        lastEnteredAwaitingAgent = at
    }

    /// A lifecycle as recorded elsewhere (a projection checkpoint).
    package init(
        status: TicketStatus, statusSince: Timestamp, runningTurn: RunningTurn?, hasAnsweredTurn: Bool,
        lastEnteredAwaitingAgent: Timestamp
    ) {
        self.status = status
        self.statusSince = statusSince
        self.runningTurn = runningTurn
        self.hasAnsweredTurn = hasAnsweredTurn
        self.lastEnteredAwaitingAgent = lastEnteredAwaitingAgent
    }

    /// Applies one later event of the ticket (SPEC §2.2, §4): a customer message reopens a
    /// pending, on-hold or solved ticket and starts a turn when none runs; an agent message opens
    /// a new ticket and ends the running turn; a status change or a merge (which closes) enters
    /// that status. Events that move neither status nor turns change nothing.
    /// Inlinable: the projections fold events whose texts stay in the stored record
    /// (`TicketEventOf<StoredText>`), and the call must be specialised for them.
    @discardableResult @inlinable
    package mutating func apply<Text>(_ event: TicketEventOf<Text>, at: Timestamp, actor: ActorKind) -> Transition {
        apply(Self.step(of: event), at: at, actor: actor)
    }

    /// ``apply(_:at:actor:)`` of an event with `String`s (where `.statusChanged(s)` needs no type).
    @discardableResult
    package mutating func apply(_ event: TicketEvent, at: Timestamp, actor: ActorKind) -> Transition {
        apply(Self.step(of: event), at: at, actor: actor)
    }

    @inlinable
    static func step<Text>(of event: TicketEventOf<Text>) -> Step {
        switch event {
        case .messagePosted: .message
        case .statusChanged(let newStatus): .enter(newStatus)
        case .merged: .enter(.closed)
        case .opened, .noteAdded, .assigned, .priorityChanged, .escalated, .tagsChanged, .satisfactionRated, .delivered,
            .deliveryFailed, .slaWarning:
            .none
        }
    }

    /// What of an event moves a lifecycle.
    @usableFromInline
    package enum Step: Sendable {
        /// A message (by the actor).
        case message
        /// A status change, or a merge (which closes).
        case enter(TicketStatus)
        /// Nothing.
        case none
    }

    @usableFromInline
    package mutating func apply(_ step: Step, at: Timestamp, actor: ActorKind) -> Transition {
        var transition = Transition()
        switch step {
        case .message:
            if actor == .customer {
                if status == .pending || status == .onHold || status == .solved { enter(.open, at: at, &transition) }
                if runningTurn == nil {
                    runningTurn = RunningTurn(start: at, isFirstReply: !hasAnsweredTurn)
                    transition.startedTurn = true
                }
            } else {
                if status == .new { enter(.open, at: at, &transition) }
                if let turn = runningTurn {
                    runningTurn = nil
                    hasAnsweredTurn = true
                    transition.endedTurn = turn
                }
            }
        case .enter(let newStatus):
            enter(newStatus, at: at, &transition)
        case .none:
            break
        }
        return transition
    }

    private mutating func enter(_ newStatus: TicketStatus, at: Timestamp, _ transition: inout Transition) {
        let old = status
        transition.left = StatusSpan(status: old, since: statusSince)
        status = newStatus
        statusSince = at
        if newStatus.isAwaitingAgent { lastEnteredAwaitingAgent = at }
        // A turn still running when the ticket is solved or closed is cancelled.
        if newStatus.isResolved { runningTurn = nil }
        if newStatus == .solved || (newStatus == .closed && old != .solved) { transition.reachedResolution = true }
    }

    /// While awaiting an agent: the running turn's start, else when the ticket last entered
    /// `new` or `open`.
    @inlinable package var waitingSince: Timestamp? {
        guard status.isAwaitingAgent else { return nil }
        return runningTurn?.start ?? lastEnteredAwaitingAgent
    }
}
