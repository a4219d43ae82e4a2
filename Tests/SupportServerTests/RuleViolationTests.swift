import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportServer

/// SPEC §2.2 rules and §7 back-dating: each refusal is a 409 problem with a precise detail and
/// leaves the log as it was.
@Suite("Rule violations are 409 and write nothing")
struct RuleViolationTests {
    func expectConflict(
        _ server: TestServer, _ client: any TestClientProtocol, _ path: String, as who: Who, _ body: String,
        detail: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await expectLogUnchanged(server, sourceLocation: sourceLocation) {
            let r = try await client.post(path, as: who, body)
            expectProblem(r, .conflict, detail: detail, sourceLocation: sourceLocation)
        }
    }

    @Test func aClosedTicketRefusesEverythingButRatings() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            server.clock.advance(seconds: 60)
            try await client.command(id, "messages", as: .alice, Bodies.message("Done."))
            try await client.command(id, "status", as: .alice, "{\"status\": \"closed\"}")
            let p = "/v1/tickets/\(id)"
            try await expectConflict(server, client, "\(p)/messages", as: .alice, Bodies.message("one more thing"), detail: "closed")
            try await expectConflict(server, client, "\(p)/messages", as: .c1, Bodies.message("reopen please"), detail: "closed")
            try await expectConflict(server, client, "\(p)/notes", as: .manager, "{\"body\": \"n\"}", detail: "closed")
            try await expectConflict(server, client, "\(p)/status", as: .alice, "{\"status\": \"open\"}", detail: "closed")
            try await expectConflict(server, client, "\(p)/assign", as: .admin, "{\"agent\": \"bob\"}", detail: "closed")
            try await expectConflict(server, client, "\(p)/priority", as: .bob, "{\"priority\": \"low\"}", detail: "closed")
            try await expectConflict(server, client, "\(p)/tags", as: .bob, "{\"added\": [\"x\"]}", detail: "closed")
            try await expectConflict(server, client, "\(p)/escalate", as: .bob, "{\"team\": \"t\", \"reason\": \"r\"}", detail: "closed")
            let other = try await client.open(subject: "other")
            try await expectConflict(server, client, "\(p)/merge", as: .bob, "{\"into\": \"\(other)\"}", detail: "closed")
            // A rating is accepted in any status, closed included.
            let rating = try await client.post("\(p)/rating", as: .c1, "{\"score\": 3}")
            expectTicketAnswer(rating, viewer: .c1)
            #expect(rating.json["status"]?.stringValue == "closed")
        }
    }

    @Test func aRatingNeedsAnAgentReplyToRate() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let p = "/v1/tickets/\(id)/rating"
            try await expectConflict(server, client, p, as: .c1, "{\"score\": 5}", detail: "no agent reply")
            server.clock.advance(seconds: 60)
            try await client.command(id, "messages", as: .c1, Bodies.message("hello?"))  // v2, a customer message
            try await client.command(id, "notes", as: .alice, "{\"body\": \"looking\"}")  // v3, a note
            try await expectConflict(server, client, p, as: .c1, "{\"score\": 5}", detail: "no agent reply")
            try await client.command(id, "messages", as: .alice, Bodies.message("Answer"))  // v4
            try await expectConflict(server, client, p, as: .c1, "{\"score\": 5, \"reply\": 1}", detail: "not an agent message")
            try await expectConflict(server, client, p, as: .c1, "{\"score\": 5, \"reply\": 2}", detail: "not an agent message")
            try await expectConflict(server, client, p, as: .c1, "{\"score\": 5, \"reply\": 3}", detail: "not an agent message")
            try await expectConflict(server, client, p, as: .c1, "{\"score\": 5, \"reply\": 99}", detail: "not an agent message")
            // An agent rating is 403, not a rule violation.
            try await expectLogUnchanged(server) {
                expectProblem(try await client.post(p, as: .alice, "{\"score\": 5, \"reply\": 4}"), .forbidden)
            }
            expectTicketAnswer(try await client.post(p, as: .c1, "{\"score\": 4, \"reply\": 4}"), viewer: .c1)
        }
    }

    @Test func aMergeNeedsAnotherExistingOpenTicketOpenedByThen() async throws {
        try await withServer { server, client in
            let source = try await client.open(subject: "duplicate")  // 09:00
            let closed = try await client.open(subject: "closed one")
            try await client.command(closed, "status", as: .alice, "{\"status\": \"closed\"}")
            server.clock.advance(seconds: 3600)  // 10:00
            let later = try await client.open(subject: "opened at ten")
            server.clock.advance(seconds: 3600)  // 11:00
            let p = "/v1/tickets/\(source)/merge"
            try await expectConflict(server, client, p, as: .alice, "{\"into\": \"T-999\"}", detail: "T-999 does not exist")
            try await expectConflict(server, client, p, as: .alice, "{\"into\": \"\(closed)\"}", detail: "\(closed) is closed")
            try await expectConflict(server, client, p, as: .alice, "{\"into\": \"\(source)\"}", detail: "itself")
            // Back-dated before the target was opened.
            try await expectConflict(
                server, client, p, as: .admin, "{\"into\": \"\(later)\", \"at\": \"2026-03-02T09:30:00Z\"}",
                detail: "opened after")
            // At the target's opening instant it is fine.
            let merged = try await client.post(p, as: .admin, "{\"into\": \"\(later)\", \"at\": \"2026-03-02T10:00:00.000Z\"}")
            expectTicketAnswer(merged, viewer: .admin)
            #expect(merged.json["mergedInto"]?.stringValue == later && merged.json["status"]?.stringValue == "closed")
            #expect(try server.events(source).last?.at == instant("2026-03-02T10:00:00Z"))
        }
    }

    @Test func aBackDatedAtMustLieBetweenTheTicketsLastEventAndTheServerClock() async throws {
        try await withServer { server, client in
            let id = try await client.open()  // 09:00
            server.clock.advance(seconds: 3600)  // 10:00
            try await client.command(id, "notes", as: .alice, "{\"body\": \"at ten\"}")
            let p = "/v1/tickets/\(id)/notes"
            try await expectConflict(
                server, client, p, as: .admin, "{\"body\": \"b\", \"at\": \"2026-03-02T09:59:59.999Z\"}",
                detail: "before the ticket's last event")
            try await expectConflict(
                server, client, p, as: .admin, "{\"body\": \"b\", \"at\": \"2026-03-02T10:00:00.001Z\"}",
                detail: "after the server clock")
            try await expectConflict(
                server, client, "/v1/tickets", as: .admin,
                "{\"customer\": \"c-1\", \"subject\": \"s\", \"body\": \"b\", \"channel\": \"phone\", "
                    + "\"product\": \"vps\", \"priority\": \"low\", \"at\": \"2026-03-03T00:00:00Z\"}",
                detail: "after the server clock")
            // Equal to the last `at` is allowed; so is anything up to the clock. 0 to 3 fraction digits on input.
            let equal = try await client.post(p, as: .admin, "{\"body\": \"same instant\", \"at\": \"2026-03-02T10:00:00Z\"}")
            expectTicketAnswer(equal, viewer: .admin)
            server.clock.advance(seconds: 3600)  // 11:00
            let between = try await client.post(p, as: .admin, "{\"body\": \"half past\", \"at\": \"2026-03-02T10:30:00.5Z\"}")
            expectTicketAnswer(between, viewer: .admin)
            #expect(between.json["thread"]?.arrayValue?.last?["at"]?.stringValue == "2026-03-02T10:30:00.500Z")
            let events = try server.events(id)
            #expect(
                events.map(\.at) == [
                    instant("2026-03-02T09:00:00Z"), instant("2026-03-02T10:00:00Z"),
                    instant("2026-03-02T10:00:00Z"), instant("2026-03-02T10:30:00.500Z"),
                ])
            #expect(events.last?.recorded == instant("2026-03-02T11:00:00Z"), "recorded is the append time")
            // A back-dated opening in the past is fine for an admin.
            let opened = try await client.post(
                "/v1/tickets", as: .admin,
                "{\"customer\": \"c-1\", \"subject\": \"s\", \"body\": \"b\", \"channel\": \"phone\", "
                    + "\"product\": \"vps\", \"priority\": \"low\", \"at\": \"2026-03-01T08:00:00Z\"}")
            expectTicketAnswer(opened, .created, viewer: .admin)
            #expect(opened.json["openedAt"]?.stringValue == "2026-03-01T08:00:00.000Z")
        }
    }

    @Test func aStatusChangeToTheCurrentStatusIsRefused() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let p = "/v1/tickets/\(id)/status"
            try await client.command(id, "status", as: .alice, "{\"status\": \"pending\"}")
            try await expectConflict(server, client, p, as: .alice, "{\"status\": \"pending\"}", detail: "already pending")
            try await expectConflict(server, client, p, as: .manager, "{\"status\": \"pending\"}", detail: "already pending")
            try await client.command(id, "status", as: .alice, "{\"status\": \"on_hold\"}")
            try await expectConflict(server, client, p, as: .admin, "{\"status\": \"on_hold\"}", detail: "already on_hold")
            // Commands that change nothing else are accepted and recorded.
            try await client.command(id, "priority", as: .alice, "{\"priority\": \"normal\"}")
            try await client.command(id, "assign", as: .alice, "{\"agent\": null}")
            try await client.command(id, "tags", as: .alice, "{}")
            let events = try server.events(id)
            #expect(events.count == 6)
            #expect(events.last?.data == JSONValue.object([:]), "tags' [] defaults are not filled in the log")
        }
    }

    @Test func aCommandWithoutAtTakesTheServerClockRaisedToTheTicketsLastAt() async throws {
        try await withServer { server, client in
            let id = try await client.open()  // 09:00
            server.clock.advance(seconds: 3600)
            try await client.command(id, "notes", as: .admin, "{\"body\": \"b\", \"at\": \"2026-03-02T09:45:00Z\"}")
            server.clock.set(instant("2026-03-02T09:30:00Z"))  // the clock went back
            let r = try await client.post("/v1/tickets/\(id)/messages", as: .alice, Bodies.message("behind"))
            expectTicketAnswer(r, viewer: .alice)
            let last = try server.events(id).last
            #expect(last?.at == instant("2026-03-02T09:45:00Z"), "`at` never goes backwards within a ticket")
            #expect(r.json["thread"]?.arrayValue?.last?["at"]?.stringValue == "2026-03-02T09:45:00.000Z")
            // An admin can back-date neither below the last `at` (09:45) nor above the clock (09:30): nothing fits now.
            try await expectConflict(
                server, client, "/v1/tickets/\(id)/notes", as: .admin,
                "{\"body\": \"b\", \"at\": \"2026-03-02T09:40:00Z\"}", detail: "2026-03-02T09:40:00.000Z")
            try await expectConflict(
                server, client, "/v1/tickets/\(id)/notes", as: .admin,
                "{\"body\": \"b\", \"at\": \"2026-03-02T09:20:00Z\"}", detail: "before the ticket's last event")
        }
    }
}
