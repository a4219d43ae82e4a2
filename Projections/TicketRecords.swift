import EventLog
import SupportDomain

/// Sentinels of the compact records.
enum Sentinel {
    /// An instant that never comes (no due instant, never breached, none).
    static let never = Int64.max
    /// No index (no agent, no message, no rating).
    static let none = UInt32.max
}

/// An SLA outcome of an ended interval.
enum Outcome: UInt8, Sendable {
    /// No target at that priority.
    case none
    case achieved
    case breached

    /// The outcome of a measured interval (``IntervalMeasure/achieved``).
    @inline(__always)
    init(_ achieved: Bool?) {
        switch achieved {
        case nil: self = .none
        case true?: self = .achieved
        case false?: self = .breached
        }
    }
}

/// The hot, plain-data part of a ticket: everything the fold updates and the metrics read.
/// Instants are milliseconds since the epoch; names are indices into the projection's tables.
/// Status and customer turns are the domain's ``TicketLifecycle``, moved only by its transition
/// function; the rest is the projection's bookkeeping.
struct TicketState: Sendable, Equatable {
    var openedAt: Int64
    var version: UInt64
    /// Due and breach instants of the current (or last) turn's reply target and of the
    /// resolution, at the current priority (``Sentinel/never`` without a target), cached from
    /// the domain's deadlines; read only while the interval runs (``deadlines``).
    var turnDue: Int64
    var turnBreachAt: Int64
    var resolutionDue: Int64
    var resolutionBreachAt: Int64
    /// Time spent in new/open/on_hold (requester wait) and new/open (agent work), calendar and
    /// business, up to the current status's start.
    var waitCalendar: Int64 = 0
    var waitBusiness: Int64 = 0
    var workCalendar: Int64 = 0
    var workBusiness: Int64 = 0
    /// The resolution's end (valid while solved or closed) and its business duration.
    var resolutionEnd: Int64 = 0
    var resolutionBusiness: Int64 = 0
    /// Status, running turn, answered-turn flag, last entry into new/open (after the 8-byte
    /// fields: its flags pack with the 4-byte fields that follow).
    var lifecycle: TicketLifecycle
    var customer: UInt32
    var product: UInt32
    var team: UInt32
    var assignee: UInt32 = Sentinel.none
    /// Attribution of the resolution at its end.
    var resolutionTeam: UInt32 = 0
    var resolutionAgent: UInt32 = Sentinel.none
    /// The last agent message (index into the projection's agent messages).
    var lastAgentMessage: UInt32 = Sentinel.none
    /// The last rating record of this ticket (index into the projection's ratings).
    var lastRating: UInt32 = Sentinel.none
    var priority: Priority
    var channel: Channel
    var resolutionPriority: Priority = .low
    var resolutionOutcome: Outcome = .none

    /// A ticket right after its opening; the due and breach instants are filled in by the fold.
    init(
        openedAt: Int64, lifecycle: TicketLifecycle, customer: UInt32, product: UInt32, priority: Priority,
        channel: Channel
    ) {
        self.openedAt = openedAt
        version = 1
        self.lifecycle = lifecycle
        turnDue = Sentinel.never
        turnBreachAt = Sentinel.never
        resolutionDue = Sentinel.never
        resolutionBreachAt = Sentinel.never
        self.customer = customer
        self.product = product
        team = product
        self.priority = priority
        self.channel = channel
    }

    /// A record from its fields as a checkpoint stores them: the lifecycle's fields flat, the
    /// running turn as `hasTurn` and `turnStart` (`turnStart` is ignored without a turn; its
    /// first-reply flag is then set through ``turnIsFirst``).
    init(
        openedAt: Int64, version: UInt64, statusSince: Int64, lastEnteredAwaiting: Int64, turnStart: Int64,
        turnDue: Int64, turnBreachAt: Int64, resolutionDue: Int64, resolutionBreachAt: Int64, customer: UInt32,
        product: UInt32, team: UInt32, priority: Priority, channel: Channel, hasTurn: Bool
    ) {
        self.openedAt = openedAt
        self.version = version
        lifecycle = TicketLifecycle(
            status: .new, statusSince: Timestamp(milliseconds: statusSince),
            runningTurn: hasTurn ? TicketLifecycle.RunningTurn(start: Timestamp(milliseconds: turnStart), isFirstReply: true) : nil,
            hasAnsweredTurn: false, lastEnteredAwaitingAgent: Timestamp(milliseconds: lastEnteredAwaiting))
        self.turnDue = turnDue
        self.turnBreachAt = turnBreachAt
        self.resolutionDue = resolutionDue
        self.resolutionBreachAt = resolutionBreachAt
        self.customer = customer
        self.product = product
        self.team = team
        self.priority = priority
        self.channel = channel
    }

    // The lifecycle's fields under the names the checkpoint reads and writes.

    var status: TicketStatus {
        get { lifecycle.status }
        set { lifecycle.status = newValue }
    }

    /// When the current status was entered.
    var statusSince: Int64 {
        get { lifecycle.statusSince.milliseconds }
        set { lifecycle.statusSince = Timestamp(milliseconds: newValue) }
    }

    /// The last instant the ticket entered `new` or `open`.
    var lastEnteredAwaiting: Int64 {
        get { lifecycle.lastEnteredAwaitingAgent.milliseconds }
        set { lifecycle.lastEnteredAwaitingAgent = Timestamp(milliseconds: newValue) }
    }

    /// Whether a customer turn runs.
    var hasTurn: Bool { lifecycle.runningTurn != nil }

