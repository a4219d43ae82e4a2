import EventLog

/// When the shifts of a policy work, as instants: each shift's windows turned into instants
/// through the policy's zone like the business hours (a bound in a gap moves forward, one in a
/// fold is its first occurrence; no shift on a holiday), and windows that touch (`22:00-24:00`
/// then `00:00-06:00`) joined into one period, so that a shift ends only when its work stops.
struct ShiftCalendar {
    let calendar: BusinessCalendar

    /// A shift's working period `[start, end)` in milliseconds.
    struct Period: Equatable {
        var start: Int64
        var end: Int64
    }

    /// The periods of `shift` that overlap the local days `days`, joined where they touch.
    func periods(of shift: Automations.Shift, days: Range<Int>) -> [Period] {
        var periods: [Period] = []
        for day in days where !calendar.holidayDays.contains(day) {
            let midnight = Int64(day) * CivilCalendar.millisecondsPerDay
            for window in shift.schedule.windows(onISOWeekday: CivilCalendar.isoWeekdayIndex(daysSinceEpoch: day)) {
                let start = calendar.instant(atWallTime: midnight + Int64(window.startMinute) * 60_000)
                let end = calendar.instant(atWallTime: midnight + Int64(window.endMinute) * 60_000)
                guard end > start else { continue }
                if let last = periods.last, start <= last.end {
                    periods[periods.count - 1].end = max(last.end, end)
                } else {
                    periods.append(Period(start: start, end: end))
                }
            }
        }
        return periods
    }

    /// The local day of an instant in the policy's zone.
    func localDay(of instant: Int64) -> Int { calendar.estimatedLocalDay(of: instant) }

    /// The first end of a period of a shift of `shifts` that `agent` works, at or after `since`, at
    /// which `agent` is on no shift of `shifts` (so the hand-off is due), with that shift; nil
    /// when none comes within about a year.
    func firstHandOff(of agent: String, in shifts: [Automations.Shift], after since: Int64) -> (end: Int64, shift: Automations.Shift)? {
        let theirs = shifts.filter { $0.includes(agent) }
        guard !theirs.isEmpty else { return nil }
        let firstDay = localDay(of: since) - 1
        let chunk = 16
        for lower in stride(from: firstDay, to: firstDay + 400, by: chunk) {
            let upper = lower + chunk
            // The periods reach a day beyond the candidates on each side: an end found is a real
            // end, not where the days looked at stop.
            let all = shifts.map { ($0, periods(of: $0, days: (lower - 1)..<(upper + 1))) }
            let limit = calendar.instant(atWallTime: Int64(upper) * CivilCalendar.millisecondsPerDay)
            var ends: [(end: Int64, shift: Automations.Shift)] = []
            for (shift, list) in all where shift.includes(agent) {
                for period in list where period.end >= since && period.end < limit { ends.append((period.end, shift)) }
            }
            ends.sort { $0.end < $1.end }
            for candidate in ends {
                let onDuty = all.contains { shift, list in
                    shift.includes(agent) && list.contains { $0.start <= candidate.end && candidate.end < $0.end }
                }
                if !onDuty { return candidate }
            }
        }
        return nil
    }
}
