import Foundation
import Testing

@testable import EventLog

@Suite("Canonical JSON and the hash chain vectors")
struct CanonicalJSONTests {
    let format = EnvelopeFormat(streamField: "ticket")

    func vectorLines() throws -> [[UInt8]] {
        let data = try Data(contentsOf: fixturesFolder().appendingPathComponent("vectors/hash-chain.ndjson"))
        return data.split(separator: UInt8(ascii: "\n")).map { Array($0) }.filter { !$0.isEmpty }
    }

    @Test func firstVectorEventCanonicalizesToTheGivenBytes() throws {
        let expected = try Data(contentsOf: fixturesFolder().appendingPathComponent("vectors/event-1.jcs"))
        let event = try format.parseLine(try vectorLines()[0])
        #expect(format.canonicalJSON(of: event) == Array(expected))
    }

    @Test func everyVectorHashIsReproducedFromTheOtherFields() throws {
        var prev = EventHash.zero
        let lines = try vectorLines()
        #expect(lines.count == 10)
        for line in lines {
            let event = try format.parseLine(line)
            #expect(event.prev == prev)
            #expect(format.computeHash(of: event) == event.hash, "seq \(event.seq)")
            prev = event.hash
        }
    }

    @Test func exportLineRoundTripsTheVectorsByteForByte() throws {
        for line in try vectorLines() {
            let event = try format.parseLine(line)
            let again = try format.parseLine(format.jsonLine(of: event))
            #expect(again == event)
            #expect(format.computeHash(of: again) == event.hash)
        }
    }

    @Test func changingAnyFieldOfAnyVectorLineBreaksItsHash() throws {
        for line in try vectorLines() {
            let event = try format.parseLine(line)
            var variants: [RecordedEvent] = []
            var e = event; e.seq += 1; variants.append(e)
            e = event; e.stream += "x"; variants.append(e)
            e = event; e.version += 1; variants.append(e)
            e = event; e.type += "x"; variants.append(e)
            e = event; e.at.milliseconds += 1; variants.append(e)
            e = event; e.recorded.milliseconds += 1; variants.append(e)
            e = event; e.actor.id += "x"; variants.append(e)
            e = event; e.actor.kind += "x"; variants.append(e)
            e = event; e.data = .object((event.data.objectValue ?? [:]).merging(["extra": .null]) { a, _ in a }); variants.append(e)
            e = event; e.prev = EventHash(hex: String(repeating: "1", count: 64))!; variants.append(e)
            for variant in variants {
                #expect(format.computeHash(of: variant) != event.hash)
            }
        }
    }

    @Test func stringsEscapeOnlyWhatRFC8785Requires() {
        let value = JSONValue.object(["s": .string("a\"b\\c\u{08}\u{0C}\n\r\t\u{01}\u{7F}é€😀/<\u{2028}")])
        let expected = #"{"s":"a\"b\\c\b\f\n\r\t\u0001"# + "\u{7F}é€😀/<\u{2028}\"}"
        #expect(CanonicalJSON.encode(value).string == expected)
    }

    @Test func membersAreSortedByUTF16CodeUnits() {
        // U+FB33 sorts after U+1F600 by code point but before it by UTF-16 (surrogates D83D).
        let value = JSONValue.object(["\u{FB33}": .int(1), "😀": .int(2), "a": .int(3), "B": .int(4)])
        #expect(CanonicalJSON.encode(value).string == "{\"B\":4,\"a\":3,\"😀\":2,\"\u{FB33}\":1}")
    }

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (0.1, "0.1"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"), (1e-7, "1e-7"), (0.000001, "0.000001"),
        (1.5e-7, "1.5e-7"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (333333333.3333333, "333333333.3333333"), (9007199254740992.0, "9007199254740992"),
    ])
    func numbersUseTheECMAScriptForm(value: Double, expected: String) {
        #expect(CanonicalJSON.ecmaScriptString(value) == expected)
    }

    @Test func integersStayExact() {
        #expect(
            CanonicalJSON.encode(.array([.int(Int64.max), .int(Int64.min), .int(0)])).string
                == "[9223372036854775807,-9223372036854775808,0]")
    }
}
