import EventLog

/// Where one running SLA interval stands against its target (SPEC §5).
package struct SLADeadline: Sendable, Equatable {
    /// The target the interval is measured against.
    package var metric: SLAMetric
    /// The instant the interval's duration reaches the target on the target's clock; nil when it
    /// never does (a schedule with no business time).
    package var due: Timestamp?
    /// The earliest instant at which the duration exceeds the target (reaches target + 1 ms on
    /// its clock); nil when it never does.
    package var breachAt: Timestamp?

    @inlinable package init(metric: SLAMetric, due: Timestamp?, breachAt: Timestamp?) {
        self.metric = metric
        self.due = due
        self.breachAt = breachAt
    }

    /// Whether the interval, still running at `evaluation`, exceeds its target.
    @inlinable @inline(__always) package func isBreached(at evaluation: Timestamp) -> Bool {
        guard let breachAt else { return false }
        return evaluation.milliseconds >= breachAt.milliseconds
    }
}

extension ServiceLevels {
    /// The deadline of an interval of `metric` started at `start` on a ticket of `priority`; nil
    /// when the policy sets no target for it.
    package func deadline(_ metric: SLAMetric, priority: Priority, start: Timestamp) -> SLADeadline? {
        guard let target = target(metric, priority: priority) else { return nil }
        guard let due = due(start: start, target: target) else { return SLADeadline(metric: metric, due: nil, breachAt: nil) }
        let breachAt: Timestamp?
        switch target.clock {
        case .calendar:
            let (sum, overflow) = due.milliseconds.addingReportingOverflow(1)
            breachAt = overflow ? nil : Timestamp(milliseconds: sum)
        case .business:
            breachAt = calendar.adding(businessMilliseconds: 1, to: due)
        }
        return SLADeadline(metric: metric, due: due, breachAt: breachAt)
    }

    /// Whether an ended interval of `metric` on a ticket of `priority` met its target: its
    /// duration on the target's clock (given on both clocks) is at most the target. Nil when the
    /// policy sets no target for it.
    package func isAchieved(_ metric: SLAMetric, priority: Priority, calendar: Int64, business: Int64) -> Bool? {
        guard let target = target(metric, priority: priority) else { return nil }
        return (target.clock == .calendar ? calendar : business) <= target.milliseconds
    }
}

/// A ticket's SLA position (SPEC §5): the deadlines of its running intervals.
package struct TicketDeadlines: Sendable, Equatable {
    /// The running customer turn's first- or next-reply deadline.
    package var reply: SLADeadline?
    /// The resolution's deadline, while the ticket is neither solved nor closed.
    package var resolution: SLADeadline?

    @inlinable package init(reply: SLADeadline?, resolution: SLADeadline?) {
        self.reply = reply
        self.resolution = resolution
    }

    /// The deadlines of the intervals that run in `lifecycle`'s state: the reply while a
    /// customer turn runs, the resolution while the ticket is neither solved nor closed.
    /// `reply` and `resolution` give those deadlines
    /// (``TicketLifecycle/replyDeadline(priority:levels:)`` and
    /// ``TicketLifecycle/resolutionDeadline(openedAt:priority:levels:)``, or values cached from
    /// them) and are asked only for the intervals that run. Always inlined, so that the closures
    /// of a caller reading cached instants (the projection's queue reads) compile to plain loads.
    @inlinable @inline(__always) package init(of lifecycle: TicketLifecycle, reply: () -> SLADeadline?, resolution: () -> SLADeadline?) {
        self.init(
            reply: lifecycle.runningTurn == nil ? nil : reply(),
            resolution: lifecycle.status.isResolved ? nil : resolution())
    }

    /// The earliest due instant of the running intervals and its target; a reply target wins a
    /// tie.
    @inlinable @inline(__always) package var nextDue: (instant: Timestamp, metric: SLAMetric)? {
        var next: (instant: Timestamp, metric: SLAMetric)?
        if let reply, let due = reply.due { next = (due, reply.metric) }
        if let resolution, let due = resolution.due, next.map({ due.milliseconds < $0.instant.milliseconds }) ?? true {
            next = (due, resolution.metric)
        }
        return next
    }

    /// Whether a running interval exceeds its target at `evaluation`.
    @inlinable @inline(__always) package func isBreached(at evaluation: Timestamp) -> Bool {
        (reply?.isBreached(at: evaluation) ?? false) || (resolution?.isBreached(at: evaluation) ?? false)
    }
}

extension TicketLifecycle {
    /// The deadline of the running turn: its first- or next-reply target from its start; nil
    /// without a running turn or a target.
    package func replyDeadline(priority: Priority, levels: ServiceLevels) -> SLADeadline? {
        guard let turn = runningTurn else { return nil }
        return levels.deadline(turn.metric, priority: priority, start: turn.start)
    }

    /// The deadline of a ticket's resolution, which is measured from its opening; nil without a
    /// target.
    package static func resolutionDeadline(openedAt: Timestamp, priority: Priority, levels: ServiceLevels) -> SLADeadline? {
        levels.deadline(.resolution, priority: priority, start: openedAt)
    }

    /// The deadlines of the intervals that run in this state, on a ticket opened at `openedAt`
    /// with `priority`.
    package func deadlines(openedAt: Timestamp, priority: Priority, levels: ServiceLevels) -> TicketDeadlines {
        TicketDeadlines(
            of: self, reply: { replyDeadline(priority: priority, levels: levels) },
            resolution: { Self.resolutionDeadline(openedAt: openedAt, priority: priority, levels: levels) })
    }
}
