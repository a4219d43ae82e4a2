import EventLog
import Foundation
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportDomain
@testable import SupportServer

/// The automations seen over HTTP (issue 14): their events in the auditors' feed and a ticket's
/// history, their notes kept from customers, and no command able to write a reaction's record.
@Suite("Automations over HTTP")
struct AutomationRouteTests {
    static func policy() throws -> Policy { try AutomationScenario.policy() }

    /// An urgent hosting ticket opened at 09:00Z, through its warning (09:30Z) and its breach
    /// (10:00:00.001Z: a note and the escalation to hosting-l2), the runner stepped by hand.
    func breached(_ server: TestServer, _ client: some TestClientProtocol) async throws -> String {
        let runner = try #require(server.backend.makeAutomations())
        let id = try await client.open(product: "hosting", priority: "urgent")
        server.clock.set(instant("2026-03-02T09:30:00Z"))
        let warned = await runner.step()
        server.clock.set(instant("2026-03-02T10:00:00.001Z"))
        let breached = await runner.step()
        #expect(warned == 1 && breached == 1)
        return id
    }

    @Test func aNoteCommandCarryingAnAutomationRecordIsForbidden() async throws {
        try await withServer(policy: try Self.policy()) { server, client in
            let id = try await client.open(product: "hosting")
            let records = [
                #"{"rule": "sla-breach", "due": "2026-03-02T10:00:00.001Z", "target": "firstReply"}"#,
                #"{"rule": "shift-end", "due": "2026-03-02T13:00:00Z"}"#, #"{"rule": "auto-close", "due": "2026-03-05T18:00:00Z"}"#,
                #"{"rule": "bogus"}"#,
            ]
            for who in [Who.alice, .manager, .admin] {
                for record in records {
                    try await expectLogUnchanged(server) {
                        let r = try await client.post("/v1/tickets/\(id)/notes", as: who, #"{"body": "done", "automation": \#(record)}"#)
                        expectProblem(r, .forbidden, detail: "automation")
                    }
                }
            }
            // A customer may not write notes at all; with a record it is just as forbidden.
            let r = try await client.post(
                "/v1/tickets/\(id)/notes", as: .c1, #"{"body": "x", "automation": {"rule": "shift-end", "due": "2026-03-02T13:00:00Z"}}"#)
            expectProblem(r, .forbidden)
            // An explicit null is no record: an ordinary note.
            try await client.command(id, "notes", as: .alice, #"{"body": "plain", "automation": null}"#)
            let note = try #require(try server.events(id).last)
            #expect(note.type == "note.added" && note.data["automation"] == nil)
        }
    }

    @Test func anImportedAutomationRecordFromStaffIsAConflict() async throws {
        try await withServer(policy: try Self.policy()) { server, client in
            let lines = [
                #"{"ticket": "T-900", "type": "ticket.opened", "at": "2026-03-02T08:00:00Z", "actor": {"kind": "customer", "id": "c-1"}, "data": \#(Bodies.open(product: "hosting"))}"#,
                #"{"ticket": "T-900", "type": "sla.warning", "at": "2026-03-02T08:30:00Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"target": "firstReply", "due": "2026-03-02T09:00:00Z"}}"#,
            ]
            try await expectLogUnchanged(server) {
                let r = try await client.send(
                    .post, "/v1/import", as: .admin, body: lines.joined(separator: "\n") + "\n",
                    headers: [.contentType: "application/x-ndjson"])
                expectProblem(r, .conflict)
            }
        }
    }

    @Test func slaWarningsShowInTheEventFeedAndTheTicketsHistory() async throws {
        try await withServer(policy: try Self.policy()) { server, client in
            let id = try await breached(server, client)
            let feed = try await client.get("/v1/events", as: .auditor)
            #expect(feed.status == .ok)
            let events = feed.json["events"]?.arrayValue ?? []
            let warning = try #require(events.first { $0["type"]?.stringValue == "sla.warning" })
            #expect(warning["ticket"]?.stringValue == id)
            #expect(warning["at"]?.stringValue == "2026-03-02T09:30:00.000Z")
            #expect(warning["actor"] == .object(["kind": .string("system"), "id": .string("automations")]))
            #expect(warning["data"] == .object(["target": .string("firstReply"), "due": .string("2026-03-02T10:00:00.000Z")]))
            #expect(warning["version"]?.intValue == 2)
            let note = try #require(events.first { $0["type"]?.stringValue == "note.added" })
            #expect(
                note["data"]?["automation"]
                    == .object(["rule": .string("sla-breach"), "due": .string("2026-03-02T10:00:00.001Z"), "target": .string("firstReply")])
            )
            #expect(events.contains { $0["type"]?.stringValue == "ticket.escalated" && $0["data"]?["team"]?.stringValue == "hosting-l2" })

            for who in [Who.alice, .auditor] {
                let history = try await client.get("/v1/tickets/\(id)/history", as: who)
                #expect(history.status == .ok, "\(history)")
                let entries = history.json["events"]?.arrayValue ?? []
                #expect(
                    entries.map { $0["event"]?["type"]?.stringValue ?? "?" } == [
                        "ticket.opened", "sla.warning", "note.added", "ticket.escalated",
                    ])
                // The warning changes nothing in the state after it but the version.
                let opened = entries.first?["state"], warned = entries.dropFirst().first?["state"]
                #expect(
                    warned?["status"] == opened?["status"] && warned?["team"] == opened?["team"] && warned?["nextDue"] == opened?["nextDue"]
                )
                #expect(warned?["version"]?.intValue == 2)
                #expect(entries.last?["state"]?["team"]?.stringValue == "hosting-l2")
            }
            // Customers read neither.
            let feedAsCustomer = try await client.get("/v1/events", as: .c1)
            expectProblem(feedAsCustomer, .forbidden)
            let history = try await client.get("/v1/tickets/\(id)/history", as: .c1)
            #expect(history.status == .forbidden)
        }
    }

    @Test func customersNeverSeeTheAutomationsNotes() async throws {
        try await withServer(policy: try Self.policy()) { server, client in
            let id = try await breached(server, client)
            let noteBody = try #require(try server.events(id).first { $0.type == "note.added" }?.data["body"]?.stringValue)

            let agentView = try await client.get("/v1/tickets/\(id)", as: .alice)
            expectTicketShape(agentView.json, viewer: .alice)
            let notes = (agentView.json["thread"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == "note" }
            #expect(notes.count == 1)
            #expect(notes.first?["body"]?.stringValue == noteBody)
            #expect(notes.first?["author"] == .object(["kind": .string("system"), "id": .string("automations")]))

            let customerView = try await client.get("/v1/tickets/\(id)", as: .c1)
            #expect(customerView.status == .ok)
            expectTicketShape(customerView.json, viewer: .c1)
            #expect(!customerView.text.contains(noteBody) && !customerView.text.contains("automation"))
            // Nor in the answer to their own write, nor in their ticket list.
            let answer = try await client.command(id, "messages", as: .c1, Bodies.message("Any news?"))
            expectTicketAnswer(answer, viewer: .c1)
            #expect(!answer.text.contains(noteBody) && !answer.text.contains("automation"))
            let list = try await client.get("/v1/tickets", as: .c1)
            #expect(list.status == .ok && !list.text.contains(noteBody))
            // Another customer does not see the ticket at all.
            let asOther = try await client.get("/v1/tickets/\(id)", as: .c2)
            #expect(asOther.status == .notFound)
        }
    }
}
