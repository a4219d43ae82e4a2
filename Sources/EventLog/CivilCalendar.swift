/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01, negative
/// before it), after Howard Hinnant's `days_from_civil` / `civil_from_days`, without Foundation.
///
/// The package's one civil calendar: the log's RFC 3339 timestamps, the business calendar's
/// local dates and buckets, and the demo generator's Paris clock all count days with it.
package enum CivilCalendar {
    /// Milliseconds in a 24-hour day.
    package static let millisecondsPerDay: Int64 = 86_400_000

    /// The day number of a civil date (negative before 1970-01-01).
    package static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number.
    package static func date(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The number of days in a month of a year.
    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 0 for Monday up to 6 for Sunday (1970-01-01 was a Thursday).
    package static func isoWeekdayIndex(daysSinceEpoch days: Int) -> Int {
        (days + 3).floorModulo(7)
    }
}

extension SignedInteger {
    /// The largest integer not above `self / divisor` (Swift's `/` rounds toward zero).
    @inlinable
    package func floorDivided(by divisor: Self) -> Self {
        let quotient = self / divisor
        return self % divisor != 0 && (self < 0) != (divisor < 0) ? quotient - 1 : quotient
    }

    /// The remainder that goes with ``floorDivided(by:)``: it has the divisor's sign (so it is
    /// never negative for a positive divisor). Computed without multiplying back, so it cannot
    /// overflow near the type's limits.
    @inlinable
    package func floorModulo(_ divisor: Self) -> Self {
        let remainder = self % divisor
        return remainder != 0 && (remainder < 0) != (divisor < 0) ? remainder + divisor : remainder
    }
}
