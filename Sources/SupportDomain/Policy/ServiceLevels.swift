import EventLog

/// A policy together with its business calendar: what every SLA computation needs.
public struct ServiceLevels: Sendable {
    /// The policy: targets by priority and metric, schedule, holidays.
    public let policy: Policy
    /// The policy's business calendar.
    public let calendar: BusinessCalendar

    /// The service levels of `policy`; fails when its time zone is unknown.
    public init(policy: Policy) throws(BusinessCalendarError) {
        self.policy = policy
        self.calendar = try BusinessCalendar(policy: policy)
    }

    /// The target for a metric at a priority, if the policy sets one.
    public func target(_ metric: SLAMetric, priority: Priority) -> SLATarget? {
        policy.targets[priority, metric]
    }

    /// The length of [start, end) on a clock, in milliseconds.
    public func duration(from start: Timestamp, to end: Timestamp, clock: SLAClock) -> Int64 {
        switch clock {
        case .calendar: return max(0, end.milliseconds - start.milliseconds)
        case .business: return calendar.businessDuration(from: start, to: end)
        }
    }

    /// The earliest instant at which an interval started at `start` reaches `target` on its
    /// clock; nil when it never does (a schedule with no business time).
    public func due(start: Timestamp, target: SLATarget) -> Timestamp? {
        switch target.clock {
        case .calendar:
            let (sum, overflow) = start.milliseconds.addingReportingOverflow(target.milliseconds)
            return overflow ? nil : Timestamp(milliseconds: sum)
        case .business:
            return calendar.adding(businessMilliseconds: target.milliseconds, to: start)
        }
    }

    /// Whether an interval started at `start` and still running at `evaluation` exceeds `target`.
    public func isBreached(start: Timestamp, at evaluation: Timestamp, target: SLATarget) -> Bool {
        duration(from: start, to: evaluation, clock: target.clock) > target.milliseconds
    }
}
