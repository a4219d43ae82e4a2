import Foundation
import SupportDomain

/// A deliberately naive model of business time and buckets, written from the definitions and
/// asking Foundation for the zone offset on every step. Slow, but independent of the
/// precomputed transition tables and timelines under test.
struct ReferenceBusinessCalendar {
    let zone: TimeZone
    let schedule: WeeklySchedule
    let holidays: Set<LocalDate>
    private let millisecondsPerDay: Int64 = 86_400_000
    private var utcCalendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? zone
        return calendar
    }

    func offset(at instant: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant) / 1000))) * 1000
    }

    private func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// The offsets in force within 30 hours of a wall time.
    private func nearbyOffsets(_ wallTime: Int64) -> Set<Int64> {
        Set(stride(from: -30, through: 30, by: 1).map { offset(at: wallTime + Int64($0) * 3_600_000) })
    }

    /// First occurrence, or moved forward by the gap when skipped.
    func instantMovingGapsForward(_ wallTime: Int64) -> Int64? {
        let offsets = nearbyOffsets(wallTime)
        let occurrences = offsets.filter { offset(at: wallTime - $0) == $0 }.map { wallTime - $0 }
        if let first = occurrences.min() { return first }
        return offsets.filter { offset(at: wallTime - $0) > $0 }.map { wallTime - $0 }.min()
    }

    /// First occurrence, or the end of the gap when skipped.
    func firstInstant(atOrAfter wallTime: Int64) -> Int64? {
        let offsets = nearbyOffsets(wallTime)
        let occurrences = offsets.filter { offset(at: wallTime - $0) == $0 }.map { wallTime - $0 }
        if let first = occurrences.min() { return first }
        guard let shifted = instantMovingGapsForward(wallTime) else { return nil }
        let offsetAfter = offset(at: shifted)
        // Bisect for the first instant with the offset after the gap.
        var low = wallTime - offsetAfter
        var high = shifted
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(at: middle) == offsetAfter { high = middle } else { low = middle }
        }
        return high
    }

    private func components(ofDay day: Int64) -> DateComponents {
        utcCalendar.dateComponents(
            [.year, .month, .day, .weekday],
            from: Date(timeIntervalSince1970: Double(day * 86_400 + 43_200)))
    }

    private func weekday(ofDay day: Int64) -> Weekday {
        // Foundation: 1 is Sunday.
        let all: [Weekday] = [.sunday, .monday, .tuesday, .wednesday, .thursday, .friday, .saturday]
        return all[(components(ofDay: day).weekday ?? 1) - 1]
    }

    private func localDate(ofDay day: Int64) -> LocalDate? {
        let parts = components(ofDay: day)
        return LocalDate(year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0)
    }

    func dayStart(_ day: Int64) -> Int64? {
        firstInstant(atOrAfter: day * millisecondsPerDay)
    }

    /// The business windows of one local day as merged instants.
    func windows(ofDay day: Int64) -> [(Int64, Int64)] {
        if let date = localDate(ofDay: day), holidays.contains(date) { return [] }
        guard let start = dayStart(day), let end = dayStart(day + 1) else { return [] }
        var mapped: [(Int64, Int64)] = []
        for window in schedule.windows(on: weekday(ofDay: day)) {
            guard let a = instantMovingGapsForward(day * millisecondsPerDay + Int64(window.startMinute) * 60_000),
                let b = instantMovingGapsForward(day * millisecondsPerDay + Int64(window.endMinute) * 60_000)
            else { continue }
            let clippedA = min(max(a, start), end)
            let clippedB = min(max(b, start), end)
            if clippedB > clippedA { mapped.append((clippedA, clippedB)) }
        }
        mapped.sort { $0.0 < $1.0 }
        var merged: [(Int64, Int64)] = []
        for window in mapped {
            if let last = merged.last, window.0 <= last.1 {
                merged[merged.count - 1] = (last.0, max(last.1, window.1))
            } else {
                merged.append(window)
            }
        }
        return merged
    }

    func businessDuration(from a: Int64, to b: Int64) -> Int64 {
        guard b > a else { return 0 }
        let firstDay = floorDivide(a + offset(at: a), millisecondsPerDay) - 2
        let lastDay = floorDivide(b + offset(at: b), millisecondsPerDay) + 2
        var total: Int64 = 0
        for day in firstDay...lastDay {
            for (start, end) in windows(ofDay: day) {
                total += max(0, min(end, b) - max(start, a))
            }
        }
        return total
    }

    /// The day `d` with `dayStart(d) <= instant < dayStart(d + 1)`.
    func day(containing instant: Int64) -> Int64 {
        var day = floorDivide(instant + offset(at: instant), millisecondsPerDay)
        while let start = dayStart(day), start > instant { day -= 1 }
        while let next = dayStart(day + 1), next <= instant { day += 1 }
        return day
    }

    func bucketStart(containing instant: Int64, unit: BucketUnit) -> Int64? {
        let day = self.day(containing: instant)
        switch unit {
        case .day:
            return dayStart(day)
        case .week:
            var monday = day
            while weekday(ofDay: monday) != .monday { monday -= 1 }
            return dayStart(monday)
        case .month:
            return dayStart(day - Int64((components(ofDay: day).day ?? 1) - 1))
        }
    }
}
