/// A JSON value, as carried in an event's `data`.
///
/// Integers and non-integral numbers are kept apart so that integers round-trip exactly.
/// Strings compare by Unicode scalars, never by canonical equivalence: the log stores and
/// hashes exactly what was sent.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: Hashable {
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y && Int64(exactly: y) == x
        case let (.string(x), .string(y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            // Keys compare by scalars: re-key both sides by their UTF-8 bytes.
            guard x.count == y.count else { return false }
            let yByBytes = Dictionary(y.map { (Array($0.key.utf8), $0.value) }, uniquingKeysWith: { a, _ in a })
            for (k, v) in x {
                guard let other = yByBytes[Array(k.utf8)], other == v else { return false }
            }
            return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(Double(i))
        case .double(let d): hasher.combine(d)
        case .string(let s): hasher.combine(Array(s.utf8))
        case .array(let a): hasher.combine(a)
        case .object(let o):
            hasher.combine(o.count)
            var sum = 0
            for (k, v) in o {
                var h = Hasher(); h.combine(Array(k.utf8)); h.combine(v); sum &+= h.finalize()
            }
            hasher.combine(sum)
        }
    }
}

extension JSONValue {
    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The string, when this is one.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The integer, when this is one: a JSON number written without fraction or exponent that
    /// fits in `Int64` (SPEC §2.2). `4.0` and `4e0` are doubles, never integers, so every
    /// integer field that reads through here is strict.
    public var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    /// The members, when this is an object.
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// True for `null`.
    public var isNull: Bool { if case .null = self { return true }; return false }

}
