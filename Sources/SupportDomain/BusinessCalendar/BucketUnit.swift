/// A local calendar unit that events are grouped by in reports.
public enum BucketUnit: String, CaseIterable, Hashable, Sendable {
    /// A local date, midnight to midnight (23 h or 25 h on daylight-saving days).
    case day
    /// An ISO week, Monday midnight to the next Monday midnight.
    case week
    /// A calendar month, from the first day's midnight to the next month's.
    case month
}
