import Foundation
import HummingbirdTesting
import SupportService
import Synchronization
import Testing

@testable import EventLog
@testable import SupportServer

/// GET /v1/events (paging, long-polling) and GET /v1/events/head.
@Suite("Audit: the events feed and the head")
struct AuditEventFeedTests {
    @Test func theFeedIsTheExportAndTheHeadIsItsLastEvent() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let data = root.path + "/data"
        let (feed, pages) = try await withAuditServer(in: data) { _, client in
            let empty = try await client.get("/v1/events/head", as: .auditor)
            #expect(empty.status == .ok, "\(empty)")
            #expect(empty.json == .object(["seq": .int(0), "hash": .string(String(repeating: "0", count: 64))]), "\(empty)")
            let none = try await client.get("/v1/events", as: .admin)
            #expect(none.json == .object(["events": .array([]), "last": .int(0)]), "\(none)")

            try await auditScenario(client, clock: ManualClock())
            let feed = try await auditFeed(client)
            // Pages of 5 give the same events, each `last` the seq of its last event.
            var pages: [JSONValue] = []
            var after: Int64 = 0
            for _ in 0..<20 {
                let r = try await client.get("/v1/events?after=\(after)&limit=5", as: .auditor)
                #expect(r.status == .ok, "\(r)")
                let events = r.json["events"]?.arrayValue ?? []
                #expect(events.count <= 5)
                #expect(r.json["last"]?.intValue == (events.last?["seq"]?.intValue ?? after), "\(r)")
                if events.isEmpty { break }
                pages += events
                after = r.json["last"]?.intValue ?? after
            }
            let head = try await client.get("/v1/events/head", as: .admin)
            #expect(head.json["seq"] == feed.last?["seq"] && head.json["hash"] == feed.last?["hash"], "\(head)")
            let beyond = try await client.get("/v1/events?after=1000", as: .auditor)
            #expect(beyond.json == .object(["events": .array([]), "last": .int(1000)]), "\(beyond)")
            let defaults = try await client.get("/v1/events", as: .auditor)
            #expect(defaults.json["events"]?.arrayValue?.count == auditScenarioEventCount, "after defaults to 0")
            return (feed, pages)
        }
        #expect(feed.count == auditScenarioEventCount)
        #expect(pages == feed)
        #expect(feed.map { $0["seq"]?.intValue ?? 0 } == Array(1...Int64(auditScenarioEventCount)))
        let export = ndjsonLines(try await auditExport(data))
        #expect(feed == export, "the feed's envelopes are not the export's")
    }

    @Test func aLongPollReturnsTheEventsAppendedWhileItWaits() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let seq = try server.head.seq
            let poll = Task { try await client.get("/v1/events?after=\(seq)&wait=20", as: .auditor) }
            try await Task.sleep(for: .milliseconds(200))
            try await client.command(id, "messages", as: .alice, #"{"body": "new", "status": "pending"}"#)
            let r = try await poll.value
            #expect(r.status == .ok, "\(r)")
            let events = r.json["events"]?.arrayValue ?? []
            #expect(!events.isEmpty && events.first?["seq"]?.intValue == Int64(seq + 1), "\(r)")
            #expect(r.json["last"] == events.last?["seq"], "\(r)")
        }
    }

    @Test func aLongPollWithNothingNewAnswersNoEvents() async throws {
        try await withServer { server, client in
            _ = try await client.open()
            let r = try await client.get("/v1/events?after=1&wait=1", as: .auditor)
            #expect(r.status == .ok, "\(r)")
            #expect(r.json == .object(["events": .array([]), "last": .int(1)]), "\(r)")
            let zero = try await client.get("/v1/events?after=1&wait=0", as: .auditor)
            #expect(zero.json == .object(["events": .array([]), "last": .int(1)]), "\(zero)")
        }
    }

    @Test(arguments: [
        "limit=0", "limit=1001", "limit=x", "wait=61", "wait=-1", "wait=1.5", "after=-1", "after=x",
        "Wait=1", "from=1",
    ])
    func badFeedParametersAre400(query: String) async throws {
        try await withServer { server, client in
            try await expectLogUnchanged(server) {
                expectProblem(try await client.get("/v1/events?\(query)", as: .auditor), .badRequest)
            }
        }
    }

    /// `after` is any seq; past the head there is nothing (the largest seq must not wrap round to the start).
    @Test(arguments: ["1000", "18446744073709551614", "18446744073709551615"])
    func afterBeyondTheHeadGivesNoEvents(after: String) async throws {
        try await withServer { _, client in
            _ = try await client.open()
            let r = try await client.get("/v1/events?after=\(after)", as: .auditor)
            if r.status == .ok {
                #expect(r.json["events"]?.arrayValue?.isEmpty == true, "GET /v1/events?after=\(after) on a 1-event log: \(r)")
            } else {
                expectProblem(r, .badRequest)
            }
        }
    }

    @Test func onlyAuditorsAndAdminsReadTheFeedAndTheHead() async throws {
        try await withServer { _, client in
            _ = try await client.open()
            for path in ["/v1/events", "/v1/events/head"] {
                for who in [Who.c1, .alice, .manager] { expectProblem(try await client.get(path, as: who), .forbidden) }
                expectProblem(try await client.get(path, as: nil), .unauthorized)
                for who in [Who.auditor, .admin] { #expect(try await client.get(path, as: who).status == .ok) }
            }
            expectProblem(try await client.get("/v1/events/head?after=1", as: .auditor), .badRequest)
        }
    }

    @Test(.timeLimit(.minutes(8)))
    func sigtermAnswersAWaitingLongPollWithNoEvents() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        try Who.tokensFileJSON.write(toFile: root.path + "/tokens.json", atomically: true, encoding: .utf8)
        let server = try SupportdProcess(dataDirectory: root.path + "/data", tokensFile: root.path + "/tokens.json")
        do {
            let port = try await server.waitForPort()
            let poll = Task { await call(port: port, .get, "/v1/events?after=0&wait=60", as: .auditor, timeout: .seconds(150)) }
            // SIGTERM only once the server reports the poll as waiting (/metrics), so a slow start
            // of the request on a loaded machine is not mistaken for an unanswered poll.
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let metrics = await call(port: port, .get, "/metrics", as: .auditor)
                let waiting =
                    metrics?.text.split(separator: "\n").first { $0.hasPrefix("ledgerdesk_long_polls_waiting ") }
                    .flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
                if waiting >= 1 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            server.send(SIGTERM)
            let r = await poll.value
            #expect(r?.status == .ok, "the waiting long-poll was not answered on SIGTERM: \(String(describing: r))")
            #expect(r?.json == .object(["events": .array([]), "last": .int(0)]), "\(String(describing: r))")
            #expect(await server.waitForExit(within: .seconds(60)), "supportd did not exit within 60 s of SIGTERM")
            await server.terminate()
        } catch {
            await server.terminate()
            throw error
        }
    }
}
