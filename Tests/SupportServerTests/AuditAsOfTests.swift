import Foundation
import HummingbirdTesting
import SupportService
import Testing

@testable import EventLog
@testable import SupportServer

/// Point-in-time reads (`asOf`, `support-replay as-of`) equal what the live server answered at
/// that moment, in a scripted scenario with no back-dated events.
@Suite("Audit: as-of equals the live answer")
struct AuditAsOfTests {
    /// One live answer: the instant it was evaluated at, the path, the caller and the body.
    struct Capture: Sendable {
        var at: Timestamp
        var path: String
        var who: Who
        var body: JSONValue
    }

    static let teams = ["email", "hosting", "tier2", "billing"]

    /// The reads compared, given the tickets that exist.
    static func reads(tickets: [String]) -> [(path: String, who: Who)] {
        var reads: [(String, Who)] = tickets.map { ("/v1/tickets/\($0)", .auditor) }
        reads.append(("/v1/queues", .auditor))
        reads += teams.map { ("/v1/queues/\($0)", Who.manager) }
        reads += [("/v1/agents/alice/queue", .alice), ("/v1/agents/bob/queue", .auditor)]
        reads += [("/v1/agents", .manager), ("/v1/agents?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z", .auditor)]
        reads += [
            ("/v1/metrics/response-times", .manager), ("/v1/metrics/response-times?groupBy=agent&clock=business", .auditor),
            ("/v1/metrics/response-times?groupBy=priority", .manager),
        ]
        reads += [("/v1/satisfaction?bucket=day", .manager), ("/v1/satisfaction?groupBy=agent", .auditor)]
        reads += [("/v1/tickets", .auditor), ("/v1/tickets?customer=c-2&limit=1", .manager), ("/v1/tickets?status=pending", .alice)]
        return reads
    }

    func capture(_ client: some TestClientProtocol, clock: ManualClock, tickets: [String], into captures: inout [Capture]) async throws {
        for (path, who) in Self.reads(tickets: tickets) {
            let r = try await client.get(path, as: who)
            try #require(r.status == .ok, "live \(path): \(r)")
            #expect(r.json["evaluatedAt"]?.stringValue == clock.now.rfc3339, "live \(path) evaluatedAt: \(r)")
            captures.append(Capture(at: clock.now, path: path, who: who, body: r.json))
        }
    }

    /// `asOf` written three ways: UTC with milliseconds, UTC without a fraction when it has none,
    /// and in Paris time with its offset.
    static func spellings(_ t: Timestamp) -> [String] {
        var out = [t.rfc3339]
        if t.milliseconds % 1000 == 0 { out.append(String(t.rfc3339.dropLast(5)) + "Z") }
        let paris = Timestamp(milliseconds: t.milliseconds + 3_600_000).rfc3339  // March 2026: UTC+1
        out.append(String(paris.dropLast()) + "%2B01:00")
        return out
    }

    func withQuery(_ path: String, _ item: String) -> String { path + (path.contains("?") ? "&" : "?") + item }

