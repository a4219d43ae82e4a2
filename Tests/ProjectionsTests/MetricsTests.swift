import EventLog
import SupportDomain
import Testing

@testable import Projections

/// SPEC §3 business time and §4 response-time metrics on hand-built logs, with hand-computed values.
/// Unless said otherwise: the default policy (Europe/Paris, Mon-Fri 08:00-19:00, Sat 09:00-17:00),
/// Monday 2026-03-02, when Paris is at +01:00 (so 09:00Z is 10:00 local, inside business hours).
@Suite("Response-time metrics")
struct MetricsTests {
    let levels: ServiceLevels

    init() throws {
        levels = try P.levels()
    }

    // MARK: Business time

    /// A weekday-only schedule with Monday 2026-03-30 as a holiday. Friday 17:00 local to Tuesday:
    /// 2 h on Friday, nothing over the weekend (the clocks go forward on Sunday 29th), nothing on the
    /// holiday, then Tuesday from 08:00 local = 06:00Z (+02:00).
    @Test func businessTimeSkipsTheWeekendTheDaylightSavingChangeAndAHoliday() throws {
        let levels = try P.levels(
            """
            {"schedule": {"mon": ["08:00-19:00"], "tue": ["08:00-19:00"], "wed": ["08:00-19:00"],
                          "thu": ["08:00-19:00"], "fri": ["08:00-19:00"]},
             "holidays": ["2026-03-30"]}
            """)
        var log = TestLog()
        log.open("T-1", at: "2026-03-27T16:00:00Z", priority: "high")
        log.open("T-2", by: P.dave, at: "2026-03-27T16:00:00Z", customer: "dave", priority: "high")
        log.message("T-1", by: P.alice, at: "2026-03-31T07:00:00Z")  // 09:00 local: 2 h + 1 h
        log.message("T-2", by: P.alice, at: "2026-03-31T08:30:00Z")  // 10:30 local: 2 h + 2.5 h

        // Before the replies: 4 business hours after Friday 17:00 local is Tuesday 10:00 local = 08:00Z.
        let before = try log.projection(levels, asOf: "2026-03-31T06:30:00Z")
        let entry = try #require(before.teamQueue("hosting", at: P.t("2026-03-31T06:30:00Z")).first)
        #expect(entry.id == "T-1" && entry.nextDue == P.t("2026-03-31T08:00:00Z") && entry.nextDueTarget == .firstReply)
        #expect(entry.breached == false)
        let atDue = try log.projection(levels, asOf: "2026-03-31T08:00:00Z")
        #expect(atDue.ticket("T-2", at: P.t("2026-03-31T08:00:00Z"))?.breached == false)
        let justAfter = try log.projection(levels, asOf: "2026-03-31T08:00:00.001Z")
        #expect(justAfter.ticket("T-2", at: P.t("2026-03-31T08:00:00.001Z"))?.breached == true)

        let projection = try log.projection(levels)
        let business = try #require(projection.ungrouped(at: "2026-03-31T09:00:00Z", clock: .business))
        #expect(business.firstReply.numbers == [2, 10_800_000, 16_200_000, 13_500_000, 10_800_000, 16_200_000, 16_200_000])
        #expect(business.firstReply.outcomes == [1, 1])
        #expect(business.firstReply.sla?.compliance == 0.5)
        // The calendar clock summarises 87 h and 88.5 h; the SLA outcomes still use the target's clock.
        let calendar = try #require(projection.ungrouped(at: "2026-03-31T09:00:00Z", clock: .calendar))
        #expect(calendar.firstReply.numbers == [2, 313_200_000, 318_600_000, 315_900_000, 313_200_000, 318_600_000, 318_600_000])
        #expect(calendar.firstReply.outcomes == [1, 1])
        // The 24 business hours of the resolution: 2 h Friday, 11 h Tuesday, 11 h Wednesday.
        let resolutionDue = projection.ticket("T-1", at: P.t("2026-03-31T09:00:00Z"))?.nextDue
        #expect(resolutionDue == P.t("2026-04-01T17:00:00Z"))
    }

    // MARK: Resolution, requester wait, agent work

