import Foundation
import SupportDomain
import Testing

@Suite("Effective policy encoding")
struct PolicyEncodingTests {
    private func canonicalJSON(_ policy: Policy) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(policy), as: UTF8.self)
    }

    @Test func defaultPolicyWritesEveryKey() throws {
        let expected = """
            {"capacity":25,"holidays":[],\
            "schedule":{"fri":["08:00-19:00"],"mon":["08:00-19:00"],"sat":["09:00-17:00"],"sun":[],\
            "thu":["08:00-19:00"],"tue":["08:00-19:00"],"wed":["08:00-19:00"]},\
            "targets":{\
            "high":{"firstReply":{"clock":"business","seconds":14400},"nextReply":{"clock":"business","seconds":28800},\
            "resolution":{"clock":"business","seconds":86400}},\
            "low":{"firstReply":{"clock":"business","seconds":86400},"nextReply":{"clock":"business","seconds":86400},\
            "resolution":{"clock":"business","seconds":288000}},\
            "normal":{"firstReply":{"clock":"business","seconds":28800},"nextReply":{"clock":"business","seconds":57600},\
            "resolution":{"clock":"business","seconds":144000}},\
            "urgent":{"firstReply":{"clock":"calendar","seconds":3600},"nextReply":{"clock":"calendar","seconds":7200},\
            "resolution":{"clock":"calendar","seconds":28800}}},\
            "timeZone":"Europe/Paris"}
            """
        #expect(try canonicalJSON(.default) == expected)
    }

    @Test func absentTargetsAreNullAndHolidaysSorted() throws {
        let policy = try Policy.parse(
            jsonData: Data(
                """
                {"holidays": ["2026-12-25", "2026-05-01"],
                 "schedule": {"mon": ["13:00-19:00", "08:00-12:00"]},
                 "targets": {"urgent": {"nextReply": null}}}
                """.utf8))
        let json = try canonicalJSON(policy)
        #expect(json.contains(#""holidays":["2026-05-01","2026-12-25"]"#))
        #expect(json.contains(#""mon":["08:00-12:00","13:00-19:00"]"#))
        #expect(json.contains(#""sat":[]"#))
        #expect(json.contains(#""urgent":{"firstReply":{"clock":"calendar","seconds":3600},"nextReply":null,"#))
    }

    @Test func encodedPolicyParsesBackToItself() throws {
        let policy = try Policy.parse(
            jsonData: Data(
                """
                {"timeZone": "America/Santiago", "holidays": ["2026-09-18"], "capacity": 3,
                 "schedule": {"sat": ["00:00-02:00", "22:00-24:00"]},
                 "targets": {"low": {"firstReply": null, "resolution": {"seconds": 5, "clock": "calendar"}}}}
                """.utf8))
        let encoded = try JSONEncoder().encode(policy)
        #expect(try Policy.parse(jsonData: encoded) == policy)
    }
}
