import EventLog
import Foundation
import SupportDomain
import Testing

@Suite("Instants at the Int64 limits")
struct ExtremeInstantTests {
    private let earliest = Timestamp(milliseconds: .min)
    private let latest = Timestamp(milliseconds: .max)

    @Test func businessTimeIsClampedToYears1Through9999() throws {
        let calendar = try BusinessCalendar(policy: .default)
        #expect(calendar.businessDuration(from: earliest, to: Timestamp(milliseconds: .min + 1)) == 0)
        #expect(calendar.businessDuration(from: Timestamp(milliseconds: .max - 1), to: latest) == 0)
        // 0001-01-01 is a Monday; Paris then kept local mean time, +00:09:21, so 08:00 is 07:50:39Z.
        // 0001-01-01T00:00:00Z (proleptic Gregorian) is -62_135_596_800_000 ms.
        #expect(
            calendar.adding(businessMilliseconds: 1, to: earliest)
                == Timestamp(milliseconds: -62_135_596_800_000 + 28_239_000 + 1))
        #expect(calendar.adding(businessMilliseconds: 1, to: latest) == nil)
        #expect(calendar.adding(businessMilliseconds: .max, to: earliest) == nil)
    }

    @Test func bucketsAreClampedToYears1Through9999() throws {
        let calendar = try BusinessCalendar(policy: .default)
        #expect(calendar.formatBucketStart(calendar.bucketStart(containing: latest, unit: .day)) == "9999-12-31T00:00:00+01:00")
        #expect(calendar.formatBucketStart(calendar.bucketStart(containing: latest, unit: .month)) == "9999-12-01T00:00:00+01:00")
        #expect(
            calendar.formatBucketStart(calendar.bucketStart(containing: earliest, unit: .month))
                == "0001-01-01T00:00:00+00:09:21")
        #expect(
            calendar.formatBucketStart(calendar.bucketStart(containing: earliest, unit: .week))
                == "0001-01-01T00:00:00+00:09:21")
    }

    @Test func formattingNeverTraps() throws {
        let calendar = try BusinessCalendar(policy: .default)
        #expect(calendar.formatBucketStart(earliest).hasPrefix("-292275055-05-16T"))
        #expect(calendar.formatBucketStart(latest).hasPrefix("+292278994-08-17T"))
    }
}
