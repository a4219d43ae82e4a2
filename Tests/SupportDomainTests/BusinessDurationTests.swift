import EventLog
import Foundation
import SupportDomain
import Testing

@Suite("Business duration")
struct BusinessDurationTests {
    private func paris(_ schedule: WeeklySchedule, holidays: Set<LocalDate> = []) throws -> BusinessCalendar {
        try BusinessCalendar(timeZoneIdentifier: "Europe/Paris", schedule: schedule, holidays: holidays)
    }

    @Test func weekendWithDefaultPolicyCountsSaturday() throws {
        let calendar = try BusinessCalendar(policy: .default)
        // Fri 18:00-19:00 (1 h) + Sat 09:00-17:00 (8 h) + Mon 08:00-09:00 (1 h).
        let duration = calendar.businessDuration(
            from: try instant("2026-03-06T18:00:00+01:00"), to: try instant("2026-03-09T09:00:00+01:00"))
        #expect(duration == 10 * hour)
    }

    @Test func weekendWithWeekdaysOnlySchedule() throws {
        let calendar = try paris(try weekdaysOnlySchedule())
        let duration = calendar.businessDuration(
            from: try instant("2026-03-06T18:00:00+01:00"), to: try instant("2026-03-09T09:00:00+01:00"))
        #expect(duration == 2 * hour)
    }

    @Test func emptyAndReversedRangesAreZero() throws {
        let calendar = try BusinessCalendar(policy: .default)
        let noon = try instant("2026-03-04T12:00:00+01:00")
        #expect(calendar.businessDuration(from: noon, to: noon) == 0)
        #expect(calendar.businessDuration(from: noon, to: Timestamp(milliseconds: noon.milliseconds - hour)) == 0)
        #expect(calendar.businessDuration(from: noon, to: Timestamp(milliseconds: noon.milliseconds + 1)) == 1)
    }

    @Test func windowBoundsAreHalfOpen() throws {
        let calendar = try paris(try weekdaysOnlySchedule())
        let opening = try instant("2026-03-04T08:00:00+01:00")
        let closing = try instant("2026-03-04T19:00:00+01:00")
        #expect(calendar.businessDuration(from: opening, to: closing) == 11 * hour)
        #expect(calendar.businessDuration(from: Timestamp(milliseconds: opening.milliseconds - hour), to: opening) == 0)
        #expect(calendar.businessDuration(from: closing, to: Timestamp(milliseconds: closing.milliseconds + hour)) == 0)
    }