    @Test func asOfAnswersEqualTheLiveAnswersOfThatMoment() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let data = root.path + "/data"
        let clock = ManualClock()
        let (captures, tickets) = try await withAuditServer(in: data, clock: clock) { _, client in
            var captures: [Capture] = []
            let t1 = try await client.open(as: .c1, subject: "Quota", product: "email", priority: "normal")
            let t2 = try await client.open(as: .alice, customer: "c-2", subject: "Down", product: "hosting", priority: "urgent")
            try await capture(client, clock: clock, tickets: [t1, t2], into: &captures)

            clock.advance(seconds: 1800)
            try await client.command(t1, "assign", as: .alice, #"{"agent": "alice"}"#)
            try await client.command(t1, "messages", as: .alice, #"{"body": "Which mailbox?", "status": "pending"}"#)
            try await capture(client, clock: clock, tickets: [t1, t2], into: &captures)

            clock.advance(seconds: 7200)  // the urgent ticket's first reply is now overdue
            try await capture(client, clock: clock, tickets: [t1, t2], into: &captures)

            clock.advance(seconds: 600)
            try await client.command(t2, "assign", as: .bob, #"{"agent": "bob"}"#)
            try await client.command(t2, "messages", as: .bob, Bodies.message("Restarting the server"))
            clock.advance(seconds: 30)
            try await client.command(t2, "messages", as: .c2, Bodies.message("Still down"))
            try await client.command(t1, "messages", as: .c1, Bodies.message("The main one"))
            try await capture(client, clock: clock, tickets: [t1, t2], into: &captures)

            clock.advance(seconds: 3600)
            let t3 = try await client.open(as: .c1, subject: "Quota again", product: "email", priority: "high")
            try await client.command(t1, "escalate", as: .alice, #"{"team": "tier2", "reason": "storage"}"#)
            try await client.command(t1, "tags", as: .alice, #"{"added": ["quota"]}"#)
            try await client.command(t3, "merge", as: .alice, "{\"into\": \"\(t1)\"}")
            try await client.command(t1, "messages", as: .alice, #"{"body": "Done", "status": "solved"}"#)
            try await client.command(t1, "rating", as: .c1, #"{"score": 5}"#)
            try await capture(client, clock: clock, tickets: [t1, t2, t3], into: &captures)

            clock.advance(seconds: 86_400)
            try await client.command(t1, "rating", as: .c1, #"{"score": 2, "reply": 3}"#)
            try await client.command(t1, "messages", as: .c1, Bodies.message("It broke again"))
            try await client.command(t2, "priority", as: .manager, #"{"priority": "low"}"#)
            try await client.command(t2, "assign", as: .manager, #"{"agent": "alice", "team": "billing"}"#)
            try await capture(client, clock: clock, tickets: [t1, t2, t3], into: &captures)

            clock.advance(seconds: 3 * 86_400 + 1234)
            try await capture(client, clock: clock, tickets: [t1, t2, t3], into: &captures)

            // Later events must not leak into earlier answers.
            clock.advance(seconds: 600)
            try await client.command(t1, "messages", as: .alice, #"{"body": "Fixed for good", "status": "solved"}"#)
            try await client.command(t2, "status", as: .alice, #"{"status": "closed"}"#)
            try await client.command(t1, "rating", as: .c1, #"{"score": 1}"#)
            _ = try await client.open(as: .c2, customer: "c-2", subject: "New", product: "tier2", priority: "low")

            for capture in captures {
                for spelling in Self.spellings(capture.at) {
                    let path = withQuery(capture.path, "asOf=\(spelling)")
                    let r = try await client.get(path, as: capture.who)
                    #expect(r.status == .ok, "\(path): \(r)")
                    #expect(
                        r.json == capture.body,
                        "\(path) differs from the live answer at \(capture.at):\nlive:  \(auditText(capture.body))\nasOf:  \(r.text)")
                }
            }
            // A ticket with no event by then is 404.
            let before = try await client.get("/v1/tickets/\(t3)?asOf=\(captures[0].at.rfc3339)", as: .auditor)
            expectProblem(before, .notFound)
            return (captures, [t1, t2, t3])
        }

        // support-replay as-of gives the same ticket state, read straight from the directory.
        let fields = [
            "id", "version", "status", "priority", "team", "assignee", "customer", "subject", "tags", "waitingSince",
            "nextDue", "nextDueTarget", "breached", "evaluatedAt",
        ]
        for capture in captures where capture.path.hasPrefix("/v1/tickets/") {
            let id = String(capture.path.dropFirst("/v1/tickets/".count))
            let r = try await supportReplay(["as-of", "--data-dir", data, capture.at.rfc3339, id])
            try #require(r.status == 0, "\(r)")
            let cli = (try? JSONParser.parse(Array(r.stdout.split(separator: 0x0A).first ?? []))) ?? .null
            for field in fields where cli[field] != capture.body[field] {
                Issue.record(
                    "support-replay as-of \(capture.at) \(id): \(field) is \(auditText(cli[field] ?? .null)), live was \(auditText(capture.body[field] ?? .null))"
                )
            }
        }
        let missing = try await supportReplay(["as-of", "--data-dir", data, captures[0].at.rfc3339, tickets[2]])
        #expect(missing.status != 0, "as-of before a ticket existed: \(missing)")
    }
}
