import EventLog

/// Proleptic Gregorian date arithmetic on day numbers (days since 1970-01-01), without Foundation.
///
/// The conversions are Howard Hinnant's `days_from_civil` and `civil_from_days`.
enum CivilCalendarMath {
    /// Milliseconds in a 24-hour day.
    static let millisecondsPerDay: Int64 = 86_400_000

    /// The day number of a civil date (negative before 1970-01-01).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        Int(CivilDate.toDays(year: Int64(year), month: Int64(month), day: Int64(day)))
    }

    /// The civil date of a day number.
    static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let date = CivilDate.fromDays(Int64(days))
        return (Int(date.year), Int(date.month), Int(date.day))
    }

    /// 0 for Monday up to 6 for Sunday.
    static func isoWeekdayIndex(daysSinceEpoch days: Int) -> Int {
        // 1970-01-01 was a Thursday (index 3).
        let index = (days + 3) % 7
        return index < 0 ? index + 7 : index
    }

    /// The number of days in a month of a year.
    static func daysInMonth(year: Int, month: Int) -> Int {
        Int(CivilDate.daysIn(month: Int64(month), year: Int64(year)))
    }

    /// The largest integer not above `dividend / divisor`, for a positive divisor.
    static func floorDivide(_ dividend: Int64, by divisor: Int64) -> Int64 {
        let quotient = dividend / divisor
        return (dividend % divisor != 0 && dividend < 0) ? quotient - 1 : quotient
    }
}