    /// The running turn's start; without a turn, the opening (the turn's cached due and breach
    /// instants are stored relative to it).
    var turnStart: Int64 { lifecycle.runningTurn?.start.milliseconds ?? openedAt }

    /// Whether the running turn is a first reply (without a turn: whether the next one would be).
    var turnIsFirst: Bool {
        get { lifecycle.runningTurn?.isFirstReply ?? !lifecycle.hasAnsweredTurn }
        set { lifecycle.runningTurn?.isFirstReply = newValue }
    }

    var hasAnsweredTurn: Bool {
        get { lifecycle.hasAnsweredTurn }
        set { lifecycle.hasAnsweredTurn = newValue }
    }

    /// While awaiting an agent: the running turn's start, else the last entry into new/open.
    var waitingSince: Int64? { lifecycle.waitingSince?.milliseconds }

    /// The deadlines of the running intervals, from the cached instants.
    @inline(__always)
    var deadlines: TicketDeadlines {
        TicketDeadlines(
            of: lifecycle,
            reply: { Self.deadline(lifecycle.runningTurn?.metric ?? .firstReply, turnDue, turnBreachAt) },
            resolution: { Self.deadline(.resolution, resolutionDue, resolutionBreachAt) })
    }

    /// The earliest due instant of the running intervals and its target (the domain's tie rule).
    @inline(__always)
    var nextDue: (instant: Int64, metric: SLAMetric?) {
        guard let next = deadlines.nextDue else { return (Sentinel.never, nil) }
        return (next.instant.milliseconds, next.metric)
    }

    /// Whether a running interval exceeds its target at `evaluation`.
    @inline(__always)
    func isBreached(at evaluation: Int64) -> Bool {
        deadlines.isBreached(at: Timestamp(milliseconds: evaluation))
    }

    /// A cached deadline's instants (``Sentinel/never``: none).
    static func cached(_ deadline: SLADeadline?) -> (due: Int64, breachAt: Int64) {
        (deadline?.due?.milliseconds ?? Sentinel.never, deadline?.breachAt?.milliseconds ?? Sentinel.never)
    }

    @inline(__always)
    private static func deadline(_ metric: SLAMetric, _ due: Int64, _ breachAt: Int64) -> SLADeadline {
        SLADeadline(
            metric: metric, due: due == Sentinel.never ? nil : Timestamp(milliseconds: due),
            breachAt: breachAt == Sentinel.never ? nil : Timestamp(milliseconds: breachAt))
    }
}

/// The cold part of a ticket: text shown in lists, never read by the fold's hot path.
struct TicketInfo: Sendable, Equatable {
    var subject: String
    var context: String?
    /// Tag indices, in no particular order.
    var tags: [UInt32] = []
    var openedBy: SupportActor
    var mergedInto: String?
}

/// One ended customer turn: a first or next reply time.
struct ReplyValue: Sendable, Equatable {
    var end: Int64
    var calendar: Int64
    var business: Int64
    var ticket: UInt32
    var team: UInt32
    /// The author of the ending reply.
    var agent: UInt32
    var priority: Priority
    var isFirst: Bool
    var outcome: Outcome
}

/// One agent `message.posted`: what a rating points at, and a reply in the workloads.
struct AgentMessage: Sendable, Equatable {
    var at: Int64
    var version: UInt64
    var agent: UInt32
    /// The ticket's previous agent message.
    var previous: UInt32
}

/// The current rating of one agent reply.
struct RatingRecord: Sendable, Equatable {
    var at: Int64
    var replyVersion: UInt64
    var ticket: UInt32
    /// The rated reply's author.
    var agent: UInt32
    /// The ticket's team and priority when rated.
    var team: UInt32
    /// The ticket's previous rating record.
    var previous: UInt32
    var score: UInt8
    var priority: Priority
}

/// A ticket's place in a queue: next due, priority (urgent first), waiting since, id.
struct QueueItem: Sendable, Equatable {
    var due: Int64
    var waiting: Int64
    var ticket: UInt32
    var urgency: UInt8

    @inline(__always)
    static func precedes(_ a: QueueItem, _ b: QueueItem, ids: ChunkedArray<String>) -> Bool {
        if a.due != b.due { return a.due < b.due }
        if a.urgency != b.urgency { return a.urgency > b.urgency }
        if a.waiting != b.waiting { return a.waiting < b.waiting }
        if a.ticket == b.ticket { return false }
        return Identifier.precedes(ids[Int(a.ticket)], ids[Int(b.ticket)])
    }
}

/// A ticket's place in the ticket list, stored ascending (openedAt, id); the list reads it
/// backwards.
struct OpeningItem: Sendable, Equatable {
    var openedAt: Int64
    var ticket: UInt32

    @inline(__always)
    static func precedes(_ a: OpeningItem, _ b: OpeningItem, ids: ChunkedArray<String>) -> Bool {
        if a.openedAt != b.openedAt { return a.openedAt < b.openedAt }
        if a.ticket == b.ticket { return false }
        return Identifier.precedes(ids[Int(a.ticket)], ids[Int(b.ticket)])
    }
}

/// Where a ticket stands in the per-team and per-agent structures: compared before and after an
/// event to update only what moved.
struct Placement: Equatable {
    var team: UInt32
    var assignee: UInt32
    /// 0 new/open, 1 pending, 2 on_hold, -1 other.
    var load: Int8
    /// The queue item, when awaiting an agent.
    var item: QueueItem?
}
