import Foundation
import SupportDomain
import Testing

@Suite("Policy defaults and overlay")
struct PolicyOverlayTests {
    private func parse(_ json: String) throws -> Policy {
        try Policy.parse(jsonData: Data(json.utf8))
    }

    @Test func defaultPolicyMatchesTheSpec() throws {
        let policy = Policy.default
        #expect(policy.timeZoneIdentifier == "Europe/Paris")
        #expect(policy.capacity == 25)
        #expect(policy.holidays.isEmpty)
        for day in [Weekday.monday, .tuesday, .wednesday, .thursday, .friday] {
            #expect(policy.schedule.windows(on: day).map(\.description) == ["08:00-19:00"])
        }
        #expect(policy.schedule.windows(on: .saturday).map(\.description) == ["09:00-17:00"])
        #expect(policy.schedule.windows(on: .sunday).isEmpty)

        #expect(policy.targets[.urgent, .firstReply] == SLATarget(seconds: 3_600, clock: .calendar))
        #expect(policy.targets[.urgent, .nextReply] == SLATarget(seconds: 7_200, clock: .calendar))
        #expect(policy.targets[.urgent, .resolution] == SLATarget(seconds: 28_800, clock: .calendar))
        #expect(policy.targets[.high, .firstReply] == SLATarget(seconds: 14_400, clock: .business))
        #expect(policy.targets[.high, .nextReply] == SLATarget(seconds: 28_800, clock: .business))
        #expect(policy.targets[.high, .resolution] == SLATarget(seconds: 86_400, clock: .business))
        #expect(policy.targets[.normal, .firstReply] == SLATarget(seconds: 28_800, clock: .business))
        #expect(policy.targets[.normal, .nextReply] == SLATarget(seconds: 57_600, clock: .business))
        #expect(policy.targets[.normal, .resolution] == SLATarget(seconds: 144_000, clock: .business))
        #expect(policy.targets[.low, .firstReply] == SLATarget(seconds: 86_400, clock: .business))
        #expect(policy.targets[.low, .nextReply] == SLATarget(seconds: 86_400, clock: .business))
        #expect(policy.targets[.low, .resolution] == SLATarget(seconds: 288_000, clock: .business))
    }

    @Test func prioritiesAreOrderedByUrgency() {
        #expect([Priority.urgent, .low, .high, .normal].sorted() == [.low, .normal, .high, .urgent])
        #expect([Priority.normal, .urgent, .high].max() == .urgent)
        #expect(Priority.high > Priority.normal)
    }

    @Test func emptyFileKeepsTheDefault() throws {
        #expect(try parse("{}") == Policy.default)
        #expect(try parse(" \n{ }\t") == Policy.default)
    }

    @Test func specExampleFile() throws {
        let policy = try parse(
            """
            {"timeZone": "Europe/Paris",
             "schedule": {"mon": ["08:00-12:00", "13:00-19:00"], "tue": ["08:00-19:00"],
                          "wed": ["08:00-19:00"], "thu": ["08:00-19:00"], "fri": ["08:00-19:00"],
                          "sat": ["09:00-17:00"]},
             "holidays": ["2026-05-01"], "capacity": 25,
             "targets": {"high": {"firstReply": {"seconds": 14400, "clock": "business"}}}}
            """)
        #expect(policy.schedule.windows(on: .monday).map(\.description) == ["08:00-12:00", "13:00-19:00"])
        #expect(policy.schedule.windows(on: .friday).map(\.description) == ["08:00-19:00"])
        #expect(policy.schedule.windows(on: .sunday).isEmpty)
        #expect(policy.holidays == [try date("2026-05-01")])
        #expect(policy.targets == Policy.default.targets)
    }

    @Test func scheduleReplacesTheWholeWeek() throws {
        let policy = try parse(#"{"schedule": {"sun": ["10:00-12:00", "07:30-09:00"]}}"#)
        for day in [Weekday.monday, .tuesday, .wednesday, .thursday, .friday, .saturday] {
            #expect(policy.schedule.windows(on: day).isEmpty, "\(day) should be closed")
        }
        // Windows are kept in opening order whatever the file order.
        #expect(policy.schedule.windows(on: .sunday).map(\.description) == ["07:30-09:00", "10:00-12:00"])
        #expect(policy.capacity == 25)
        #expect(policy.timeZoneIdentifier == "Europe/Paris")
    }

    @Test func emptyScheduleClosesEveryDay() throws {
        #expect(try parse(#"{"schedule": {}}"#).schedule.isAlwaysClosed)
    }

    @Test func touchingWindowsAndMidnightAreAllowed() throws {
        let policy = try parse(#"{"schedule": {"fri": ["20:00-24:00", "12:00-20:00"], "sat": ["00:00-02:00"]}}"#)
        #expect(policy.schedule.windows(on: .friday).map(\.description) == ["12:00-20:00", "20:00-24:00"])
        #expect(policy.schedule.windows(on: .saturday).first?.startMinute == 0)
        #expect(policy.schedule.windows(on: .friday).last?.endMinute == 1_440)
    }

    @Test func targetsAreReplacedOneByOne() throws {
        let policy = try parse(#"{"targets": {"low": {"resolution": {"seconds": 90, "clock": "calendar"}}}}"#)
        #expect(policy.targets[.low, .resolution] == SLATarget(seconds: 90, clock: .calendar))
        #expect(policy.targets[.low, .firstReply] == SLATarget(seconds: 86_400, clock: .business))
        #expect(policy.targets[.low, .nextReply] == SLATarget(seconds: 86_400, clock: .business))
        #expect(policy.targets[.urgent, .resolution] == SLATarget(seconds: 28_800, clock: .calendar))
    }

    @Test func nullRemovesATarget() throws {
        let policy = try parse(#"{"targets": {"urgent": {"nextReply": null}, "normal": {}}}"#)
        #expect(policy.targets[.urgent, .nextReply] == nil)
        #expect(policy.targets[.urgent, .firstReply] == SLATarget(seconds: 3_600, clock: .calendar))
        #expect(policy.targets[.normal, .resolution] == SLATarget(seconds: 144_000, clock: .business))
    }

    @Test func otherKeysReplaceTheirValue() throws {
        let policy = try parse(#"{"timeZone": "America/Santiago", "capacity": 0, "holidays": ["2026-12-25", "2026-01-01", "2026-12-25"]}"#)
        #expect(policy.timeZoneIdentifier == "America/Santiago")
        #expect(policy.capacity == 0)
        #expect(policy.holidays == [try date("2026-01-01"), try date("2026-12-25")])
        #expect(policy.schedule == Policy.default.schedule)
    }

    @Test func overlayAppliesToAnyBasePolicy() throws {
        let base = try parse(#"{"capacity": 7}"#)
        let policy = try base.overlaid(withJSON: Data(#"{"holidays": ["2026-05-01"]}"#.utf8))
        #expect(policy.capacity == 7)
        #expect(policy.holidays.count == 1)
    }

    @Test func escapedStringsAreDecoded() throws {
        let policy = try parse(#"{"timeZone": "Europe\/Paris", "holidays": ["\u0032026-05-01"]}"#)
        #expect(policy.timeZoneIdentifier == "Europe/Paris")
        #expect(policy.holidays == [try date("2026-05-01")])
    }

    @Test func ianaAliasesAndUTCAreAccepted() throws {
        #expect(try parse(#"{"timeZone": "UTC"}"#).timeZoneIdentifier == "UTC")
        #expect(try parse(#"{"timeZone": "Etc/GMT-2"}"#).timeZoneIdentifier == "Etc/GMT-2")
    }
}
