import EventLog
import Foundation

/// The business windows of a run of consecutive local days as UTC millisecond intervals, with
/// running totals of business time, so that business time up to an instant is an O(1) day
/// look-up and adding business time is a search over the running totals.
///
/// Local day `d` (a day number, days since 1970-01-01 on the local calendar) covers the
/// instants `[dayStart(d), dayStart(d + 1))`, where a day starts at the first instant whose wall
/// time is that local midnight or later. A day's business windows are its schedule's windows
/// (none on holidays) with each bound turned into an instant through the zone, clipped to the
/// day, and merged where they overlap or touch, so windows are disjoint and ascending.
///
/// Immutable after construction, hence `Sendable`.
struct BusinessTimeline: Sendable {
    /// The local days covered; never empty.
    let days: Range<Int>

    /// The zone's offsets, covering every instant of ``days`` with a margin.
    let zoneOffsets: ZoneOffsetTimeline

    /// `days.count + 1` instants: the start of each day, then the end of the last one.
    private let dayStarts: [Int64]

    /// `days.count + 1` window indices: the first window of each day, then the window count.
    private let firstWindowOfDay: [Int]

    /// The opening instant of each window, ascending.
    private let windowStarts: [Int64]

    /// `windowStarts.count + 1` running totals: business time before each window, then in total.
    private let businessTimeBeforeWindow: [Int64]

    /// Builds the timeline of `days` (at least one day).
    init(days requestedDays: Range<Int>, zone: TimeZone, schedule: WeeklySchedule, holidays: Set<Int>) {
        let days = requestedDays.isEmpty ? requestedDays.lowerBound..<(requestedDays.lowerBound + 1) : requestedDays
        let millisecondsPerDay = CivilCalendar.millisecondsPerDay
        let margin = 2 * millisecondsPerDay
        let zoneOffsets = ZoneOffsetTimeline(
            zone: zone,
            covering: (Int64(days.lowerBound) * millisecondsPerDay - margin)..<(Int64(days.upperBound) * millisecondsPerDay + margin)
        )
        var dayStarts: [Int64] = []
        dayStarts.reserveCapacity(days.count + 1)
        for day in days.lowerBound...days.upperBound {
            dayStarts.append(zoneOffsets.firstInstant(atOrAfterWallTime: Int64(day) * millisecondsPerDay))
        }

        var firstWindowOfDay: [Int] = []
        firstWindowOfDay.reserveCapacity(days.count + 1)
        var windowStarts: [Int64] = []
        var businessTimeBeforeWindow: [Int64] = [0]
        var dayWindows: [(start: Int64, end: Int64)] = []
        for (index, day) in days.enumerated() {
            firstWindowOfDay.append(windowStarts.count)
            let localWindows = schedule.windows(onISOWeekday: CivilCalendar.isoWeekdayIndex(daysSinceEpoch: day))
            guard !localWindows.isEmpty, !holidays.contains(day) else { continue }
            let midnight = Int64(day) * millisecondsPerDay
            let dayStart = dayStarts[index]
            let dayEnd = dayStarts[index + 1]
            dayWindows.removeAll(keepingCapacity: true)
            for window in localWindows {
                let start = zoneOffsets.instantMovingGapsForward(forWallTime: midnight + Int64(window.startMinute) * 60_000)
                let end = zoneOffsets.instantMovingGapsForward(forWallTime: midnight + Int64(window.endMinute) * 60_000)
                let clippedStart = min(max(start, dayStart), dayEnd)
                let clippedEnd = min(max(end, dayStart), dayEnd)
                if clippedEnd > clippedStart { dayWindows.append((clippedStart, clippedEnd)) }
            }
            // Moving gap bounds forward can reorder or overlap windows near a gap.
            dayWindows.sort { $0.start < $1.start }
            var merged: (start: Int64, end: Int64)?
            for window in dayWindows {
                if let current = merged, window.start <= current.end {
                    merged = (current.start, max(current.end, window.end))
                } else {
                    if let current = merged {
                        Self.append(current, to: &windowStarts, totals: &businessTimeBeforeWindow)
                    }
                    merged = window
                }
            }
            if let current = merged {
                Self.append(current, to: &windowStarts, totals: &businessTimeBeforeWindow)
            }
        }
        firstWindowOfDay.append(windowStarts.count)

        self.days = days
        self.zoneOffsets = zoneOffsets
        self.dayStarts = dayStarts
        self.firstWindowOfDay = firstWindowOfDay
        self.windowStarts = windowStarts
        self.businessTimeBeforeWindow = businessTimeBeforeWindow
    }

    private static func append(
        _ window: (start: Int64, end: Int64),
        to starts: inout [Int64],
        totals: inout [Int64]
    ) {
        starts.append(window.start)
        totals.append(totals[totals.count - 1] + (window.end - window.start))
    }

    /// The first instant of the first day.
    var startInstant: Int64 { dayStarts[0] }

    /// The instant the last day ends (the next day's start).
    var endInstant: Int64 { dayStarts[dayStarts.count - 1] }

