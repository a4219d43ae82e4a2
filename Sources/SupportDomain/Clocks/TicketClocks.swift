import EventLog

/// A ticket's SLA clocks explained: every interval of its stream — each customer turn and the
/// resolution — with when and by which event it started and ended, the priority and target it is
/// judged against, and its outcome.
///
/// It is not a second implementation of the SLA rules: status and turns move through the
/// lifecycle's one transition function (`TicketLifecycle.apply`), ended intervals are measured by
/// ``ServiceLevels/measure(_:priority:from:to:)`` and running ones judged by the deadlines the
/// queues use, exactly as the projections' metrics do. So the intervals of a ticket add up to its
/// values in the response-time metrics.
///
/// Feed the ticket's events in version order with ``apply(_:)``, then ask
/// ``intervals(at:)``.
public struct TicketClocks: Sendable {
    /// The policy the intervals are judged under.
    public let levels: ServiceLevels
    private var fold = TicketFold()
    /// The intervals that ended (ended, cancelled or reopened), in the order they ended.
    private var closed: [SLAInterval] = []
    /// The event that started the running turn.
    private var turnStartedBy: EventReference?
    /// The ticket's opening.
    private var openedBy: EventReference?

    /// An explanation with no event yet, judged under `levels`.
    public init(levels: ServiceLevels) {
        self.levels = levels
    }

    /// The ticket folded so far; nil before its opening.
    public var ticket: Ticket? { fold.ticket }

    /// Applies the ticket's next event (its opening first).
    public mutating func apply(_ recorded: RecordedEvent) throws(DomainError) {
        let before = fold.ticket
        let event = try fold.apply(recorded)
        guard let after = fold.ticket else { return }
        let reference = EventReference(seq: recorded.seq, version: recorded.version, type: recorded.type)
        guard let before else {
            openedBy = reference
            if after.runningTurn != nil { turnStartedBy = reference }
            return
        }
        // The same transition the ticket's own fold made (and the projections make).
        var lifecycle = before.lifecycle
        let actor = SupportActor(recorded.actor)?.kind ?? .system
        let transition = lifecycle.apply(event, at: recorded.at, actor: actor)
        let at = recorded.at
        if let turn = transition.endedTurn, let startedBy = turnStartedBy {
            closed.append(
                ended(turn.metric, start: turn.start, startedBy: startedBy, end: at, endedBy: reference, priority: after.priority))
            turnStartedBy = nil
        } else if let turn = before.runningTurn, after.runningTurn == nil, let startedBy = turnStartedBy {
            // Solved or closed while the customer waited: the turn is not measured.
            var cancelled = ended(
                turn.metric, start: turn.start, startedBy: startedBy, end: at, endedBy: reference, priority: after.priority)
            cancelled.state = .cancelled
            cancelled.outcome = nil
            closed.append(cancelled)
            turnStartedBy = nil
        }
        if transition.startedTurn { turnStartedBy = reference }
        if before.status.isResolved, !after.status.isResolved,
            let last = closed.lastIndex(where: { $0.metric == .resolution && $0.state == .ended })
        {
            closed[last].state = .reopened
            closed[last].reopenedBy = reference
            closed[last].outcome = nil
        }
        if transition.reachedResolution, let openedBy {
            closed.append(
                ended(.resolution, start: after.openedAt, startedBy: openedBy, end: at, endedBy: reference, priority: after.priority))
        }
    }

    /// An interval that ended at `end`, measured by the policy's one rule.
    private func ended(
        _ metric: SLAMetric, start: Timestamp, startedBy: EventReference, end: Timestamp, endedBy: EventReference, priority: Priority
    ) -> SLAInterval {
        let measure = levels.measure(metric, priority: priority, from: start, to: end)
        return SLAInterval(
            metric: metric, start: start, startedBy: startedBy, end: end, endedBy: endedBy, reopenedBy: nil, state: .ended,
            priority: priority, priorityBasis: .atEnd, target: levels.target(metric, priority: priority),
            due: levels.deadline(metric, priority: priority, start: start)?.due, elapsed: measure,
            outcome: measure.achieved.map { $0 ? .achieved : .breached })
    }

    /// Every interval of the ticket evaluated at `evaluation`, by start (a turn before the
    /// resolution that starts with it): the ended ones as they ended, the running ones (the
    /// customer turn awaiting a reply, the resolution while neither solved nor closed) at the
    /// current priority, breached when the deadline the queues use has passed at `evaluation`.
    public func intervals(at evaluation: Timestamp) -> [SLAInterval] {
        var all = closed
        if let ticket = fold.ticket {
            let deadlines = ticket.lifecycle.deadlines(openedAt: ticket.openedAt, priority: ticket.priority, levels: levels)
            func running(_ metric: SLAMetric, start: Timestamp, startedBy: EventReference, deadline: SLADeadline?) -> SLAInterval {
                SLAInterval(
                    metric: metric, start: start, startedBy: startedBy, end: nil, endedBy: nil, reopenedBy: nil, state: .running,
                    priority: ticket.priority, priorityBasis: .atEvaluation, target: levels.target(metric, priority: ticket.priority),
                    due: deadline?.due, elapsed: levels.measure(metric, priority: ticket.priority, from: start, to: max(start, evaluation)),
                    outcome: deadline?.isBreached(at: evaluation) == true ? .breached : nil)
            }
            if let turn = ticket.runningTurn, let startedBy = turnStartedBy {
                all.append(running(turn.metric, start: turn.start, startedBy: startedBy, deadline: deadlines.reply))
            }
            if !ticket.status.isResolved, let openedBy {
                all.append(running(.resolution, start: ticket.openedAt, startedBy: openedBy, deadline: deadlines.resolution))
            }
        }
        // Stable: intervals of one start keep the order they were made in, turns before the resolution.
        return all.enumerated().sorted { a, b in
            if a.element.start != b.element.start { return a.element.start.milliseconds < b.element.start.milliseconds }
            let ra = a.element.metric == .resolution ? 1 : 0, rb = b.element.metric == .resolution ? 1 : 0
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
    }

    /// The explanation of a ticket's stream (its events in version order); nil for an empty one.
    public static func explain(_ events: some Sequence<RecordedEvent>, levels: ServiceLevels) throws(DomainError) -> TicketClocks? {
        var clocks = TicketClocks(levels: levels)
        for event in events { try clocks.apply(event) }
        return clocks.ticket == nil ? nil : clocks
    }
}
