import Testing

@testable import EventLog

@Suite("The canonical JSON encoder writes what CanonicalJSON writes")
struct CanonicalJSONEncoderTests {
    /// A random JSON value: every case, keys and strings with escapes, non-ASCII and astral
    /// characters (whose UTF-16 order differs from their scalar order), nested a few levels.
    static func randomValue(_ random: inout SeededRandom, depth: Int = 0) -> JSONValue {
        switch random.below(depth < 3 ? 8 : 6) {
        case 0: return .null
        case 1: return .bool(random.chance(0.5))
        case 2: return .int(random.chance(0.2) ? Int64(bitPattern: random.next()) : random.int64(in: -1000...1000))
        case 3:
            let d = random.chance(0.3) ? Double(random.int64(in: -100...100)) : (random.unit() - 0.5) * pow10(random.below(40) - 20)
            return .double(d)
        case 4, 5: return .string(randomString(&random))
        case 6: return .array((0..<random.below(5)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<random.below(6) { members[randomString(&random)] = randomValue(&random, depth: depth + 1) }
            return .object(members)
        }
    }

    static func pow10(_ n: Int) -> Double {
        var d = 1.0
        for _ in 0..<abs(n) { d *= 10 }
        return n < 0 ? 1 / d : d
    }

    static let alphabet: [String] = [
        "a", "b", "Z", "0", " ", "\"", "\\", "\n", "\u{01}", "\u{1F}", "é", "\u{7F}", "€", "\u{FB33}", "😀", "\u{10000}", "ア",
    ]

    static func randomString(_ random: inout SeededRandom) -> String {
        (0..<random.below(6)).map { _ in random.element(of: alphabet) }.joined()
    }

    @Test func anyJSONValueEncodesToItsCanonicalBytes() throws {
        var random = SeededRandom(seed: 10)
        for _ in 0..<2000 {
            let value = Self.randomValue(&random)
            #expect(try CanonicalJSONEncoder().encode(value) == CanonicalJSON.encode(value), "\(value)")
        }
    }

    struct Shape: Encodable {
        var name: String
        var count: Int
        var ratio: Double
        var flags: [Bool]
        var at: Timestamp
        var omitted: String?
        @NullWhenAbsent var absent: String?
        @NullWhenAbsent var present: Int?
        var nested: [String: Int64]
    }

    @Test func aStructEncodesAsTheEquivalentObject() throws {
        let at = Timestamp(milliseconds: 1_772_360_553_120)
        let shape = Shape(
            name: "é\"x", count: -3, ratio: 0.25, flags: [true, false], at: at, omitted: nil,
            absent: nil, present: 7, nested: ["b": 2, "a": 1])
        let expected: JSONValue = .object([
            "name": .string("é\"x"), "count": .int(-3), "ratio": .double(0.25),
            "flags": .array([.bool(true), .bool(false)]), "at": .string("2026-03-01T10:22:33.120Z"),
            "absent": .null, "present": .int(7), "nested": .object(["a": .int(1), "b": .int(2)]),
        ])
        #expect(try CanonicalJSONEncoder().encode(shape) == CanonicalJSON.encode(expected))
    }

    @Test func anUnsignedIntegerBeyondInt64IsAnErrorNotARoundedNumber() throws {
        #expect(throws: EncodingError.self) { try CanonicalJSONEncoder().encode([UInt64.max]) }
        #expect(try CanonicalJSONEncoder().encode([UInt64(Int64.max)]) == Array("[9223372036854775807]".utf8))
    }
}
