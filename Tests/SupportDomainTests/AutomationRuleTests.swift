import EventLog
import Foundation
import Testing

@testable import SupportDomain

/// The rules of the automations' events (issue 14): `sla.warning` and a note's `automation` are
/// the system's own, a warning needs its target's interval running, and the policy file's
/// `automations` key.
@Suite("Automation rules")
struct AutomationRuleTests {
    typealias F = TicketFixture

    static let warning = TicketEvent.slaWarning(.init(target: .firstReply, due: Timestamp(rfc3339: "2026-03-02T10:00:00Z")!))
    static let breachNote = TicketEvent.noteAdded(
        .init(
            body: "SLA breach",
            automation: .init(rule: .slaBreach, due: Timestamp(rfc3339: "2026-03-02T10:00:00.001Z")!, target: .firstReply)
        ))

    private func refusal(
        _ event: TicketEvent, by actor: SupportActor, on ticket: Ticket, at: String = "2026-03-02T09:30:00Z"
    ) throws
        -> DomainError.Kind?
    {
        let instant = try F.instant(at)
        return F.refusalKind { try TicketRules.decide(TicketCommand(event: event, actor: actor), on: ticket, at: instant) }
    }

    /// carol's urgent ticket, opened 09:00Z: its first reply and resolution run.
    private func waiting() throws -> Ticket { try TicketTestLog.opened().ticket() }

    // MARK: Who may write them

    @Test(arguments: [ActorKind.customer, .agent, .manager, .admin])
    func anSLAWarningFromAnyoneButTheSystemIsForbidden(_ kind: ActorKind) throws {
        #expect(!TicketRules.mayWrite(.slaWarning, as: kind))
        #expect(try refusal(Self.warning, by: F.actor(kind), on: waiting()) == .forbidden)
        #expect(TicketRules.mayWrite(.slaWarning, as: .system))
        #expect(try refusal(Self.warning, by: F.robot, on: waiting()) == nil)
    }

