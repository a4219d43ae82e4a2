import EventLog
import Foundation
import Testing

@testable import SupportDomain

/// `BusinessCalendar.explainBusinessTime(from:to:limit:)`: the windows that counted are exactly
/// the interval's business time, each inside its local date, and the holidays and daylight-saving
/// days it spans are named, checked against Foundation's time zones.
@Suite("Business time explained (seeded)")
struct BusinessTimeExplanationTests {
    static let zones = ["Europe/Paris", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu"]

    @Test(arguments: zones)
    func windowsAreExactlyTheBusinessTimeAndNotableDaysAreNamed(zoneIdentifier: String) throws {
        var rng = SeededRandom(seed: UInt64(zoneIdentifier.utf8.count) &* 48_271)
        let zone = try #require(TimeZone(identifier: zoneIdentifier))
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = zone
        // The zone's changes of 2025-2027, where intervals are anchored half of the time.
        var transitions: [Int64] = []
        var cursor = Date(timeIntervalSince1970: 1_735_689_600)
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < 1_830_297_600 {
            transitions.append(Int64(next.timeIntervalSince1970 * 1000))
            cursor = next
        }
        for round in 0..<6 {
            let (calendar, holidays) = try Self.randomCalendar(zoneIdentifier, transitions: transitions, &rng)
            for iteration in 0..<60 {
                let anchor =
                    transitions.isEmpty || iteration % 2 == 0
                    ? Int64.random(in: 1_735_689_600_000...1_830_297_600_000, using: &rng)
                    : transitions[Int.random(in: 0..<transitions.count, using: &rng)]
                let from = Self.instant(in: (anchor - 40 * hour)...(anchor + 10 * hour), &rng)
                let reach = iteration % 5 == 0 ? 12 * 24 * hour : 60 * hour
                let to = Self.instant(in: from.milliseconds...(from.milliseconds + reach), &rng)
                try Self.expectExplained(calendar, holidays: holidays, from: from, to: to, gregorian, "round \(round): \(from)..<\(to)")
            }
        }
    }

    @Test func aListCutAtItsLimitStillCountsAndSumsEveryWindow() throws {
        let calendar = try BusinessCalendar(policy: .default)
        let from = Timestamp(rfc3339: "2026-03-02T00:00:00Z")!, to = Timestamp(rfc3339: "2026-04-02T00:00:00Z")!
        let all = calendar.explainBusinessTime(from: from, to: to)
        let cut = calendar.explainBusinessTime(from: from, to: to, limit: 3)
        #expect(all.windowCount == 27 && all.windows.count == 27)  // Monday to Saturday, 27 days of March 2 to April 1
        #expect(cut.windows == Array(all.windows.prefix(3)))
        #expect(cut.windowCount == all.windowCount && cut.total == all.total && cut.notableDays == all.notableDays)
        #expect(cut.total == calendar.businessDuration(from: from, to: to))
        // An empty or backwards interval explains nothing.
        #expect(
            calendar.explainBusinessTime(from: to, to: from)
                == BusinessTimeExplained(windows: [], windowCount: 0, total: 0, notableDays: []))
        #expect(calendar.explainBusinessTime(from: from, to: from).windowCount == 0)
    }

    @Test func anIntervalLongerThanTheDaysExplainedStillTotalsAllItsBusinessTime() throws {
        // 2026 to 2160: beyond 10,000 local days and beyond the precomputed years (to 2100).
        let calendar = try BusinessCalendar(policy: .default)
        let from = Timestamp(rfc3339: "2026-03-02T00:00:00Z")!, to = Timestamp(rfc3339: "2160-01-01T00:00:00Z")!
        let explained = calendar.explainBusinessTime(from: from, to: to)
        #expect(explained.total == calendar.businessDuration(from: from, to: to))
        #expect(explained.windows.count == 400 && explained.windowCount >= 10_000 * 6 / 7)
        #expect(explained.windowCount < 134 * 53 * 6, "the windows are counted for the first days only")
    }

