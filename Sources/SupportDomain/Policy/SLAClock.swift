/// The clock an SLA target is measured on.
public enum SLAClock: String, CaseIterable, Codable, Hashable, Sendable {
    /// Every millisecond counts, around the clock.
    case calendar
    /// Only milliseconds inside the policy's business hours count.
    case business
}
