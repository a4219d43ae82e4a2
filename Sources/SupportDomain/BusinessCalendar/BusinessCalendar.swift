import EventLog
import Foundation

/// Business time and local calendar buckets in a policy's time zone.
///
/// **Business time** between `a` and `b` is the overlap of `[a, b)` with the business windows.
/// Each window is a local wall-clock interval `[start, end)` of one local date, turned into
/// instants through the zone: a window spanning a daylight-saving change is an hour shorter or
/// longer; a bound in a gap (a skipped wall time) moves forward by the length of the gap; a bound
/// in a fold (a repeated wall time) is its first occurrence. Holidays are whole local dates with
/// no business time.
///
/// Business time is only defined for local dates 0001-01-01 through 9999-12-31; instants
/// outside count no business time, and bucket functions clamp them into that span.
///
/// The windows of ``precomputedYears`` are computed once at construction as UTC millisecond
/// intervals with running totals, so within those years ``businessDuration(from:to:)`` and
/// ``bucketStart(containing:unit:)`` are O(1) and ``adding(businessMilliseconds:to:)`` is a short
/// search, with no Foundation calls. Outside those years the same answers come from timelines of
/// single years, each built on first use and kept (`YearTimelines`, shared by the copies of one
/// calendar), and, for spans those do not cover, from a slower path that builds the needed days
/// on the fly.
///
/// The calendar is immutable and cheap to copy; share one per policy.
public struct BusinessCalendar: Sendable {
    /// The years whose business windows are precomputed unless told otherwise.
    public static let defaultPrecomputedYears: ClosedRange<Int> = 1990...2100

    /// The IANA identifier of the zone.
    public let timeZoneIdentifier: String

    /// The local years whose windows are precomputed.
    public let precomputedYears: ClosedRange<Int>

    let timeZone: TimeZone
    let schedule: WeeklySchedule
    /// Whether the schedule has any window at all.
    let hasBusinessHours: Bool
    /// Holiday day numbers (days since 1970-01-01).
    let holidayDays: Set<Int>
    /// The precomputed days.
    let precomputed: BusinessTimeline
    /// Single years outside the precomputed ones, built when first asked for.
    let yearTimelines = YearTimelines()

    /// Local day 0001-01-01, the first day with business time.
    static let firstSupportedDay = CivilCalendar.daysSinceEpoch(year: 1, month: 1, day: 1)
    /// Local day 10000-01-01, the first day after the days with business time.
    static let endOfSupportedDays = CivilCalendar.daysSinceEpoch(year: 10000, month: 1, day: 1)
    /// The most days the slow path builds at a time.
    private static let slowPathChunkDays = 7305

    /// Builds the calendar of a policy's time zone, schedule and holidays.
    public init(
        policy: Policy,
        precomputedYears: ClosedRange<Int> = BusinessCalendar.defaultPrecomputedYears
    ) throws(BusinessCalendarError) {
        try self.init(
            timeZoneIdentifier: policy.timeZoneIdentifier,
            schedule: policy.schedule,
            holidays: policy.holidays,
            precomputedYears: precomputedYears
        )
    }

    /// Builds a calendar from a time zone, a weekly schedule and holidays.
    ///
    /// - Parameters:
    ///   - timeZoneIdentifier: the IANA time zone the schedule and holidays are local to.
    ///   - schedule: the weekly opening hours.
    ///   - holidays: the local dates without business time.
    ///   - precomputedYears: the local years to precompute (within 1...9999). Memory is about 16
    ///     bytes per business window plus 16 bytes per day: roughly 1.2 MB for the default years
    ///     and a one-window-a-day schedule.
    public init(
        timeZoneIdentifier: String,
        schedule: WeeklySchedule,
        holidays: Set<LocalDate>,
        precomputedYears: ClosedRange<Int> = BusinessCalendar.defaultPrecomputedYears
    ) throws(BusinessCalendarError) {
        guard let zone = IANATimeZone.named(timeZoneIdentifier) else {
            throw .unknownTimeZone(timeZoneIdentifier)
        }
        guard precomputedYears.lowerBound >= 1, precomputedYears.upperBound <= 9999 else {
            throw .precomputedYearsOutOfRange(precomputedYears)
        }
        self.init(
            zone: zone, identifier: timeZoneIdentifier, schedule: schedule, holidays: holidays,
            precomputedYears: precomputedYears)
    }

    /// The calendar of a policy's schedule and holidays in its time zone, or in UTC on a system
    /// without data for that zone: for the demo generator's clock, which must always run.
    package init(policyOrUTC policy: Policy) {
        let zone = IANATimeZone.named(policy.timeZoneIdentifier)
        self.init(
            zone: zone ?? .gmt, identifier: zone == nil ? "UTC" : policy.timeZoneIdentifier,
            schedule: policy.schedule, holidays: policy.holidays, precomputedYears: Self.defaultPrecomputedYears)
    }

