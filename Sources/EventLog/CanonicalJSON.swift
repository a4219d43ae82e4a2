/// RFC 8785 (JSON Canonicalization Scheme) serialization.
///
/// The hash chain covers the canonical JSON of each envelope, so that anyone can recompute it
/// from an export without the store. Members are sorted by UTF-16 code units, strings escape
/// only what RFC 8785 requires, and numbers use the ECMAScript `Number.prototype.toString` form.
public enum CanonicalJSON {
    /// The canonical UTF-8 bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(value, to: &out)
        return out
    }

    /// Appends the canonical JSON of `value` (the hot path of every HTTP answer).
    package static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .int(let i): appendInteger(i, to: &out)
        case .double(let d):
            if let i = Int64(exactly: d) { appendInteger(i, to: &out) } else { appendDouble(d, to: &out) }
        case .string(let s): appendString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                append(v, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (k, key) in o.keys.sorted(by: BinaryJSON.canonicalKeyOrder).enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(o[key] ?? .null, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a JSON string literal for the UTF-8 bytes `utf8`.
    static func appendString(_ utf8: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for k in 0..<utf8.count {
            let c = utf8[k]
            guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
            if runStart < k { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart..<k])) }
            runStart = k + 1
            out.append(UInt8(ascii: "\\"))
            switch c {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            default:
                out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(c >> 4)], hexDigits[Int(c & 0xF)]])
            }
        }
        if runStart < utf8.count { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart..<utf8.count])) }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends a JSON string literal for `s` (quoted and escaped as RFC 8785 writes it).
    package static func appendStringLiteral(_ s: String, to out: inout [UInt8]) {
        appendString(s, to: &out)
    }

    /// Appends a JSON string literal for `s`.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &out) }
    }

    static func appendInteger(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        appendUnsigned(v.magnitude, to: &out)
    }

    static func appendUnsigned(_ v: UInt64, to out: inout [UInt8]) {
        if v < 10 { out.append(UInt8(48 + v)); return }
        // At most 20 digits, written backwards into a fixed buffer: no allocation.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var m = v, i = 20
            while m > 0 { i -= 1; buffer[i] = UInt8(48 + m % 10); m /= 10 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<20]))
        }
    }

    /// Appends the ECMAScript `Number.prototype.toString` form of a finite double.
    static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        out.append(contentsOf: Array(ecmaScriptString(d).utf8))
    }

    /// The ECMAScript form of a double, built from Swift's shortest round-trip digits.
    static func ecmaScriptString(_ value: Double) -> String {
        if value == 0 || !value.isFinite { return "0" }
        if let i = Int64(exactly: value), i.magnitude < 1_000_000_000_000_000_000 {
            var out: [UInt8] = []
            appendInteger(i, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        let negative = value < 0
        let text = "\(value.magnitude)"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var pointPosition = mantissa.count
        for (k, ch) in mantissa.enumerated() {
            if ch == "." { pointPosition = k } else { digits.append(ch) }
        }
        var n = pointPosition + exponent
        while digits.first == "0" { digits.removeFirst(); n -= 1 }
        while digits.last == "0" { digits.removeLast() }
        let k = digits.count
        var result = negative ? "-" : ""
        if k <= n && n <= 21 {
            result += digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            result += digits.prefix(n) + "." + digits.dropFirst(n)
        } else if -6 < n && n <= 0 {
            result += "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            result += String(digits.prefix(1))
            if k > 1 { result += "." + digits.dropFirst() }
            result += "e" + (e >= 0 ? "+" : "-") + String(abs(e))
        }
        return result
    }
}
