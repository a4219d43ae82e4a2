import EventLog

/// An ended SLA interval measured: its length on both clocks and whether it met its target.
///
/// ``ServiceLevels/measure(_:priority:from:to:)`` is the one place an ended interval is measured:
/// the projections' metrics and a ticket's clock explanation (``TicketClocks``) both call it.
public struct IntervalMeasure: Sendable, Equatable {
    /// The calendar time of the interval, in milliseconds.
    public var calendar: Int64
    /// The business time of the interval, in milliseconds.
    public var business: Int64
    /// Whether the interval met its target; nil when the policy sets none.
    public var achieved: Bool?

    /// The length on `clock`.
    public func duration(on clock: SLAClock) -> Int64 { clock == .calendar ? calendar : business }
}

extension ServiceLevels {
    /// Measures the interval `[start, end)` of `metric` on a ticket judged at `priority`: its
    /// length on both clocks and, when the policy sets a target, whether it was met (its length on
    /// the target's clock is at most the target).
    public func measure(_ metric: SLAMetric, priority: Priority, from start: Timestamp, to end: Timestamp) -> IntervalMeasure {
        let calendarTime = end.milliseconds - start.milliseconds
        let business = calendar.businessDuration(from: start, to: end)
        return IntervalMeasure(
            calendar: calendarTime, business: business,
            achieved: isAchieved(metric, priority: priority, calendar: calendarTime, business: business))
    }
}