    /// Whether `instant` lies in `[startInstant, endInstant]`.
    func covers(_ instant: Int64) -> Bool {
        instant >= dayStarts[0] && instant <= dayStarts[dayStarts.count - 1]
    }

    /// The start of local day `day`, which must be in `days.lowerBound...days.upperBound`
    /// (the bound is clamped into that range).
    func dayStart(ofDay day: Int) -> Int64 {
        dayStarts[min(max(day - days.lowerBound, 0), days.count)]
    }

    /// The local day whose instants include `instant`, which must be in `[startInstant, endInstant)`
    /// (instants outside are attributed to the first or last day).
    func day(containing instant: Int64) -> Int {
        days.lowerBound + dayIndex(containing: instant)
    }

    /// Index into ``days`` of the day containing `instant`, clamped to the covered days. O(1):
    /// a guess from the elapsed time, corrected by the offset drift (at most a few steps).
    private func dayIndex(containing instant: Int64) -> Int {
        let lastIndex = dayStarts.count - 2
        let elapsedDays = (instant - dayStarts[0]) / CivilCalendar.millisecondsPerDay
        var index = Int(min(max(elapsedDays, 0), Int64(lastIndex)))
        while index > 0, dayStarts[index] > instant { index -= 1 }
        while index < lastIndex, dayStarts[index + 1] <= instant { index += 1 }
        return index
    }

    /// Business time in `[startInstant, instant)`; `instant` is clamped to the covered instants.
    func businessTime(upTo instant: Int64) -> Int64 {
        let instant = min(max(instant, dayStarts[0]), dayStarts[dayStarts.count - 1])
        let day = dayIndex(containing: instant)
        var window = firstWindowOfDay[day]
        let endWindow = firstWindowOfDay[day + 1]
        var total = businessTimeBeforeWindow[window]
        while window < endWindow {
            let start = windowStarts[window]
            guard start < instant else { break }
            let before = businessTimeBeforeWindow[window]
            total = before + min(instant - start, businessTimeBeforeWindow[window + 1] - before)
            window += 1
        }
        return total
    }

    /// Business time in `[from, to)`, counting only the covered instants.
    func businessDuration(from: Int64, to: Int64) -> Int64 {
        to > from ? businessTime(upTo: to) - businessTime(upTo: from) : 0
    }

    /// The business time of the whole timeline.
    var totalBusinessTime: Int64 {
        businessTimeBeforeWindow[businessTimeBeforeWindow.count - 1]
    }

    /// The earliest instant `t` with `businessDuration(from: start, to: t) == amount`, or `nil`
    /// when the timeline ends first. `start` must be covered and `amount` positive.
    func instant(addingBusinessTime amount: Int64, to start: Int64) -> Int64? {
        let (target, overflow) = businessTime(upTo: start).addingReportingOverflow(amount)
        guard !overflow, amount > 0, target <= totalBusinessTime else { return nil }
        // Windows before the start's day end no later than the start, so the answer is at or
        // after the day's first window: gallop forward from there, then bisect.
        let lastWindow = windowStarts.count - 1
        var low = firstWindowOfDay[dayIndex(containing: start)]
        var high = low
        var step = 1
        while businessTimeBeforeWindow[high + 1] < target {
            low = high + 1
            high = min(high + step, lastWindow)
            step = min(step * 2, 1 << 30)
        }
        // Now the first window whose running total reaches `target` is in `low...high`.
        while low < high {
            let middle = (low + high) / 2
            if businessTimeBeforeWindow[middle + 1] >= target { high = middle } else { low = middle + 1 }
        }
        return windowStarts[low] + (target - businessTimeBeforeWindow[low])
    }
}

extension BusinessTimeline {
    /// Calls `body` with each business window of the covered days that overlaps `[from, to)`,
    /// clipped to it, in order, with its local day; stops when `body` returns false.
    func forEachWindow(from: Int64, to: Int64, _ body: (_ day: Int, _ start: Int64, _ end: Int64) -> Bool) {
        guard to > from, from < endInstant, to > startInstant else { return }
        let firstDay = dayIndex(containing: max(from, startInstant))
        for index in firstDay..<days.count {
            guard dayStarts[index] < to else { return }
            for window in firstWindowOfDay[index]..<firstWindowOfDay[index + 1] {
                let start = windowStarts[window]
                let end = start + (businessTimeBeforeWindow[window + 1] - businessTimeBeforeWindow[window])
                let clippedStart = max(start, from), clippedEnd = min(end, to)
                if clippedEnd > clippedStart, !body(days.lowerBound + index, clippedStart, clippedEnd) { return }
            }
        }
    }

    /// Whether the zone's offset changes during local day `day` (a covered day): a
    /// daylight-saving day, 23 or 25 hours long.
    func offsetChanges(onDay day: Int) -> (before: Int64, after: Int64)? {
        let start = dayStart(ofDay: day), end = dayStart(ofDay: day + 1)
        let before = zoneOffsets.offset(at: start), after = zoneOffsets.offset(at: end - 1)
        return before == after ? nil : (before, after)
    }
}
