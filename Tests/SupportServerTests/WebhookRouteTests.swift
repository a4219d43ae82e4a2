import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportDomain
import SupportService
import Testing

/// The admins' webhook routes: registration, listing, reading, removal, the delivery log and
/// redelivery; everyone else is refused; a `$` id is never a ticket.
@Suite struct WebhookRouteTests {
    static let register =
        #"{"url": "https://hooks.example.com/in", "events": ["ticket.opened", "message.posted"], "secret": "0123456789abcdef-secret"}"#

    @Test func anAdminRegistersAnEndpointAndSeesItsSecretOnlyInTheCreatedAnswer() async throws {
        try await withServer { server, client in
            let created = try await client.post("/v1/webhooks", as: .admin, Self.register)
            #expect(created.status == .created, "\(created)")
            #expect(created.location == "/v1/webhooks/W-1")
            #expect(created.json["id"]?.stringValue == "W-1" && created.json["secret"]?.stringValue == "0123456789abcdef-secret")
            #expect(created.json["events"] == .array([.string("ticket.opened"), .string("message.posted")]))
            #expect(created.json["notes"] == .bool(false))
            // The log holds the registration as the admin's, with the secret sealed.
            let events = try server.backend.store.events(inStream: StreamName.webhooks)
            #expect(
                events.count == 1 && events[0].type == "webhook.registered" && events[0].actor == EventActor(kind: "admin", id: "admin"))
            let feed = try await client.get("/v1/events", as: .admin)
            #expect(feed.status == .ok && feed.text.contains("$webhooks") && !feed.text.contains("0123456789abcdef-secret"))
            let one = try await client.get("/v1/webhooks/W-1", as: .admin)
            #expect(one.status == .ok && one.json["url"]?.stringValue == "https://hooks.example.com/in" && one.json["secret"] == nil)
            #expect(one.json["delivery"]?["circuit"]?.stringValue == "closed")
            let list = try await client.get("/v1/webhooks", as: .admin)
            #expect(list.json["webhooks"]?.arrayValue?.map { $0["id"]?.stringValue } == ["W-1"] && !list.text.contains("secret\":"))
        }
    }

    @Test func aSecretIsGeneratedWhenNoneIsGivenAndEventsDefaultToEverything() async throws {
        try await withServer { _, client in
            let created = try await client.post("/v1/webhooks", as: .admin, #"{"url": "http://127.0.0.1:9/x", "notes": true}"#)
            #expect(created.status == .created, "\(created)")
            #expect(created.json["secret"]?.stringValue?.count == 64)
            #expect(created.json["events"] == .array([.string("*")]) && created.json["notes"] == .bool(true))
        }
    }

    @Test func everyoneButAnAdminIsRefusedOnEveryWebhookRoute() async throws {
        try await withServer { server, client in
            _ = try await client.post("/v1/webhooks", as: .admin, Self.register)
            for who in Who.allCases where who != .admin {
                try await expectLogUnchanged(server) {
                    expectProblem(try await client.post("/v1/webhooks", as: who, Self.register), .forbidden)
                    expectProblem(try await client.get("/v1/webhooks", as: who), .forbidden)
                    expectProblem(try await client.get("/v1/webhooks/W-1", as: who), .forbidden)
                    expectProblem(try await client.send(.delete, "/v1/webhooks/W-1", as: who), .forbidden)
                    expectProblem(try await client.get("/v1/webhooks/W-1/deliveries", as: who), .forbidden)
                    expectProblem(try await client.post("/v1/webhooks/W-1/redeliver", as: who, #"{"from": 1}"#), .forbidden)
                }
            }
            expectProblem(try await client.get("/v1/webhooks", as: nil), .unauthorized)
        }
    }

    @Test func badBodiesAreBadRequestsAndWriteNothing() async throws {
        try await withServer { server, client in
            let bodies = [
                #"{"url": "https://example.com/", "colour": "red"}"#,
                #"{"url": "ftp://example.com/"}"#,
                #"{"url": "https://user:pw@example.com/"}"#,
                #"{"url": "not a url"}"#,
                #"{"events": ["*"]}"#,
                #"{"url": "https://example.com/", "events": ["ticket.exploded"]}"#,
                #"{"url": "https://example.com/", "events": "*"}"#,
                #"{"url": "https://example.com/", "notes": "yes"}"#,
                #"{"url": "https://example.com/", "secret": "short"}"#,
                #"{"url": "https://example.com/", "secret": "has spaces in it, sixteen+"}"#,
                #"[1, 2]"#,
                #"{"url": "#,
            ]
            for body in bodies {
                try await expectLogUnchanged(server) {
                    expectProblem(try await client.post("/v1/webhooks", as: .admin, body), .badRequest)
                }
            }
        }
    }

    @Test func unknownIdsAreNotFoundAndRemovalIsFinal() async throws {
        try await withServer { server, client in
            expectProblem(try await client.get("/v1/webhooks/W-9", as: .admin), .notFound)
            expectProblem(try await client.send(.delete, "/v1/webhooks/W-9", as: .admin), .notFound)
            expectProblem(try await client.get("/v1/webhooks/W-9/deliveries", as: .admin), .notFound)
            expectProblem(try await client.post("/v1/webhooks/W-9/redeliver", as: .admin, #"{"from": 1}"#), .notFound)
            _ = try await client.post("/v1/webhooks", as: .admin, Self.register)
            let removed = try await client.send(.delete, "/v1/webhooks/W-1", as: .admin)
            #expect(removed.status == .noContent, "\(removed)")
            expectProblem(try await client.get("/v1/webhooks/W-1", as: .admin), .notFound)
            expectProblem(try await client.send(.delete, "/v1/webhooks/W-1", as: .admin), .notFound)
            let types = try server.backend.store.events(inStream: StreamName.webhooks).map(\.type)
            #expect(types == ["webhook.registered", "webhook.removed"])
            // Ids are never reused.
            let next = try await client.post("/v1/webhooks", as: .admin, Self.register)
            #expect(next.json["id"]?.stringValue == "W-2")
        }
    }

    @Test func theDeliveryLogAndRedeliveryAnswerForAnEndpointWithNoRunner() async throws {
        try await withServer { _, client in
            let id = try await client.open()
            _ = try await client.post("/v1/webhooks", as: .admin, Self.register)
            let log = try await client.get("/v1/webhooks/W-1/deliveries?limit=5", as: .admin)
            #expect(log.status == .ok && log.json["deliveries"] == .array([]), "\(log)")
            expectProblem(try await client.get("/v1/webhooks/W-1/deliveries?limit=0", as: .admin), .badRequest)
            expectProblem(try await client.get("/v1/webhooks/W-1/deliveries?colour=red", as: .admin), .badRequest)
            let redeliver = try await client.post("/v1/webhooks/W-1/redeliver", as: .admin, #"{"from": 1}"#)
            #expect(redeliver.status == .accepted, "\(redeliver)")
            let state = try await client.get("/v1/webhooks/W-1", as: .admin)
            #expect(state.json["delivery"]?["seq"]?.intValue == 0, "\(state)")
            expectProblem(try await client.post("/v1/webhooks/W-1/redeliver", as: .admin, #"{"from": 0}"#), .badRequest)
            expectProblem(try await client.post("/v1/webhooks/W-1/redeliver", as: .admin, #"{"from": 1, "to": 2}"#), .badRequest)
            expectProblem(try await client.post("/v1/webhooks/W-1/redeliver", as: .admin, #"{"from": 99}"#), .badRequest)
            _ = id
        }
    }

    @Test func theWebhooksStreamIsNoTicketOnAnyTicketRoute() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            _ = try await client.post("/v1/webhooks", as: .admin, Self.register)
            for path in [
                "/v1/tickets/$webhooks", "/v1/tickets/%24webhooks", "/v1/tickets/$webhooks/history",
                "/v1/tickets/$webhooks/attachments/" + String(repeating: "a", count: 64),
            ] {
                expectProblem(try await client.get(path, as: .admin), .notFound)
            }
            try await expectLogUnchanged(server) {
                expectProblem(try await client.post("/v1/tickets/$webhooks/messages", as: .alice, Bodies.message("hi")), .notFound)
                expectProblem(try await client.post("/v1/tickets/$webhooks/notes", as: .alice, Bodies.message("hi")), .notFound)
            }
            // The list, the queues and the metrics carry on as if the stream were not there.
            await server.backend.projections.waitUntilApplied(try server.head.seq)
            let list = try await client.get("/v1/tickets", as: .admin)
            #expect(list.status == .ok && !list.text.contains("$webhooks") && list.text.contains(id), "\(list)")
            let team = try await client.get("/v1/queues", as: .manager)
            #expect(team.status == .ok, "\(team)")
        }
    }
}