    @Test func parisSpringAndAutumnChangesAreNamedWithTheirOffsets() throws {
        var policy = Policy.default
        policy.holidays = [try date("2026-03-30")]
        policy.schedule = try schedule([.sunday: ["00:00-24:00"], .monday: ["08:00-19:00"], .saturday: ["09:00-17:00"]])
        let calendar = try BusinessCalendar(policy: policy)
        let spring = calendar.explainBusinessTime(
            from: Timestamp(rfc3339: "2026-03-28T00:00:00Z")!, to: Timestamp(rfc3339: "2026-03-31T00:00:00Z")!)
        #expect(
            spring.notableDays == [
                NotableDay(date: try date("2026-03-29"), kind: .daylightSaving, offsets: (before: hour, after: 2 * hour)),
                NotableDay(date: try date("2026-03-30"), kind: .holiday),
            ])
        // Saturday 09:00-17:00 (+01:00), then Sunday: 23 hours from midnight (+01:00) to midnight (+02:00).
        #expect(
            spring.windows == [
                BusinessWindow(
                    date: try date("2026-03-28"), start: Timestamp(rfc3339: "2026-03-28T08:00:00Z")!,
                    end: Timestamp(rfc3339: "2026-03-28T16:00:00Z")!),
                BusinessWindow(
                    date: try date("2026-03-29"), start: Timestamp(rfc3339: "2026-03-28T23:00:00Z")!,
                    end: Timestamp(rfc3339: "2026-03-29T22:00:00Z")!),
            ])
        #expect(spring.windows[1].milliseconds == 23 * hour && spring.total == 31 * hour)

        let autumn = calendar.explainBusinessTime(
            from: Timestamp(rfc3339: "2026-10-24T12:00:00Z")!, to: Timestamp(rfc3339: "2026-10-26T00:00:00Z")!)
        #expect(
            autumn.notableDays == [
                NotableDay(date: try date("2026-10-25"), kind: .daylightSaving, offsets: (before: 2 * hour, after: hour))
            ])
        #expect(autumn.windows.last?.milliseconds == 25 * hour, "\(autumn.windows)")
        #expect(
            autumn.total
                == calendar.businessDuration(
                    from: Timestamp(rfc3339: "2026-10-24T12:00:00Z")!, to: Timestamp(rfc3339: "2026-10-26T00:00:00Z")!))
    }

    @Test func aHolidayOnlyTouchedAtItsEdgeIsNotNamed() throws {
        var policy = Policy.default
        policy.holidays = [try date("2026-05-01"), try date("2026-05-04")]
        let calendar = try BusinessCalendar(policy: policy)
        // [Thursday 18:00, Friday 00:00) local: Friday's holiday starts where the interval ends.
        let before = calendar.explainBusinessTime(
            from: Timestamp(rfc3339: "2026-04-30T16:00:00Z")!, to: Timestamp(rfc3339: "2026-04-30T22:00:00Z")!)
        #expect(before.notableDays.isEmpty && before.total == hour, "\(before)")
        // One millisecond into Friday names it.
        let touching = calendar.explainBusinessTime(
            from: Timestamp(rfc3339: "2026-04-30T16:00:00Z")!, to: Timestamp(rfc3339: "2026-04-30T22:00:00.001Z")!)
        #expect(touching.notableDays == [NotableDay(date: try date("2026-05-01"), kind: .holiday)], "\(touching)")
    }

    // MARK: Checking one explanation

    static func expectExplained(
        _ calendar: BusinessCalendar, holidays: Set<LocalDate>, from: Timestamp, to: Timestamp, _ gregorian: Calendar, _ what: String
    ) throws {
        let explained = calendar.explainBusinessTime(from: from, to: to)
        let duration = calendar.businessDuration(from: from, to: to)
        #expect(explained.total == duration, "\(what): total")
        #expect(explained.windows.reduce(0) { $0 + $1.milliseconds } == duration, "\(what): the windows' sum")
        #expect(explained.windowCount == explained.windows.count, "\(what): count")
        var previous = from
        for window in explained.windows {
            #expect(window.start >= previous && window.end > window.start && window.end <= to, "\(what): \(window) out of order or bounds")
            // Only business time inside a window, none between windows.
            #expect(calendar.businessDuration(from: window.start, to: window.end) == window.milliseconds, "\(what): \(window)")
            #expect(calendar.businessDuration(from: previous, to: window.start) == 0, "\(what): business time before \(window)")
            #expect(localDate(window.start.milliseconds, gregorian) == window.date, "\(what): \(window) starts on another date")
            #expect(localDate(window.end.milliseconds - 1, gregorian) == window.date, "\(what): \(window) ends on another date")
            previous = window.end
        }
        #expect(calendar.businessDuration(from: previous, to: to) == 0, "\(what): business time after the last window")

        // Every local date the interval touches, holidays and offset changes named by date.
        var expected: [NotableDay] = []
        if to > from {
            var day = localDate(from.milliseconds, gregorian)
            let lastDay = localDate(to.milliseconds - 1, gregorian)
            while day <= lastDay {
                if holidays.contains(day) { expected.append(NotableDay(date: day, kind: .holiday)) }
                let (start, end) = try bounds(of: day, gregorian)
                let before = Int64(gregorian.timeZone.secondsFromGMT(for: foundationDate(start))) * 1000
                let after = Int64(gregorian.timeZone.secondsFromGMT(for: foundationDate(end - 1))) * 1000
                if before != after { expected.append(NotableDay(date: day, kind: .daylightSaving, offsets: (before, after))) }
                day = localDate(end, gregorian)
            }
        }
        #expect(explained.notableDays == expected, "\(what): notable days")
    }

    /// Half the time on a whole minute, so that window bounds and transitions are hit exactly.
    static func instant(in range: ClosedRange<Int64>, _ rng: inout SeededRandom) -> Timestamp {
        let raw = Int64.random(in: range, using: &rng)
        return Timestamp(milliseconds: Bool.random(using: &rng) ? raw - raw % 60_000 : raw)
    }

    /// A random week of windows (some at midnight, where some zones change), holidays near the
    /// zone's changes.
    static func randomCalendar(_ zone: String, transitions: [Int64], _ rng: inout SeededRandom) throws -> (BusinessCalendar, Set<LocalDate>)
    {
        func hhmm(_ minutes: Int) -> String {
            let h = minutes / 60, m = minutes % 60
            return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
        }
        var texts: [Weekday: [String]] = [:]
        for day in Weekday.allCases where Double.random(in: 0..<1, using: &rng) < 0.8 {
            var windows: [String] = []
            var start = Bool.random(using: &rng) ? 0 : Int.random(in: 0...40, using: &rng) * 30
            for _ in 0..<Int.random(in: 1...3, using: &rng) where start < 24 * 60 {
                let end = min(24 * 60, start + Int.random(in: 1...24, using: &rng) * 30)
                windows.append("\(hhmm(start))-\(hhmm(end))")
                start = end + Int.random(in: 1...6, using: &rng) * 30
            }
            texts[day] = windows
        }
        var holidays: Set<LocalDate> = []
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            let near = transitions.isEmpty ? Int64(1_767_225_600_000) : transitions[Int.random(in: 0..<transitions.count, using: &rng)]
            let (y, m, d) = CivilCalendar.date(daysSinceEpoch: Int(near / 86_400_000) + Int.random(in: -3...3, using: &rng))
            if let day = LocalDate(year: y, month: m, day: d) { holidays.insert(day) }
        }
        return (try BusinessCalendar(timeZoneIdentifier: zone, schedule: try schedule(texts), holidays: holidays), holidays)
    }

    static func foundationDate(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    static func localDate(_ milliseconds: Int64, _ gregorian: Calendar) -> LocalDate {
        let c = gregorian.dateComponents([.year, .month, .day], from: foundationDate(milliseconds))
        return LocalDate(year: c.year ?? 1, month: c.month ?? 1, day: c.day ?? 1)!
    }

    /// The first instant of a local date and of the next one.
    static func bounds(of day: LocalDate, _ gregorian: Calendar) throws -> (Int64, Int64) {
        let noon = try #require(gregorian.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12)))
        let start = gregorian.startOfDay(for: noon)
        let next = gregorian.startOfDay(for: try #require(gregorian.date(byAdding: .day, value: 1, to: noon)))
        return (Int64((start.timeIntervalSince1970 * 1000).rounded()), Int64((next.timeIntervalSince1970 * 1000).rounded()))
    }
}