    private init(
        zone: TimeZone, identifier timeZoneIdentifier: String, schedule: WeeklySchedule,
        holidays: Set<LocalDate>, precomputedYears: ClosedRange<Int>
    ) {
        self.timeZoneIdentifier = timeZoneIdentifier
        self.precomputedYears = precomputedYears
        self.timeZone = zone
        self.schedule = schedule
        self.hasBusinessHours = !schedule.isAlwaysClosed
        self.holidayDays = Set(holidays.map(\.daysSinceEpoch))
        let firstDay = CivilCalendar.daysSinceEpoch(year: precomputedYears.lowerBound, month: 1, day: 1)
        let endDay = CivilCalendar.daysSinceEpoch(year: precomputedYears.upperBound + 1, month: 1, day: 1)
        self.precomputed = BusinessTimeline(days: firstDay..<endDay, zone: zone, schedule: schedule, holidays: holidayDays)
    }

    // MARK: Business time

    /// The business time in `[from, to)`, in milliseconds; 0 when `to <= from`.
    public func businessDuration(from: Timestamp, to: Timestamp) -> Int64 {
        let start = from.milliseconds
        let end = to.milliseconds
        guard end > start else { return 0 }
        if precomputed.covers(start), precomputed.covers(end) {
            return precomputed.businessTime(upTo: end) - precomputed.businessTime(upTo: start)
        }
        return businessDurationOverYears(from: start, to: end) ?? businessDurationOnSlowPath(from: start, to: end)
    }

    /// The earliest instant `t` with `businessDuration(from: start, to: t) == amount`.
    ///
    /// - Returns: `start` itself when `amount` is 0, and `nil` ("never") when no such instant
    ///   exists: `amount` is negative, the schedule has no window at all, or the business time
    ///   left before the end of year 9999 is less than `amount`.
    public func adding(businessMilliseconds amount: Int64, to start: Timestamp) -> Timestamp? {
        guard amount > 0 else { return amount == 0 ? start : nil }
        guard hasBusinessHours else { return nil }
        if precomputed.covers(start.milliseconds),
            let end = precomputed.instant(addingBusinessTime: amount, to: start.milliseconds)
        {
            return Timestamp(milliseconds: end)
        }
        if let end = addingOverYears(amount, to: start.milliseconds) {
            return Timestamp(milliseconds: end)
        }
        return addingOnSlowPath(amount, to: start.milliseconds).map(Timestamp.init(milliseconds:))
    }

    // MARK: Year timelines

    /// The most timelines a query walks through before leaving the rest to the slow path.
    private static let yearWalkLimit = 4

    /// The precomputed timeline or a single year's covering `instant`, or `nil` outside the
    /// supported years.
    private func tableTimeline(covering instant: Int64) -> BusinessTimeline? {
        if precomputed.covers(instant) { return precomputed }
        // A local day is within a day of the UTC day, so the local year is the UTC day's year or
        // a neighbour.
        let utcDay = instant.floorDivided(by: CivilCalendar.millisecondsPerDay)
        guard utcDay > Int64(Self.firstSupportedDay), utcDay < Int64(Self.endOfSupportedDays) else { return nil }
        let year = CivilCalendar.date(daysSinceEpoch: Int(utcDay)).year
        for candidate in [year, year - 1, year + 1] {
            if let timeline = tableTimeline(startingAtDay: CivilCalendar.daysSinceEpoch(year: candidate, month: 1, day: 1)),
                timeline.covers(instant)
            {
                return timeline
            }
        }
        return nil
    }

    /// The precomputed timeline when it starts at `day`, otherwise the timeline of the year
    /// starting at `day` (a January 1st outside the precomputed years), or `nil`.
    private func tableTimeline(startingAtDay day: Int) -> BusinessTimeline? {
        if day == precomputed.days.lowerBound { return precomputed }
        let year = CivilCalendar.date(daysSinceEpoch: day).year
        guard (1...9999).contains(year), !precomputedYears.contains(year),
            CivilCalendar.daysSinceEpoch(year: year, month: 1, day: 1) == day
        else { return nil }
        let end = CivilCalendar.daysSinceEpoch(year: year + 1, month: 1, day: 1)
        return yearTimelines.timeline(ofYear: year) {
            BusinessTimeline(days: day..<end, zone: timeZone, schedule: schedule, holidays: holidayDays)
        }
    }

    /// Business time in `[start, end)` summed over the year timelines (and the precomputed one)
    /// from the start's to the end's, or `nil` when that takes more than a few of them.
    private func businessDurationOverYears(from start: Int64, to end: Int64) -> Int64? {
        guard var timeline = tableTimeline(covering: start) else { return nil }
        var total = -timeline.businessTime(upTo: start)
        for _ in 0..<Self.yearWalkLimit {
            if timeline.covers(end) { return total + timeline.businessTime(upTo: end) }
            total += timeline.totalBusinessTime
            guard let next = tableTimeline(startingAtDay: timeline.days.upperBound) else { return nil }
            timeline = next
        }
        return nil
    }

