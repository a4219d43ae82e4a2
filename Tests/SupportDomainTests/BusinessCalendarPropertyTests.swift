import EventLog
import Foundation
import SupportDomain
import Testing

// Measured (release build, x86_64 Linux, throwaway benchmark calling across the module boundary):
// - BusinessCalendar(policy: .default), years 1990...2100 precomputed: ~2.2-2.5 ms (first ~3.5-5 ms), ~1.2 MB.
// - businessDuration: ~24 ns random pairs within 2026 (spans up to 30 days), ~12 ns monotone instants.
// - adding: ~29 ns (0-40 business hours); bucketStart: ~7 ns (day), ~24 ns (month); formatBucketStart: ~0.5 µs.
// - Outside the precomputed years: ~1.1 µs (businessDuration), ~2.3 µs (adding); Int64.min...max: ~100 ms.
@Suite("Business calendar properties (seeded)")
struct BusinessCalendarPropertyTests {
    private static func randomInstant(in range: ClosedRange<Int64>, _ generator: inout SeededRandom) -> Timestamp {
        // Half the time on a whole minute, so that window bounds and transitions are hit exactly.
        let raw = Int64.random(in: range, using: &generator)
        return Timestamp(milliseconds: Bool.random(using: &generator) ? raw - raw % 60_000 : raw)
    }

    private static let years2025To2028 = Int64(1_735_689_600_000)...Int64(1_861_920_000_000)

    @Test func addingIsTheEarliestInstantWithThatBusinessTime() throws {
        var generator = SeededRandom(seed: 20_260_329)
        var policy = Policy.default
        policy.holidays = Set(["2026-05-01", "2026-12-25", "2027-01-01", "2026-03-30"].compactMap(LocalDate.init(iso8601:)))
        let calendars = [
            try BusinessCalendar(policy: policy),
            try BusinessCalendar(
                timeZoneIdentifier: "America/Santiago",
                schedule: try schedule([
                    .monday: ["00:00-01:00", "09:00-18:00"], .sunday: ["22:00-24:00"],
                    .saturday: ["00:00-00:30"],
                ]),
                holidays: []),
        ]
        for calendar in calendars {
            for _ in 0..<2_000 {
                let start = Self.randomInstant(in: Self.years2025To2028, &generator)
                let amount =
                    Bool.random(using: &generator)
                    ? Int64.random(in: 0...(200 * hour), using: &generator)
                    : Int64.random(in: 0...3, using: &generator) * hour
                let end = try #require(calendar.adding(businessMilliseconds: amount, to: start))
                #expect(end >= start)
                #expect(calendar.businessDuration(from: start, to: end) == amount)
                if amount > 0 {
                    #expect(calendar.businessDuration(from: start, to: Timestamp(milliseconds: end.milliseconds - 1)) < amount)
                } else {
                    #expect(end == start)
                }
            }
        }
    }

    @Test func businessDurationIsAdditive() throws {
        var generator = SeededRandom(seed: 7)
        let calendar = try BusinessCalendar(policy: .default)
        for _ in 0..<2_000 {
            let points = (0..<3).map { _ in Self.randomInstant(in: Self.years2025To2028, &generator) }.sorted()
            let whole = calendar.businessDuration(from: points[0], to: points[2])
            let parts =
                calendar.businessDuration(from: points[0], to: points[1])
                + calendar.businessDuration(from: points[1], to: points[2])
            #expect(whole == parts)
        }
    }

