import EventLog
import SupportDomain
import Testing

@testable import Projections

/// The drill-down of the response-time metric: the values behind one group and SLA metric are
/// exactly those the metric counts (same selection), with their outcome and how late.
@Suite("Response-time values behind a metric")
struct ResponseTimeValueTests {
    static let start = Timestamp(rfc3339: "2026-03-20T06:00:00Z")!

    @Test(arguments: [(UInt64(5), 0), (6, 1), (7, 0)])
    func theValuesOfEachGroupAndMetricEqualTheMetricsCountsAndOutcomesOnRandomLogs(seed: UInt64, policy: Int) throws {
        let levels = try P.levels(PropertyTests.policies[policy])
        let events = RandomLog(seed: seed, steps: 1200, start: Self.start).events
        var projection = SupportProjection(levels: levels)
        try projection.apply(contentsOf: events)
        let first = events.map(\.at.milliseconds).min()!, last = events.map(\.at.milliseconds).max()!
        let middle = (first + last) / 2
        let windows = [
            TimeWindow.unbounded, TimeWindow(from: Timestamp(milliseconds: first), to: Timestamp(milliseconds: middle)),
            TimeWindow(from: Timestamp(milliseconds: middle)),
        ]
        var checked = 0, breachedRunning = 0
        for evaluation in [Timestamp(milliseconds: last), Timestamp(milliseconds: last + 3 * 86_400_000)] {
            for window in windows {
                for groupBy in GroupBy.allCases {
                    for clock in SLAClock.allCases {
                        let groups = projection.responseTimes(at: evaluation, window: window, groupBy: groupBy, clock: clock)
                        for group in groups {
                            for metric in SLAMetric.allCases {
                                let summary =
                                    switch metric {
                                    case .firstReply: group.firstReply
                                    case .nextReply: group.nextReply
                                    case .resolution: group.resolution
                                    }
                                let values = projection.responseTimeValues(
                                    at: evaluation, window: window, groupBy: groupBy, group: group.key, metric: metric, clock: clock)
                                let ended = values.filter { $0.end != nil }
                                #expect(DurationStatistics(ended.map(\.duration)) == summary.statistics)
                                #expect(values.filter { $0.outcome == .achieved }.count == summary.sla?.achieved)
                                #expect(values.filter { $0.outcome == .breached }.count == summary.sla?.breached)
                                for value in values {
                                    #expect(value.metric == metric)
                                    #expect((value.outcome == nil) == (value.target == nil))
                                    if value.outcome == .breached {
                                        #expect((value.late ?? 0) > 0)
                                    } else {
                                        #expect(value.late == nil)
                                    }
                                    if value.end == nil { breachedRunning += 1 }
                                }
                                checked += values.count
                            }
                        }
                    }
                }
            }
        }
        #expect(checked > 1000)
        #expect(breachedRunning > 0)
    }

    @Test func aGroupTheMetricDoesNotHaveListsNoValue() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z", priority: "normal")
        log.message("T-1", by: P.alice, at: "2026-03-02T09:30:00Z")
        let projection = try log.projection(try P.levels())
        let at = P.t("2026-03-02T12:00:00Z")
        #expect(
            projection.responseTimeValues(
                at: at, window: .unbounded, groupBy: .priority, group: "urgent", metric: .firstReply, clock: .calendar
            )
            .isEmpty)
        #expect(
            projection.responseTimeValues(at: at, window: .unbounded, groupBy: .agent, group: nil, metric: .firstReply, clock: .calendar)
                .isEmpty)
        let values = projection.responseTimeValues(
            at: at, window: .unbounded, groupBy: .agent, group: "alice", metric: .firstReply, clock: .calendar)
        #expect(values.map(\.ticket) == ["T-1"])
        #expect(values.first?.duration == 30 * P.minute && values.first?.outcome == .achieved)
    }

    /// Urgent: first reply due in 1 h on the calendar clock (the default policy). An ended breach
    /// is late by its duration minus the target; a running one by its time so far at the
    /// evaluation instant.
    @Test func aBreachIsLateByItsDurationOnTheTargetsClockMinusTheTarget() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T10:30:00Z")  // 30 min late
        log.open("T-2", at: "2026-03-02T09:00:00Z")  // still waiting
        let projection = try log.projection(try P.levels())
        let at = P.t("2026-03-02T11:15:00Z")
        let values = projection.responseTimeValues(
            at: at, window: .unbounded, groupBy: .none, group: nil, metric: .firstReply, clock: .calendar)
        let byTicket = Dictionary(uniqueKeysWithValues: values.map { ($0.ticket, $0) })
        #expect(byTicket["T-1"]?.late == 30 * P.minute && byTicket["T-1"]?.end == P.t("2026-03-02T10:30:00Z"))
        #expect(byTicket["T-1"]?.duration == 90 * P.minute)
        #expect(byTicket["T-2"]?.end == nil && byTicket["T-2"]?.outcome == .breached)
        #expect(byTicket["T-2"]?.late == 75 * P.minute && byTicket["T-2"]?.duration == 135 * P.minute)
        #expect(byTicket["T-2"]?.start == P.t("2026-03-02T09:00:00Z") && byTicket["T-2"]?.priority == .urgent)
    }
}
