import EventLog
import Foundation
import Testing

@testable import SupportDomain

/// A ticket's SLA intervals explained (``TicketClocks``), field by field, on hand-written streams.
@Suite("Ticket clocks explained")
struct TicketClocksTests {
    /// A ticket's stream whose seqs differ from its versions (other tickets' events in between).
    struct Stream {
        var id = "T-7"
        var events: [RecordedEvent] = []

        /// The seq of version `v`.
        static func seq(_ v: UInt64) -> UInt64 { 100 + 3 * v }

        mutating func add(_ type: String, _ data: String, by actor: SupportActor, at: String) throws {
            let version = UInt64(events.count + 1)
            let instant = try TicketFixture.instant(at)
            events.append(
                RecordedEvent(
                    seq: Self.seq(version), stream: id, version: version, type: type, at: instant, recorded: instant,
                    actor: actor.eventActor, data: try TicketFixture.json(data), prev: .zero, hash: .zero))
        }
        mutating func open(priority: String, at: String) throws {
            try add("ticket.opened", TicketFixture.openingData(priority: priority), by: TicketFixture.carol, at: at)
        }
        mutating func message(by actor: SupportActor, at: String) throws {
            try add("message.posted", #"{"body":"text"}"#, by: actor, at: at)
        }
        mutating func status(_ status: String, by actor: SupportActor = TicketFixture.alice, at: String) throws {
            try add("status.changed", #"{"status":"\#(status)"}"#, by: actor, at: at)
        }
        mutating func priority(_ priority: String, at: String) throws {
            try add("priority.changed", #"{"priority":"\#(priority)"}"#, by: TicketFixture.mona, at: at)
        }

        func clocks(_ levels: ServiceLevels) throws -> TicketClocks {
            try #require(try TicketClocks.explain(events, levels: levels))
        }
    }

    static func reference(_ version: UInt64, _ type: String) -> EventReference {
        EventReference(seq: Stream.seq(version), version: version, type: type)
    }

    /// An RFC 3339 UTC instant of the tests' own literals.
    static func t(_ text: String) -> Timestamp { Timestamp(rfc3339: text)! }

    static func levels(_ json: String? = nil) throws -> ServiceLevels {
        try ServiceLevels(policy: json.map { try Policy.parse(jsonData: Data($0.utf8)) } ?? .default)
    }

    @Test func aFirstReplyBreachedOnBusinessTimeAcrossAWeekendAndAHolidayIsJudgedAtItsPriorityAtTheEnd() throws {
        // Europe/Paris (+02:00 in April), Monday to Friday 08:00-19:00, Easter Monday a holiday.
        let levels = try Self.levels(
            #"{"schedule": {"mon": ["08:00-19:00"], "tue": ["08:00-19:00"], "wed": ["08:00-19:00"], "thu": ["08:00-19:00"], "fri": ["08:00-19:00"]}, "holidays": ["2026-04-06"]}"#
        )
        var s = Stream()
        try s.open(priority: "normal", at: "2026-04-03T16:00:00Z")  // v1, Friday 18:00 local
        try s.priority("high", at: "2026-04-04T10:00:00Z")  // v2, Saturday
        try s.message(by: TicketFixture.alice, at: "2026-04-07T09:30:00Z")  // v3, Tuesday 11:30 local
        let intervals = try s.clocks(levels).intervals(at: Self.t("2026-04-07T12:00:00Z"))
        #expect(intervals.map(\.metric) == [.firstReply, .resolution])
        let reply = intervals[0]
        #expect(reply.state == .ended && reply.outcome == .breached)
        #expect(reply.start == (Self.t("2026-04-03T16:00:00Z")) && reply.end == (Self.t("2026-04-07T09:30:00Z")))
        #expect(reply.startedBy == Self.reference(1, "ticket.opened"))
        #expect(reply.endedBy == Self.reference(3, "message.posted"))
        #expect(reply.reopenedBy == nil)
        // High when it ended (its 4 h, not normal's 8 h, under which it would have been met).
        #expect(reply.priority == .high && reply.priorityBasis == .atEnd)
        #expect(reply.target == SLATarget(seconds: 4 * 3600, clock: .business))
        // Friday 18:00-19:00, then Tuesday 08:00-11:00 local.
        #expect(reply.due == (Self.t("2026-04-07T09:00:00Z")))
        #expect(reply.elapsed == IntervalMeasure(calendar: 89 * hour + 30 * minute, business: 4 * hour + 30 * minute, achieved: false))
        #expect(reply.late == 30 * minute)

        // The business time that counted: Friday's last hour and Tuesday morning; Monday named.
        let explained = levels.calendar.explainBusinessTime(from: reply.start, to: try #require(reply.end))
        #expect(
            explained.windows == [
                BusinessWindow(
                    date: try date("2026-04-03"), start: Self.t("2026-04-03T16:00:00Z"), end: Self.t("2026-04-03T17:00:00Z")),
                BusinessWindow(
                    date: try date("2026-04-07"), start: Self.t("2026-04-07T06:00:00Z"), end: Self.t("2026-04-07T09:30:00Z")),
            ])
        #expect(explained.total == reply.elapsed.business)
        #expect(explained.notableDays == [NotableDay(date: try date("2026-04-06"), kind: .holiday)])

        // The resolution still runs, judged at the current priority: 24 h business from Friday
        // 18:00 is due Thursday 09:00 local.
        let resolution = intervals[1]
        #expect(resolution.state == .running && resolution.outcome == nil && resolution.late == nil)
        #expect(resolution.end == nil && resolution.endedBy == nil && resolution.startedBy == Self.reference(1, "ticket.opened"))
        #expect(resolution.priority == .high && resolution.priorityBasis == .atEvaluation)
        #expect(resolution.target == SLATarget(seconds: 24 * 3600, clock: .business))
        #expect(resolution.due == (Self.t("2026-04-09T07:00:00Z")))
        #expect(resolution.elapsed == IntervalMeasure(calendar: 92 * hour, business: 7 * hour, achieved: true))
    }

    @Test func aTurnTheSolvingEndsIsCancelledNotMeasuredAgainstItsTarget() throws {
        let levels = try Self.levels()
        var s = Stream()
        try s.open(priority: "urgent", at: "2026-03-02T09:00:00Z")  // v1
        try s.message(by: TicketFixture.alice, at: "2026-03-02T09:20:00Z")  // v2: first reply
        try s.message(by: TicketFixture.carol, at: "2026-03-02T09:30:00Z")  // v3: a next turn
        try s.status("solved", at: "2026-03-02T12:00:00Z")  // v4: solved with no reply
        let intervals = try s.clocks(levels).intervals(at: Self.t("2026-03-02T13:00:00Z"))
        #expect(intervals.map(\.metric) == [.firstReply, .resolution, .nextReply])
        #expect(intervals[0].state == .ended && intervals[0].outcome == .achieved && intervals[0].elapsed.calendar == 20 * minute)
        #expect(intervals[0].endedBy == Self.reference(2, "message.posted"))

        let cancelled = intervals[2]
        #expect(cancelled.state == .cancelled)
        #expect(cancelled.outcome == nil && cancelled.late == nil, "2 h 30 min against 2 h: cancelled, not breached")
        #expect(cancelled.start == (Self.t("2026-03-02T09:30:00Z")) && cancelled.startedBy == Self.reference(3, "message.posted"))
        #expect(cancelled.end == (Self.t("2026-03-02T12:00:00Z")) && cancelled.endedBy == Self.reference(4, "status.changed"))
        #expect(cancelled.elapsed.calendar == 150 * minute && cancelled.priority == .urgent && cancelled.priorityBasis == .atEnd)
        #expect(cancelled.target == SLATarget(seconds: 2 * 3600, clock: .calendar))
        #expect(cancelled.due == (Self.t("2026-03-02T11:30:00Z")))

        let resolution = intervals[1]
        #expect(resolution.state == .ended && resolution.outcome == .achieved)
        #expect(resolution.start == (Self.t("2026-03-02T09:00:00Z")) && resolution.endedBy == Self.reference(4, "status.changed"))
        #expect(resolution.elapsed.calendar == 3 * hour)
    }

    @Test func aResolutionReopenedByTheCustomerCountsOnlyItsLastEnd() throws {
        let levels = try Self.levels()
        var s = Stream()
        try s.open(priority: "urgent", at: "2026-03-02T09:00:00Z")  // v1
        try s.message(by: TicketFixture.alice, at: "2026-03-02T09:10:00Z")  // v2
        try s.status("solved", at: "2026-03-02T09:15:00Z")  // v3
        try s.message(by: TicketFixture.carol, at: "2026-03-02T10:00:00Z")  // v4: reopens
        try s.message(by: TicketFixture.alice, at: "2026-03-02T10:30:00Z")  // v5
        try s.status("solved", at: "2026-03-02T18:00:00Z")  // v6: 9 h after the opening
        let clocks = try s.clocks(levels)
        let intervals = clocks.intervals(at: Self.t("2026-03-03T09:00:00Z"))
        let resolutions = intervals.filter { $0.metric == .resolution }
        try #require(resolutions.count == 2)
        let reopened = resolutions[0], last = resolutions[1]
        #expect(reopened.state == .reopened && reopened.outcome == nil && reopened.late == nil)
        #expect(reopened.end == (Self.t("2026-03-02T09:15:00Z")) && reopened.endedBy == Self.reference(3, "status.changed"))
        #expect(reopened.reopenedBy == Self.reference(4, "message.posted"))
        #expect(reopened.elapsed.calendar == 15 * minute && reopened.elapsed.achieved == true)
        // The last end counts, from the opening again: 9 h against urgent's 8 h.
        #expect(last.state == .ended && last.outcome == .breached && last.late == hour)
        #expect(last.start == (Self.t("2026-03-02T09:00:00Z")) && last.startedBy == Self.reference(1, "ticket.opened"))
        #expect(last.endedBy == Self.reference(6, "status.changed") && last.reopenedBy == nil)
        #expect(last.due == (Self.t("2026-03-02T17:00:00Z")))

        let next = try #require(intervals.first { $0.metric == .nextReply })
        #expect(next.state == .ended && next.outcome == .achieved && next.elapsed.calendar == 30 * minute)
        #expect(next.startedBy == Self.reference(4, "message.posted") && next.endedBy == Self.reference(5, "message.posted"))
        #expect(intervals.filter { $0.state == .running }.isEmpty)

        // Before the second solving, the resolution runs again from the opening.
        var earlier = TicketClocks(levels: levels)
        for event in s.events.prefix(5) { try earlier.apply(event) }
        let running = earlier.intervals(at: Self.t("2026-03-02T17:00:00.001Z")).filter { $0.metric == .resolution }
        #expect(running.map(\.state) == [.reopened, .running])
        #expect(running[1].outcome == .breached && running[1].late == 1 && running[1].startedBy == Self.reference(1, "ticket.opened"))
    }

    @Test func aRunningCalendarIntervalIsBreachedOneMillisecondAfterItsDue() throws {
        let levels = try Self.levels()
        var s = Stream()
        try s.open(priority: "urgent", at: "2026-03-02T09:00:00Z")
        let clocks = try s.clocks(levels)
        func reply(at text: String) throws -> SLAInterval {
            try #require(clocks.intervals(at: Self.t(text)).first { $0.metric == .firstReply })
        }
        let before = try reply(at: "2026-03-02T09:59:59.999Z")
        #expect(before.state == .running && before.outcome == nil && before.late == nil)
        #expect(before.elapsed.calendar == hour - 1 && before.due == (Self.t("2026-03-02T10:00:00Z")))
        #expect(before.priorityBasis == .atEvaluation && before.end == nil && before.endedBy == nil)
        #expect(try reply(at: "2026-03-02T10:00:00Z").outcome == nil, "exactly at the target is still within it")
        let after = try reply(at: "2026-03-02T10:00:00.001Z")
        #expect(after.outcome == .breached && after.late == 1)

        let resolution = { (text: String) throws -> SLAInterval in
            try #require(clocks.intervals(at: Self.t(text)).first { $0.metric == .resolution })
        }
        #expect(try resolution("2026-03-02T17:00:00Z").outcome == nil)
        #expect(try resolution("2026-03-02T17:00:00.001Z").late == 1)
        // Evaluated before the opening, nothing has elapsed.
        #expect(try reply(at: "2026-03-01T00:00:00Z").elapsed == IntervalMeasure(calendar: 0, business: 0, achieved: true))
    }

    @Test func aRunningBusinessIntervalIsNotBreachedOutsideBusinessHours() throws {
        let levels = try Self.levels()
        var s = Stream()
        try s.open(priority: "high", at: "2026-04-13T13:00:00Z")  // Monday 15:00 local: 4 h business is 19:00
        let clocks = try s.clocks(levels)
        func reply(at text: String) throws -> SLAInterval {
            try #require(clocks.intervals(at: Self.t(text)).first { $0.metric == .firstReply })
        }
        let evening = try reply(at: "2026-04-13T21:00:00Z")
        #expect(evening.due == (Self.t("2026-04-13T17:00:00Z")))
        #expect(evening.outcome == nil && evening.elapsed.business == 4 * hour && evening.elapsed.calendar == 8 * hour)
        #expect(try reply(at: "2026-04-14T06:00:00Z").outcome == nil, "Tuesday 08:00 local: no business time yet")
        let morning = try reply(at: "2026-04-14T06:00:00.001Z")
        #expect(morning.outcome == .breached && morning.late == 1)

        // A priority change while it runs judges it at the new priority (urgent: 1 h calendar).
        try s.priority("urgent", at: "2026-04-13T13:30:00Z")
        let raised = try s.clocks(levels).intervals(at: Self.t("2026-04-13T14:00:00.001Z"))
        #expect(raised.map(\.priority) == [.urgent, .urgent])
        #expect(raised[0].target == SLATarget(seconds: 3600, clock: .calendar) && raised[0].outcome == .breached && raised[0].late == 1)
    }

    @Test func aTicketOpenedByAnAgentStartsItsFirstReplyAtTheCustomersFirstMessage() throws {
        var s = Stream()
        try s.add("ticket.opened", TicketFixture.openingData(priority: "normal"), by: TicketFixture.alice, at: "2026-03-02T09:00:00Z")
        try s.message(by: TicketFixture.carol, at: "2026-03-02T10:00:00Z")
        let intervals = try s.clocks(try Self.levels()).intervals(at: Self.t("2026-03-02T11:00:00Z"))
        #expect(intervals.map(\.metric) == [.resolution, .firstReply])
        #expect(intervals[1].startedBy == Self.reference(2, "message.posted") && intervals[1].state == .running)
        let levels = try Self.levels()
        let nothing = try TicketClocks.explain([RecordedEvent](), levels: levels)
        #expect(nothing == nil)
    }
}
