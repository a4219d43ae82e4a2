import EventLog

/// Writes an instant as local wall time with its UTC offset, ISO 8601 style.
enum LocalTimestampFormatter {
    /// `YYYY-MM-DDTHH:MM:SS[.mmm]±HH:MM[:SS]` for `instant` read at `utcOffset` (both in ms).
    static func format(instant: Int64, utcOffset: Int64) -> String {
        let millisecondsPerDay = CivilCalendar.millisecondsPerDay
        // Only instants within a day of the Int64 limits can overflow; write those in UTC.
        let (shifted, overflow) = instant.addingReportingOverflow(utcOffset)
        let utcOffset = overflow ? 0 : utcOffset
        let wallTime = overflow ? instant : shifted
        let day = wallTime.floorDivided(by: millisecondsPerDay)
        let millisecondOfDay = wallTime.floorModulo(millisecondsPerDay)
        let date = CivilCalendar.date(daysSinceEpoch: Int(day))

        var text = yearText(date.year) + "-" + padded(date.month, 2) + "-" + padded(date.day, 2)
        let secondOfDay = Int(millisecondOfDay / 1000)
        text +=
            "T" + padded(secondOfDay / 3600, 2) + ":" + padded(secondOfDay / 60 % 60, 2)
            + ":" + padded(secondOfDay % 60, 2)
        let milliseconds = Int(millisecondOfDay % 1000)
        if milliseconds != 0 { text += "." + padded(milliseconds, 3) }

        let offsetSeconds = Int(utcOffset / 1000)
        let magnitude = abs(offsetSeconds)
        text += (offsetSeconds < 0 ? "-" : "+") + padded(magnitude / 3600, 2) + ":" + padded(magnitude / 60 % 60, 2)
        if magnitude % 60 != 0 { text += ":" + padded(magnitude % 60, 2) }
        return text
    }

    /// Four digits for years 0...9999; otherwise a sign and at least four digits.
    private static func yearText(_ year: Int) -> String {
        if (0...9999).contains(year) { return padded(year, 4) }
        return (year < 0 ? "-" : "+") + padded(abs(year), 4)
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
