/// How urgent a ticket is.
///
/// Priorities are ordered by urgency: `.low < .normal < .high < .urgent`, so the most
/// urgent of several priorities is their `max()`.
public enum Priority: String, CaseIterable, Codable, Comparable, Hashable, Sendable {
    case low
    case normal
    case high
    case urgent

    /// The position of this priority on the urgency scale: 0 for `.low` up to 3 for `.urgent`.
    package var urgencyRank: Int {
        switch self {
        case .low: 0
        case .normal: 1
        case .high: 2
        case .urgent: 3
        }
    }

    /// Orders priorities from least to most urgent.
    public static func < (lhs: Priority, rhs: Priority) -> Bool {
        lhs.urgencyRank < rhs.urgencyRank
    }
}
