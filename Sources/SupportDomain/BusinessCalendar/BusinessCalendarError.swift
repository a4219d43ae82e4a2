/// Why a ``BusinessCalendar`` could not be built.
public enum BusinessCalendarError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The time zone identifier is not a known IANA time zone.
    case unknownTimeZone(String)
    /// The years to precompute are not within 1 through 9999.
    case precomputedYearsOutOfRange(ClosedRange<Int>)

    /// A human-readable explanation.
    public var description: String {
        switch self {
        case let .unknownTimeZone(identifier):
            "\"\(identifier)\" is not a known IANA time zone"
        case let .precomputedYearsOutOfRange(years):
            "precomputed years \(years.lowerBound)...\(years.upperBound) are not within 1...9999"
        }
    }
}
