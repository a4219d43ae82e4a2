import EventLog

/// One business window, or the part of it inside an interval: business time that counted.
public struct BusinessWindow: Sendable, Equatable {
    /// The local date the window belongs to.
    public var date: LocalDate
    /// Where the counted part starts.
    public var start: Timestamp
    /// Where the counted part ends (exclusive).
    public var end: Timestamp

    /// The business time the window counts, in milliseconds.
    public var milliseconds: Int64 { end.milliseconds - start.milliseconds }
}

/// A local date inside an interval whose business time is not the schedule's usual one.
public struct NotableDay: Sendable, Equatable {
    /// Why the day is notable.
    public enum Kind: String, Sendable {
        /// A holiday of the policy: no business time.
        case holiday
        /// The zone's UTC offset changes that day (it is 23 or 25 hours long): windows around the
        /// change are an hour shorter or longer.
        case daylightSaving
    }

    /// The local date.
    public var date: LocalDate
    /// Why it is notable.
    public var kind: Kind
    /// For a daylight-saving day, the UTC offset (milliseconds) at its start and at its end.
    public var offsets: (before: Int64, after: Int64)?

    /// Two notable days are the same date, kind and offsets.
    public static func == (a: NotableDay, b: NotableDay) -> Bool {
        a.date == b.date && a.kind == b.kind && a.offsets?.before == b.offsets?.before && a.offsets?.after == b.offsets?.after
    }
}

/// The business time of an interval, explained: the windows that counted and the days that were
/// not as usual. Its windows sum to ``BusinessCalendar/businessDuration(from:to:)`` of the
/// interval (the same timelines answer both).
public struct BusinessTimeExplained: Sendable, Equatable {
    /// The windows that counted, in order (at most the limit asked for).
    public var windows: [BusinessWindow]
    /// How many windows counted in the days explained (more than `windows.count` when the list
    /// was cut; the windows of the first 10,000 local days or more of a longer interval only).
    public var windowCount: Int
    /// The business time of the whole interval, in milliseconds: its
    /// ``BusinessCalendar/businessDuration(from:to:)``, also when the windows are counted for its
    /// first days only.
    public var total: Int64
    /// Holidays and daylight-saving days of the interval, by date.
    public var notableDays: [NotableDay]
}

extension BusinessCalendar {
    /// The most local days an explanation walks through (about 27 years).
    static let explanationDayLimit = 10_000

    /// The business windows that count in `[from, to)` and the notable local days it spans:
    /// holidays and daylight-saving days. At most `limit` windows are listed (all are counted and
    /// summed); an interval of more than 10,000 local days (about 27 years) has its windows and
    /// days explained for its first ones only (at least 10,000), but its total is all its business
    /// time.
    public func explainBusinessTime(from: Timestamp, to: Timestamp, limit: Int = 400) -> BusinessTimeExplained {
        var explained = BusinessTimeExplained(windows: [], windowCount: 0, total: 0, notableDays: [])
        let start = from.milliseconds, end = to.milliseconds
        guard end > start else { return explained }
        let firstDay = clampedToSupportedDay(estimatedLocalDay(of: start) - 1)
        let endDay = min(clampedToSupportedDay(estimatedLocalDay(of: end) + 2), firstDay + Self.explanationDayLimit)
        var day = firstDay
        // The end of the days walked: the windows before it are counted and listed.
        var walkedUntil = start
        while day < endDay {
            let timeline = timeline(startingAt: day, notBeyond: endDay, maximumDays: 400)
            timeline.forEachWindow(from: start, to: end) { windowDay, windowStart, windowEnd in
                explained.windowCount += 1
                explained.total += windowEnd - windowStart
                if explained.windows.count < limit {
                    explained.windows.append(
                        BusinessWindow(
                            date: Self.localDate(windowDay), start: Timestamp(milliseconds: windowStart),
                            end: Timestamp(milliseconds: windowEnd)))
                }
                return true
            }
            for d in max(day, timeline.days.lowerBound)..<min(endDay, timeline.days.upperBound) {
                // Only the days the interval touches.
                guard timeline.dayStart(ofDay: d + 1) > start, timeline.dayStart(ofDay: d) < end else { continue }
                if holidayDays.contains(d) {
                    explained.notableDays.append(NotableDay(date: Self.localDate(d), kind: .holiday))
                }
                if let change = timeline.offsetChanges(onDay: d) {
                    explained.notableDays.append(NotableDay(date: Self.localDate(d), kind: .daylightSaving, offsets: change))
                }
            }
            walkedUntil = timeline.endInstant
            day = timeline.days.upperBound
        }
        // An interval longer than the days walked: the rest counts in the total all the same, so
        // that the total is always the interval's business duration (what the metrics measure).
        if walkedUntil < end {
            explained.total += businessDuration(from: Timestamp(milliseconds: max(start, walkedUntil)), to: to)
        }
        return explained
    }

    private static func localDate(_ day: Int) -> LocalDate {
        let (year, month, dayOfMonth) = CivilCalendar.date(daysSinceEpoch: day)
        // Days inside the supported span are dates of years 1...9999.
        return LocalDate(year: year, month: month, day: dayOfMonth) ?? LocalDate(year: 1, month: 1, day: 1)!
    }

    private func clampedToSupportedDay(_ day: Int) -> Int {
        min(max(day, Self.firstSupportedDay), Self.endOfSupportedDays)
    }
}
