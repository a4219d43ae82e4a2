import Foundation
import HummingbirdTesting
import SupportService
import Testing

@testable import EventLog
@testable import SupportServer

/// GET /v1/tickets/{id}/history and `support-replay history` for a ticket that is reopened
/// (by a customer message and by a status change), re-rated, merged, and rated after closing.
@Suite("Audit: ticket history")
struct AuditHistoryTests {
    /// The statuses after each of the ticket's 14 events.
    static let statuses = [
        "new", "new", "open", "pending", "open", "open", "solved", "solved", "open", "solved", "open", "open",
        "closed", "closed",
    ]

    /// Writes the story; returns the ticket and the one it is merged into.
    func story(_ client: some TestClientProtocol, clock: ManualClock) async throws -> (ticket: String, into: String) {
        let t = try await client.open(as: .c1, subject: "Mail bounces", product: "email", priority: "normal")  // v1
        clock.advance(seconds: 300)
        try await client.command(t, "assign", as: .alice, #"{"agent": "alice"}"#)  // v2
        try await client.command(t, "messages", as: .alice, #"{"body": "Which address?", "status": "pending"}"#)  // v3, v4
        clock.advance(seconds: 3600)
        try await client.command(t, "messages", as: .c1, Bodies.message("info@example.org"))  // v5
        clock.advance(seconds: 600)
        try await client.command(t, "messages", as: .alice, Bodies.message("Fixed the MX record"))  // v6
        try await client.command(t, "status", as: .alice, #"{"status": "solved"}"#)  // v7
        clock.advance(seconds: 60)
        try await client.command(t, "rating", as: .c1, #"{"score": 2, "comment": "slow"}"#)  // v8 (rates v6)
        clock.advance(seconds: 86_400)
        try await client.command(t, "messages", as: .c1, Bodies.message("Bouncing again"))  // v9: reopened
        clock.advance(seconds: 600)
        try await client.command(t, "status", as: .alice, #"{"status": "solved"}"#)  // v10
        clock.advance(seconds: 60)
        try await client.command(t, "status", as: .manager, #"{"status": "open"}"#)  // v11: reopened
        try await client.command(t, "rating", as: .c1, #"{"score": 4, "reply": 6}"#)  // v12: re-rates v6
        let into = try await client.open(as: .c1, subject: "Mail bounces (again)", product: "email", priority: "high")
        clock.advance(seconds: 60)
        try await client.command(t, "merge", as: .bob, "{\"into\": \"\(into)\"}")  // v13
        clock.advance(seconds: 60)
        try await client.command(t, "rating", as: .c1, #"{"score": 5, "reply": 3}"#)  // v14, after closing
        return (t, into)
    }

    @Test func historyOfAMergedReopenedAndReratedTicket() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let data = root.path + "/data"
        let clock = ManualClock()
        let (ticket, history) = try await withAuditServer(in: data, clock: clock) { _, client in
            let (t, into) = try await story(client, clock: clock)
            let feed = try await auditFeed(client)
            let bySeq = Dictionary(uniqueKeysWithValues: feed.map { ($0["seq"]?.intValue ?? -1, $0) })

            var answers: [JSONValue] = []
            for who in [Who.alice, .manager, .auditor, .admin] {
                let r = try await client.get("/v1/tickets/\(t)/history", as: who)
                #expect(r.status == .ok, "history as \(who): \(r)")
                #expect(r.contentType?.hasPrefix("application/json") == true)
                answers.append(r.json)
            }
            #expect(answers.allSatisfy { $0 == answers[0] }, "history differs between roles")
            let h = answers[0]
            #expect(h["ticket"]?.stringValue == t)
            let entries = h["events"]?.arrayValue ?? []
            #expect(entries.count == 14, "\(entries.count) history entries")
            var lastSeq: Int64 = 0
            for (k, entry) in entries.enumerated() {
                let event = entry["event"] ?? .null, state = entry["state"] ?? .null
                let seq = event["seq"]?.intValue ?? -1
                #expect(event["version"]?.intValue == Int64(k + 1), "entry \(k + 1): \(auditText(event))")
                #expect(seq > lastSeq, "entries out of log order at \(k + 1)")
                lastSeq = seq
                #expect(
                    event == bySeq[seq],
                    "entry \(k + 1)'s envelope is not the feed's:\n\(auditText(event))\n\(auditText(bySeq[seq] ?? .null))")
                #expect(state["version"]?.intValue == Int64(k + 1), "state after v\(k + 1): \(auditText(state))")
                #expect(state["status"]?.stringValue == Self.statuses[k], "status after v\(k + 1): \(auditText(state))")
                #expect(state["evaluatedAt"] == event["at"], "a history state is evaluated at its event's at")
                #expect(state["thread"] == nil, "a history state has no thread")
                #expect(state["assignee"]?.stringValue == (k == 0 ? nil : "alice"), "assignee after v\(k + 1)")
                #expect(state["mergedInto"] == (k >= 12 ? .string(into) : .null), "mergedInto after v\(k + 1)")
                // The ticket shape of §8 without its thread.
                var full = state.objectValue ?? [:]
                full["thread"] = .array([
                    .object([
                        "version": .int(1), "at": state["openedAt"] ?? .null, "kind": .string("message"),
                        "author": state["openedBy"] ?? .null, "body": .string("x"), "attachments": .array([]),
                    ])
                ])
                expectTicketShape(.object(full), viewer: .auditor)
            }
            let types = entries.compactMap { $0["event"]?["type"]?.stringValue }
            #expect(types.filter { $0 == "satisfaction.rated" }.count == 3)
            #expect(types[12] == "ticket.merged")

            // The merge target gets no event of it.
            let target = try await client.get("/v1/tickets/\(into)/history", as: .auditor)
            #expect(target.json["events"]?.arrayValue?.count == 1, "\(target)")
            let now = try await client.get("/v1/tickets/\(t)", as: .auditor)
            #expect(now.json["status"]?.stringValue == "closed" && now.json["mergedInto"]?.stringValue == into, "\(now)")

            // The re-rating replaced the first score of reply v6: ratings are v6 -> 4 and v3 -> 5.
            let csat = try await client.get("/v1/satisfaction?bucket=month", as: .manager)
            let series = csat.json["groups"]?.arrayValue?.first?["series"]?.arrayValue ?? []
            #expect(series.count == 1 && series.first?["count"]?.intValue == 2, "\(csat)")
            #expect(series.first?["mean"] == .double(4.5), "\(csat)")
            #expect(series.first?["csat"] == .double(1.0), "\(csat)")

            // Who may read it.
            expectProblem(try await client.get("/v1/tickets/\(t)/history", as: .c1), .forbidden)
            expectProblem(try await client.get("/v1/tickets/\(t)/history", as: .c2), .notFound)
            expectProblem(try await client.get("/v1/tickets/\(t)/history", as: nil), .unauthorized)
            expectProblem(try await client.get("/v1/tickets/T-404/history", as: .auditor), .notFound)
            expectProblem(try await client.get("/v1/tickets/\(t)/history?asOf=2026-03-02T10:00:00Z", as: .auditor), .badRequest)
            return (t, h)
        }

        // support-replay history --json: the API's body (byte for byte: ReplayJSONTests), one line.
        let r = try await supportReplay(["history", "--data-dir", data, "--json", ticket])
        try #require(r.status == 0, "\(r)")
        #expect(r.stdout.last == 0x0A && r.stdout.filter { $0 == 0x0A }.count == 1, "\(r)")
        #expect((try? JSONParser.parse(r.stdout.dropLast())) == history, "\(r)")
        let text = try await supportReplay(["history", "--data-dir", data, ticket])
        #expect(text.status == 0, "\(text)")
        #expect(text.out.contains("ticket.merged") && text.out.contains("satisfaction.rated"), "\(text)")
        let unknown = try await supportReplay(["history", "--data-dir", data, "T-404"])
        #expect(unknown.status != 0, "\(unknown)")
    }
}
