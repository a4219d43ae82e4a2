import EventLog

extension BusinessCalendar {
    /// The start of the local day, ISO week (from Monday) or month containing `instant`.
    ///
    /// Buckets are half-open local calendar units in the calendar's zone: a bucket starts at its
    /// first local date's midnight, or, where that midnight does not exist (a daylight-saving gap
    /// at midnight), at the first instant of that local date. So a daylight-saving day is 23 h or
    /// 25 h long, and the bucket of an instant exactly at a bucket start is the one it starts.
    public func bucketStart(containing instant: Timestamp, unit: BucketUnit) -> Timestamp {
        let milliseconds = instant.milliseconds
        if let day = precomputedDayWithBucketMargin(containing: milliseconds) {
            return Timestamp(milliseconds: precomputed.dayStart(ofDay: Self.firstDay(ofBucketContaining: day, unit: unit)))
        }
        let (timeline, day) = timelineAroundDay(containing: milliseconds)
        return Timestamp(milliseconds: timeline.dayStart(ofDay: Self.firstDay(ofBucketContaining: day, unit: unit)))
    }

    /// The start of the bucket after the one containing `bucketStart` (which is normally itself
    /// a bucket start): the next local midnight, Monday midnight, or first-of-month midnight.
    public func nextBucketStart(after bucketStart: Timestamp, unit: BucketUnit) -> Timestamp {
        let milliseconds = bucketStart.milliseconds
        if let day = precomputedDayWithBucketMargin(containing: milliseconds) {
            return Timestamp(milliseconds: precomputed.dayStart(ofDay: Self.firstDay(ofBucketAfter: day, unit: unit)))
        }
        let (timeline, day) = timelineAroundDay(containing: milliseconds)
        return Timestamp(milliseconds: timeline.dayStart(ofDay: Self.firstDay(ofBucketAfter: day, unit: unit)))
    }

    /// The local wall time of `instant` with its UTC offset, as in `2026-03-30T00:00:00+02:00`.
    ///
    /// Milliseconds are written (`.250`) only when not zero, seconds of the offset only when not
    /// zero (historical local mean time), and a zero offset is `+00:00`, never `Z`.
    public func formatBucketStart(_ instant: Timestamp) -> String {
        LocalTimestampFormatter.format(instant: instant.milliseconds, utcOffset: utcOffset(at: instant.milliseconds))
    }

    /// How many days around an instant's day a bucket look-up may need: a month back, a month ahead.
    private static let bucketMarginDays = 40

    /// The precomputed local day containing `instant`, when the precomputed days also cover
    /// the days its buckets need; `nil` otherwise.
    private func precomputedDayWithBucketMargin(containing instant: Int64) -> Int? {
        guard precomputed.startInstant <= instant, instant < precomputed.endInstant else { return nil }
        let day = precomputed.day(containing: instant)
        guard day - Self.bucketMarginDays >= precomputed.days.lowerBound,
            day + Self.bucketMarginDays <= precomputed.days.upperBound
        else { return nil }
        return day
    }

    /// The local day containing `instant` (clamped to the supported days), with a timeline built
    /// for the days its buckets need.
    private func timelineAroundDay(containing instant: Int64) -> (BusinessTimeline, Int) {
        let millisecondsPerDay = CivilCalendar.millisecondsPerDay
        let clamped = min(
            max(instant, Int64(Self.firstSupportedDay) * millisecondsPerDay),
            Int64(Self.endOfSupportedDays) * millisecondsPerDay - 1
        )
        let estimate = estimatedLocalDay(of: clamped)
        let timeline = BusinessTimeline(
            days: (estimate - Self.bucketMarginDays)..<(estimate + Self.bucketMarginDays),
            zone: timeZone,
            schedule: .alwaysClosed,
            holidays: []
        )
        let day = min(max(timeline.day(containing: clamped), Self.firstSupportedDay), Self.endOfSupportedDays - 1)
        return (timeline, day)
    }

    private static func firstDay(ofBucketContaining day: Int, unit: BucketUnit) -> Int {
        switch unit {
        case .day:
            return day
        case .week:
            return day - CivilCalendar.isoWeekdayIndex(daysSinceEpoch: day)
        case .month:
            let date = CivilCalendar.date(daysSinceEpoch: day)
            return CivilCalendar.daysSinceEpoch(year: date.year, month: date.month, day: 1)
        }
    }

    private static func firstDay(ofBucketAfter day: Int, unit: BucketUnit) -> Int {
        switch unit {
        case .day:
            return day + 1
        case .week:
            return firstDay(ofBucketContaining: day, unit: .week) + 7
        case .month:
            let date = CivilCalendar.date(daysSinceEpoch: day)
            return date.month == 12
                ? CivilCalendar.daysSinceEpoch(year: date.year + 1, month: 1, day: 1)
                : CivilCalendar.daysSinceEpoch(year: date.year, month: date.month + 1, day: 1)
        }
    }
}
