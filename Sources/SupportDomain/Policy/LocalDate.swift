import EventLog

/// A calendar date without a time zone (proleptic Gregorian), in years 1 through 9999.
public struct LocalDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The year, in `1...9999`.
    public let year: Int
    /// The month, in `1...12`.
    public let month: Int
    /// The day of the month, valid for `year` and `month`.
    public let day: Int

    /// Creates a date, or returns `nil` when it does not exist or lies outside years 1 through 9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            day >= 1, day <= CivilCalendar.daysInMonth(year: year, month: month)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`, or returns `nil` when the text has another form or names no date.
    public init?(iso8601 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Self.decimal(bytes[0..<4]), let month = Self.decimal(bytes[5..<7]),
            let day = Self.decimal(bytes[8..<10])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The `YYYY-MM-DD` form.
    public var description: String {
        let yearText = String(year)
        let monthText = String(month)
        let dayText = String(day)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText
            + (month < 10 ? "-0" : "-") + monthText
            + (day < 10 ? "-0" : "-") + dayText
    }

    /// Days from 1970-01-01 to this date (negative before it).
    var daysSinceEpoch: Int {
        CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)
    }

    /// Orders dates chronologically.
    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    private static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
