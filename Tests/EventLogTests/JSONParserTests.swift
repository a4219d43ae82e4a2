import Testing

@testable import EventLog

@Suite("Strict JSON parsing")
struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let v = try JSONParser.parse(#" {"a": [1, -2.5, true, false, null, "x\u00e9\ud83d\ude00"], "b": {}} "#)
        #expect(
            v
                == .object([
                    "a": .array([.int(1), .double(-2.5), .bool(true), .bool(false), .null, .string("xé😀")]),
                    "b": .object([:]),
                ]))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "tru", "\"\\x\"", "\"a\nb\"", "{\"a\":1 \"b\":2}",
        "\"\\ud800\"", "\"\\udc00x\"", "1 2", "{\"a\":1,\"a\":2}", "1e999", "NaN", "'a'",
    ])
    func rejectsMalformedInput(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    /// Member names are the same member only when their bytes are: ASCII names, names that are
    /// not, and canonically equivalent ones (KELVIN SIGN and K) mixed in any order.
    @Test func duplicateMemberNamesAreFoundByTheirBytes() throws {
        for text in [
            #"{"a":1,"b":2,"a":3}"#, #"{"\u00e9":1,"\u00e9":2}"#, #"{"a":1,"\u00e9":2,"a":3}"#,
            #"{"\u00e9":1,"a":2,"a":3}"#, #"{"K":1,"\u212a":2,"K":3}"#, #"{"\u212a":1,"b":2,"\u212a":3}"#,
        ] {
            #expect(throws: JSONParser.Failure.self, "\(text)") { try JSONParser.parse(text) }
        }
        for text in [#"{"K":1,"\u212a":2}"#, #"{"\u212a":1,"K":2}"#, #"{"e\u0301":1,"\u00e9":2}"#] {
            // Distinct members whose names Swift's String equality merges: the parser accepts them.
            #expect(throws: Never.self, "\(text)") { _ = try JSONParser.parse(text) }
        }
        #expect(try JSONParser.parse(#"{"a":1,"b":{"a":2},"c":[{"a":3}]}"#)["b"] == .object(["a": .int(2)]))
        let failure = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse(#"{"x":1, "\u00e9":2, "x":3}"#) }
        #expect(failure == JSONParser.Failure(message: "duplicate member \"x\"", offset: 20))
    }

    @Test func rejectsNestingBeyondTheLimit() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
    }

    @Test func keepsIntegersAndDecimalsApart() throws {
        #expect(try JSONParser.parse("12") == .int(12))
        #expect(try JSONParser.parse("12.5") == .double(12.5))
        #expect(try JSONParser.parse("-9223372036854775808") == .int(.min))
    }

    /// SPEC §2.2: an integer is a number written without fraction or exponent. `4.0`, `4e0` and
    /// an integer beyond Int64 parse as doubles, so no integer field can take them; their stored
    /// and canonical forms are what they were (an integral double is written as an integer).
    @Test(arguments: ["4.0", "4e0", "4E0", "40e-1", "0.4e1", "4.000", "4e+0", "-9223372036854775809", "9223372036854775808"])
    func numbersWithAFractionOrAnExponentAreNeverIntegers(text: String) throws {
        let value = try JSONParser.parse(text)
        guard case .double = value else {
            Issue.record("\(text) parsed as \(value)")
            return
        }
        #expect(value.intValue == nil, "\(text)")
        #expect(try JSONParser.parse("{\"score\": \(text)}")["score"]?.intValue == nil, "\(text)")
    }

    @Test func integralDoublesKeepTheirCanonicalForm() throws {
        #expect(CanonicalJSON.encode(try JSONParser.parse("4.0")) == Array("4".utf8))
        #expect(CanonicalJSON.encode(try JSONParser.parse("1e2")) == Array("100".utf8))
        #expect(CanonicalJSON.encode(try JSONParser.parse(#"{"a": 2.50, "b": 3e0}"#)) == Array(#"{"a":2.5,"b":3}"#.utf8))
        #expect(try JSONParser.parse("12").intValue == 12)
        #expect(try JSONParser.parse("-0").intValue == 0)
    }

    @Test func comparesStringsByScalarsWithoutNormalising() {
        #expect(JSONValue.string("\u{E9}") != JSONValue.string("e\u{301}"))
        #expect(JSONValue.object(["\u{E9}": .int(1)]) != JSONValue.object(["e\u{301}": .int(1)]))
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test func formatsWithThreeFractionDigitsAndZ() {
        #expect(Timestamp(milliseconds: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: 1_772_359_353_120).rfc3339 == "2026-03-01T10:02:33.120Z")
        #expect(Timestamp(milliseconds: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
    }

    @Test func parsesZeroToThreeFractionDigits() {
        #expect(Timestamp(rfc3339: "2026-03-01T10:02:33Z")?.milliseconds == 1_772_359_353_000)
        #expect(Timestamp(rfc3339: "2026-03-01T10:02:33.1Z")?.milliseconds == 1_772_359_353_100)
        #expect(Timestamp(rfc3339: "2026-03-01T10:02:33.12Z")?.milliseconds == 1_772_359_353_120)
        #expect(Timestamp(rfc3339: "2024-02-29T00:00:00.000Z") != nil)
    }

    @Test(arguments: [
        "2026-03-01T10:02:33.1234Z", "2026-03-01T10:02:33.Z", "2026-03-01 10:02:33Z", "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T10:02:33+01:00", "2026-03-01T10:02:33z",
        "2026-03-01T10:02:33", "2026-03-01T10:02:33.000Zx",
    ])
    func rejectsAnythingElse(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func acceptsOffsetsOnlyWhenAllowed() {
        #expect(Timestamp(rfc3339: "2026-03-01T11:02:33.120+01:00", allowOffset: true)?.rfc3339 == "2026-03-01T10:02:33.120Z")
        #expect(Timestamp(rfc3339: "2026-03-01T08:02:33-02:00", allowOffset: true)?.rfc3339 == "2026-03-01T10:02:33.000Z")
    }
}
