import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Projections
import SupportDomain
import SupportService
import Testing

/// The `$webhooks` stream among the tickets: every reader of the whole log (projections,
/// point-in-time folds, imports) handles it, and a log holding it answers as one without.
@Suite struct WebhookLogTests {
    /// The same ticket work; with `webhooks`, endpoints are registered and removed in between.
    static func work(_ client: any TestClientProtocol, clock: ManualClock, webhooks: Bool) async throws {
        func hook(_ body: () async throws -> Void) async throws { if webhooks { try await body() } }
        try await hook { _ = try await client.post("/v1/webhooks", as: .admin, #"{"url": "https://a.example.com/"}"#) }
        let a = try await client.open()
        clock.advance(seconds: 60)
        try await hook { _ = try await client.post("/v1/webhooks", as: .admin, #"{"url": "https://b.example.com/", "notes": true}"#) }
        try await client.command(a, "messages", as: .alice, Bodies.message("On it"))
        clock.advance(seconds: 60)
        let b = try await client.open(subject: "Second")
        try await hook { _ = try await client.send(.delete, "/v1/webhooks/W-1", as: .admin) }
        try await client.command(b, "assign", as: .manager, #"{"agent": "bob"}"#)
        clock.advance(seconds: 600)
        try await client.command(a, "status", as: .alice, #"{"status": "solved"}"#)
        try await hook { _ = try await client.post("/v1/webhooks", as: .admin, #"{"url": "https://c.example.com/"}"#) }
        clock.advance(seconds: 60)
    }

    static let reads = [
        "/v1/tickets", "/v1/queues", "/v1/agents", "/v1/metrics/response-times", "/v1/satisfaction",
        "/v1/tickets?asOf=2026-03-02T09:01:30Z", "/v1/queues?asOf=2026-03-02T09:02:30Z",
        "/v1/metrics/response-times?asOf=2026-03-02T09:05:00Z",
    ]

    static func answers(_ server: TestServer, _ client: any TestClientProtocol) async throws -> [String] {
        await server.backend.projections.waitUntilApplied(try server.head.seq)
        var out: [String] = []
        for path in reads {
            let r = try await client.get(path, as: .manager)
            #expect(r.status == .ok, "\(path): \(r)")
            out.append(r.text)
        }
        return out
    }

    @Test func aLogWithWebhookEventsAnswersExactlyAsTheSameLogWithout() async throws {
        let without = try await withServer { server, client in
            try await Self.work(client, clock: server.clock, webhooks: false)
            return try await Self.answers(server, client)
        }
        let with = try await withServer { server, client in
            try await Self.work(client, clock: server.clock, webhooks: true)
            #expect(try server.backend.store.events(inStream: StreamName.webhooks).count == 4)
            return try await Self.answers(server, client)
        }
        #expect(with == without)
    }

    @Test func aRebuildOfALogWithWebhookEventsIsByteIdenticalToTheLiveProjection() async throws {
        try await withServer { server, client in
            try await Self.work(client, clock: server.clock, webhooks: true)
            let head = try server.head.seq
            await server.backend.projections.waitUntilApplied(head)
            let live = server.backend.projections.read { $0.checkpoint() }
            let rebuilt = try ProjectionRunner.fold(
                store: server.backend.store, levels: server.backend.levels, upTo: nil, logger: Logger(label: "rebuild"))
            #expect(rebuilt.appliedSeq == head)
            #expect(rebuilt.checkpoint() == live)
            // A point-in-time fold passes over the stream as well.
            let past = try server.backend.projections.fullFold(upTo: server.clock.now)
            #expect(past.checkpoint() == live)
        }
    }

    static func export(_ client: any TestClientProtocol) async throws -> [UInt8] {
        let feed = try await client.get("/v1/events?limit=1000", as: .admin)
        var out: [UInt8] = []
        for event in feed.json["events"]?.arrayValue ?? [] { out += CanonicalJSON.encode(event) + [0x0A] }
        return out
    }

    static func importNDJSON(_ client: any TestClientProtocol, _ bytes: [UInt8]) async throws -> Reply {
        try await client.send(.post, "/v1/import", as: .admin, raw: bytes, headers: [.contentType: "application/x-ndjson"])
    }

    @Test func anExportHoldingTheWebhooksStreamReimportsAsIs() async throws {
        let (exported, originals) = try await withServer { server, client in
            try await Self.work(client, clock: server.clock, webhooks: true)
            return (try await Self.export(client), try server.backend.store.events(inStream: StreamName.webhooks))
        }
        try await withServer { server, client in
            server.clock.advance(seconds: 3600)
            let r = try await Self.importNDJSON(client, exported)
            #expect(r.status == .ok, "\(r)")
            let copies = try server.backend.store.events(inStream: StreamName.webhooks)
            #expect(copies.map(\.type) == originals.map(\.type) && copies.map(\.data) == originals.map(\.data))
            #expect(copies.map(\.actor) == originals.map(\.actor) && copies.map(\.at) == originals.map(\.at))
            let list = try await client.get("/v1/webhooks", as: .admin)
            #expect(list.json["webhooks"]?.arrayValue?.map { $0["id"]?.stringValue ?? "" } == ["W-2", "W-3"], "\(list)")
            // Importing the same export again skips what is in the log already.
            let again = try await Self.importNDJSON(client, exported)
            #expect(again.status == .ok && again.json["imported"]?.intValue == 0, "\(again)")
        }
    }

    @Test func otherDollarStreamsAndForgedWebhookLinesAreConflictsNamingTheirLine() async throws {
        let at = "2026-03-02T08:00:00.000Z"
        let open =
            #"{"ticket": "T-1", "type": "ticket.opened", "at": "\#(at)", "actor": {"kind": "customer", "id": "c-1"}, "data": {"customer": "c-1", "subject": "s", "body": "b", "channel": "web", "product": "email", "priority": "normal"}}"#
        let lines = [
            #"{"ticket": "$tickets", "type": "ticket.opened", "at": "\#(at)", "actor": {"kind": "customer", "id": "c-1"}, "data": {"customer": "c-1", "subject": "s", "body": "b", "channel": "web", "product": "email", "priority": "normal"}}"#,
            #"{"ticket": "$webhooks", "type": "webhook.registered", "at": "\#(at)", "actor": {"kind": "agent", "id": "alice"}, "data": {"id": "W-1", "url": "https://a.example.com/", "events": ["*"], "notes": false, "secret": "v1:x"}}"#,
            #"{"ticket": "$webhooks", "type": "webhook.registered", "at": "\#(at)", "actor": {"kind": "admin", "id": "admin"}, "data": {"id": "W-1", "url": "ftp://a.example.com/", "events": ["*"], "notes": false, "secret": "v1:x"}}"#,
            #"{"ticket": "$webhooks", "type": "webhook.removed", "at": "\#(at)", "actor": {"kind": "admin", "id": "admin"}, "data": {"id": "W-4"}}"#,
            #"{"ticket": "$webhooks", "type": "ticket.opened", "at": "\#(at)", "actor": {"kind": "admin", "id": "admin"}, "data": {}}"#,
        ]
        try await withServer { server, client in
            for line in lines {
                try await expectLogUnchanged(server) {
                    let r = try await Self.importNDJSON(client, Array((open + "\n" + line + "\n").utf8))
                    #expect(r.status == .conflict || r.status == .notFound, "\(line): \(r)")
                    #expect(r.json["line"]?.intValue == 2, "\(r)")
                }
            }
        }
    }
}
