import EventLog

/// The event of a ticket's stream that started or ended an SLA interval.
public struct EventReference: Sendable, Equatable {
    /// Its position in the log.
    public var seq: UInt64
    /// Its version in the ticket's stream.
    public var version: UInt64
    /// Its type (`message.posted`, `status.changed`, …).
    public var type: String

    /// The reference of an event.
    public init(seq: UInt64, version: UInt64, type: String) {
        self.seq = seq
        self.version = version
        self.type = type
    }
}

/// One SLA interval of a ticket (SPEC §4): a customer turn (first or next reply) or the
/// resolution, with how it was judged. Made by ``TicketClocks`` with the rules the metrics use.
public struct SLAInterval: Sendable, Equatable {
    /// Where the interval stands.
    public enum State: String, Sendable {
        /// Not ended at the evaluation instant.
        case running
        /// Ended: a turn by an agent's message, the resolution by `solved` (or `closed` unsolved).
        case ended
        /// A turn the ticket's solving or closing ended with no reply: not measured.
        case cancelled
        /// A resolution the ticket left again (a customer wrote, or it was set back to open): the
        /// resolution runs again from the opening and only its last end counts.
        case reopened
    }

    /// Whose priority judged the interval.
    public enum PriorityBasis: String, Sendable {
        /// The priority when the interval ended (or was cancelled or reopened).
        case atEnd
        /// The priority at the evaluation instant: the interval still runs.
        case atEvaluation
    }

    /// The target measured.
    public var metric: SLAMetric
    /// When the interval started: the customer's message or opening, or (resolution) the opening.
    public var start: Timestamp
    /// The event that started it.
    public var startedBy: EventReference
    /// When it ended; nil while running.
    public var end: Timestamp?
    /// The event that ended, cancelled or reached it; nil while running.
    public var endedBy: EventReference?
    /// The event that reopened a reached resolution (``State/reopened`` only).
    public var reopenedBy: EventReference?
    /// Where it stands.
    public var state: State
    /// The priority it is judged against.
    public var priority: Priority
    /// Why that priority.
    public var priorityBasis: PriorityBasis
    /// The policy's target for the metric at that priority; nil when it sets none.
    public var target: SLATarget?
    /// When the interval reaches its target on the target's clock; nil without a target or when it
    /// never does (no business time).
    public var due: Timestamp?
    /// Its length up to its end, or up to the evaluation instant while it runs, on both clocks.
    public var elapsed: IntervalMeasure
    /// The outcome the metrics count: achieved or breached for an ended interval with a target;
    /// breached for a running one past its target at the evaluation instant; else nil.
    public var outcome: Outcome?

    /// What the metrics count of an interval.
    public enum Outcome: String, Sendable {
        /// Ended within its target.
        case achieved
        /// Ended beyond its target, or still running beyond it.
        case breached
    }

    /// Its length on its target's clock beyond the target, in milliseconds, when breached.
    public var late: Int64? {
        guard outcome == .breached, let target else { return nil }
        return elapsed.duration(on: target.clock) - target.milliseconds
    }
}
