import EventLog
import SupportDomain

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

/// The desk's clock: Paris wall time and the opening hours of the built-in policy (SPEC §6:
/// Europe/Paris, Mon-Fri 08:00-19:00, Sat 09:00-17:00, closed on Sunday), read from the domain's
/// ``BusinessCalendar`` so that the demo keeps the hours the server measures SLAs against.
struct DeskClock: Sendable {
    /// The clock of ``Policy/default``, built once per process.
    static let paris = DeskClock(policy: .default)

    private let calendar: BusinessCalendar

    private init(policy: Policy) {
        // Without the system's time zone data the desk keeps its hours in UTC: the demo stays
        // consistent, only shifted (supportd itself refuses such a policy before demo data).
        calendar = BusinessCalendar(policyOrUTC: policy)
    }

    /// The offset from UTC at `instant` (ms since the epoch), in ms.
    func utcOffset(at instant: Int64) -> Int64 { calendar.utcOffset(at: instant) }

    /// The local reading of `instant`.
    func local(_ instant: Int64) -> LocalTime {
        let localMillis = instant + utcOffset(at: instant)
        let day = localMillis.floorDivided(by: Millis.day)
        let weekday = CivilCalendar.isoWeekdayIndex(daysSinceEpoch: Int(day))
        return LocalTime(day: day, weekday: weekday, millisOfDay: localMillis.floorModulo(Millis.day))
    }

    /// The instant of local `millisOfDay` on local `day` (a skipped wall time moves forward by
    /// the length of the gap; a repeated one is its first occurrence).
    func instant(day: Int64, millisOfDay: Int64) -> Int64 {
        calendar.instant(atWallTime: day * Millis.day + millisOfDay)
    }

    /// Whether the desk is open at `instant`.
    func isOpen(at instant: Int64) -> Bool {
        calendar.businessDuration(from: Timestamp(milliseconds: instant), to: Timestamp(milliseconds: instant + 1)) == 1
    }

    /// The instant reached after `amount` ms of open time counted from `instant`, always within
    /// opening hours: from outside them (or with `amount` 0 there) the count starts at the next
    /// opening, and a count that ends exactly at a closing carries over to the next opening.
    func adding(_ amount: Int64, to instant: Int64) -> Int64 {
        // The last open millisecond of `amount + 1` ms of open time is the open instant with
        // `amount` ms before it.
        let start = Timestamp(milliseconds: instant)
        guard let end = calendar.adding(businessMilliseconds: max(0, amount) + 1, to: start) else { return instant }
        return end.milliseconds - 1
    }
}