    private func reopenedLog() -> TestLog {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z", priority: "normal")
        log.message("T-1", by: P.alice, at: "2026-03-02T09:30:00Z")  // first reply 30 min; new -> open
        log.status("T-1", "pending", at: "2026-03-02T10:00:00Z")
        log.message("T-1", by: P.carol, at: "2026-03-02T12:00:00Z")  // pending -> open, a next-reply turn
        log.status("T-1", "solved", at: "2026-03-02T13:00:00Z")  // cancels that turn
        log.message("T-1", by: P.carol, at: "2026-03-02T14:00:00Z")  // solved -> open, a new turn
        log.message("T-1", by: P.alice, at: "2026-03-02T14:30:00Z")  // next reply 30 min
        log.status("T-1", "on_hold", at: "2026-03-02T15:00:00Z")
        log.status("T-1", "solved", at: "2026-03-02T15:30:00Z")
        return log
    }

    @Test func aReopenedTicketResolvesAtItsLatestEntryIntoSolved() throws {
        let projection = try reopenedLog().projection(levels)
        for clock in SLAClock.allCases {
            let group = try #require(projection.ungrouped(at: "2026-03-02T16:00:00Z", clock: clock))
            #expect(group.resolution.numbers == single(23_400_000))  // 09:00 -> 15:30
            #expect(group.resolution.outcomes == [1, 0])
            // new 0.5 h + open 0.5 h + open 1 h + open 1 h + on_hold 0.5 h; pending and solved do not count.
            #expect(group.requesterWait.numbers == single(12_600_000))
            #expect(group.requesterWait.sla == nil)
            // The same without on_hold.
            #expect(group.agentWork.numbers == single(10_800_000))
            #expect(group.firstReply.numbers == single(1_800_000))
            #expect(group.nextReply.numbers == single(1_800_000))
            #expect(group.nextReply.outcomes == [1, 0])
        }
        // The value falls in the window containing its end.
        #expect(
            projection.ungrouped(
                at: "2026-03-02T16:00:00Z",
                window: TimeWindow(from: P.t("2026-03-02T15:30:00Z"), to: P.t("2026-03-02T15:30:00.001Z")))?
                .resolution.statistics.count == 1)
        #expect(
            projection.ungrouped(at: "2026-03-02T16:00:00Z", window: TimeWindow(to: P.t("2026-03-02T15:30:00Z")))?
                .resolution.statistics.count ?? 0 == 0)
    }

    @Test func aSolvedTicketHasAResolutionThatReopeningWithdraws() throws {
        let log = reopenedLog()
        let solved = try #require(try log.projection(levels, asOf: "2026-03-02T13:00:00Z").ungrouped(at: "2026-03-02T13:00:00Z"))
        #expect(solved.resolution.numbers == single(14_400_000))
        #expect(solved.requesterWait.numbers == single(7_200_000))
        #expect(solved.agentWork.numbers == single(7_200_000))
        #expect(solved.nextReply.numbers == noValues)  // the 12:00 turn was cancelled
        let reopened = try #require(try log.projection(levels, asOf: "2026-03-02T14:00:00Z").ungrouped(at: "2026-03-02T14:00:00Z"))
        #expect(reopened.resolution.numbers == noValues)
        #expect(reopened.requesterWait.numbers == noValues)
        #expect(reopened.resolution.outcomes == [0, 0])
    }

    @Test func closingASolvedTicketKeepsTheSolveAsTheResolutionEnd() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.status("T-1", "solved", at: "2026-03-02T10:00:00Z")
        log.status("T-1", "closed", at: "2026-03-02T12:00:00Z")
        log.open("T-2", at: "2026-03-02T09:00:00Z")
        log.status("T-2", "pending", at: "2026-03-02T09:15:00Z")
        log.status("T-2", "closed", at: "2026-03-02T11:00:00Z")  // closed from pending: its own end
        let group = try #require(try log.projection(levels).ungrouped(at: "2026-03-02T13:00:00Z"))
        #expect(group.resolution.numbers == [2, 3_600_000, 7_200_000, 5_400_000, 3_600_000, 7_200_000, 7_200_000])
        #expect(group.requesterWait.numbers == [2, 900_000, 3_600_000, 2_250_000, 900_000, 3_600_000, 3_600_000])
    }

    // MARK: Customer turns

    @Test func aTurnCancelledBySolvingLeavesTheNextTurnAsTheFirstReply() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.status("T-1", "solved", at: "2026-03-02T09:20:00Z")
        log.message("T-1", by: P.carol, at: "2026-03-02T10:00:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T10:45:00Z")
        let group = try #require(try log.projection(levels).ungrouped(at: "2026-03-02T12:00:00Z"))
        #expect(group.firstReply.numbers == single(2_700_000))
        #expect(group.firstReply.outcomes == [1, 0])  // the cancelled turn: neither
        #expect(group.nextReply.numbers == noValues)
    }

    @Test func aTicketOpenedByAnAgentStartsItsFirstTurnAtTheCustomersFirstMessage() throws {
        var log = TestLog()
        log.open("T-1", by: P.alice, at: "2026-03-02T09:00:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T09:30:00Z")
        log.message("T-1", by: P.carol, at: "2026-03-02T10:00:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T10:20:00Z")
        let early = try log.projection(levels, asOf: "2026-03-02T09:45:00Z")
        let entry = try #require(early.teamQueue("hosting", at: P.t("2026-03-02T09:45:00Z")).first)
        #expect(entry.waitingSince == P.t("2026-03-02T09:30:00Z"))  // entered open with the agent's message
        #expect(entry.nextDue == P.t("2026-03-02T17:00:00Z") && entry.nextDueTarget == .resolution)
        #expect(early.ungrouped(at: "2026-03-02T12:00:00Z") == nil)  // no turn ran: nothing to breach
        let group = try #require(try log.projection(levels).ungrouped(at: "2026-03-02T12:00:00Z"))
        #expect(group.firstReply.numbers == single(1_200_000))
        #expect(group.nextReply.numbers == noValues)
        #expect(try log.projection(levels).workloads(window: .unbounded).map(\.replies) == [2])
    }

    @Test func aMergeClosesTheMergedTicketAndCancelsItsTurn() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.open("T-2", at: "2026-03-02T09:10:00Z")
        log.add("T-2", "ticket.merged", #"{"into":"T-1"}"#, by: P.alice, at: "2026-03-02T09:30:00Z")
        let projection = try log.projection(levels)
        let at = P.t("2026-03-02T12:00:00Z")
        let group = try #require(projection.ungrouped(at: "2026-03-02T12:00:00Z"))
        #expect(group.firstReply.outcomes == [0, 1])  // T-1 only: T-2's turn was cancelled
        #expect(group.resolution.numbers == single(1_200_000))  // T-2: 09:10 -> closed 09:30
        #expect(group.resolution.outcomes == [1, 0])
        #expect(projection.teamQueue("hosting", at: at).map(\.id) == ["T-1"])
        let merged = try #require(projection.ticket("T-2", at: at))
        #expect(merged.status == .closed && merged.mergedInto == "T-1")
        #expect(merged.waitingSince == nil && merged.nextDue == nil && merged.nextDueTarget == nil && !merged.breached)
    }

    // MARK: SLA

    @Test func aRunningIntervalCountsAsABreachInTheWindowOfItsDueInstantOnceBreached() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")  // urgent: first reply due 10:00, resolution 17:00
        let projection = try log.projection(levels)
        #expect(projection.responseTimes(at: P.t("2026-03-02T10:00:00Z"), window: .unbounded, groupBy: .none, clock: .calendar).isEmpty)
        let breached = try #require(projection.ungrouped(at: "2026-03-02T10:00:00.001Z"))
        #expect(breached.firstReply.numbers == noValues)
        #expect(breached.firstReply.outcomes == [0, 1])
        #expect(breached.firstReply.sla?.compliance == 0)
        #expect(breached.resolution.outcomes == [0, 0])
        let dueWindow = TimeWindow(from: P.t("2026-03-02T10:00:00Z"), to: P.t("2026-03-02T11:00:00Z"))
        #expect(projection.ungrouped(at: "2026-03-02T10:30:00Z", window: dueWindow)?.firstReply.outcomes == [0, 1])
        let before = TimeWindow(from: P.t("2026-03-02T09:00:00Z"), to: P.t("2026-03-02T10:00:00Z"))
        #expect(projection.responseTimes(at: P.t("2026-03-02T10:30:00Z"), window: before, groupBy: .none, clock: .calendar).isEmpty)
        let late = try #require(projection.ungrouped(at: "2026-03-02T17:00:00.001Z"))
        #expect(late.resolution.outcomes == [0, 1])
        // A running breach goes to the current team and assignee: none here, the null group.
        let byAgent = projection.responseTimes(at: P.t("2026-03-02T17:00:00.001Z"), window: .unbounded, groupBy: .agent, clock: .calendar)
        #expect(byAgent.map(\.key) == [nil])
    }

    @Test func anEndedIntervalKeepsThePriorityAtItsEndWhileARunningOneTakesTheCurrentPriority() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")  // urgent
        log.message("T-1", by: P.alice, at: "2026-03-02T10:30:00Z")  // 1.5 h > 1 h: breached as urgent
        log.priority("T-1", "low", at: "2026-03-02T10:40:00Z")
        log.message("T-1", by: P.carol, at: "2026-03-02T11:00:00Z")  // next-reply turn
        let lowLog = log
        log.priority("T-1", "urgent", at: "2026-03-02T12:00:00Z")  // 2 h calendar from 11:00: due 13:00

        let evaluation = P.t("2026-03-02T13:00:00.001Z")
        let urgent = try log.projection(levels).responseTimes(at: evaluation, window: .unbounded, groupBy: .priority, clock: .calendar)
        #expect(urgent.map(\.key) == ["urgent"])
        #expect(urgent[0].firstReply.numbers == single(5_400_000))
        #expect(urgent[0].firstReply.outcomes == [0, 1])
        #expect(urgent[0].nextReply.outcomes == [0, 1])
        #expect(urgent[0].nextReply.numbers == noValues)
        #expect(try log.projection(levels).ticket("T-1", at: evaluation)?.nextDue == P.t("2026-03-02T13:00:00Z"))
        // Left at low (24 business hours), the same turn is not breached, and the ended reply stays urgent.
        let low = try lowLog.projection(levels).responseTimes(at: evaluation, window: .unbounded, groupBy: .priority, clock: .calendar)
        #expect(low.map(\.key) == ["urgent"])
        #expect(low[0].nextReply.outcomes == [0, 0])
    }

    // MARK: Attribution

    @Test func aHandOffAttributesRepliesToTheirAuthorsAndTheResolutionToTheAssigneeAfterTheSolve() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.assign("T-1", "alice", at: "2026-03-02T09:05:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T09:30:00Z")
        log.assign("T-1", "bob", at: "2026-03-02T10:00:00Z")  // the hand-off
        log.message("T-1", by: P.carol, at: "2026-03-02T10:30:00Z")
        log.message("T-1", by: P.bob, at: "2026-03-02T11:00:00Z")
        log.status("T-1", "solved", by: P.alice, at: "2026-03-02T11:30:00Z")  // alice solves bob's ticket
        let projection = try log.projection(levels)
        let groups = projection.responseTimes(at: P.t("2026-03-02T12:00:00Z"), window: .unbounded, groupBy: .agent, clock: .calendar)
        #expect(groups.map(\.key) == ["alice", "bob"])
        #expect(groups[0].firstReply.numbers == single(1_800_000))
        #expect(groups[0].nextReply.numbers == noValues)
        #expect(groups[0].resolution.numbers == noValues)
        #expect(groups[1].firstReply.numbers == noValues)
        #expect(groups[1].nextReply.numbers == single(1_800_000))
        #expect(groups[1].resolution.numbers == single(9_000_000))
        #expect(groups[1].requesterWait.numbers == single(9_000_000))
        #expect(groups[1].agentWork.numbers == single(9_000_000))
        let workloads = projection.workloads(window: .unbounded)
        #expect(workloads.map(\.agent) == ["alice", "bob"])  // mona (a manager) is no agent
        #expect(workloads.map(\.solved) == [0, 1])
        #expect(workloads.map(\.replies) == [1, 1])
        #expect(workloads.map(\.assigned) == [AssignedCounts(), AssignedCounts()])
    }

    @Test func groupsAreSortedByCodePointWithTheNullGroupLast() throws {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z", priority: "urgent", product: "hosting", channel: "email")
        log.assign("T-1", "alice", at: "2026-03-02T09:01:00Z")
        log.message("T-1", by: P.alice, at: "2026-03-02T09:10:00Z")
        log.status("T-1", "solved", by: P.alice, at: "2026-03-02T09:20:00Z")
        log.open("T-2", by: P.dave, at: "2026-03-02T09:00:00Z", customer: "dave", priority: "high", product: "domains", channel: "web")
        log.message("T-2", by: P.bob, at: "2026-03-02T09:40:00Z")
        log.status("T-2", "solved", by: P.bob, at: "2026-03-02T10:00:00Z")  // unassigned: resolution has no agent
        log.open("T-3", at: "2026-03-02T09:00:00Z", priority: "low", product: "vps", channel: "api")
        log.add("T-3", "ticket.escalated", #"{"team":"domains","reason":"dns"}"#, by: P.mona, at: "2026-03-02T09:05:00Z")
        log.message("T-3", by: P.alice, at: "2026-03-02T09:30:00Z")
        let projection = try log.projection(levels)
        func keys(_ groupBy: GroupBy) -> [String?] {
            projection.responseTimes(at: P.t("2026-03-02T11:00:00Z"), window: .unbounded, groupBy: groupBy, clock: .business).map(\.key)
        }
        #expect(keys(.none) == [nil])
        #expect(keys(.agent) == ["alice", "bob", nil])
        #expect(keys(.team) == ["domains", "hosting"])
        #expect(keys(.priority) == ["high", "low", "urgent"])
        #expect(keys(.channel) == ["api", "email", "web"])
        #expect(keys(.product) == ["domains", "hosting", "vps"])
        let byAgent = projection.responseTimes(at: P.t("2026-03-02T11:00:00Z"), window: .unbounded, groupBy: .agent, clock: .calendar)
        #expect(byAgent[0].firstReply.numbers == [2, 600_000, 1_800_000, 1_200_000, 600_000, 1_800_000, 1_800_000])
        #expect(byAgent[0].resolution.numbers == single(1_200_000))
        #expect(byAgent[1].firstReply.numbers == single(2_400_000))
        #expect(byAgent[2].resolution.numbers == single(3_600_000))
        #expect(byAgent[2].firstReply.numbers == noValues)
        let byTeam = projection.responseTimes(at: P.t("2026-03-02T11:00:00Z"), window: .unbounded, groupBy: .team, clock: .calendar)
        #expect(byTeam[0].firstReply.statistics.count == 2)  // T-2, and T-3 after its escalation
    }

    // MARK: Statistics

    @Test func percentilesAreNearestRanks() {
        let tenValues: [Int64] = [7, 3, 10, 1, 9, 2, 8, 5, 4, 6].map { $0 * 1000 }
        let ten = DurationStatistics(tenValues)
        #expect(ten.count == 10 && ten.min == 1000 && ten.max == 10_000)
        #expect(ten.p50 == 5000 && ten.p90 == 9000 && ten.p99 == 10_000)
        #expect(ten.mean == 5500)
        let three = DurationStatistics([30, 10, 20])
        #expect(three.p50 == 20 && three.p90 == 30 && three.p99 == 30)
        let hundredAndOne = DurationStatistics((1...101).map { Int64($0) })
        #expect(hundredAndOne.p50 == 51 && hundredAndOne.p90 == 91 && hundredAndOne.p99 == 100)
        let hundred = DurationStatistics((1...100).map { Int64($0) })
        #expect(hundred.p50 == 50 && hundred.p90 == 90 && hundred.p99 == 99)
        #expect(DurationStatistics([]) == .empty)
        #expect(DurationStatistics([]).mean == nil && DurationStatistics([]).count == 0)
    }

    @Test func selectedRanksEqualTheRanksOfTheSortedValues() {
        var random = SeededRandom(seed: 11)
        for n in [1, 2, 3, 7, 99, 100, 101, 257, 1000, 4099] {
            for spread in [1, 3, 50, 1_000_000] as [Int64] {
                // Few distinct values (many equal durations) up to nearly all distinct; sorted and reversed too.
                let values = (0..<n).map { _ in Int64.random(in: 0..<spread, using: &random) * 1000 - 5000 }
                for input in [values, values.sorted(), values.sorted().reversed()] {
                    let s = input.sorted()
                    func rank(_ percent: Int) -> Int64 { s[(percent * n + 99) / 100 - 1] }
                    let statistics = DurationStatistics(input)
                    #expect(statistics.min == s.first && statistics.max == s.last && statistics.count == n)
                    #expect(
                        statistics.p50 == rank(50) && statistics.p90 == rank(90) && statistics.p99 == rank(99), "n \(n), spread \(spread)")
                }
            }
        }
    }

    @Test func countedRanksEqualTheRanksOfTheSortedValuesForLargeAndSkewedInputs() {
        var random = SeededRandom(seed: 12)
        // From the counting pass's threshold up: narrow, wide, skewed (most values in one bucket),
        // negative and extreme values, few distinct ones.
        for n in [DurationStatistics.countingThreshold - 1, DurationStatistics.countingThreshold, 5_000, 70_001] {
            let shapes: [(String, () -> Int64)] = [
                ("narrow", { Int64.random(in: 0..<300, using: &random) }),
                ("wide", { Int64.random(in: 0..<40_000_000_000, using: &random) }),
                (
                    "skewed",
                    {
                        Int64.random(in: 0..<100, using: &random) < 95
                            ? Int64.random(in: 0..<70_000, using: &random) : Int64.random(in: 0..<9_000_000_000, using: &random)
                    }
                ),
                ("negative", { Int64.random(in: -5_000_000...5_000_000, using: &random) }),
                (
                    "extreme",
                    { [Int64.min, Int64.max, 0, -1, 1][Int.random(in: 0..<5, using: &random)] &+ Int64.random(in: -3...3, using: &random) }
                ),
                ("few", { Int64.random(in: 0..<4, using: &random) * 3_600_000 }),
            ]
            for (shape, next) in shapes {
                let values = (0..<n).map { _ in next() }
                let s = values.sorted()
                func rank(_ percent: Int) -> Int64 { s[(percent * n + 99) / 100 - 1] }
                let statistics = DurationStatistics(values)
                #expect(statistics.min == s.first && statistics.max == s.last && statistics.count == n)
                #expect(statistics.p50 == rank(50) && statistics.p90 == rank(90) && statistics.p99 == rank(99), "n \(n), \(shape)")
                let ks = [0, n / 3, n / 2, n / 2, n - 2, n - 1]
                let selected = values.withUnsafeBufferPointer { DurationStatistics.select(ks, of: $0, low: s[0], high: s[n - 1]) }
                #expect(selected == ks.map { s[$0] }, "n \(n), \(shape)")
            }
        }
    }

    @Test func aMeanIsRoundedToTheMillisecondWithHalvesAwayFromZero() {
        #expect(DurationStatistics([1, 2]).mean == 2)  // 1.5
        #expect(DurationStatistics([2, 3]).mean == 3)  // 2.5
        #expect(DurationStatistics([1, 2, 3, 4]).mean == 3)  // 2.5
        #expect(DurationStatistics([1, 2, 2, 2]).mean == 2)  // 1.75
        #expect(DurationStatistics([0, 0, 0, 1]).mean == 0)  // 0.25
        #expect(DurationStatistics([0, 0, 1]).mean == 0)  // 0.33
        #expect(DurationStatistics([0, 1, 1]).mean == 1)  // 0.67
    }

    @Test func tenReplyTimesGiveNearestRankPercentilesThroughTheProjection() throws {
        var log = TestLog()
        for n in 1...10 {
            let id = "T-\(n)"
            log.open(id, at: "2026-03-02T09:00:00Z")
            log.add(
                id, "message.posted", P.json(#"{"body":"x"}"#), by: P.alice,
                at: Timestamp(milliseconds: P.t("2026-03-02T09:00:00Z").milliseconds + Int64(11 - n) * P.minute + 1))
        }
        let group = try #require(try log.projection(levels).ungrouped(at: "2026-03-02T12:00:00Z"))
        #expect(group.firstReply.numbers == [10, 60_001, 600_001, 330_001, 300_001, 540_001, 600_001])
    }
}
