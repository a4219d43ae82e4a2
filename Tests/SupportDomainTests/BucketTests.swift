import EventLog
import Foundation
import SupportDomain
import Testing

@Suite("Local calendar buckets")
struct BucketTests {
    private func calendar(_ zone: String) throws -> BusinessCalendar {
        try BusinessCalendar(timeZoneIdentifier: zone, schedule: .alwaysClosed, holidays: [])
    }

    @Test func springForwardDayIs23Hours() throws {
        let paris = try calendar("Europe/Paris")
        let start = paris.bucketStart(containing: try instant("2026-03-29T12:00:00Z"), unit: .day)
        #expect(start == (try instant("2026-03-28T23:00:00Z")))
        #expect(paris.formatBucketStart(start) == "2026-03-29T00:00:00+01:00")
        let next = paris.nextBucketStart(after: start, unit: .day)
        #expect(next == (try instant("2026-03-29T22:00:00Z")))
        #expect(paris.formatBucketStart(next) == "2026-03-30T00:00:00+02:00")
        #expect(next.milliseconds - start.milliseconds == 23 * hour)
    }

    @Test func autumnDayIs25Hours() throws {
        let paris = try calendar("Europe/Paris")
        let start = paris.bucketStart(containing: try instant("2026-10-25T12:00:00Z"), unit: .day)
        #expect(paris.formatBucketStart(start) == "2026-10-25T00:00:00+02:00")
        let next = paris.nextBucketStart(after: start, unit: .day)
        #expect(paris.formatBucketStart(next) == "2026-10-26T00:00:00+01:00")
        #expect(next.milliseconds - start.milliseconds == 25 * hour)
    }

    @Test func bucketsAreHalfOpen() throws {
        let paris = try calendar("Europe/Paris")
        let midnight = try instant("2026-03-30T00:00:00+02:00")
        #expect(paris.bucketStart(containing: midnight, unit: .day) == midnight)
        let justBefore = Timestamp(milliseconds: midnight.milliseconds - 1)
        #expect(paris.formatBucketStart(paris.bucketStart(containing: justBefore, unit: .day)) == "2026-03-29T00:00:00+01:00")
    }

    @Test func isoWeeksStartOnMonday() throws {
        let paris = try calendar("Europe/Paris")
        // Sunday 2026-03-29 belongs to the week of Monday 2026-03-23.
        let start = paris.bucketStart(containing: try instant("2026-03-29T12:00:00Z"), unit: .week)
        #expect(paris.formatBucketStart(start) == "2026-03-23T00:00:00+01:00")
        let next = paris.nextBucketStart(after: start, unit: .week)
        #expect(paris.formatBucketStart(next) == "2026-03-30T00:00:00+02:00")
        #expect(next.milliseconds - start.milliseconds == 167 * hour)
        // A Monday midnight starts its own week.
        #expect(paris.bucketStart(containing: next, unit: .week) == next)
        // Weeks run across the new year: Friday 2027-01-01 is in the week of Monday 2026-12-28.
        let newYear = paris.bucketStart(containing: try instant("2027-01-01T12:00:00+01:00"), unit: .week)
        #expect(paris.formatBucketStart(newYear) == "2026-12-28T00:00:00+01:00")
    }

    @Test func monthsAcrossDaylightSaving() throws {
        let paris = try calendar("Europe/Paris")
        let march = paris.bucketStart(containing: try instant("2026-03-29T12:00:00Z"), unit: .month)
        #expect(march == (try instant("2026-02-28T23:00:00Z")))
        #expect(paris.formatBucketStart(march) == "2026-03-01T00:00:00+01:00")
        let april = paris.nextBucketStart(after: march, unit: .month)
        #expect(paris.formatBucketStart(april) == "2026-04-01T00:00:00+02:00")
        #expect(april.milliseconds - march.milliseconds == (31 * 24 - 1) * hour)
        let december = paris.bucketStart(containing: try instant("2026-12-31T23:59:59.999+01:00"), unit: .month)
        #expect(paris.formatBucketStart(december) == "2026-12-01T00:00:00+01:00")
        #expect(paris.formatBucketStart(paris.nextBucketStart(after: december, unit: .month)) == "2027-01-01T00:00:00+01:00")
    }

