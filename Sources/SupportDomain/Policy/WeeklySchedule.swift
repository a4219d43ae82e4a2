/// The business hours of a week: for each weekday, its non-overlapping windows in opening order.
/// A day without windows is closed.
public struct WeeklySchedule: Hashable, Sendable {
    /// Seven lists, Monday first, each sorted and free of overlaps.
    private let windowsByISOWeekday: [[DailyWindow]]

    /// A week with every day closed.
    public static let alwaysClosed = WeeklySchedule(validatedWindowsByISOWeekday: Array(repeating: [], count: 7))

    /// Creates a schedule; days missing from `windowsByDay` are closed. The windows of a day may
    /// be given in any order but must not overlap (windows that merely touch are fine).
    public init(_ windowsByDay: [Weekday: [DailyWindow]]) throws(WeeklyScheduleError) {
        var days: [[DailyWindow]] = Array(repeating: [], count: 7)
        for (weekday, windows) in windowsByDay {
            let sorted = windows.sorted()
            for index in sorted.indices.dropFirst() where sorted[index - 1].overlaps(sorted[index]) {
                throw .overlappingWindows(day: weekday, sorted[index - 1], sorted[index])
            }
            days[weekday.isoIndex] = sorted
        }
        self.init(validatedWindowsByISOWeekday: days)
    }

    /// Creates a schedule from seven sorted, non-overlapping lists, Monday first.
    init(validatedWindowsByISOWeekday days: [[DailyWindow]]) {
        windowsByISOWeekday = days
    }

    /// The windows of `day`, in opening order; empty when the day is closed.
    public func windows(on day: Weekday) -> [DailyWindow] {
        windowsByISOWeekday[day.isoIndex]
    }

    /// The windows of the weekday at `isoIndex` (0 for Monday), in opening order.
    func windows(onISOWeekday isoIndex: Int) -> [DailyWindow] {
        windowsByISOWeekday[isoIndex]
    }

    /// Whether no day of the week has any window.
    public var isAlwaysClosed: Bool {
        windowsByISOWeekday.allSatisfy(\.isEmpty)
    }
}

/// Why a set of windows is not a valid weekly schedule.
public enum WeeklyScheduleError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Two windows of the same day overlap.
    case overlappingWindows(day: Weekday, DailyWindow, DailyWindow)

    /// A human-readable explanation, for example `mon: "08:00-12:00" overlaps "11:00-13:00"`.
    public var description: String {
        switch self {
        case let .overlappingWindows(day, first, second):
            "\(day.rawValue): \"\(first)\" overlaps \"\(second)\""
        }
    }
}
