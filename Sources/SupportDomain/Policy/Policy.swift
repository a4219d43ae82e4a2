import Foundation

/// The helpdesk's service policy: where and when the business works, how many tickets an agent
/// can carry, and the SLA targets per priority.
///
/// Start from ``Policy/default`` and overlay a policy file with ``Policy/parse(jsonData:)``.
public struct Policy: Hashable, Sendable {
    /// The IANA time zone that business hours, holidays and calendar buckets are local to.
    public var timeZoneIdentifier: String

    /// The weekly business hours.
    public var schedule: WeeklySchedule

    /// Local dates with no business time at all.
    public var holidays: Set<LocalDate>

    /// How many open tickets one agent is expected to carry; never negative.
    public var capacity: Int

    /// The SLA targets per priority and metric.
    public var targets: SLATargetTable

    /// How large the text, names and lists of one command or import line may be. Not part of
    /// ``hash``: limits decide what may be written, never what the projections compute.
    public var limits: InputLimits

    /// The automatic reactions the desk runs (issue 14); all off by default. Not part of
    /// ``hash``: they decide what is written to the log, never what the projections compute.
    public var automations: Automations

    /// Creates a policy from its parts.
    public init(
        timeZoneIdentifier: String,
        schedule: WeeklySchedule,
        holidays: Set<LocalDate>,
        capacity: Int,
        targets: SLATargetTable,
        limits: InputLimits = .default,
        automations: Automations = .off
    ) {
        self.automations = automations
        self.timeZoneIdentifier = timeZoneIdentifier
        self.schedule = schedule
        self.holidays = holidays
        self.capacity = capacity
        self.targets = targets
        self.limits = limits
    }

    /// The built-in policy: Europe/Paris; Monday to Friday 08:00-19:00, Saturday 09:00-17:00,
    /// Sunday closed; no holidays; capacity 25; the input limits of ``InputLimits/default``; and
    /// these targets:
    ///
    /// | priority | first reply | next reply | resolution | clock    |
    /// |----------|-------------|------------|------------|----------|
    /// | urgent   | 1 h         | 2 h        | 8 h        | calendar |
    /// | high     | 4 h         | 8 h        | 24 h       | business |
    /// | normal   | 8 h         | 16 h       | 40 h       | business |
    /// | low      | 24 h        | 24 h       | 80 h       | business |
    public static let `default`: Policy = {
        let weekday = [DailyWindow(validatedStartMinute: 8 * 60, endMinute: 19 * 60)]
        let saturday = [DailyWindow(validatedStartMinute: 9 * 60, endMinute: 17 * 60)]
        let schedule = WeeklySchedule(
            validatedWindowsByISOWeekday: [weekday, weekday, weekday, weekday, weekday, saturday, []]
        )
        let hour: Int64 = 3600
        let hoursByPriority: [(Priority, SLAClock, firstReply: Int64, nextReply: Int64, resolution: Int64)] = [
            (.urgent, .calendar, 1, 2, 8),
            (.high, .business, 4, 8, 24),
            (.normal, .business, 8, 16, 40),
            (.low, .business, 24, 24, 80),
        ]
        var targets = SLATargetTable()
        for (priority, clock, firstReply, nextReply, resolution) in hoursByPriority {
            targets[priority, .firstReply] = SLATarget(validatedSeconds: firstReply * hour, clock: clock)
            targets[priority, .nextReply] = SLATarget(validatedSeconds: nextReply * hour, clock: clock)
            targets[priority, .resolution] = SLATarget(validatedSeconds: resolution * hour, clock: clock)
        }
        return Policy(
            timeZoneIdentifier: "Europe/Paris",
            schedule: schedule,
            holidays: [],
            capacity: 25,
            targets: targets
        )
    }()

    /// Reads a policy file and overlays it on ``Policy/default``.
    ///
    /// See ``overlaid(withJSON:)`` for the file format and the overlay rules.
    public static func parse(jsonData: Data) throws(PolicyError) -> Policy {
        try Policy.default.overlaid(withJSON: jsonData)
    }
}
