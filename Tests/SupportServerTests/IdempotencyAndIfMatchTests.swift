import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SupportService
import Synchronization
import Testing

@testable import SupportServer

/// SPEC §7: `Idempotency-Key` (a retry returns the first answer byte for byte and appends
/// nothing; another request with the key is 409; scoped per actor; 1 to 255 printable ASCII;
/// failed commands are not remembered) and `If-Match: "<version>"`.
@Suite("Idempotency-Key and If-Match")
struct IdempotencyAndIfMatchTests {
    func expectSameAnswer(_ a: Reply, _ b: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.status == b.status, "status \(a.status.code) vs \(b.status.code)", sourceLocation: sourceLocation)
        #expect(a.bytes == b.bytes, "bodies differ:\n\(a.text)\n\(b.text)", sourceLocation: sourceLocation)
        #expect(a.etag == b.etag, sourceLocation: sourceLocation)
        #expect(a.location == b.location, sourceLocation: sourceLocation)
        #expect(a.contentType == b.contentType, sourceLocation: sourceLocation)
    }

    @Test func aRetriedOpeningReturnsTheFirstAnswerByteForByteAndAppendsNothing() async throws {
        try await withServer { server, client in
            let key: HTTPFields = [.idempotencyKey: "open-ticket-0001"]
            let first = try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "once"), headers: key)
            expectTicketAnswer(first, .created, viewer: .c1)
            let head = try server.head
            server.clock.advance(seconds: 3600)  // evaluatedAt would differ if the answer were recomputed
            for _ in 0..<3 {
                let retry = try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "once"), headers: key)
                expectSameAnswer(first, retry)
                #expect(retry.status == .created && retry.location != nil)
            }
            #expect(try server.head == head, "a retry appends nothing")
            // Another body with the same key: 409, nothing appended.
            let other = try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "twice"), headers: key)
            expectProblem(other, .conflict, detail: "Idempotency-Key")
            // The same body with the same key on another path: 409 too.
            let id = first.json["id"]?.stringValue ?? "?"
            let elsewhere = try await client.post("/v1/tickets/\(id)/messages", as: .c1, Bodies.message("once"), headers: key)
            expectProblem(elsewhere, .conflict, detail: "Idempotency-Key")
            #expect(try server.head == head)
        }
    }

    @Test func aRetriedCommandReturnsTheFirstAnswerEvenAfterTheTicketMovedOn() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let p = "/v1/tickets/\(id)/notes"
            let key: HTTPFields = [.idempotencyKey: "note-42"]
            let first = try await client.post(p, as: .alice, "{\"body\": \"first\"}", headers: key)
            expectTicketAnswer(first, viewer: .alice)
            #expect(first.etag == "\"2\"" && first.location == nil)
            server.clock.advance(seconds: 60)
            try await client.command(id, "priority", as: .bob, "{\"priority\": \"high\"}")
            let head = try server.head
            let retry = try await client.post(p, as: .alice, "{\"body\": \"first\"}", headers: key)
            expectSameAnswer(first, retry)
            #expect(retry.json["priority"]?.stringValue == "normal", "the first answer, not the current state")
            #expect(try server.head == head)
            expectProblem(
                try await client.post(p, as: .alice, "{\"body\":\"first\"}", headers: key), .conflict,
                detail: "Idempotency-Key")
            #expect(try server.head == head)
        }
    }

    @Test func idempotencyKeysAreScopedPerActor() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let p = "/v1/tickets/\(id)/notes"
            let key: HTTPFields = [.idempotencyKey: "shared-key"]
            let alice = try await client.post(p, as: .alice, "{\"body\": \"same\"}", headers: key)
            let bob = try await client.post(p, as: .bob, "{\"body\": \"same\"}", headers: key)
            let manager = try await client.post(p, as: .manager, "{\"body\": \"same\"}", headers: key)
            expectTicketAnswer(alice, viewer: .alice)
            expectTicketAnswer(bob, viewer: .bob)
            expectTicketAnswer(manager, viewer: .manager)
            #expect([alice.etag, bob.etag, manager.etag] == ["\"2\"", "\"3\"", "\"4\""])
            #expect(try server.events(id).filter { $0.type == "note.added" }.map(\.actor.id) == ["alice", "bob", "manager"])
            // Two customers may use the same key to open their own tickets.
            let c1 = try await client.post("/v1/tickets", as: .c1, Bodies.open(customer: "c-1"), headers: key)
            let c2 = try await client.post("/v1/tickets", as: .c2, Bodies.open(customer: "c-2"), headers: key)
            #expect(c1.status == .created && c2.status == .created)
            #expect(c1.location != c2.location)
            #expect(c2.json["customer"]?.stringValue == "c-2")
        }
    }

    @Test func aBadIdempotencyKeyIs400AndWritesNothing() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let p = "/v1/tickets/\(id)/notes"
            try await expectLogUnchanged(server) {
                for bad in ["", String(repeating: "k", count: 256), "clé-1", "ключ", "emoji-🎫"] {
                    let r = try await client.post(p, as: .alice, "{\"body\": \"n\"}", headers: [.idempotencyKey: bad])
                    expectProblem(r, .badRequest, detail: "Idempotency-Key")
                    let o = try await client.post("/v1/tickets", as: .c1, Bodies.open(), headers: [.idempotencyKey: bad])
                    expectProblem(o, .badRequest, detail: "Idempotency-Key")
                }
            }
            // 255 printable ASCII characters (space and punctuation included) are a good key.
            let longest = String(repeating: "a ~!", count: 63) + "xyz"
            #expect(longest.utf8.count == 255)
            let ok = try await client.post(p, as: .alice, "{\"body\": \"n\"}", headers: [.idempotencyKey: longest])
            expectTicketAnswer(ok, viewer: .alice)
            let again = try await client.post(p, as: .alice, "{\"body\": \"n\"}", headers: [.idempotencyKey: longest])
            expectSameAnswer(ok, again)
        }
    }

    @Test func aFailedCommandIsNotRememberedSoTheFixedRetryWithTheSameKeyApplies() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let p = "/v1/tickets/\(id)/status"
            let key: HTTPFields = [.idempotencyKey: "fix-and-retry"]
            try await expectLogUnchanged(server) {
                expectProblem(try await client.post(p, as: .alice, "{\"status\": \"bogus\"}", headers: key), .badRequest)
                expectProblem(
                    try await client.post(
                        p, as: .alice, "{\"status\": \"pending\"}", headers: [.idempotencyKey: "fix-and-retry", .ifMatch: "\"7\""]),
                    .preconditionFailed)
                expectProblem(
                    try await client.post(
                        p, as: .alice, "{\"status\": \"pending\", \"at\": \"2026-03-02T09:00:00Z\"}",
                        headers: key), .forbidden)
            }
            try await client.command(id, "status", as: .bob, "{\"status\": \"on_hold\"}")
            try await expectLogUnchanged(server) {
                expectProblem(
                    try await client.post(p, as: .alice, "{\"status\": \"on_hold\"}", headers: key), .conflict,
                    detail: "already on_hold")
            }
            let fixed = try await client.post(p, as: .alice, "{\"status\": \"pending\"}", headers: key)
            expectTicketAnswer(fixed, viewer: .alice)
            #expect(fixed.etag == "\"3\"")
            let replay = try await client.post(p, as: .alice, "{\"status\": \"pending\"}", headers: key)
            expectSameAnswer(fixed, replay)
            #expect(try server.events(id).count == 3)
        }
    }

    @Test func concurrentDuplicatesAppendOnceAndAllGetTheSameAnswer() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let head = try server.head
            let answers = try await withThrowingTaskGroup(of: Reply.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await client.post(
                            "/v1/tickets/\(id)/messages", as: .alice, Bodies.message("only once"),
                            headers: [.idempotencyKey: "dup-msg"])
                    }
                    group.addTask {
                        try await client.post(
                            "/v1/tickets", as: .c2, Bodies.open(customer: "c-2", subject: "only once"),
                            headers: [.idempotencyKey: "dup-open"])
                    }
                }
                var all: [Reply] = []
                for try await r in group { all.append(r) }
                return all
            }
            let messages = answers.filter { $0.status != .created }
            let opens = answers.filter { $0.status == .created }
            #expect(messages.count == 8 && opens.count == 8, "\(answers.map(\.status.code))")
            for r in messages { expectSameAnswer(r, messages[0]) }
            for r in opens { expectSameAnswer(r, opens[0]) }
            #expect(messages.first?.status == .ok)
            #expect(try server.head.seq == head.seq + 2, "one message and one opening")
        }
    }

    @Test func idempotencyKeysSurviveARestart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let key: HTTPFields = [.idempotencyKey: "survives-restart"]
        func run<T: Sendable>(_ body: @Sendable (SupportBackend, any TestClientProtocol) async throws -> T) async throws -> T {
            let backend = try SupportBackend(dataDirectory: directory.path, limits: testLimits, clock: clock.read)
            defer { backend.close() }
            return try await Application(router: buildRouter(backend: backend, tokens: Who.tokens)).test(.router) { client in
                try await body(backend, client)
            }
        }
        let first = try await run { _, client in
            try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "before restart"), headers: key)
        }
        expectTicketAnswer(first, .created, viewer: .c1)
        clock.advance(seconds: 60)
        try await run { backend, client in
            let head = try backend.store.head
            let retry = try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "before restart"), headers: key)
            expectSameAnswer(first, retry)
            #expect(try backend.store.head == head)
            // And the id counter continues after the existing ticket.
            let next = try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "after restart"))
            #expect(next.status == .created && next.location != first.location, "\(next)")
        }
    }

    @Test func ifMatchWithTheCurrentVersionAppliesAndAStaleOneIs412WithNothingAppended() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let p = "/v1/tickets/\(id)/priority"
            let ok = try await client.post(p, as: .alice, "{\"priority\": \"high\"}", headers: [.ifMatch: "\"1\""])
            expectTicketAnswer(ok, viewer: .alice)
            #expect(ok.etag == "\"2\"")
            try await expectLogUnchanged(server) {
                for stale in ["\"1\"", "\"3\"", "\"99\""] {
                    let r = try await client.post(p, as: .bob, "{\"priority\": \"low\"}", headers: [.ifMatch: stale])
                    expectProblem(r, .preconditionFailed, detail: "version 2")
                }
                // If-Match on opening cannot match anything.
                expectProblem(
                    try await client.post("/v1/tickets", as: .c1, Bodies.open(), headers: [.ifMatch: "\"1\""]),
                    .preconditionFailed)
            }
            let chained = try await client.post(p, as: .bob, "{\"priority\": \"low\"}", headers: [.ifMatch: ok.etag ?? ""])
            expectTicketAnswer(chained, viewer: .bob)
            #expect(chained.etag == "\"3\"" && chained.json["priority"]?.stringValue == "low")
        }
    }

    @Test func concurrentWritersWithTheSameIfMatchHaveExactlyOneWinner() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            for round in 1...3 {
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for k in 0..<6 {
                        group.addTask {
                            try await client.post(
                                "/v1/tickets/\(id)/notes", as: k % 2 == 0 ? .alice : .bob,
                                "{\"body\": \"round \(round) writer \(k)\"}",
                                headers: [.ifMatch: "\"\(round)\""]
                            ).status
                        }
                    }
                    var all: [HTTPResponse.Status] = []
                    for try await s in group { all.append(s) }
                    return all
                }
                #expect(statuses.filter { $0 == .ok }.count == 1, "round \(round): \(statuses.map(\.code))")
                #expect(statuses.filter { $0 == .preconditionFailed }.count == 5, "round \(round): \(statuses.map(\.code))")
                #expect(try server.events(id).count == round + 1)
            }
        }
    }

    @Test func anAgentMessageWithAStatusAppendsBothEventsAtomicallyWithTheSameAt() async throws {
        try await withServer { server, client in
            let id = try await client.open()  // new
            server.clock.advance(seconds: 90)
            let before = try server.head
            let r = try await client.post(
                "/v1/tickets/\(id)/messages", as: .alice,
                "{\"body\": \"Please confirm the MX records.\", \"status\": \"pending\"}")
            expectTicketAnswer(r, viewer: .alice)
            #expect(r.etag == "\"3\"" && r.json["status"]?.stringValue == "pending")
            #expect(r.json["thread"]?.arrayValue?.last?["version"]?.intValue == 2)
            let events = try server.events(id)
            #expect(events.map(\.type) == ["ticket.opened", "message.posted", "status.changed"])
            guard events.count == 3 else { return }
            let (message, status) = (events[1], events[2])
            #expect(
                message.data == JSONValue.object(["body": .string("Please confirm the MX records.")]),
                "status is not part of the message data")
            #expect(status.data == JSONValue.object(["status": .string("pending")]))
            #expect(message.at == status.at && message.at == server.clock.now, "the same `at`")
            #expect(message.recorded == status.recorded, "one commit")
            #expect(status.seq == message.seq + 1 && message.seq == before.seq + 1, "adjacent in the log")
            #expect(message.actor == status.actor && status.actor.id == "alice")

            // When the message already leaves the ticket in that status, only the message is appended.
            server.clock.advance(seconds: 90)
            let again = try await client.post(
                "/v1/tickets/\(id)/messages", as: .alice, "{\"body\": \"Reminder.\", \"status\": \"pending\"}")
            expectTicketAnswer(again, viewer: .alice)
            #expect(again.etag == "\"4\"")
            #expect(try server.events(id).count == 4)
            let other = try await client.open(subject: "second")
            let opened = try await client.post("/v1/tickets/\(other)/messages", as: .bob, "{\"body\": \"On it.\", \"status\": \"open\"}")
            #expect(opened.etag == "\"2\"" && opened.json["status"]?.stringValue == "open", "\(opened)")
            #expect(try server.events(other).map(\.type) == ["ticket.opened", "message.posted"])

            // With If-Match the pair counts as one write.
            let solved = try await client.post(
                "/v1/tickets/\(id)/messages", as: .alice,
                "{\"body\": \"Fixed.\", \"status\": \"solved\"}", headers: [.ifMatch: "\"4\""])
            expectTicketAnswer(solved, viewer: .alice)
            #expect(solved.etag == "\"6\"" && solved.json["status"]?.stringValue == "solved")
            // A customer may not ask for a status.
            try await expectLogUnchanged(server) {
                expectProblem(
                    try await client.post("/v1/tickets/\(id)/messages", as: .c1, "{\"body\": \"x\", \"status\": \"open\"}"),
                    .forbidden, detail: "status")
            }
        }
    }
}
