/// An instant with millisecond precision: milliseconds since the Unix epoch, UTC.
///
/// The log's `at` and `recorded` are timestamps. Their text form is RFC 3339 in UTC with `Z` and
/// exactly three fraction digits (`2026-03-01T10:22:33.000Z`); on input 0 to 3 fraction digits
/// are accepted, and offsets only where a caller allows them (query parameters).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    /// The instant `milliseconds` after the Unix epoch.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(milliseconds: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    /// The RFC 3339 form with `Z` and three fraction digits.
    public var description: String { rfc3339 }

    /// The RFC 3339 form with `Z` and three fraction digits, e.g. `2026-03-01T10:22:33.120Z`.
    public var rfc3339: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the RFC 3339 form to a byte buffer (the hot path of hashing and export).
    package func appendRFC3339(to out: inout [UInt8]) {
        let days = milliseconds.floorDivided(by: CivilCalendar.millisecondsPerDay)
        let msOfDay = milliseconds.floorModulo(CivilCalendar.millisecondsPerDay)
        let date = CivilCalendar.date(daysSinceEpoch: Int(days))
        let (year, month, day) = (Int64(date.year), Int64(date.month), Int64(date.day))
        func two(_ v: Int64) { out.append(UInt8(48 + v / 10)); out.append(UInt8(48 + v % 10)) }
        let y = max(0, min(9999, year))
        out.append(UInt8(48 + y / 1000)); out.append(UInt8(48 + (y / 100) % 10))
        out.append(UInt8(48 + (y / 10) % 10)); out.append(UInt8(48 + y % 10))
        out.append(UInt8(ascii: "-")); two(month); out.append(UInt8(ascii: "-")); two(day)
        out.append(UInt8(ascii: "T"))
        two(msOfDay / 3_600_000); out.append(UInt8(ascii: ":"))
        two((msOfDay / 60_000) % 60); out.append(UInt8(ascii: ":"))
        two((msOfDay / 1000) % 60); out.append(UInt8(ascii: "."))
        let ms = msOfDay % 1000
        out.append(UInt8(48 + ms / 100)); out.append(UInt8(48 + (ms / 10) % 10)); out.append(UInt8(48 + ms % 10))
        out.append(UInt8(ascii: "Z"))
    }

    /// Parses RFC 3339: `YYYY-MM-DDTHH:MM:SS[.f{1,3}]` followed by `Z`, or, when `allowOffset`,
    /// by `+HH:MM` / `-HH:MM`. Returns nil for anything else.
    public init?(rfc3339 text: some StringProtocol, allowOffset: Bool = false) {
        let b = Array(text.utf8)
        func digits(_ i: Int, _ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + n) {
                let c = b[k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard b.count >= 20,
            let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), b[10] == UInt8(ascii: "T"),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilCalendar.daysInMonth(year: Int(year), month: Int(month)),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var n = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                guard n < 3 else { return nil }
                millis = millis * 10 + Int64(b[i] - 48)
                n += 1; i += 1
            }
            guard n > 0 else { return nil }
            for _ in n..<3 { millis *= 10 }
        }
        guard i < b.count else { return nil }
        var offsetMinutes: Int64 = 0
        if b[i] == UInt8(ascii: "Z") {
            i += 1
        } else if allowOffset, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"),
                let om = digits(i + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = Int64(CivilCalendar.daysSinceEpoch(year: Int(year), month: Int(month), day: Int(day)))
        let ms = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis
        self.init(milliseconds: ms)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
