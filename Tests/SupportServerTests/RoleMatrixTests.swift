import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportDomain
import SupportService
import Testing

@testable import SupportServer

/// Every route built so far under every role (SPEC §2.2 "who", §7 roles, §8 bodies).
@Suite("Routes under every role")
struct RoleMatrixTests {
    /// Expects 403 as a problem and no change to the log.
    func expectForbidden(
        _ server: TestServer, _ client: any TestClientProtocol, _ path: String, as who: Who, _ body: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await expectLogUnchanged(server, sourceLocation: sourceLocation) {
            let r = try await client.post(path, as: who, body)
            expectProblem(r, .forbidden, sourceLocation: sourceLocation)
        }
    }

    @Test func openingAnswers201WithLocationAndETagForCustomersThemselvesAndStaffButNotAuditors() async throws {
        try await withServer { server, client in
            for who in [Who.c1, .alice, .bob, .manager, .admin] {
                let before = try server.head
                let r = try await client.post(
                    "/v1/tickets", as: who,
                    Bodies.open(
                        customer: "c-1", subject: "Opened by \(who)",
                        product: "vps", priority: "high"))
                expectTicketAnswer(r, .created, viewer: who)
                let id = r.json["id"]?.stringValue ?? "?"
                #expect(r.location == "/v1/tickets/\(id)")
                #expect(r.etag == "\"1\"")
                let j = r.json
                #expect(j["version"]?.intValue == 1 && j["status"]?.stringValue == "new")
                #expect(j["team"]?.stringValue == "vps" && j["product"]?.stringValue == "vps", "team = product")
                #expect(j["priority"]?.stringValue == "high" && j["channel"]?.stringValue == "web")
                #expect(j["customer"]?.stringValue == "c-1" && j["subject"]?.stringValue == "Opened by \(who)")
                #expect(j["assignee"]?.isNull == true && j["mergedInto"]?.isNull == true && j["context"]?.isNull == true)
                #expect(j["tags"]?.arrayValue?.isEmpty == true)
                #expect(j["openedBy"]?["kind"]?.stringValue == who.kind && j["openedBy"]?["id"]?.stringValue == who.id)
                #expect(j["openedAt"]?.stringValue == "2026-03-02T09:00:00.000Z")
                let thread = j["thread"]?.arrayValue ?? []
                #expect(thread.count == 1)
                #expect(thread.first?["author"]?["id"]?.stringValue == who.id && thread.first?["author"]?["kind"]?.stringValue == who.kind)
                #expect(thread.first?["body"]?.stringValue == "I cannot receive mail since this morning.")
                #expect(thread.first?["attachments"]?.arrayValue?.isEmpty == true)
                // Exactly one ticket.opened, under the caller's actor.
                let after = try server.head
                #expect(after.seq == before.seq + 1)
                let events = try server.events(id)
                #expect(events.count == 1 && events.first?.type == "ticket.opened")
                #expect(events.first?.actor.kind == who.kind && events.first?.actor.id == who.id)
                // Reading it back answers the same ticket.
                let read = try await client.get("/v1/tickets/\(id)", as: who == .c1 ? .c1 : .auditor)
                #expect(read.status == .ok && read.json["subject"]?.stringValue == "Opened by \(who)")
            }
            try await expectForbidden(server, client, "/v1/tickets", as: .auditor, Bodies.open())
            try await expectForbidden(server, client, "/v1/tickets", as: .c2, Bodies.open(customer: "c-1"))
        }
    }