    @Test(arguments: [ActorKind.customer, .agent, .manager, .admin])
    func anAutomationNoteFromAnyoneButTheSystemIsForbidden(_ kind: ActorKind) throws {
        #expect(try refusal(Self.breachNote, by: F.actor(kind), on: waiting()) == .forbidden)
        #expect(try refusal(Self.breachNote, by: F.robot, on: waiting()) == nil)
        // The same note without its record is an ordinary note staff may write.
        if kind != .customer { #expect(try refusal(.noteAdded(.init(body: "n")), by: F.actor(kind), on: waiting()) == nil) }
    }

    @Test(arguments: [ActorKind.agent, .manager, .admin])
    func aNoteCommandCarryingAnAutomationRecordIsForbidden(_ kind: ActorKind) throws {
        let body = try F.json(#"{"body": "n", "automation": {"rule": "shift-end", "due": "2026-03-02T13:00:00Z"}}"#)
        let refusal = F.refusal { try TicketCommand.parse(route: .notes, body: body, actor: F.actor(kind), limits: .default) }
        #expect(refusal?.kind == .forbidden)
        #expect(refusal?.detail.contains("automation") == true)
        // Even a malformed record is refused for who sends it before what it says.
        let bad = try F.json(#"{"body": "n", "automation": {"rule": "nonsense"}}"#)
        #expect(F.refusalKind { try TicketCommand.parse(route: .notes, body: bad, actor: F.actor(kind), limits: .default) } == .forbidden)
    }

    @Test func anImportedWarningOrAutomationNoteFromAnAgentIsAConflict() throws {
        var validation = ImportValidation(now: try F.instant("2026-03-03T00:00:00Z"), limits: .default, lookup: { _ in nil })
        _ = try validation.add(
            ticket: "T-1", type: "ticket.opened", at: try F.instant("2026-03-02T09:00:00Z"), actor: F.carol.eventActor,
            data: try F.json(F.openingData()))
        let at = try F.instant("2026-03-02T09:30:00Z")
        let warning = try F.json(#"{"target": "firstReply", "due": "2026-03-02T10:00:00.000Z"}"#)
        let note = try F.json(
            #"{"body": "n", "automation": {"rule": "sla-breach", "due": "2026-03-02T10:00:00.001Z", "target": "firstReply"}}"#)
        #expect(
            F.refusalKind { try validation.add(ticket: "T-1", type: "sla.warning", at: at, actor: F.alice.eventActor, data: warning) }
                == .conflict)
        #expect(
            F.refusalKind { try validation.add(ticket: "T-1", type: "note.added", at: at, actor: F.mona.eventActor, data: note) }
                == .conflict)
        let system = EventActor(kind: "system", id: "automations")
        #expect(F.refusal { try validation.add(ticket: "T-1", type: "sla.warning", at: at, actor: system, data: warning) } == nil)
        #expect(F.refusal { try validation.add(ticket: "T-1", type: "note.added", at: at, actor: system, data: note) } == nil)
    }

    // MARK: A warning needs its interval running

    @Test func aWarningOnATargetThatIsNotRunningIsAConflict() throws {
        let robot = F.robot
        func warn(_ target: SLAMetric, _ ticket: Ticket, at: String) throws -> DomainError.Kind? {
            try refusal(.slaWarning(.init(target: target, due: try F.instant("2026-03-02T17:00:00Z"))), by: robot, on: ticket, at: at)
        }
        // Awaiting the first reply: first reply and resolution run, next reply does not.
        let waiting = try waiting()
        #expect(try warn(.firstReply, waiting, at: "2026-03-02T09:30:00Z") == nil)
        #expect(try warn(.resolution, waiting, at: "2026-03-02T09:30:00Z") == nil)
        #expect(try warn(.nextReply, waiting, at: "2026-03-02T09:30:00Z") == .conflict)
        // Answered: no reply interval runs.
        var log = try TicketTestLog.opened()
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        #expect(try warn(.firstReply, log.ticket(), at: "2026-03-02T09:30:00Z") == .conflict)
        #expect(try warn(.nextReply, log.ticket(), at: "2026-03-02T09:30:00Z") == .conflict)
        #expect(try warn(.resolution, log.ticket(), at: "2026-03-02T09:30:00Z") == nil)
        // The customer's next turn: next reply runs, first reply does not.
        try log.append("message.posted", #"{"body":"still down"}"#, by: F.carol, at: "2026-03-02T09:20:00Z")
        #expect(try warn(.nextReply, log.ticket(), at: "2026-03-02T09:30:00Z") == nil)
        #expect(try warn(.firstReply, log.ticket(), at: "2026-03-02T09:30:00Z") == .conflict)
        // Solved: nothing runs.
        try log.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T09:25:00Z")
        for target in SLAMetric.allCases { #expect(try warn(target, log.ticket(), at: "2026-03-02T09:30:00Z") == .conflict, "\(target)") }
        // A ticket opened by an agent has no customer turn.
        let byAgent = try TicketTestLog.opened(by: F.alice).ticket()
        #expect(try warn(.firstReply, byAgent, at: "2026-03-02T09:30:00Z") == .conflict)
        #expect(try warn(.resolution, byAgent, at: "2026-03-02T09:30:00Z") == nil)
    }

    @Test func aWarningOnAClosedTicketIsAConflict() throws {
        var log = try TicketTestLog.opened()
        try log.append("status.changed", #"{"status":"closed"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        #expect(try refusal(Self.warning, by: F.robot, on: log.ticket()) == .conflict)
        #expect(try refusal(Self.breachNote, by: F.robot, on: log.ticket()) == .conflict)
    }

    @Test func aWarningChangesNothingButTheVersion() throws {
        var log = try TicketTestLog.opened()
        let before = try log.ticket()
        try log.append("sla.warning", #"{"target":"firstReply","due":"2026-03-02T10:00:00Z"}"#, by: F.robot, at: "2026-03-02T09:30:00Z")
        let after = try log.ticket()
        #expect(after.version == 2)
        #expect(after.status == before.status && after.runningTurn == before.runningTurn && after.thread == before.thread)
        #expect(after.priority == before.priority && after.team == before.team && after.assignee == before.assignee)
        let at = try F.instant("2026-03-02T09:45:00Z")
        let levels = try ServiceLevels(policy: .default)
        #expect(after.serviceState(at: at, levels: levels) == before.serviceState(at: at, levels: levels))
    }

    // MARK: Decoding

    @Test(arguments: [
        #"{"target": "firstReply"}"#,
        #"{"due": "2026-03-02T10:00:00Z"}"#,
        #"{"target": "reply", "due": "2026-03-02T10:00:00Z"}"#,
        #"{"target": "firstReply", "due": "2026-03-02 10:00"}"#,
        #"{"target": 1, "due": "2026-03-02T10:00:00Z"}"#,
    ])
    func aMalformedWarningIsABadRequest(_ data: String) throws {
        #expect(try F.decodingRefusal("sla.warning", data) == .badRequest)
    }

    @Test func aWarningAndAnAutomationRecordRoundTrip() throws {
        let warning = try F.event("sla.warning", #"{"target":"nextReply","due":"2026-03-02T10:00:00Z"}"#)
        #expect(warning == .slaWarning(.init(target: .nextReply, due: try F.instant("2026-03-02T10:00:00Z"))))
        #expect(try TicketEvent(type: "sla.warning", data: warning.data) == warning)
        for record in [
            #"{"rule":"sla-breach","due":"2026-03-02T10:00:00.001Z","target":"resolution"}"#,
            #"{"rule":"shift-end","due":"2026-03-02T13:00:00Z"}"#, #"{"rule":"auto-close","due":"2026-03-05T18:00:00Z"}"#,
        ] {
            let note = try F.event("note.added", #"{"body":"b","automation":\#(record)}"#)
            #expect(try TicketEvent(type: "note.added", data: note.data) == note, "\(record)")
        }
    }

    @Test(arguments: [
        #"{"rule": "sla-breach", "due": "2026-03-02T10:00:00Z"}"#,
        #"{"rule": "shift-end", "due": "2026-03-02T10:00:00Z", "target": "firstReply"}"#,
        #"{"rule": "auto-close", "due": "2026-03-02T10:00:00Z", "target": "resolution"}"#,
        #"{"rule": "escalate", "due": "2026-03-02T10:00:00Z"}"#,
        #"{"rule": "shift-end"}"#,
        #"{"rule": "shift-end", "due": "yesterday"}"#,
        #"{"rule": "sla-breach", "due": "2026-03-02T10:00:00Z", "target": "reply"}"#,
        #""shift-end""#,
    ])
    func aMalformedAutomationRecordIsABadRequest(_ record: String) throws {
        #expect(try F.decodingRefusal("note.added", #"{"body": "b", "automation": \#(record)}"#) == .badRequest)
    }

    // MARK: The policy file

    static let fullFile = """
        {"automations": {
          "slaWarning": {"leadSeconds": 1800},
          "escalation": {"teams": {"hosting": "hosting-l2"}, "raisePriority": true},
          "shifts": {"hosting": [
              {"name": "early", "agents": ["alice", "bruno"], "schedule": {"mon": ["06:00-14:00"], "tue": ["06:00-14:00"]}},
              {"name": "late",  "agents": ["carla"],          "schedule": {"mon": ["14:00-22:00"], "tue": ["14:00-22:00"]}}]},
          "autoClose": {"businessDays": 3}}}
        """

    @Test func theContractsExampleFileTurnsEveryAutomationOn() throws {
        let a = try Policy.parse(jsonData: Data(Self.fullFile.utf8)).automations
        #expect(a.isOn)
        #expect(a.slaWarning == .init(leadSeconds: 1800))
        #expect(a.escalation == .init(teams: ["hosting": "hosting-l2"], raisePriority: true))
        #expect(a.escalation?.team(for: "hosting") == "hosting-l2" && a.escalation?.team(for: "hosting-l2") == nil)
        #expect(a.autoClose == .init(businessDays: 3))
        let shifts = a.shifts(of: "hosting")
        #expect(shifts.map(\.name) == ["early", "late"])
        #expect(shifts.map(\.agents) == [["alice", "bruno"], ["carla"]])
        #expect(shifts[0].schedule.windows(on: .monday).map(\.description) == ["06:00-14:00"])
        #expect(shifts[1].schedule.windows(on: .tuesday).map(\.description) == ["14:00-22:00"])
        #expect(shifts[1].schedule.windows(on: .wednesday).isEmpty)
        #expect(a.shifts(of: "email").isEmpty)
    }

    @Test func everyAutomationIsOffUnlessTheFileGivesIt() throws {
        #expect(Policy.default.automations == .off && !Policy.default.automations.isOn)
        #expect(try Policy.parse(jsonData: Data(#"{"automations": {}}"#.utf8)).automations == .off)
        let closeOnly = try Policy.parse(jsonData: Data(#"{"automations": {"autoClose": {"businessDays": 1}}}"#.utf8)).automations
        #expect(closeOnly == Automations(autoClose: .init(businessDays: 1)) && closeOnly.isOn)
        let escalateOnly = try Policy.parse(jsonData: Data(#"{"automations": {"escalation": {"raisePriority": true}}}"#.utf8)).automations
        #expect(escalateOnly == Automations(escalation: .init(teams: [:], raisePriority: true)))
        // The key replaces the automations as a whole.
        let full = try Policy.parse(jsonData: Data(Self.fullFile.utf8))
        let replaced = try full.overlaid(withJSON: Data(#"{"automations": {"slaWarning": {"leadSeconds": 60}}}"#.utf8))
        #expect(replaced.automations == Automations(slaWarning: .init(leadSeconds: 60)))
        #expect(try full.overlaid(withJSON: Data(#"{"capacity": 3}"#.utf8)).automations == full.automations)
    }

    @Test func automationsAreNotPartOfThePolicyHash() throws {
        let full = try Policy.parse(jsonData: Data(Self.fullFile.utf8))
        #expect(full.automations != Policy.default.automations)
        #expect(full.hash == Policy.default.hash)
        #expect(full.canonicalJSON == Policy.default.canonicalJSON)
        #expect(!String(decoding: full.canonicalJSON, as: UTF8.self).contains("automations"))
        let targets = #"{"targets": {"low": {"nextReply": null}}"#
        let withTargets = try Policy.parse(jsonData: Data((targets + "}").utf8))
        let withBoth = try Policy.parse(jsonData: Data((targets + #", "automations": {"autoClose": {"businessDays": 2}}}"#).utf8))
        #expect(withBoth.hash == withTargets.hash)
        #expect(withBoth.hash != Policy.default.hash)
    }

    @Test(arguments: [
        (#"{"automations": []}"#, PolicyError.Kind.wrongType, "automations"),
        (#"{"automations": null}"#, .wrongType, "automations"),
        (#"{"automations": {"slaWarnings": {}}}"#, .unknownKey, "automations.slaWarnings"),
        (#"{"automations": {"slaWarning": {}}}"#, .missingKey, "automations.slaWarning.leadSeconds"),
        (#"{"automations": {"slaWarning": 1800}}"#, .wrongType, "automations.slaWarning"),
        (#"{"automations": {"slaWarning": {"leadSeconds": 0}}}"#, .invalidValue, "automations.slaWarning.leadSeconds"),
        (#"{"automations": {"slaWarning": {"leadSeconds": -60}}}"#, .invalidValue, "automations.slaWarning.leadSeconds"),
        (#"{"automations": {"slaWarning": {"leadSeconds": "1800"}}}"#, .wrongType, "automations.slaWarning.leadSeconds"),
        (#"{"automations": {"slaWarning": {"leadSeconds": 1800.5}}}"#, .wrongType, "automations.slaWarning.leadSeconds"),
        (#"{"automations": {"slaWarning": {"leadSeconds": 60, "lead": 1}}}"#, .unknownKey, "automations.slaWarning.lead"),
        (#"{"automations": {"escalation": {"raisePriority": "yes"}}}"#, .wrongType, "automations.escalation.raisePriority"),
        (#"{"automations": {"escalation": {"teams": []}}}"#, .wrongType, "automations.escalation.teams"),
        (#"{"automations": {"escalation": {"teams": {"hosting": 2}}}}"#, .wrongType, "automations.escalation.teams.hosting"),
        (#"{"automations": {"escalation": {"teams": {"hosting": ""}}}}"#, .invalidValue, "automations.escalation.teams.hosting"),
        (#"{"automations": {"escalation": {"team": {}}}}"#, .unknownKey, "automations.escalation.team"),
        (#"{"automations": {"shifts": []}}"#, .wrongType, "automations.shifts"),
        (#"{"automations": {"shifts": {"hosting": {}}}}"#, .wrongType, "automations.shifts.hosting"),
        (#"{"automations": {"shifts": {"hosting": [{"agents": ["alice"]}]}}}"#, .missingKey, "automations.shifts.hosting[0].schedule"),
        (#"{"automations": {"shifts": {"hosting": [{"schedule": {}}]}}}"#, .missingKey, "automations.shifts.hosting[0].agents"),
        (
            #"{"automations": {"shifts": {"hosting": [{"agents": [1], "schedule": {}}]}}}"#, .wrongType,
            "automations.shifts.hosting[0].agents[0]"
        ),
        (
            #"{"automations": {"shifts": {"hosting": [{"agents": "alice", "schedule": {}}]}}}"#, .wrongType,
            "automations.shifts.hosting[0].agents"
        ),
        (
            #"{"automations": {"shifts": {"hosting": [{"agents": [], "schedule": {}}, {"agents": ["a"], "schedule": {"mon": ["14:00-06:00"]}}]}}}"#,
            .invalidValue, "automations.shifts.hosting[1].schedule.mon[0]"
        ),
        (
            #"{"automations": {"shifts": {"hosting": [{"agents": ["a"], "schedule": {"monday": []}}]}}}"#, .unknownKey,
            "automations.shifts.hosting[0].schedule.monday"
        ),
        (
            #"{"automations": {"shifts": {"hosting": [{"agents": ["a"], "schedule": {}, "team": "x"}]}}}"#, .unknownKey,
            "automations.shifts.hosting[0].team"
        ),
        (#"{"automations": {"autoClose": {}}}"#, .missingKey, "automations.autoClose.businessDays"),
        (#"{"automations": {"autoClose": {"businessDays": 0}}}"#, .invalidValue, "automations.autoClose.businessDays"),
        (#"{"automations": {"autoClose": {"businessDays": 367}}}"#, .invalidValue, "automations.autoClose.businessDays"),
        (#"{"automations": {"autoClose": {"businessDays": true}}}"#, .wrongType, "automations.autoClose.businessDays"),
        (#"{"automations": {"autoClose": {"businessDays": 3, "hours": 1}}}"#, .unknownKey, "automations.autoClose.hours"),
        (#"{"automations": {"autoClose": {"businessDays": 3}}, "automations": {}}"#, .malformedJSON, ""),
    ])
    func aBadAutomationsKeyIsRefusedWithItsKeyPath(json: String, kind: PolicyError.Kind, keyPath: String) {
        do {
            let policy = try Policy.parse(jsonData: Data(json.utf8))
            Issue.record("accepted \(json): \(policy.automations)")
        } catch {
            #expect(error.kind == kind, "\(json): \(error)")
            #expect(error.keyPath == keyPath, "\(json): \(error)")
        }
    }
}
