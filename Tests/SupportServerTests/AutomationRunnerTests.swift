import EventLog
import Foundation
import SupportService
import Testing

@testable import SupportDomain
@testable import SupportServer

/// The automations' runner over a real log: reactions fire at their instant, once, as `system`.
@Suite struct AutomationRunnerTests {
    static let policy: Policy = {
        let json = """
            {"automations": {"slaWarning": {"leadSeconds": 1800},
                             "escalation": {"teams": {"hosting": "hosting-l2"}, "raisePriority": true},
                             "autoClose": {"businessDays": 2}}}
            """
        return (try? Policy.default.overlaid(withJSON: Data(json.utf8))) ?? .default
    }()

    @Test func anUrgentTicketIsWarnedThenEscalatedAtItsBreachOnceEach() async throws {
        try await withServer(policy: Self.policy) { server, client in
            let runner = try #require(server.backend.makeAutomations())
            let id = try await client.open(product: "hosting", priority: "urgent")
            server.clock.advance(seconds: 1799)
            #expect(await runner.step() == 0)
            server.clock.advance(seconds: 1)
            #expect(await runner.step() == 1)
            #expect(await runner.step() == 0)
            var events = try server.events(id)
            #expect(events.map(\.type) == ["ticket.opened", "sla.warning"])
            #expect(events[1].actor == EventActor(kind: "system", id: "automations"))
            #expect(events[1].data == .object(["target": .string("firstReply"), "due": .string("2026-03-02T10:00:00.000Z")]))
            server.clock.advance(seconds: 1800)
            #expect(await runner.step() == 0)
            server.clock.set(Timestamp(milliseconds: server.clock.now.milliseconds + 1))
            #expect(await runner.step() == 1)
            events = try server.events(id)
            #expect(events.map(\.type) == ["ticket.opened", "sla.warning", "note.added", "ticket.escalated"])
            let record = events[2].data["automation"]
            #expect(
                record
                    == .object(["rule": .string("sla-breach"), "target": .string("firstReply"), "due": .string("2026-03-02T10:00:00.001Z")])
            )
            #expect(events[3].data["team"] == .string("hosting-l2"))
            // The resolution (8 h, calendar) is warned too; its breach does nothing: hosting-l2 has no
            // escalation team and urgent is the highest priority.
            server.clock.advance(seconds: 86_400)
            #expect(await runner.step() == 1)
            #expect(await runner.step() == 0)
            let last = try #require(try server.events(id).last)
            #expect(last.type == "sla.warning")
            #expect(last.data["target"] == .string("resolution"))
            // Counted for /metrics, by rule (sla-warning, sla-breach, shift-end, auto-close).
            #expect(server.backend.automationCounters.totals == [2, 1, 0, 0])
        }
    }

    @Test func aSolvedTicketClosesAtCloseOfBusinessOfTheSecondBusinessDay() async throws {
        try await withServer(policy: Self.policy) { server, client in
            let runner = try #require(server.backend.makeAutomations())
            let id = try await client.openWithAgentReply()
            try await client.command(id, "status", as: .alice, "{\"status\": \"solved\"}")
            // Solved Monday 2026-03-02 (Paris); the second business day after is Wednesday, closing at 19:00 local (18:00Z).
            server.clock.set(instant("2026-03-04T17:59:59.999Z"))
            _ = await runner.step()
            #expect(try server.events(id).last?.type == "status.changed")
            server.clock.set(instant("2026-03-04T18:00:00.000Z"))
            _ = await runner.step()
            let events = try server.events(id)
            #expect(events.suffix(2).map(\.type) == ["note.added", "status.changed"])
            #expect(events.last?.data == .object(["status": .string("closed")]))
        }
    }

    static let shiftPolicy: Policy = {
        let json = """
            {"automations": {"shifts": {"email": [
                {"name": "early", "agents": ["alice", "bob"], "schedule": {"mon": ["06:00-14:00"]}},
                {"name": "late", "agents": ["bob"], "schedule": {"mon": ["14:00-22:00"]}}]}}}
            """
        return (try? Policy.default.overlaid(withJSON: Data(json.utf8))) ?? .default
    }()

    @Test func aShiftEndHandsBackTheTicketsOfAgentsWhoAreOnNoNextShift() async throws {
        try await withServer(policy: Self.shiftPolicy) { server, client in
            let runner = try #require(server.backend.makeAutomations())
            // Monday 2026-03-02, 10:00 in Paris: alice and bob are on the early shift.
            let alices = try await client.open()
            let bobs = try await client.open()
            let pending = try await client.open()
            try await client.command(alices, "assign", as: .manager, #"{"agent": "alice"}"#)
            try await client.command(bobs, "assign", as: .manager, #"{"agent": "bob"}"#)
            try await client.command(pending, "assign", as: .manager, #"{"agent": "alice"}"#)
            try await client.command(pending, "status", as: .alice, #"{"status": "pending"}"#)
            server.clock.set(instant("2026-03-02T12:59:59.999Z"))
            #expect(await runner.step() == 0)
            // 14:00 in Paris: the early shift ends; bob goes on with the late one.
            server.clock.set(instant("2026-03-02T13:00:00.000Z"))
            #expect(await runner.step() == 1)
            let handedBack = try server.events(alices)
            #expect(handedBack.suffix(2).map(\.type) == ["note.added", "ticket.assigned"])
            #expect(handedBack.last?.data == .object(["agent": .null]))
            #expect(
                handedBack.suffix(2).first?.data["automation"]
                    == .object(["rule": .string("shift-end"), "due": .string("2026-03-02T13:00:00.000Z")]))
            #expect(try server.events(bobs).last?.type == "ticket.assigned")
            #expect(try server.events(pending).last?.type == "status.changed")
            // 22:00 in Paris: the late shift ends and bob is on no shift.
            server.clock.set(instant("2026-03-02T21:00:00.000Z"))
            #expect(await runner.step() == 1)
            #expect(try server.events(bobs).last?.data == .object(["agent": .null]))
            #expect(await runner.step() == 0)
        }
    }
}
