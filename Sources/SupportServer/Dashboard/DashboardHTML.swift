import EventLog
import Foundation

/// Escaping and small formatting helpers of the dashboard's HTML, SVG and CSV.
///
/// Every piece of text that reaches a page goes through ``escape(_:)``: team, agent and
/// customer names are user data. The pages are written as polyglot markup (void elements
/// self-closed, only XML's five entities), so a test can parse them with an XML parser.
enum DashboardHTML {
    /// `&`, `<`, `>`, `"` and `'` replaced by character references: safe in element content and
    /// in quoted attribute values alike. Control characters other than tab and newline (not
    /// allowed in XML) become U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out.unicodeScalars.append("\u{FFFD}")
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A query string (`?a=1&b=2`, already escaped for an attribute) from name/value pairs;
    /// empty when there are none.
    static func query(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&amp;")
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986).
    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// A number as JSON writes it (ECMAScript form: `0.75`, `3600`, `0.6666666666666666`).
    static func number(_ value: Double) -> String {
        String(decoding: CanonicalJSON.encode(.double(value)), as: UTF8.self)
    }

    /// Milliseconds as seconds with at most three fraction digits, as the API writes durations.
    static func seconds(milliseconds ms: Int64) -> String {
        ms % 1000 == 0 ? String(ms / 1000) : number(Double(ms) / 1000)
    }

    /// A duration for people: `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`.
    static func humanDuration(seconds: Double) -> String {
        let s = max(0, Int64(seconds.rounded()))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" }
        if s < 86_400 { return "\(s / 3600) h \(String(format: "%02d", (s % 3600) / 60)) min" }
        return "\(s / 86_400) d \(s % 86_400 / 3600) h"
    }

    /// A share 0...1 as a percentage for people (`87 %`, `87.5 %`).
    static func percent(_ fraction: Double) -> String {
        let p = fraction * 100
        let rounded = (p * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) %" : String(format: "%.1f %%", rounded)
    }

    /// `2026-03-02T10:15:00+01:00` (a local wall time with offset) as `2026-03-02 10:15`.
    static func localMinute(_ formatted: String) -> String {
        let chars = Array(formatted)
        guard chars.count >= 16 else { return formatted }
        return String(chars[0..<10]) + " " + String(chars[11..<16])
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A bucket start (`2026-03-02T00:00:00+01:00`) as a short axis label: `2 Mar`.
    static func shortDate(_ bucketStart: String) -> String {
        let parts = bucketStart.prefix(10).split(separator: "-")
        guard parts.count == 3, let month = Int(parts[1]), (1...12).contains(month), let day = Int(parts[2]) else {
            return String(bucketStart.prefix(10))
        }
        return "\(day) \(months[month - 1])"
    }
}

/// A CSV document (RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or
/// line break). Text cells that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`,
/// tab, carriage return first) get a leading `'`; numbers are written as they are.
struct DashboardCSV {
    enum Cell {
        case text(String)
        case number(String)
        case empty
    }

    var header: [String]
    var rows: [[Cell]] = []

    var text: String {
        var out = header.map { Self.field($0) }.joined(separator: ",") + "\r\n"
        for row in rows {
            out +=
                row.map { cell -> String in
                    switch cell {
                    case .text(let s):
                        let guarded = s.unicodeScalars.first.map { "=+-@\t\r".unicodeScalars.contains($0) } == true ? "'" + s : s
                        return Self.field(guarded)
                    case .number(let s): return s
                    case .empty: return ""
                    }
                }.joined(separator: ",") + "\r\n"
        }
        return out
    }

    private static func field(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
