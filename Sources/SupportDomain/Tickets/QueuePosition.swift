import EventLog

/// A ticket's place in a queue (SPEC §5): next due, earliest first and none last; then priority,
/// urgent first; then waiting since, oldest first; then the ticket id by code point.
public struct QueuePosition: Sendable, Equatable {
    /// The instant the ticket's next running SLA target falls due (nil: none running).
    public var nextDue: Timestamp?
    /// The ticket's priority.
    public var priority: Priority
    /// Since when the ticket has been waiting for an agent.
    public var waitingSince: Timestamp
    /// The ticket's id.
    public var id: String

    package init(nextDue: Timestamp?, priority: Priority, waitingSince: Timestamp, id: String) {
        self.nextDue = nextDue
        self.priority = priority
        self.waitingSince = waitingSince
        self.id = id
    }

    /// Whether `a` comes before `b` in a queue.
    public static func precedes(_ a: QueuePosition, _ b: QueuePosition) -> Bool {
        switch (a.nextDue, b.nextDue) {
        case (let x?, let y?) where x != y: return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: break
        }
        if a.priority != b.priority { return a.priority > b.priority }
        if a.waitingSince != b.waitingSince { return a.waitingSince < b.waitingSince }
        return Identifier.precedes(a.id, b.id)
    }
}

extension Ticket {
    /// Where the ticket stands in its team's queue; nil when it is not awaiting an agent.
    public func queuePosition(levels: ServiceLevels) -> QueuePosition? {
        guard status.isAwaitingAgent else { return nil }
        // Due instants do not depend on the evaluation instant, only the breach flag does.
        let state = serviceState(at: lastAt, levels: levels)
        guard let waiting = state.waitingSince else { return nil }
        return QueuePosition(nextDue: state.nextDue, priority: priority, waitingSince: waiting, id: id)
    }
}
