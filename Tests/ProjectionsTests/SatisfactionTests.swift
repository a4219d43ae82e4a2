import EventLog
import SupportDomain
import Testing

@testable import Projections

/// SPEC §4 satisfaction: current ratings, attribution, local calendar buckets.
@Suite("Satisfaction")
struct SatisfactionTests {
    let levels: ServiceLevels

    init() throws {
        levels = try P.levels()
    }

    @Test func reRatingAReplyReplacesItsRatingAndMovesItToTheNewInstant() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T09:10:00Z")  // version 2
        log.message("T-1", by: P.bob, at: "2026-03-02T09:20:00Z")  // version 3
        log.rate("T-1", 2, at: "2026-03-02T10:00:00Z")  // the latest agent message: bob's
        log.rate("T-1", 5, reply: 2, at: "2026-03-02T11:00:00Z")  // alice's
        log.rate("T-1", 4, reply: 3, at: "2026-03-02T12:00:00Z")  // replaces bob's 2
        let projection = try log.projection(levels)
        let day = P.t("2026-03-01T23:00:00Z")  // Monday 2 March, local midnight
        #expect(
            projection.satisfaction(window: .unbounded, bucket: .day, groupBy: .agent) == [
                SatisfactionGroup(key: "alice", series: [SatisfactionPoint(bucketStart: day, count: 1, mean: 5, csat: 1)]),
                SatisfactionGroup(key: "bob", series: [SatisfactionPoint(bucketStart: day, count: 1, mean: 4, csat: 1)]),
            ])
        #expect(
            projection.satisfaction(window: .unbounded, bucket: .day, groupBy: .none) == [
                SatisfactionGroup(key: nil, series: [SatisfactionPoint(bucketStart: day, count: 2, mean: 4.5, csat: 1)])
            ])
        // Bob's current rating was given at 12:00: a window ending there holds alice's only.
        let morning = TimeWindow(to: P.t("2026-03-02T12:00:00Z"))
        #expect(projection.satisfaction(window: morning, bucket: .day, groupBy: .agent).map(\.key) == ["alice"])
        let workloads = projection.workloads(window: .unbounded)
        #expect(workloads.map(\.satisfaction) == [RatingSummary(count: 1, mean: 5, csat: 1), RatingSummary(count: 1, mean: 4, csat: 1)])
        #expect(projection.workloads(window: morning).map(\.satisfaction.count) == [1, 0])
    }

    @Test func aRatingGoesToTheRepliesAuthorAndTheTeamAndPriorityWhenGiven() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.assign("T-1", "alice", at: "2026-03-02T09:05:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T09:30:00Z")
        log.assign("T-1", "bob", team: "domains", at: "2026-03-02T10:00:00Z")
        log.rate("T-1", 3, at: "2026-03-02T10:30:00Z")
        log.priority("T-1", "low", at: "2026-03-02T11:00:00Z")  // after the rating: no effect on it
        log.add("T-1", "ticket.escalated", #"{"team":"vps","reason":"x"}"#, by: P.mona, at: "2026-03-02T11:00:00Z")
        let projection = try log.projection(levels)
        func keys(_ groupBy: GroupBy) -> [String?] {
            projection.satisfaction(window: .unbounded, bucket: .week, groupBy: groupBy).map(\.key)
        }
        #expect(keys(.agent) == ["alice"])
        #expect(keys(.team) == ["domains"])
        #expect(keys(.priority) == ["urgent"])
        #expect(keys(.channel) == ["email"])
        #expect(keys(.product) == ["hosting"])
        let point = projection.satisfaction(window: .unbounded, bucket: .week, groupBy: .none)[0].series[0]
        #expect(point.count == 1 && point.mean == 3 && point.csat == 0)
    }

    /// Paris: +01:00 until Sunday 2026-03-29 02:00 local, +02:00 after.
    private func dstLog() -> TestLog {
        var log = TestLog()
        log.open("T-1", at: "2026-03-16T10:00:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-16T10:30:00Z")  // v2
        log.rate("T-1", 5, reply: 2, at: "2026-03-22T22:30:00Z")  // Sun 22 23:30 local: week of 16
        log.message("T-1", by: P.alice, at: "2026-03-22T23:00:00Z")  // v4
        log.rate("T-1", 3, at: "2026-03-22T23:30:00Z")  // Mon 23 00:30 local: week of 23
        log.message("T-1", by: P.alice, at: "2026-03-29T21:00:00Z")  // v6
        log.rate("T-1", 4, at: "2026-03-29T21:59:59Z")  // Sun 29 23:59:59 (+02:00): week of 23
        log.message("T-1", by: P.alice, at: "2026-03-29T21:59:59.500Z")  // v8
        log.rate("T-1", 1, at: "2026-03-29T22:00:00Z")  // Mon 30 00:00 local: week of 30
        log.message("T-1", by: P.alice, at: "2026-03-31T21:30:00Z")  // v10
        log.rate("T-1", 5, at: "2026-03-31T22:00:00Z")  // Wed 1 April 00:00 local
        return log
    }

    @Test func weekBucketsStartOnLocalMondayMidnightAcrossTheSpringChange() throws {
        let projection = try dstLog().projection(levels)
        let series = projection.satisfaction(window: .unbounded, bucket: .week, groupBy: .none)[0].series
        #expect(
            series == [
                SatisfactionPoint(bucketStart: P.t("2026-03-15T23:00:00Z"), count: 1, mean: 5, csat: 1),
                SatisfactionPoint(bucketStart: P.t("2026-03-22T23:00:00Z"), count: 2, mean: 3.5, csat: 0.5),
                SatisfactionPoint(bucketStart: P.t("2026-03-29T22:00:00Z"), count: 2, mean: 3, csat: 0.5),
            ])
        #expect(
            series.map { levels.calendar.formatBucketStart($0.bucketStart) }
                == ["2026-03-16T00:00:00+01:00", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"])
        // The window filters by the rating's instant.
        let late = projection.satisfaction(window: TimeWindow(from: P.t("2026-03-29T22:00:00Z")), bucket: .week, groupBy: .none)
        #expect(late[0].series.map(\.count) == [2])
    }

    @Test func dayAndMonthBucketsAreLocalCalendarUnits() throws {
        let projection = try dstLog().projection(levels)
        let days = projection.satisfaction(window: .unbounded, bucket: .day, groupBy: .none)[0].series
        #expect(
            days.map(\.bucketStart) == [
                P.t("2026-03-21T23:00:00Z"),  // Sunday 22
                P.t("2026-03-22T23:00:00Z"),  // Monday 23
                P.t("2026-03-28T23:00:00Z"),  // Sunday 29, a 23-hour day
                P.t("2026-03-29T22:00:00Z"),  // Monday 30
                P.t("2026-03-31T22:00:00Z"),  // Wednesday 1 April
            ])
        let months = projection.satisfaction(window: .unbounded, bucket: .month, groupBy: .none)[0].series
        #expect(
            months == [
                SatisfactionPoint(bucketStart: P.t("2026-02-28T23:00:00Z"), count: 4, mean: 3.25, csat: 0.5),
                SatisfactionPoint(bucketStart: P.t("2026-03-31T22:00:00Z"), count: 1, mean: 5, csat: 1),
            ])
    }

    @Test func aRatingOfNoReplyIsIgnoredAndRatingsOfAClosedTicketCount() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T09:10:00Z")
        log.status("T-1", "closed", at: "2026-03-02T09:20:00Z")
        log.rate("T-1", 4, at: "2026-03-02T10:00:00Z")
        log.rate("T-1", 1, reply: 1, at: "2026-03-02T10:00:00Z")  // not an agent message: a valid log never has it
        let series = try log.projection(levels).satisfaction(window: .unbounded, bucket: .month, groupBy: .agent)
        #expect(
            series == [
                SatisfactionGroup(
                    key: "alice",
                    series: [
                        SatisfactionPoint(bucketStart: P.t("2026-02-28T23:00:00Z"), count: 1, mean: 4, csat: 1)
                    ])
            ])
    }
}
