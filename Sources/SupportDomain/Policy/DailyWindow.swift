/// A business-hours window within one local day: the half-open wall-clock interval
/// `[start, end)`, in minutes after local midnight, with `00:00 <= start < end <= 24:00`.
///
/// A window never crosses midnight; hours running past midnight are written as two windows
/// on consecutive days.
public struct DailyWindow: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Minutes in a local day; the largest allowed `endMinute` (`24:00`).
    package static let minutesPerDay = 1440

    /// Minutes after local midnight at which the window opens, in `0..<1440`.
    public let startMinute: Int

    /// Minutes after local midnight at which the window closes, in `(startMinute + 1)...1440`.
    public let endMinute: Int

    /// Creates a window, or returns `nil` unless `0 <= startMinute < endMinute <= 1440`.
    public init?(startMinute: Int, endMinute: Int) {
        guard startMinute >= 0, startMinute < endMinute, endMinute <= Self.minutesPerDay else { return nil }
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// Creates a window from bounds the caller has already validated.
    init(validatedStartMinute startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// Parses the policy-file form `HH:MM-HH:MM`, for example `08:00-19:00` or `20:00-24:00`.
    public init(parsing text: String) throws(DailyWindowFormatError) {
        let bytes = Array(text.utf8)
        guard bytes.count == 11, bytes[2] == UInt8(ascii: ":"), bytes[5] == UInt8(ascii: "-"),
            bytes[8] == UInt8(ascii: ":"),
            let startHour = Self.twoDigits(bytes, at: 0), let startMinutes = Self.twoDigits(bytes, at: 3),
            let endHour = Self.twoDigits(bytes, at: 6), let endMinutes = Self.twoDigits(bytes, at: 9)
        else { throw .notOfTheFormHHMMRange }
        guard startMinutes <= 59, endMinutes <= 59 else { throw .minutesOutOfRange }
        guard startHour <= 24, endHour <= 24 else { throw .hourOutOfRange }
        let start = startHour * 60 + startMinutes
        let end = endHour * 60 + endMinutes
        guard start <= Self.minutesPerDay else { throw .startsAfterEndOfDay }
        guard start < Self.minutesPerDay else { throw .startsAtEndOfDay }
        guard end <= Self.minutesPerDay else { throw .endsAfterEndOfDay }
        guard end >= start else { throw .endsBeforeItStarts }
        guard end > start else { throw .isEmpty }
        self.init(validatedStartMinute: start, endMinute: end)
    }

    /// The policy-file form, `HH:MM-HH:MM`.
    public var description: String {
        Self.clockText(startMinute) + "-" + Self.clockText(endMinute)
    }

    /// Whether the two windows share at least one minute (touching windows do not overlap).
    public func overlaps(_ other: DailyWindow) -> Bool {
        startMinute < other.endMinute && other.startMinute < endMinute
    }

    /// Orders windows by opening time, then by closing time.
    public static func < (lhs: DailyWindow, rhs: DailyWindow) -> Bool {
        (lhs.startMinute, lhs.endMinute) < (rhs.startMinute, rhs.endMinute)
    }

    private static func twoDigits(_ bytes: [UInt8], at index: Int) -> Int? {
        let zero = UInt8(ascii: "0")
        let nine = UInt8(ascii: "9")
        let tens = bytes[index]
        let units = bytes[index + 1]
        guard (zero...nine).contains(tens), (zero...nine).contains(units) else { return nil }
        return Int(tens - zero) * 10 + Int(units - zero)
    }

    private static func clockText(_ minuteOfDay: Int) -> String {
        let hours = minuteOfDay / 60
        let minutes = minuteOfDay % 60
        return (hours < 10 ? "0" : "") + String(hours) + ":" + (minutes < 10 ? "0" : "") + String(minutes)
    }
}

/// Why a text is not a valid `HH:MM-HH:MM` daily window.
public enum DailyWindowFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text is not two `HH:MM` times joined by `-`.
    case notOfTheFormHHMMRange
    /// A minute field is above 59.
    case minutesOutOfRange
    /// An hour field is above 24.
    case hourOutOfRange
    /// The window opens at `24:00`, the end of the day.
    case startsAtEndOfDay
    /// The window opens after `24:00`.
    case startsAfterEndOfDay
    /// The window closes after `24:00`.
    case endsAfterEndOfDay
    /// The window closes before it opens.
    case endsBeforeItStarts
    /// The window closes when it opens.
    case isEmpty

    /// A phrase that follows the quoted window text, for example `ends before it starts`.
    public var description: String {
        switch self {
        case .notOfTheFormHHMMRange: "is not of the form HH:MM-HH:MM"
        case .minutesOutOfRange: "has minutes outside 00-59"
        case .hourOutOfRange: "has an hour outside 00-24"
        case .startsAtEndOfDay: "starts at 24:00"
        case .startsAfterEndOfDay: "starts after 24:00"
        case .endsAfterEndOfDay: "ends after 24:00"
        case .endsBeforeItStarts: "ends before it starts"
        case .isEmpty: "is empty (it ends when it starts)"
        }
    }
}
