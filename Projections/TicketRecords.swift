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
}

/// The hot, plain-data part of a ticket: everything the fold updates and the metrics read.
/// Instants are milliseconds since the epoch; names are indices into the projection's tables.
struct TicketState: Sendable, Equatable {
    var openedAt: Int64
    var version: UInt64
    /// When the current status was entered.
    var statusSince: Int64
    /// The last instant the ticket entered `new` or `open`.
    var lastEnteredAwaiting: Int64
    /// The running customer turn's start (valid while `hasTurn`).
    var turnStart: Int64
    /// Due and breach instants of the running turn at the current priority (``Sentinel/never``
    /// without a target). A running interval is breached at E when E >= its breach instant.
    var turnDue: Int64
    var turnBreachAt: Int64
    /// Due and breach instants of the resolution (running while not solved or closed).
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
    var status: TicketStatus = .new
    var priority: Priority
    var channel: Channel
    var resolutionPriority: Priority = .low
    var resolutionOutcome: Outcome = .none
    var hasTurn: Bool
    var turnIsFirst: Bool = true
    var hasAnsweredTurn: Bool = false

    /// Whether the resolution interval runs (not solved, not closed).
    var resolutionRuns: Bool { !status.isResolved }

    /// While awaiting an agent: the running turn's start, else the last entry into new/open.
    var waitingSince: Int64? {
        guard status.isAwaitingAgent else { return nil }
        return hasTurn ? turnStart : lastEnteredAwaiting
    }

    /// The earliest due instant of the running intervals and its target (a reply wins a tie).
    var nextDue: (instant: Int64, metric: SLAMetric?) {
        var due = Sentinel.never
        var metric: SLAMetric?
        if hasTurn, turnDue != Sentinel.never {
            due = turnDue
            metric = turnIsFirst ? .firstReply : .nextReply
        }
        if resolutionRuns, resolutionDue < due {
            due = resolutionDue
            metric = .resolution
        }
        return (due, metric)
    }

    /// Whether a running interval exceeds its target at `evaluation`.
    @inline(__always)
    func isBreached(at evaluation: Int64) -> Bool {
        (hasTurn && turnBreachAt != Sentinel.never && evaluation >= turnBreachAt)
            || (resolutionRuns && resolutionBreachAt != Sentinel.never && evaluation >= resolutionBreachAt)
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
    static func precedes(_ a: QueueItem, _ b: QueueItem, ids: [String]) -> Bool {
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
    static func precedes(_ a: OpeningItem, _ b: OpeningItem, ids: [String]) -> Bool {
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
