import Foundation
import SupportDomain
import Testing

/// A policy file that must be rejected, with the exact message expected.
struct RejectedPolicyFile: Sendable, CustomTestStringConvertible {
    let json: String
    let kind: PolicyError.Kind
    let description: String
    var testDescription: String { json }
}

@Suite("Policy file errors")
struct PolicyErrorTests {
    static let rejectedFiles: [RejectedPolicyFile] = [
        // Windows
        .init(
            json: #"{"schedule": {"mon": ["08:00-12:00", "13:00-12:00"]}}"#, kind: .invalidValue,
            description: #"schedule.mon[1]: "13:00-12:00" ends before it starts"#),
        .init(
            json: #"{"schedule": {"mon": ["8:00-12:00"]}}"#, kind: .invalidValue,
            description: #"schedule.mon[0]: "8:00-12:00" is not of the form HH:MM-HH:MM"#),
        .init(
            json: #"{"schedule": {"tue": ["08:00 - 12:00"]}}"#, kind: .invalidValue,
            description: #"schedule.tue[0]: "08:00 - 12:00" is not of the form HH:MM-HH:MM"#),
        .init(
            json: #"{"schedule": {"wed": ["08:60-12:00"]}}"#, kind: .invalidValue,
            description: #"schedule.wed[0]: "08:60-12:00" has minutes outside 00-59"#),
        .init(
            json: #"{"schedule": {"thu": ["25:00-26:00"]}}"#, kind: .invalidValue,
            description: #"schedule.thu[0]: "25:00-26:00" has an hour outside 00-24"#),
        .init(
            json: #"{"schedule": {"fri": ["20:00-24:30"]}}"#, kind: .invalidValue,
            description: #"schedule.fri[0]: "20:00-24:30" ends after 24:00"#),
        .init(
            json: #"{"schedule": {"sat": ["24:00-24:00"]}}"#, kind: .invalidValue,
            description: #"schedule.sat[0]: "24:00-24:00" starts at 24:00"#),
        .init(
            json: #"{"schedule": {"sat": ["24:10-24:20"]}}"#, kind: .invalidValue,
            description: #"schedule.sat[0]: "24:10-24:20" starts after 24:00"#),
        .init(
            json: #"{"schedule": {"sun": ["12:00-12:00"]}}"#, kind: .invalidValue,
            description: #"schedule.sun[0]: "12:00-12:00" is empty (it ends when it starts)"#),
        .init(
            json: #"{"schedule": {"mon": ["08:00-12:00", "14:00-15:00", "11:00-13:00"]}}"#, kind: .invalidValue,
            description: #"schedule.mon[2]: "11:00-13:00" overlaps "08:00-12:00" (schedule.mon[0])"#),
        .init(
            json: #"{"schedule": {"monday": []}}"#, kind: .unknownKey,
            description: "schedule.monday: unknown key (expected one of mon, tue, wed, thu, fri, sat, sun)"),
        .init(
            json: #"{"schedule": {"sun": "closed"}}"#, kind: .wrongType,
            description: "schedule.sun: expected an array, found a string"),
        .init(
            json: #"{"schedule": {"sun": [9]}}"#, kind: .wrongType,
            description: "schedule.sun[0]: expected a string, found a number"),
        .init(
            json: #"{"schedule": null}"#, kind: .wrongType,
            description: "schedule: expected an object, found null"),
        .init(
            json: #"{"schedule": {"mon": [], "mon": []}}"#, kind: .malformedJSON,
            description: #"invalid JSON: duplicate member "mon" at byte 25"#),
        // Top level
        .init(
            json: #"{"timezone": "UTC"}"#, kind: .unknownKey,
            description: "timezone: unknown key (expected one of timeZone, schedule, holidays, capacity, targets, limits, automations)"),
        .init(
            json: #"{"time zone": "UTC"}"#, kind: .unknownKey,
            description:
                #"["time zone"]: unknown key (expected one of timeZone, schedule, holidays, capacity, targets, limits, automations)"#),
        .init(
            json: #"{"capacity": 1, "capacity": 2}"#, kind: .malformedJSON,
            description: #"invalid JSON: duplicate member "capacity" at byte 16"#),
        .init(json: "[]", kind: .wrongType, description: "expected an object, found an array"),
        // Time zone
        .init(
            json: #"{"timeZone": "Mars/Olympus_Mons"}"#, kind: .invalidValue,
            description: #"timeZone: "Mars/Olympus_Mons" is not a known IANA time zone"#),
        .init(
            json: #"{"timeZone": "GMT+2"}"#, kind: .invalidValue,
            description: #"timeZone: "GMT+2" is not a known IANA time zone"#),
        .init(
            json: #"{"timeZone": "europe/paris"}"#, kind: .invalidValue,
            description: #"timeZone: "europe/paris" is not a known IANA time zone"#),
        .init(
            json: #"{"timeZone": 1}"#, kind: .wrongType,
            description: "timeZone: expected a string, found a number"),
        // Holidays
        .init(
            json: #"{"holidays": ["2026-05-01", "2026-02-29"]}"#, kind: .invalidValue,
            description: #"holidays[1]: "2026-02-29" is not a valid date (expected YYYY-MM-DD)"#),
        .init(
            json: #"{"holidays": ["2026-5-1"]}"#, kind: .invalidValue,
            description: #"holidays[0]: "2026-5-1" is not a valid date (expected YYYY-MM-DD)"#),
        .init(
            json: #"{"holidays": "2026-05-01"}"#, kind: .wrongType,
            description: "holidays: expected an array, found a string"),
        // Capacity
        .init(
            json: #"{"capacity": -1}"#, kind: .invalidValue,
            description: "capacity: must be an integer >= 0, found -1"),
        .init(
            json: #"{"capacity": 2.5}"#, kind: .wrongType,
            description: "capacity: expected an integer, found 2.5"),
        .init(
            json: #"{"capacity": 25.0}"#, kind: .wrongType,
            description: "capacity: expected an integer, found 25.0"),
        .init(
            json: #"{"capacity": "25"}"#, kind: .wrongType,
            description: "capacity: expected an integer, found a string"),
        .init(
            json: #"{"capacity": true}"#, kind: .wrongType,
            description: "capacity: expected an integer, found a boolean"),
        .init(
            json: #"{"capacity": 99999999999999999999}"#, kind: .invalidValue,
            description: "capacity: 100000000000000000000 is out of range"),
        // Targets
        .init(
            json: #"{"targets": {"high": {"firstReply": {"seconds": 0, "clock": "business"}}}}"#, kind: .invalidValue,
            description: "targets.high.firstReply.seconds: must be an integer > 0, found 0"),
        .init(
            json: #"{"targets": {"high": {"firstReply": {"seconds": 1.5, "clock": "business"}}}}"#, kind: .wrongType,
            description: "targets.high.firstReply.seconds: expected an integer, found 1.5"),
        .init(
            json: #"{"targets": {"high": {"firstReply": {"seconds": 9223372036854776, "clock": "business"}}}}"#,
            kind: .invalidValue,
            description: "targets.high.firstReply.seconds: 9223372036854776 is too large (at most 9223372036854775)"),
        .init(
            json: #"{"targets": {"high": {"firstReply": {"seconds": 60, "clock": "wall"}}}}"#, kind: .invalidValue,
            description: #"targets.high.firstReply.clock: "wall" is not a clock (expected "calendar" or "business")"#),
        .init(
            json: #"{"targets": {"high": {"firstReply": {"seconds": 60}}}}"#, kind: .missingKey,
            description: #"targets.high.firstReply: missing key "clock""#),
        .init(
            json: #"{"targets": {"low": {"resolution": {"clock": "business"}}}}"#, kind: .missingKey,
            description: #"targets.low.resolution: missing key "seconds""#),
        .init(
            json: #"{"targets": {"high": {"firstReply": {"seconds": 60, "clock": "business", "grace": 5}}}}"#,
            kind: .unknownKey,
            description: "targets.high.firstReply.grace: unknown key (expected one of seconds, clock)"),
        .init(
            json: #"{"targets": {"high": {"firstresponse": null}}}"#, kind: .unknownKey,
            description: "targets.high.firstresponse: unknown key (expected one of firstReply, nextReply, resolution)"),
        .init(
            json: #"{"targets": {"critical": {}}}"#, kind: .unknownKey,
            description: "targets.critical: unknown key (expected one of low, normal, high, urgent)"),
        .init(
            json: #"{"targets": {"high": null}}"#, kind: .wrongType,
            description: "targets.high: expected an object, found null"),
        .init(
            json: #"{"targets": {"high": {"firstReply": 5}}}"#, kind: .wrongType,
            description: "targets.high.firstReply: expected an object or null, found a number"),
        // Malformed JSON
        .init(
            json: #"{"capacity": }"#, kind: .malformedJSON,
            description: "invalid JSON: unexpected character at byte 13"),
        .init(
            json: "{} x", kind: .malformedJSON,
            description: "invalid JSON: unexpected content after the JSON value at byte 3"),
        .init(
            json: #"{"capacity": 1,}"#, kind: .malformedJSON,
            description: "invalid JSON: expected a member name at byte 15"),
        .init(
            json: #"{"capacity" 1}"#, kind: .malformedJSON,
            description: "invalid JSON: expected ':' at byte 12"),
        .init(
            json: #"{"capacity": 01}"#, kind: .malformedJSON,
            description: "invalid JSON: leading zero in number at byte 14"),
        .init(
            json: "", kind: .malformedJSON,
            description: "invalid JSON: unexpected end of input at byte 0"),
        .init(
            json: #"{"timeZone": "Europe/Paris}"#, kind: .malformedJSON,
            description: "invalid JSON: unterminated string at byte 27"),
    ]

    @Test(arguments: rejectedFiles)
    func rejectsWithAPreciseMessage(_ file: RejectedPolicyFile) {
        let error = #expect(throws: PolicyError.self) {
            try Policy.parse(jsonData: Data(file.json.utf8))
        }
        #expect(error?.description == file.description)
        #expect(error?.kind == file.kind)
    }

    @Test func keyPathAndMessageAreSeparate() {
        do {
            _ = try Policy.parse(jsonData: Data(#"{"schedule": {"mon": ["08:00-12:00", "13:00-12:00"]}}"#.utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.keyPath == "schedule.mon[1]")
            #expect(error.message == #""13:00-12:00" ends before it starts"#)
        }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]
        #expect(throws: PolicyError(kind: .malformedJSON, keyPath: "", message: "invalid JSON: invalid UTF-8 in string at byte 2")) {
            try Policy.parse(jsonData: Data(bytes))
        }
    }

    @Test func rejectsDeepNestingWithoutCrashing() {
        let json = #"{"targets": "# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        do {
            _ = try Policy.parse(jsonData: Data(json.utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .malformedJSON)
            #expect(error.message.hasPrefix("invalid JSON: nesting too deep"))
        }
    }

    @Test func dailyWindowAndLocalDateValidateProgrammaticInput() {
        #expect(DailyWindow(startMinute: 0, endMinute: 1_440)?.description == "00:00-24:00")
        #expect(DailyWindow(startMinute: 600, endMinute: 600) == nil)
        #expect(DailyWindow(startMinute: -1, endMinute: 60) == nil)
        #expect(DailyWindow(startMinute: 0, endMinute: 1_441) == nil)
        #expect(LocalDate(year: 2024, month: 2, day: 29)?.description == "2024-02-29")
        #expect(LocalDate(year: 2100, month: 2, day: 29) == nil)
        #expect(LocalDate(year: 0, month: 1, day: 1) == nil)
        #expect(SLATarget(seconds: 0, clock: .business) == nil)
        #expect(SLATarget(seconds: 1, clock: .business)?.milliseconds == 1_000)
    }

    @Test func weeklyScheduleRejectsOverlaps() throws {
        let morning = try DailyWindow(parsing: "08:00-12:00")
        let midday = try DailyWindow(parsing: "11:00-14:00")
        #expect(throws: WeeklyScheduleError.overlappingWindows(day: .tuesday, morning, midday)) {
            try WeeklySchedule([.tuesday: [midday, morning]])
        }
    }
}
