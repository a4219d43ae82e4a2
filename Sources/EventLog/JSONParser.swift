/// A strict RFC 8259 JSON parser producing ``JSONValue``.
///
/// Stricter than Foundation where the log needs it: duplicate member names, lone surrogates,
/// non-finite numbers, trailing content and nesting deeper than ``maximumDepth`` are errors,
/// each with the byte offset where it was found.
package struct JSONParser {
    /// How deep arrays and objects may nest.
    package static let maximumDepth = 64

    /// A parse failure: what was wrong, and the byte offset where it was found.
    package struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        package var message: String
        package var offset: Int
        package var description: String { "\(message) at byte \(offset)" }
    }

    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    /// Parses one JSON text (surrounding white space allowed).
    package static func parse(_ text: some Collection<UInt8>) throws(Failure) -> JSONValue {
        let copy = Array(text)
        let result = copy.withUnsafeBytes { buffer -> Result<JSONValue, Failure> in
            do throws(Failure) { return .success(try parse(bytes: buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON text (surrounding white space allowed) in place.
    package static func parse(bytes buffer: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes: buffer)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.i == buffer.count else { throw parser.fail("unexpected content after the JSON value") }
        return value
    }

    /// Parses one JSON text given as a string.
    package static func parse(_ text: String) throws(Failure) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Reads one JSON text that is an object whose member names are plain ASCII (no escapes),
    /// member by member, without building the object: `member` gets each name's bytes and reads
    /// the value with ``memberValue()`` or ``memberString()``, or returns false to give up. Answers
    /// false for any other text, malformed ones included, and when `member` gave up: the caller
    /// then reads the text with ``parse(bytes:)``, which answers exactly (value or failure). What
    /// the members read is what ``parse(bytes:)`` would hold under those names.
    package static func readObject(
        _ buffer: UnsafeRawBufferPointer, member: (UnsafeRawBufferPointer, inout JSONParser) -> Bool
    ) -> Bool {
        var parser = JSONParser(bytes: buffer)
        parser.skipSpace()
        guard parser.i < buffer.count, buffer[parser.i] == UInt8(ascii: "{") else { return false }
        parser.i += 1
        parser.skipSpace()
        if parser.i < buffer.count, buffer[parser.i] == UInt8(ascii: "}") {
            parser.i += 1
        } else {
            while true {
                parser.skipSpace()
                guard parser.i < buffer.count, buffer[parser.i] == UInt8(ascii: "\"") else { return false }
                let start = parser.i + 1
                var end = start
                while end < buffer.count {
                    let c = buffer[end]
                    if c == UInt8(ascii: "\"") { break }
                    // Escapes, control characters and non-ASCII names take the exact path.
                    guard c >= 0x20, c < 0x80, c != UInt8(ascii: "\\") else { return false }
                    end += 1
                }
                guard end < buffer.count else { return false }
                parser.i = end + 1
                parser.skipSpace()
                guard parser.i < buffer.count, buffer[parser.i] == UInt8(ascii: ":") else { return false }
                parser.i += 1
                parser.skipSpace()
                guard member(UnsafeRawBufferPointer(rebasing: buffer[start..<end]), &parser) else { return false }
                parser.skipSpace()
                guard parser.i < buffer.count else { return false }
                if buffer[parser.i] == UInt8(ascii: ",") {
                    parser.i += 1
                    continue
                }
                guard buffer[parser.i] == UInt8(ascii: "}") else { return false }
                parser.i += 1
                break
            }
        }
        parser.skipSpace()
        return parser.i == buffer.count
    }

    /// The value of the member being read (``readObject(_:member:)``), as ``parse(bytes:)`` reads a
    /// member of a top-level object; nil when it is malformed.
    package mutating func memberValue() -> JSONValue? {
        do throws(Failure) { return try value(depth: 1) } catch { return nil }
    }

    /// The value of the member being read when it is a string; nil for any other value or a
    /// malformed one (what was read of it is then unspecified: give up).
    package mutating func memberString() -> String? {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        do throws(Failure) { return try string() } catch { return nil }
    }

    private func fail(_ message: String) -> Failure { Failure(message: message, offset: i) }

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) throws(Failure) -> JSONValue {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("invalid literal") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("invalid literal") }
        i += n
        return value
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw fail("nesting too deep") }
        i += 1
        var members: [String: JSONValue] = [:]
        // Member names compare by their bytes. While every name is ASCII, String equality is byte
        // equality and the dictionary holds every name so far: it finds a duplicate by itself.
        // From the first other name on, the names' bytes are kept (canonically equivalent names
        // are distinct members, which the dictionary would merge).
        var byBytes = false
        var seen = Set<[UInt8]>()
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let start = i
            let key = try string()
            let duplicate: Bool
            if !byBytes, key.utf8.allSatisfy({ $0 < 0x80 }) {
                duplicate = members[key] != nil
            } else {
                if !byBytes {
                    byBytes = true
                    seen = Set(members.keys.map { Array($0.utf8) })
                }
                duplicate = !seen.insert(Array(key.utf8)).inserted
            }
            guard !duplicate else {
                throw Failure(message: "duplicate member \"\(key)\"", offset: start)
            }
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            members[key] = try value(depth: depth)
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of input") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw fail("nesting too deep") }
        i += 1
        var elements: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
        while true {
            skipSpace()
            elements.append(try value(depth: depth))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of input") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw fail("invalid \\u escape")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    private mutating func string() throws(Failure) -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        var high: UInt8 = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                i += 1
                // ASCII is valid UTF-8 as it is: decoding it cannot repair anything.
                if high < 0x80 { return String(decoding: raw, as: UTF8.self) }
                guard let s = String(validating: raw, as: UTF8.self) else {
                    throw Failure(message: "invalid UTF-8 in string", offset: start)
                }
                return s
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            high |= c
            i += 1
        }
        var out: [UInt8] = Array(bytes[start..<i])
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("lone surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("invalid escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw Failure(message: "invalid UTF-8 in string", offset: start)
        }
        return s
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        func isDigit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 48 && bytes[k] <= 57 }
        guard isDigit(i) else { throw fail("invalid number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw fail("leading zero in number") }
        } else {
            while isDigit(i) { i += 1 }
        }
        var integral = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard isDigit(i) else { throw fail("invalid number") }
            while isDigit(i) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw fail("invalid number") }
            while isDigit(i) { i += 1 }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        // Only a number written as an integer that fits in Int64 is `.int`: `4.0`, `4e0` and an
        // integer beyond Int64 (which a double would round) stay doubles, so integer fields can
        // refuse them. The stored and canonical forms do not depend on this (both write an
        // integral double as an integer).
        if integral, let v = Int64(text) { return .int(v) }
        guard let d = Double(text), d.isFinite else { throw Failure(message: "number out of range", offset: start) }
        return .double(d)
    }
}