    @Test func springForwardWindowIsAnHourShorter() throws {
        // 2026-03-29 Paris: 02:00 CET becomes 03:00 CEST (01:00Z). 01:00+01:00 = 00:00Z, 04:00+02:00 = 02:00Z.
        let calendar = try paris(try schedule([.sunday: ["01:00-04:00"]]))
        let duration = calendar.businessDuration(
            from: try instant("2026-03-28T00:00:00Z"), to: try instant("2026-03-30T00:00:00Z"))
        #expect(duration == 2 * hour)
        #expect(
            calendar.adding(businessMilliseconds: 1, to: try instant("2026-03-28T12:00:00Z"))
                == (try instant("2026-03-29T00:00:00.001Z")))
    }

    @Test func boundInTheSpringGapMovesForwardByTheGap() throws {
        // 02:30 does not exist; moved forward by the 1 h gap it is 03:30+02:00 (01:30Z).
        // The window runs to 04:00+02:00 (02:00Z): 30 minutes.
        let calendar = try paris(try schedule([.sunday: ["02:30-04:00"]]))
        let saturday = try instant("2026-03-28T12:00:00Z")
        #expect(calendar.businessDuration(from: saturday, to: try instant("2026-03-30T00:00:00Z")) == 30 * minute)
        #expect(calendar.adding(businessMilliseconds: 1, to: saturday) == (try instant("2026-03-29T01:30:00.001Z")))
    }

    @Test func windowInsideTheSpringGapIsEmpty() throws {
        // 02:00 moves forward to 03:00+02:00 (01:00Z), and 03:00 is 01:00Z too.
        let calendar = try paris(try schedule([.sunday: ["02:00-03:00"]]))
        #expect(
            calendar.businessDuration(
                from: try instant("2026-03-28T00:00:00Z"), to: try instant("2026-03-30T00:00:00Z")) == 0)
        // A week later the same window is a full hour.
        #expect(
            calendar.businessDuration(
                from: try instant("2026-04-04T00:00:00Z"), to: try instant("2026-04-06T00:00:00Z")) == hour)
    }

    @Test func autumnFoldWindowIsAnHourLonger() throws {
        // 2026-10-25 Paris: 03:00 CEST becomes 02:00 CET (01:00Z). 01:00+02:00 = 23:00Z on the 24th, 04:00+01:00 = 03:00Z.
        let calendar = try paris(try schedule([.sunday: ["01:00-04:00"]]))
        #expect(
            calendar.businessDuration(
                from: try instant("2026-10-24T00:00:00Z"), to: try instant("2026-10-26T00:00:00Z")) == 4 * hour)
    }

    @Test func boundInTheFoldIsItsFirstOccurrence() throws {
        // 02:30 happens at 00:30Z (+02:00) and again at 01:30Z (+01:00); the window starts at the first.
        let calendar = try paris(try schedule([.sunday: ["02:30-04:00"]]))
        #expect(
            calendar.businessDuration(
                from: try instant("2026-10-24T00:00:00Z"), to: try instant("2026-10-26T00:00:00Z")) == 2 * hour + 30 * minute)
        #expect(
            calendar.adding(businessMilliseconds: 1, to: try instant("2026-10-24T12:00:00Z"))
                == (try instant("2026-10-25T00:30:00.001Z")))
    }

    @Test func holidayHasNoBusinessTime() throws {
        // 2026-05-01 is a Friday. Thu 08-19 (11 h) + Fri holiday + Sat 09-17 (8 h) + Sun closed.
        let withHoliday = try BusinessCalendar(policy: try Policy.parse(jsonData: Data(#"{"holidays": ["2026-05-01"]}"#.utf8)))
        let withoutHoliday = try BusinessCalendar(policy: .default)
        let thursday = try instant("2026-04-30T00:00:00+02:00")
        let monday = try instant("2026-05-04T00:00:00+02:00")
        #expect(withHoliday.businessDuration(from: thursday, to: monday) == 19 * hour)
        #expect(withoutHoliday.businessDuration(from: thursday, to: monday) == 30 * hour)
    }

    @Test func overnightHoursSplitAcrossTwoDays() throws {
        // Friday 22:00-24:00 and Saturday 00:00-02:00 form one 4 h stretch.
        let calendar = try paris(try schedule([.friday: ["22:00-24:00"], .saturday: ["00:00-02:00"]]))
        #expect(
            calendar.businessDuration(
                from: try instant("2026-03-06T23:00:00+01:00"), to: try instant("2026-03-07T01:00:00+01:00")) == 2 * hour)
        #expect(
            calendar.adding(businessMilliseconds: 3 * hour, to: try instant("2026-03-06T12:00:00+01:00"))
                == (try instant("2026-03-07T01:00:00+01:00")))
    }

    @Test func longRangesSumEveryWeek() throws {
        // 2026 has 52 full weeks plus Thursday 2026-12-31 (non-leap year starting on Thursday):
        // 53 Thursdays, 52 of every other weekday. Default: 5 × 11 h + 8 h per week.
        let calendar = try BusinessCalendar(policy: .default)
        let duration = calendar.businessDuration(
            from: try instant("2026-01-01T00:00:00+01:00"), to: try instant("2027-01-01T00:00:00+01:00"))
        #expect(duration == (52 * (5 * 11 + 8) + 11) * hour)
    }
}
