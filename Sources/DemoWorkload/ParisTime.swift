import EventLog
/// A wall-clock reading in Europe/Paris.
struct LocalTime {
    /// Days since 1970-01-01 in local time.
    var day: Int64
    /// 0 = Monday … 6 = Sunday.
    var weekday: Int
    /// Milliseconds since local midnight.
    var millisOfDay: Int64
    /// Weeks (Monday to Sunday) since the one holding 1970-01-01: the key of weekly rotations.
    var week: Int64 { (day + 3).floorDivided(by: 7) }
}

/// Europe/Paris time with the EU rule hard-coded (CEST from the last Sunday of March to the last
/// Sunday of October, switching at 01:00 UTC), without Foundation so it is fast and portable.
enum ParisTime {
    /// The offset from UTC at `instant` (ms since the epoch): one or two hours, in ms.
    static func utcOffset(at instant: Int64) -> Int64 {
        let year = CivilCalendar.date(daysSinceEpoch: Int(instant.floorDivided(by: Millis.day))).year
        let summerStart = lastSunday(year: year, month: 3) * Millis.day + Millis.hour
        let summerEnd = lastSunday(year: year, month: 10) * Millis.day + Millis.hour
        return instant >= summerStart && instant < summerEnd ? 2 * Millis.hour : Millis.hour
    }

    /// The local reading of `instant`.
    static func local(_ instant: Int64) -> LocalTime {
        let localMillis = instant + utcOffset(at: instant)
        let day = localMillis.floorDivided(by: Millis.day)
        let weekday = Int((day + 3).floorModulo(7))
        return LocalTime(day: day, weekday: weekday, millisOfDay: localMillis - day * Millis.day)
    }

    /// The instant of local `millisOfDay` on local `day`. Exact except within the two hours
    /// around a switch (01:00-03:00 local), which the workload never asks for.
    static func instant(day: Int64, millisOfDay: Int64) -> Int64 {
        let localMillis = day * Millis.day + millisOfDay
        return localMillis - utcOffset(at: localMillis - Millis.hour)
    }

    private static func lastSunday(year: Int, month: Int) -> Int64 {
        let last = CivilCalendar.daysSinceEpoch(year: year, month: month, day: month == 3 || month == 10 ? 31 : 30)
        let weekday = CivilCalendar.isoWeekdayIndex(daysSinceEpoch: last)
        return Int64(last - (weekday + 1) % 7)
    }
}

/// The support desk's opening hours (SPEC §6 default policy): Mon-Fri 08:00-19:00,
/// Sat 09:00-17:00, Paris time; closed on Sunday.
enum BusinessHours {
    /// The local opening window of a weekday, in ms since midnight.
    static func window(weekday: Int) -> (open: Int64, close: Int64)? {
        switch weekday {
        case 0...4: return (8 * Millis.hour, 19 * Millis.hour)
        case 5: return (9 * Millis.hour, 17 * Millis.hour)
        default: return nil
        }
    }

    static func isOpen(at instant: Int64) -> Bool {
        let local = ParisTime.local(instant)
        guard let window = window(weekday: local.weekday) else { return false }
        return local.millisOfDay >= window.open && local.millisOfDay < window.close
    }

    /// The open stretch that holds `instant` or comes next: from max(instant, opening) to closing.
    static func stretch(atOrAfter instant: Int64) -> (start: Int64, end: Int64) {
        let local = ParisTime.local(instant)
        for offset in Int64(0)..<8 {
            let day = local.day + offset
            let weekday = Int((day + 3).floorModulo(7))
            guard let window = window(weekday: weekday) else { continue }
            let close = ParisTime.instant(day: day, millisOfDay: window.close)
            if instant < close {
                return (max(instant, ParisTime.instant(day: day, millisOfDay: window.open)), close)
            }
        }
        return (instant, instant + Millis.hour)
    }

    /// The instant reached after `amount` ms of open time counted from `instant` (which, when
    /// outside business hours, first moves to the next opening).
    static func adding(_ amount: Int64, to instant: Int64) -> Int64 {
        var remaining = amount
        var cursor = instant
        while true {
            let stretch = stretch(atOrAfter: cursor)
            if stretch.start + remaining < stretch.end { return stretch.start + remaining }
            remaining -= stretch.end - stretch.start
            cursor = stretch.end
        }
    }
}