    @Test func slowPathAgreesWithPrecomputedYears() throws {
        // One year precomputed forces most queries through the slow path; compare with the default.
        var generator = SeededRandom(seed: 42)
        var policy = Policy.default
        policy.holidays = Set(["2024-02-29", "2026-05-01", "2029-07-14"].compactMap(LocalDate.init(iso8601:)))
        let fast = try BusinessCalendar(policy: policy)
        let slow = try BusinessCalendar(policy: policy, precomputedYears: 2026...2026)
        let years2020To2032 = Int64(1_577_836_800_000)...Int64(1_956_528_000_000)
        for _ in 0..<300 {
            let a = Self.randomInstant(in: years2020To2032, &generator)
            let b = Self.randomInstant(in: years2020To2032, &generator)
            #expect(fast.businessDuration(from: a, to: b) == slow.businessDuration(from: a, to: b))
            let amount = Int64.random(in: 0...(2_000 * hour), using: &generator)
            #expect(fast.adding(businessMilliseconds: amount, to: a) == slow.adding(businessMilliseconds: amount, to: a))
            for unit in BucketUnit.allCases {
                let start = fast.bucketStart(containing: a, unit: unit)
                #expect(start == slow.bucketStart(containing: a, unit: unit))
                #expect(fast.nextBucketStart(after: start, unit: unit) == slow.nextBucketStart(after: start, unit: unit))
            }
            #expect(fast.formatBucketStart(a) == slow.formatBucketStart(a))
        }
    }

    /// Zones with gaps and folds at midnight, half-hour shifts, a skipped date and offset changes.
    static let referenceZones = [
        "Europe/Paris", "America/Santiago", "America/Havana", "America/New_York", "Australia/Lord_Howe",
        "Pacific/Apia", "Asia/Kathmandu", "Europe/Moscow", "America/Sao_Paulo", "Africa/Casablanca",
    ]

    @Test(arguments: referenceZones)
    func agreesWithANaiveFoundationModel(zoneIdentifier: String) throws {
        var generator = SeededRandom(seed: UInt64(zoneIdentifier.utf8.count) &* 1_000_003)
        let windows = try schedule([
            .monday: ["00:00-01:30", "02:15-03:45", "08:00-19:00", "23:00-24:00"],
            .tuesday: ["00:00-24:00"],
            .wednesday: ["00:30-02:30", "12:00-13:00"],
            .thursday: ["01:00-04:00"],
            .friday: ["08:00-12:00", "12:00-19:00"],
            .saturday: ["02:00-03:00", "22:00-24:00"],
            .sunday: ["00:00-00:30", "01:59-02:01", "23:30-24:00"],
        ])
        let holidays = Set(["2011-12-29", "2014-10-26", "2026-03-29", "2018-11-04"].compactMap(LocalDate.init(iso8601:)))
        let calendar = try BusinessCalendar(timeZoneIdentifier: zoneIdentifier, schedule: windows, holidays: holidays)
        let reference = ReferenceBusinessCalendar(
            zone: try #require(TimeZone(identifier: zoneIdentifier)), schedule: windows, holidays: holidays)

        // Start within a day of each transition of 2010-2030 (where the interesting cases are),
        // or anywhere in those years.
        let zone = try #require(TimeZone(identifier: zoneIdentifier))
        var transitions: [Int64] = []
        var cursor = Date(timeIntervalSince1970: 1_262_304_000)
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < 1_893_456_000 {
            transitions.append(Int64(next.timeIntervalSince1970 * 1000))
            cursor = next
        }
        for iteration in 0..<120 {
            let anchor =
                transitions.isEmpty || iteration % 4 == 0
                ? Int64.random(in: 1_262_304_000_000...1_893_456_000_000, using: &generator)
                : transitions[Int.random(in: 0..<transitions.count, using: &generator)]
            let a = Self.randomInstant(in: (anchor - 30 * hour)...(anchor + 30 * hour), &generator)
            let b = Self.randomInstant(in: a.milliseconds...(a.milliseconds + 80 * hour), &generator)
            #expect(
                calendar.businessDuration(from: a, to: b) == reference.businessDuration(from: a.milliseconds, to: b.milliseconds),
                "\(zoneIdentifier) \(a.milliseconds)..<\(b.milliseconds)")
            for unit in BucketUnit.allCases {
                #expect(
                    calendar.bucketStart(containing: a, unit: unit).milliseconds
                        == reference.bucketStart(containing: a.milliseconds, unit: unit),
                    "\(zoneIdentifier) \(unit) of \(a.milliseconds)")
            }
        }
    }
}