    /// The earliest instant with `amount` (positive) business time after `start`, walking the
    /// year timelines (and the precomputed one), or `nil` when that takes more than a few of them.
    private func addingOverYears(_ amount: Int64, to start: Int64) -> Int64? {
        guard var timeline = tableTimeline(covering: start) else { return nil }
        var from = start
        var remaining = amount
        for _ in 0..<Self.yearWalkLimit {
            if let end = timeline.instant(addingBusinessTime: remaining, to: from) { return end }
            remaining -= timeline.totalBusinessTime - timeline.businessTime(upTo: from)
            guard let next = tableTimeline(startingAtDay: timeline.days.upperBound) else { return nil }
            from = next.startInstant
            timeline = next
        }
        return nil
    }

    // MARK: Slow path

    /// Sums the business time of consecutive timelines (the precomputed one where it applies,
    /// others built on demand) over the local days around `[start, end)`.
    private func businessDurationOnSlowPath(from start: Int64, to end: Int64) -> Int64 {
        var day = clampedToSupportedDays(estimatedLocalDay(of: start) - 1)
        let endDay = clampedToSupportedDays(estimatedLocalDay(of: end) + 2)
        var total: Int64 = 0
        while day < endDay {
            let timeline = timeline(startingAt: day, notBeyond: endDay, maximumDays: Self.slowPathChunkDays)
            total += timeline.businessDuration(from: start, to: end)
            day = timeline.days.upperBound
        }
        return total
    }

    /// Walks consecutive timelines from the start's day, consuming business time until `amount`
    /// is reached, or `nil` at the end of the supported days.
    private func addingOnSlowPath(_ amount: Int64, to start: Int64) -> Int64? {
        var day = clampedToSupportedDays(estimatedLocalDay(of: start) - 1)
        // No local day lasts 72 hours, so an amount above that per remaining day can never be
        // reached: answer at once instead of walking to the year 9999.
        let remainingDays = Int64(Self.endOfSupportedDays - day)
        guard amount / (3 * CivilCalendar.millisecondsPerDay) <= remainingDays else { return nil }
        var remaining = amount
        var chunkDays = 64
        while day < Self.endOfSupportedDays {
            let timeline = timeline(startingAt: day, notBeyond: Self.endOfSupportedDays, maximumDays: chunkDays)
            chunkDays = min(chunkDays * 2, Self.slowPathChunkDays)
            if start < timeline.endInstant {
                let from = max(start, timeline.startInstant)
                if let end = timeline.instant(addingBusinessTime: remaining, to: from) {
                    return end
                }
                remaining -= timeline.totalBusinessTime - timeline.businessTime(upTo: from)
            }
            day = timeline.days.upperBound
        }
        return nil
    }

    /// The precomputed timeline when it covers `day`, otherwise a new one from `day` up to the
    /// nearest of `limit`, `maximumDays` later, and the start of the precomputed days.
    func timeline(startingAt day: Int, notBeyond limit: Int, maximumDays: Int) -> BusinessTimeline {
        if precomputed.days.contains(day) { return precomputed }
        var end = min(limit, day + maximumDays)
        if day < precomputed.days.lowerBound { end = min(end, precomputed.days.lowerBound) }
        return BusinessTimeline(days: day..<max(end, day + 1), zone: timeZone, schedule: schedule, holidays: holidayDays)
    }

    /// The local date of `instant` as a day number, from the precomputed offsets when they
    /// cover it and from Foundation otherwise (the instant is clamped to the supported days).
    func estimatedLocalDay(of instant: Int64) -> Int {
        let millisecondsPerDay = CivilCalendar.millisecondsPerDay
        let clamped = min(
            max(instant, Int64(Self.firstSupportedDay - 2) * millisecondsPerDay),
            Int64(Self.endOfSupportedDays + 2) * millisecondsPerDay
        )
        return Int((clamped + utcOffset(at: clamped)).floorDivided(by: millisecondsPerDay))
    }

    /// The zone's UTC offset in milliseconds at `instant`.
    package func utcOffset(at instant: Int64) -> Int64 {
        if precomputed.zoneOffsets.coveredInstants.contains(instant) {
            return precomputed.zoneOffsets.offset(at: instant)
        }
        let millisecondsPerDay = CivilCalendar.millisecondsPerDay
        let clamped = min(
            max(instant, Int64(Self.firstSupportedDay - 2) * millisecondsPerDay),
            Int64(Self.endOfSupportedDays + 2) * millisecondsPerDay
        )
        return Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(clamped) / 1000))) * 1000
    }

    /// The instant of a local wall time (milliseconds read on the zone's clock): a wall time in
    /// a gap moves forward by the length of the gap, one in a fold is its first occurrence.
    package func instant(atWallTime wallTime: Int64) -> Int64 {
        let margin = 2 * CivilCalendar.millisecondsPerDay
        let zoneOffsets = precomputed.zoneOffsets
        if zoneOffsets.coveredInstants.contains(wallTime - margin), zoneOffsets.coveredInstants.contains(wallTime + margin) {
            return zoneOffsets.instantMovingGapsForward(forWallTime: wallTime)
        }
        return ZoneOffsetTimeline(zone: timeZone, covering: (wallTime - margin)..<(wallTime + margin))
            .instantMovingGapsForward(forWallTime: wallTime)
    }

    private func clampedToSupportedDays(_ day: Int) -> Int {
        min(max(day, Self.firstSupportedDay), Self.endOfSupportedDays)
    }
}
