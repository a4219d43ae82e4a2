import Foundation
import SupportDomain
import Testing

@Suite("Adding business time")
struct AddingBusinessTimeTests {
    private let mayDay = Set([LocalDate(year: 2026, month: 5, day: 1)].compactMap { $0 })

    @Test func acrossAHolidayAndAWeekend() throws {
        // Thu 17:00-19:00 (2 h), Fri 1 May holiday, weekend closed, Mon 08:00 + 3 h.
        let calendar = try BusinessCalendar(
            timeZoneIdentifier: "Europe/Paris", schedule: try weekdaysOnlySchedule(), holidays: mayDay)
        let result = calendar.adding(businessMilliseconds: 5 * hour, to: try instant("2026-04-30T17:00:00+02:00"))
        #expect(result == (try instant("2026-05-04T11:00:00+02:00")))
    }

    @Test func acrossAHolidayWithSaturdayOpen() throws {
        // Thu 17:00-19:00 (2 h), Fri holiday, Sat 09:00 + 3 h.
        var policy = Policy.default
        policy.holidays = mayDay
        let calendar = try BusinessCalendar(policy: policy)
        let result = calendar.adding(businessMilliseconds: 5 * hour, to: try instant("2026-04-30T17:00:00+02:00"))
        #expect(result == (try instant("2026-05-02T12:00:00+02:00")))
    }

    @Test func addingZeroIsTheStartEvenOutsideHours() throws {
        let calendar = try BusinessCalendar(policy: .default)
        let sunday = try instant("2026-03-08T12:34:56.789+01:00")
        #expect(calendar.adding(businessMilliseconds: 0, to: sunday) == sunday)
    }

    @Test func landingOnAWindowEndIsThatEnd() throws {
        let calendar = try BusinessCalendar(
            timeZoneIdentifier: "Europe/Paris", schedule: try weekdaysOnlySchedule(), holidays: [])
        let friday = try instant("2026-03-06T17:00:00+01:00")
        #expect(calendar.adding(businessMilliseconds: 2 * hour, to: friday) == (try instant("2026-03-06T19:00:00+01:00")))
        #expect(
            calendar.adding(businessMilliseconds: 2 * hour + 1, to: friday)
                == (try instant("2026-03-09T08:00:00.001+01:00")))
    }

    @Test func startingOutsideHoursWaitsForTheNextWindow() throws {
        let calendar = try BusinessCalendar(policy: .default)
        // Saturday 18:00 is after closing; Sunday is closed; Monday opens at 08:00.
        let result = calendar.adding(businessMilliseconds: 90 * minute, to: try instant("2026-03-07T18:00:00+01:00"))
        #expect(result == (try instant("2026-03-09T09:30:00+01:00")))
    }

    @Test func highPriorityFirstReplyAcrossSpringForward() throws {
        // 4 business hours from Sat 2026-03-28 15:00+01:00: Sat 15-17 (2 h), Sun closed, Mon 08:00+02:00 + 2 h.
        let calendar = try BusinessCalendar(policy: .default)
        let target = try #require(Policy.default.targets[.high, .firstReply])
        let result = calendar.adding(businessMilliseconds: target.milliseconds, to: try instant("2026-03-28T15:00:00+01:00"))
        #expect(result == (try instant("2026-03-30T10:00:00+02:00")))
    }

    @Test func negativeAmountsAndClosedSchedulesNeverArrive() throws {
        let open = try BusinessCalendar(policy: .default)
        let closed = try BusinessCalendar(timeZoneIdentifier: "Europe/Paris", schedule: .alwaysClosed, holidays: [])
        let start = try instant("2026-03-04T12:00:00+01:00")
        #expect(open.adding(businessMilliseconds: -1, to: start) == nil)
        #expect(closed.adding(businessMilliseconds: 1, to: start) == nil)
        #expect(closed.adding(businessMilliseconds: 0, to: start) == start)
        #expect(closed.businessDuration(from: start, to: try instant("2027-03-04T12:00:00+01:00")) == 0)
    }

    @Test func nothingPastTheYear9999() throws {
        let calendar = try BusinessCalendar(policy: .default)
        // 9999-12-31 is a Friday: 08:00-19:00 is the last business time there is.
        let lastFriday = try instant("9999-12-31T12:00:00+01:00")
        #expect(calendar.adding(businessMilliseconds: 7 * hour, to: lastFriday) == (try instant("9999-12-31T19:00:00+01:00")))
        #expect(calendar.adding(businessMilliseconds: 7 * hour + 1, to: lastFriday) == nil)
        #expect(calendar.adding(businessMilliseconds: .max, to: try instant("2026-01-01T00:00:00Z")) == nil)
    }

    @Test func beyondThePrecomputedYearsStillWorks() throws {
        let calendar = try BusinessCalendar(policy: .default)
        // 2150-03-06 is a Friday; +2 h from 18:00 reaches Sat 2150-03-07 10:00+01:00.
        #expect(
            calendar.adding(businessMilliseconds: 2 * hour, to: try instant("2150-03-06T18:00:00+01:00"))
                == (try instant("2150-03-07T10:00:00+01:00")))
        // From inside the precomputed years into the slow path: Fri 2100-12-31 18:00 + 2 h crosses into 2101.
        // 2100-12-31 is a Friday; Sat 2101-01-01 09:00 + 1 h.
        #expect(
            calendar.adding(businessMilliseconds: 2 * hour, to: try instant("2100-12-31T18:00:00+01:00"))
                == (try instant("2101-01-01T10:00:00+01:00")))
        #expect(
            calendar.businessDuration(
                from: try instant("1989-12-29T18:00:00+01:00"), to: try instant("1990-01-01T09:00:00+01:00")) == 10 * hour)
    }
}