@Suite("Business calendar outside its precomputed years (seeded)")
struct BusinessCalendarYearTimelineTests {
    private static func randomInstant(in range: ClosedRange<Int64>, _ generator: inout SeededRandom) -> Timestamp {
        let raw = Int64.random(in: range, using: &generator)
        return Timestamp(milliseconds: Bool.random(using: &generator) ? raw - raw % 60_000 : raw)
    }

    /// 1950-01-01 through 1995-01-01 and 2095-01-01 through 2140-01-01: across both ends of the
    /// default precomputed years.
    private static let spans: [ClosedRange<Int64>] = [-631_152_000_000...788_918_400_000, 3_944_678_400_000...5_364_662_400_000]

    @Test(arguments: ["Europe/Paris", "America/Santiago", "Australia/Lord_Howe", "Pacific/Apia"])
    func yearsBuiltOnDemandAgreeWithPrecomputedYears(zoneIdentifier: String) throws {
        var generator = SeededRandom(seed: UInt64(zoneIdentifier.utf8.count) &* 7_919)
        let windows = try schedule([
            .monday: ["00:00-01:30", "08:00-19:00", "23:00-24:00"], .tuesday: ["00:00-24:00"],
            .friday: ["08:00-12:00", "12:00-19:00"], .sunday: ["01:59-02:01", "23:30-24:00"],
        ])
        let holidays = Set(["1988-12-30", "1989-12-25", "1990-01-01", "2100-12-31", "2101-01-02"].compactMap(LocalDate.init(iso8601:)))
        let onDemand = try BusinessCalendar(timeZoneIdentifier: zoneIdentifier, schedule: windows, holidays: holidays)
        let precomputed = try BusinessCalendar(
            timeZoneIdentifier: zoneIdentifier, schedule: windows, holidays: holidays, precomputedYears: 1940...2150)
        for iteration in 0..<400 {
            let span = Self.spans[iteration % 2]
            let a = Self.randomInstant(in: span, &generator)
            // Mostly short spans (a deadline, a response time), sometimes years long.
            let reach = iteration % 5 == 0 ? 6 * 366 * 24 * hour : 200 * hour
            let b = Self.randomInstant(in: a.milliseconds...(a.milliseconds + reach), &generator)
            #expect(onDemand.businessDuration(from: a, to: b) == precomputed.businessDuration(from: a, to: b), "\(a)..<\(b)")
            let amount =
                iteration % 7 == 0
                ? Int64.random(in: 0...(9_000 * hour), using: &generator) : Int64.random(in: 0...(300 * hour), using: &generator)
            #expect(
                onDemand.adding(businessMilliseconds: amount, to: a) == precomputed.adding(businessMilliseconds: amount, to: a),
                "\(amount) after \(a)")
        }
    }

    @Test func yearsBuiltOnDemandAgreeWithANaiveFoundationModel() throws {
        var generator = SeededRandom(seed: 1989)
        let windows = try schedule([.monday: ["09:00-17:00"], .wednesday: ["00:00-24:00"], .saturday: ["02:00-03:00", "22:00-24:00"]])
        let holidays = Set(["1989-03-01", "2120-07-14"].compactMap(LocalDate.init(iso8601:)))
        let zone = "America/New_York"
        let calendar = try BusinessCalendar(timeZoneIdentifier: zone, schedule: windows, holidays: holidays)
        let reference = ReferenceBusinessCalendar(zone: try #require(TimeZone(identifier: zone)), schedule: windows, holidays: holidays)
        for iteration in 0..<300 {
            let a = Self.randomInstant(in: Self.spans[iteration % 2], &generator)
            let b = Self.randomInstant(in: a.milliseconds...(a.milliseconds + 80 * hour), &generator)
            #expect(
                calendar.businessDuration(from: a, to: b) == reference.businessDuration(from: a.milliseconds, to: b.milliseconds),
                "\(a.milliseconds)..<\(b.milliseconds)")
            let amount = Int64.random(in: 1...(40 * hour), using: &generator)
            let end = try #require(calendar.adding(businessMilliseconds: amount, to: a))
            #expect(reference.businessDuration(from: a.milliseconds, to: end.milliseconds) == amount)
            #expect(reference.businessDuration(from: a.milliseconds, to: end.milliseconds - 1) < amount)
        }
    }
}
