import Foundation

/// The UTC offsets of one time zone over a span of instants, read from Foundation once as a
/// sorted list of offset transitions, so that offset and wall-time look-ups are binary searches.
///
/// All times are milliseconds: instants since the Unix epoch, and wall times as the same count
/// read on the local clock (`wall = instant + offset`). The answers are exact for instants in
/// ``coveredInstants``; outside it the zone is taken to keep the offset of the nearest end.
///
/// The zone's history is split into periods of constant offset: period 0 runs until the first
/// transition, period `i` from transition `i - 1` to transition `i`.
struct ZoneOffsetTimeline: Sendable {
    /// The instants the transition list is complete for.
    let coveredInstants: Range<Int64>

    /// The offset of period 0.
    private let initialOffset: Int64

    /// Instants at which the offset changes, ascending.
    private let transitionInstants: [Int64]

    /// The offset from each transition on.
    private let offsetsAfterTransition: [Int64]

    /// For each transition, the wall time at which the period before it ends
    /// (`transition + offset before it`). Ascending for every real zone.
    private let wallTimesEndingPeriod: [Int64]

    /// Reads the transitions of `zone` within `instants` from Foundation.
    init(zone: TimeZone, covering instants: Range<Int64>) {
        coveredInstants = instants
        let firstOffset = Int64(zone.secondsFromGMT(for: Self.date(instants.lowerBound))) * 1000
        var transitions: [Int64] = []
        var offsets: [Int64] = []
        var wallEnds: [Int64] = []
        var previousOffset = firstOffset
        var cursor = instants.lowerBound
        while let next = zone.nextDaylightSavingTimeTransition(after: Self.date(cursor)) {
            let scaled = (next.timeIntervalSince1970 * 1000).rounded()
            guard scaled.isFinite, abs(scaled) < 9.0e18 else { break }
            let instant = Int64(scaled)
            guard instant > cursor, instant < instants.upperBound else { break }
            let offset = Int64(zone.secondsFromGMT(for: next)) * 1000
            if offset != previousOffset {
                transitions.append(instant)
                offsets.append(offset)
                wallEnds.append(instant + previousOffset)
                previousOffset = offset
            }
            cursor = instant
        }
        initialOffset = firstOffset
        transitionInstants = transitions
        offsetsAfterTransition = offsets
        wallTimesEndingPeriod = wallEnds
    }

    /// The UTC offset in milliseconds at `instant`.
    func offset(at instant: Int64) -> Int64 {
        let period = Self.countOfElements(in: transitionInstants, notAbove: instant)
        return offsetOfPeriod(period)
    }

    /// The instant of a wall time, where a wall time in a gap (skipped by a forward change)
    /// moves forward by the length of the gap, and a wall time in a fold (repeated by a
    /// backward change) is its first occurrence.
    ///
    /// This is how the bounds of business windows become instants.
    func instantMovingGapsForward(forWallTime wallTime: Int64) -> Int64 {
        switch resolve(wallTime: wallTime) {
        case let .occurs(instant): instant
        case let .skipped(_, offsetBeforeGap): wallTime - offsetBeforeGap
        }
    }

    /// The earliest instant whose wall time is `wallTime` or later: the first occurrence of the
    /// wall time, or the end of the gap when the wall time is skipped.
    ///
    /// This is how local midnights (bucket and day starts) become instants.
    func firstInstant(atOrAfterWallTime wallTime: Int64) -> Int64 {
        switch resolve(wallTime: wallTime) {
        case let .occurs(instant): instant
        case let .skipped(gapEnd, _): gapEnd
        }
    }

    private enum WallTimeResolution {
        /// The wall time occurs; this is its first occurrence.
        case occurs(Int64)
        /// The wall time is skipped by the forward change at `gapEnd`.
        case skipped(gapEnd: Int64, offsetBeforeGap: Int64)
    }

    private func resolve(wallTime: Int64) -> WallTimeResolution {
        // The first period whose wall-time range ends after `wallTime`.
        let period = Self.countOfElements(in: wallTimesEndingPeriod, notAbove: wallTime)
        let offset = offsetOfPeriod(period)
        guard period > 0 else { return .occurs(wallTime - offset) }
        let periodStart = transitionInstants[period - 1]
        if wallTime >= periodStart + offset {
            return .occurs(wallTime - offset)
        }
        return .skipped(gapEnd: periodStart, offsetBeforeGap: offsetOfPeriod(period - 1))
    }

    private func offsetOfPeriod(_ period: Int) -> Int64 {
        period == 0 ? initialOffset : offsetsAfterTransition[period - 1]
    }

    /// How many elements of an ascending array are `<= value`.
    private static func countOfElements(in sorted: [Int64], notAbove value: Int64) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func date(_ instant: Int64) -> Date {
        Date(timeIntervalSince1970: Double(instant) / 1000)
    }
}