    @Test func foundationAgreesOnTheMidnightTransitionsUsedBelow() throws {
        let santiago = try #require(TimeZone(identifier: "America/Santiago"))
        let havana = try #require(TimeZone(identifier: "America/Havana"))
        func offset(_ zone: TimeZone, _ text: String) throws -> Int {
            zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(try instant(text).milliseconds) / 1000))
        }
        // Santiago springs forward at midnight on 2026-09-06 and falls back at midnight on 2026-04-05.
        #expect(try offset(santiago, "2026-09-06T03:59:59Z") == -4 * 3600)
        #expect(try offset(santiago, "2026-09-06T04:00:00Z") == -3 * 3600)
        #expect(try offset(santiago, "2026-04-05T02:59:59Z") == -3 * 3600)
        #expect(try offset(santiago, "2026-04-05T03:00:00Z") == -4 * 3600)
        // Havana springs forward at midnight on 2026-03-08.
        #expect(try offset(havana, "2026-03-08T04:59:59Z") == -5 * 3600)
        #expect(try offset(havana, "2026-03-08T05:00:00Z") == -4 * 3600)
    }

    @Test func missingMidnightStartsAtTheDatesFirstInstant() throws {
        let santiago = try calendar("America/Santiago")
        let start = santiago.bucketStart(containing: try instant("2026-09-06T12:00:00Z"), unit: .day)
        #expect(start == (try instant("2026-09-06T04:00:00Z")))
        #expect(santiago.formatBucketStart(start) == "2026-09-06T01:00:00-03:00")
        #expect(santiago.formatBucketStart(santiago.nextBucketStart(after: start, unit: .day)) == "2026-09-07T00:00:00-03:00")
        // The day before is a full 24 h and ends where the 6th begins.
        let before = santiago.bucketStart(containing: Timestamp(milliseconds: start.milliseconds - 1), unit: .day)
        #expect(santiago.formatBucketStart(before) == "2026-09-05T00:00:00-04:00")
        #expect(santiago.nextBucketStart(after: before, unit: .day) == start)
        // The week of Sunday the 6th starts Monday 2026-08-31 and the next on Monday 2026-09-07.
        let week = santiago.bucketStart(containing: start, unit: .week)
        #expect(santiago.formatBucketStart(week) == "2026-08-31T00:00:00-04:00")
        #expect(santiago.formatBucketStart(santiago.nextBucketStart(after: week, unit: .week)) == "2026-09-07T00:00:00-03:00")

        let havana = try calendar("America/Havana")
        let havanaStart = havana.bucketStart(containing: try instant("2026-03-08T12:00:00Z"), unit: .day)
        #expect(havana.formatBucketStart(havanaStart) == "2026-03-08T01:00:00-04:00")
        #expect(havanaStart == (try instant("2026-03-08T05:00:00Z")))
    }

    @Test func midnightFallBackRepeatsTheEveningBefore() throws {
        // Santiago 2026-04-05: at 03:00Z clocks go from 24:00-03:00 back to 23:00-04:00, so the 4th lasts 25 h.
        let santiago = try calendar("America/Santiago")
        let fourth = santiago.bucketStart(containing: try instant("2026-04-04T12:00:00Z"), unit: .day)
        #expect(santiago.formatBucketStart(fourth) == "2026-04-04T00:00:00-03:00")
        let fifth = santiago.nextBucketStart(after: fourth, unit: .day)
        #expect(fifth == (try instant("2026-04-05T04:00:00Z")))
        #expect(santiago.formatBucketStart(fifth) == "2026-04-05T00:00:00-04:00")
        #expect(fifth.milliseconds - fourth.milliseconds == 25 * hour)
    }

    @Test func formattingOffsets() throws {
        #expect(try calendar("UTC").formatBucketStart(try instant("2026-03-29T00:00:00Z")) == "2026-03-29T00:00:00+00:00")
        #expect(
            try calendar("Asia/Kathmandu").formatBucketStart(try instant("2026-03-29T00:00:00Z"))
                == "2026-03-29T05:45:00+05:45")
        #expect(
            try calendar("America/St_Johns").formatBucketStart(try instant("2026-01-15T03:30:00Z"))
                == "2026-01-15T00:00:00-03:30")
        #expect(
            try calendar("Europe/Paris").formatBucketStart(try instant("2026-03-29T12:00:00.250Z"))
                == "2026-03-29T14:00:00.250+02:00")
        // Paris kept local mean time, +00:09:21, until 1911 (outside the precomputed years).
        #expect(
            try calendar("Europe/Paris").formatBucketStart(try instant("1900-01-01T00:00:00Z"))
                == "1900-01-01T00:09:21+00:09:21")
    }

    @Test func bucketsOutsideThePrecomputedYears() throws {
        let paris = try calendar("Europe/Paris")
        let day = paris.bucketStart(containing: try instant("2200-03-31T12:00:00Z"), unit: .day)
        #expect(paris.formatBucketStart(day) == "2200-03-31T00:00:00+02:00")
        let month = paris.bucketStart(containing: try instant("1985-07-04T12:00:00Z"), unit: .month)
        #expect(paris.formatBucketStart(month) == "1985-07-01T00:00:00+02:00")
        // The last bucket inside the precomputed years reaches past them.
        let december2100 = paris.bucketStart(containing: try instant("2100-12-15T12:00:00Z"), unit: .month)
        #expect(paris.formatBucketStart(paris.nextBucketStart(after: december2100, unit: .month)) == "2101-01-01T00:00:00+01:00")
    }
}
