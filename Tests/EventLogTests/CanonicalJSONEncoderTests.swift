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

    /// A JSON value encoded member by member through the keyed, unkeyed and single-value
    /// containers, half of the nested objects and arrays through nested containers (a
    /// `JSONValue` member is taken whole by the encoder, so it would not exercise them).
    struct ThroughContainers: Encodable {
        var value: JSONValue

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { return nil }
        }

        func encode(to encoder: any Encoder) throws {
            switch value {
            case .object(let members):
                var container = encoder.container(keyedBy: Key.self)
                try Self.fill(&container, members)
            case .array(let elements):
                var container = encoder.unkeyedContainer()
                try Self.fill(&container, elements)
            case .null:
                var container = encoder.singleValueContainer()
                try container.encodeNil()
            case .bool(let b):
                var container = encoder.singleValueContainer()
                try container.encode(b)
            case .int(let i):
                var container = encoder.singleValueContainer()
                try container.encode(i)
            case .double(let d):
                var container = encoder.singleValueContainer()
                try container.encode(d)
            case .string(let s):
                var container = encoder.singleValueContainer()
                try container.encode(s)
            }
        }

        static func fill(_ container: inout KeyedEncodingContainer<Key>, _ members: [String: JSONValue]) throws {
            for (k, (name, member)) in members.enumerated() {
                let key = Key(name)
                switch member {
                case .null: try container.encodeNil(forKey: key)
                case .bool(let b): try container.encode(b, forKey: key)
                case .int(let i): try container.encode(i, forKey: key)
                case .double(let d): try container.encode(d, forKey: key)
                case .string(let s): try container.encode(s, forKey: key)
                case .object(let o) where k.isMultiple(of: 2):
                    var nested = container.nestedContainer(keyedBy: Key.self, forKey: key)
                    try fill(&nested, o)
                case .array(let a) where k.isMultiple(of: 2):
                    var nested = container.nestedUnkeyedContainer(forKey: key)
                    try fill(&nested, a)
                case .object, .array: try container.encode(ThroughContainers(value: member), forKey: key)
                }
            }
        }

        static func fill(_ container: inout any UnkeyedEncodingContainer, _ elements: [JSONValue]) throws {
            for (k, element) in elements.enumerated() {
                switch element {
                case .null: try container.encodeNil()
                case .bool(let b): try container.encode(b)
                case .int(let i): try container.encode(i)
                case .double(let d): try container.encode(d)
                case .string(let s): try container.encode(s)
                case .object(let o) where k.isMultiple(of: 2):
                    var nested = container.nestedContainer(keyedBy: Key.self)
                    try fill(&nested, o)
                case .array(let a) where k.isMultiple(of: 2):
                    var nested = container.nestedUnkeyedContainer()
                    try fill(&nested, a)
                case .object, .array: try container.encode(ThroughContainers(value: element))
                }
            }
        }
    }

    @Test func anyJSONValueEncodedThroughTheContainersGivesItsCanonicalBytesAndItself() throws {
        var random = SeededRandom(seed: 11)
        for _ in 0..<2000 {
            let value = Self.randomValue(&random)
            let through = ThroughContainers(value: value)
            #expect(try CanonicalJSONEncoder().encode(through) == CanonicalJSON.encode(value), "\(value)")
            #expect(try CanonicalJSONEncoder().value(of: through) == value, "\(value)")
        }
    }

    @Test func anObjectCutAtAMemberIsThatObjectWithTheMembersValueInTheCut() throws {
        var random = SeededRandom(seed: 12)
        for _ in 0..<2000 {
            var members: [String: JSONValue] = [:]
            for _ in 0..<random.below(6) { members[Self.randomString(&random)] = Self.randomValue(&random, depth: 1) }
            // The cut's name is new, or one the object has (which it replaces).
            let key = random.chance(0.3) && !members.isEmpty ? random.element(of: Array(members.keys)) : Self.randomString(&random)
            let member = Self.randomValue(&random, depth: 1)
            let object = ThroughContainers(value: .object(members))
            let (head, tail) = try CanonicalJSONEncoder().encode(object, cutAtMember: key)
            members[key] = member
            #expect(head + CanonicalJSON.encode(member) + tail == CanonicalJSON.encode(.object(members)), "\(members) cut at \(key)")
        }
        #expect(throws: EncodingError.self) { try CanonicalJSONEncoder().encode([1, 2], cutAtMember: "thread") }
    }

    struct Interleaved: Encodable {
        enum Key: String, CodingKey { case zeta, alpha, nested, mid }
        enum Inner: String, CodingKey { case b, a }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode("first", forKey: .zeta)
            var nested = container.nestedContainer(keyedBy: Inner.self, forKey: .nested)
            try container.encode(1, forKey: .alpha)
            try nested.encode(true, forKey: .b)
            try container.encode("second", forKey: .zeta)
            try nested.encode([Int64(2), 3], forKey: .a)
            try container.encode(Timestamp(milliseconds: 0), forKey: .mid)
        }
    }

    @Test func aNestedContainerFilledAfterLaterMembersAndAMemberWrittenTwiceKeepTheirLastValues() throws {
        let bytes = try CanonicalJSONEncoder().encode(Interleaved())
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"{"alpha":1,"mid":"1970-01-01T00:00:00.000Z","nested":{"a":[2,3],"b":true},"zeta":"second"}"#)
        #expect(
            try CanonicalJSONEncoder().value(of: Interleaved())
                == .object([
                    "alpha": .int(1), "mid": .string("1970-01-01T00:00:00.000Z"),
                    "nested": .object(["a": .array([.int(2), .int(3)]), "b": .bool(true)]), "zeta": .string("second"),
                ]))
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
        #expect(try CanonicalJSONEncoder().value(of: shape) == expected)
    }

    @Test func anUnsignedIntegerBeyondInt64IsAnErrorNotARoundedNumber() throws {
        #expect(throws: EncodingError.self) { try CanonicalJSONEncoder().encode([UInt64.max]) }
        #expect(try CanonicalJSONEncoder().encode([UInt64(Int64.max)]) == Array("[9223372036854775807]".utf8))
    }
}
