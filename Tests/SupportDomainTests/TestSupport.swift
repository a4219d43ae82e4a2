import EventLog
import Foundation
import SupportDomain
import Testing

/// The instant of an ISO 8601 date-time with offset, such as `2026-03-29T00:00:00+01:00`
/// (fractional seconds allowed).
func instant(_ text: String) throws -> Timestamp {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions =
        text.contains(".")
        ? [.withInternetDateTime, .withFractionalSeconds]
        : [.withInternetDateTime]
    let date = try #require(formatter.date(from: text), "not an ISO 8601 date-time: \(text)")
    return Timestamp(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()))
}

let hour: Int64 = 3_600_000
let minute: Int64 = 60_000

/// A weekly schedule from `HH:MM-HH:MM` texts per day.
func schedule(_ texts: [Weekday: [String]]) throws -> WeeklySchedule {
    var windows: [Weekday: [DailyWindow]] = [:]
    for (day, dayTexts) in texts {
        windows[day] = try dayTexts.map { try DailyWindow(parsing: $0) }
    }
    return try WeeklySchedule(windows)
}

/// Monday to Friday 08:00-19:00, weekends closed.
func weekdaysOnlySchedule() throws -> WeeklySchedule {
    try schedule([
        .monday: ["08:00-19:00"], .tuesday: ["08:00-19:00"], .wednesday: ["08:00-19:00"],
        .thursday: ["08:00-19:00"], .friday: ["08:00-19:00"],
    ])
}

func date(_ text: String) throws -> LocalDate {
    try #require(LocalDate(iso8601: text))
}