    @Test func messagesAreForTheTicketsCustomerAndAgentsOnly() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            var version: Int64 = 1
            for who in [Who.c1, .alice, .bob] {
                server.clock.advance(seconds: 60)
                let r = try await client.post("/v1/tickets/\(id)/messages", as: who, Bodies.message("hello from \(who)"))
                expectTicketAnswer(r, viewer: who)
                version += 1
                #expect(r.version == version)
                let last = r.json["thread"]?.arrayValue?.last
                #expect(last?["kind"]?.stringValue == "message" && last?["body"]?.stringValue == "hello from \(who)")
                #expect(last?["author"]?["id"]?.stringValue == who.id && last?["author"]?["kind"]?.stringValue == who.kind)
                #expect(last?["at"]?.stringValue == server.clock.now.rfc3339)
            }
            // The first agent message moved the ticket from new to open.
            let read = try await client.get("/v1/tickets/\(id)", as: .alice)
            #expect(read.json["status"]?.stringValue == "open")
            for who in [Who.manager, .admin, .auditor] {
                try await expectForbidden(server, client, "/v1/tickets/\(id)/messages", as: who, Bodies.message("not allowed"))
            }
        }
    }

    @Test func notesAssignPriorityEscalateAndTagsAreForStaffButNeverCustomersOrAuditors() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let staff = [Who.alice, .bob, .manager, .admin]
            var version: Int64 = 1
            func next(_ route: String, _ who: Who, _ body: String) async throws -> JSONValue {
                server.clock.advance(seconds: 1)
                let r = try await client.post("/v1/tickets/\(id)/\(route)", as: who, body)
                expectTicketAnswer(r, viewer: who)
                version += 1
                #expect(r.version == version, "\(route) as \(who): \(r)")
                return r.json
            }
            for who in staff {
                let note = try await next("notes", who, "{\"body\": \"internal from \(who)\"}")
                let last = note["thread"]?.arrayValue?.last
                #expect(last?["kind"]?.stringValue == "note" && last?["body"]?.stringValue == "internal from \(who)")
                #expect(last?["author"]?["kind"]?.stringValue == who.kind)

                let assigned = try await next("assign", who, "{\"agent\": \"bob\", \"team\": \"tier2-\(who)\"}")
                #expect(assigned["assignee"]?.stringValue == "bob" && assigned["team"]?.stringValue == "tier2-\(who)")

                let unassigned = try await next("assign", who, "{\"agent\": null}")
                #expect(unassigned["assignee"]?.isNull == true && unassigned["team"]?.stringValue == "tier2-\(who)")

                let priority = try await next("priority", who, "{\"priority\": \"urgent\"}")
                #expect(priority["priority"]?.stringValue == "urgent")

                let escalated = try await next("escalate", who, "{\"team\": \"abuse\", \"reason\": \"spam relay\"}")
                #expect(escalated["team"]?.stringValue == "abuse")

                let tagged = try await next("tags", who, "{\"added\": [\"zeta-\(who)\", \"Alpha\", \"dns\"], \"removed\": [\"gone\"]}")
                let tags = tagged["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(tags.contains("zeta-\(who)") && tags.contains("Alpha") && tags.contains("dns"))
                #expect(tags == tags.sorted(by: Identifier.precedes))
            }
            // The log holds each command under its actor, as sent.
            let events = try server.events(id)
            #expect(events.count == Int(version))
            #expect(events.filter { $0.type == "note.added" }.map(\.actor.id) == staff.map(\.id))
            let unassign = events.first { $0.type == "ticket.assigned" && $0.data["agent"]?.isNull == true }
            #expect(unassign?.data == JSONValue.object(["agent": .null]), "an unassign keeps \"agent\": null")

            let bodies = [
                "notes": "{\"body\": \"x\"}", "assign": "{\"agent\": \"alice\"}", "priority": "{\"priority\": \"low\"}",
                "escalate": "{\"team\": \"t\", \"reason\": \"r\"}", "tags": "{\"added\": [\"x\"]}",
                "status": "{\"status\": \"pending\"}", "merge": "{\"into\": \"\(id)\"}",
            ]
            for (route, body) in bodies.sorted(by: { $0.key < $1.key }) {
                for who in [Who.c1, .auditor] {
                    try await expectForbidden(server, client, "/v1/tickets/\(id)/\(route)", as: who, body)
                }
            }
        }
    }

    @Test func statusChangesAreForStaffAndAnswerTheNewStatus() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let plan: [(Who, String)] = [
                (.alice, "pending"), (.bob, "on_hold"), (.manager, "open"), (.admin, "solved"),
                (.alice, "open"), (.manager, "closed"),
            ]
            for (k, (who, status)) in plan.enumerated() {
                server.clock.advance(seconds: 30)
                let r = try await client.post("/v1/tickets/\(id)/status", as: who, "{\"status\": \"\(status)\"}")
                expectTicketAnswer(r, viewer: who)
                #expect(r.version == Int64(k + 2) && r.json["status"]?.stringValue == status)
            }
            let events = try server.events(id)
            #expect(events.dropFirst().map { $0.data["status"]?.stringValue ?? "?" } == plan.map(\.1))
            #expect(events.dropFirst().map(\.actor.kind) == plan.map(\.0.kind))
        }
    }

    @Test func mergeIsForAgentsManagersAndAdminsAndClosesTheTicket() async throws {
        try await withServer { server, client in
            let target = try await client.open(subject: "the main ticket")
            for who in [Who.alice, .bob, .manager, .admin] {
                let source = try await client.open(subject: "duplicate for \(who)")
                let targetBefore = try server.events(target).count
                server.clock.advance(seconds: 5)
                let r = try await client.post("/v1/tickets/\(source)/merge", as: who, "{\"into\": \"\(target)\"}")
                expectTicketAnswer(r, viewer: who)
                #expect(r.version == 2 && r.json["status"]?.stringValue == "closed" && r.json["mergedInto"]?.stringValue == target)
                #expect(try server.events(target).count == targetBefore, "`into` gets no event")
            }
            let source = try await client.open(subject: "not mergeable by these")
            for who in [Who.c1, .auditor] {
                try await expectForbidden(server, client, "/v1/tickets/\(source)/merge", as: who, "{\"into\": \"\(target)\"}")
            }
        }
    }

    @Test func ratingIsForTheTicketsCustomerOnly() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            server.clock.advance(seconds: 600)
            try await client.command(id, "messages", as: .alice, Bodies.message("Your quota is raised."))
            server.clock.advance(seconds: 600)
            let r = try await client.post("/v1/tickets/\(id)/rating", as: .c1, "{\"score\": 5, \"comment\": \"fast\"}")
            expectTicketAnswer(r, viewer: .c1)
            #expect(r.version == 3)
            let rated = try server.events(id).last
            #expect(rated?.type == "satisfaction.rated")
            #expect(rated?.data == JSONValue.object(["score": .int(5), "comment": .string("fast")]), "reply is not filled in")
            // Re-rating the same reply explicitly is accepted too.
            let again = try await client.post("/v1/tickets/\(id)/rating", as: .c1, "{\"score\": 2, \"reply\": 2}")
            expectTicketAnswer(again, viewer: .c1)
            for who in [Who.alice, .bob, .manager, .admin, .auditor] {
                try await expectForbidden(server, client, "/v1/tickets/\(id)/rating", as: who, "{\"score\": 4}")
            }
        }
    }

    @Test func everyRoleButOtherCustomersReadsTheTicketNowAndAsOfAnInstant() async throws {
        try await withServer { server, client in
            let id = try await client.open()  // 09:00
            server.clock.advance(seconds: 3600)  // 10:00
            try await client.command(id, "notes", as: .alice, "{\"body\": \"checking the mail server\"}")
            server.clock.advance(seconds: 3600)  // 11:00
            try await client.command(id, "messages", as: .alice, Bodies.message("Fixed."))
            server.clock.advance(seconds: 60)
            for who in [Who.c1, .alice, .bob, .manager, .auditor, .admin] {
                let now = try await client.get("/v1/tickets/\(id)", as: who)
                expectTicketAnswer(now, viewer: who)
                #expect(now.version == 3 && now.etag == "\"3\"")
                #expect(now.json["evaluatedAt"]?.stringValue == server.clock.now.rfc3339, "evaluated at the server clock")
                #expect(now.json["thread"]?.arrayValue?.count == (who == .c1 ? 2 : 3))

                let past = try await client.get("/v1/tickets/\(id)?asOf=2026-03-02T10:30:00Z", as: who)
                expectTicketAnswer(past, viewer: who)
                #expect(past.version == 2 && past.etag == "\"2\"" && past.json["status"]?.stringValue == "new")
                #expect(past.json["evaluatedAt"]?.stringValue == "2026-03-02T10:30:00.000Z")

                // Any offset is accepted in a query parameter: 10:00+01:00 is 09:00Z, the opening instant.
                let opening = try await client.get("/v1/tickets/\(id)?asOf=2026-03-02T10:00:00%2B01:00", as: who)
                #expect(opening.status == .ok && opening.version == 1, "\(opening)")

                let before = try await client.get("/v1/tickets/\(id)?asOf=2026-03-02T08:59:59.999Z", as: who)
                expectProblem(before, .notFound)
            }
            expectProblem(try await client.get("/v1/tickets/\(id)", as: .c2), .notFound)
        }
    }

    @Test func openingKeepsContextAndAttachmentsAndTheThreadStartsWithTheOpeningBody() async throws {
        try await withServer { server, client in
            let sha = String(repeating: "0123456789abcdef", count: 4)
            let body =
                "{\"customer\": \"c-1\", \"subject\": \"DNS\", \"body\": \"see screenshot\", \"channel\": \"email\", "
                + "\"product\": \"domains\", \"priority\": \"urgent\", \"context\": \"/panel/dns/example.org\", "
                + "\"attachments\": [{\"name\": \"shot.png\", \"size\": 0, \"contentType\": \"image/png\", \"sha256\": \"\(sha)\"}]}"
            let r = try await client.post("/v1/tickets", as: .c1, body)
            expectTicketAnswer(r, .created, viewer: .c1)
            #expect(r.json["context"]?.stringValue == "/panel/dns/example.org")
            let first = r.json["thread"]?.arrayValue?.first
            #expect(first?["body"]?.stringValue == "see screenshot" && first?["kind"]?.stringValue == "message")
            #expect(
                first?["attachments"]
                    == JSONValue.array([
                        .object([
                            "name": .string("shot.png"), "size": .int(0),
                            "contentType": .string("image/png"), "sha256": .string(sha),
                        ])
                    ]))
            // Urgent has a calendar first-reply target of 1 h: due at 10:00 for a 09:00 opening.
            #expect(r.json["nextDue"]?.stringValue == "2026-03-02T10:00:00.000Z" && r.json["nextDueTarget"]?.stringValue == "firstReply")
            #expect(r.json["waitingSince"]?.stringValue == "2026-03-02T09:00:00.000Z" && r.json["breached"] == JSONValue.bool(false))
        }
    }

    @Test func unknownRoutesAndMethodsAnswerProblems() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            try await expectLogUnchanged(server) {
                for (method, path) in [
                    (HTTPRequest.Method.post, "/v1/tickets/\(id)/reopen"), (.get, "/v1/tickets/\(id)/notes"),
                    (.delete, "/v1/tickets/\(id)"),
                ] {
                    let r = try await client.send(method, path, as: .admin, body: method == .get ? nil : "{}")
                    #expect(r.status == .notFound || r.status == .methodNotAllowed, "\(method) \(path): \(r)")
                    #expect(r.contentType == "application/problem+json", "\(method) \(path): \(r.headers)")
                    #expect(r.json["status"]?.intValue == Int64(r.status.code))
                }
            }
        }
    }

    @Test func healthzAnswersWithoutAToken() async throws {
        try await withServer { _, client in
            let r = try await client.get("/healthz", as: nil)
            #expect(r.status == .ok)
            #expect(r.contentType?.hasPrefix("application/json") == true)
            #expect(r.json == JSONValue.object(["status": .string("ok")]))
        }
    }
}
