import Foundation
import HummingbirdTesting
import SupportService
import Testing

@testable import EventLog
@testable import SupportServer

/// `support-replay`'s JSON output is the API's body byte for byte (then a newline): the real
/// binary and the in-process API read the same data directory.
@Suite("support-replay's JSON equals the API's bodies")
struct ReplayJSONTests {
    /// One API answer and the support-replay arguments that must print the same bytes.
    struct Pair: Sendable {
        var path: String
        var body: [UInt8]
        var cli: [String]
    }

    @Test func historyAndAsOfOutputsAreTheAPIsBodiesByteForByte() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let data = root.path + "/data"
        let pairs = try await withAuditServer(in: data) { backend, client in
            let tickets = try await auditScenario(client, clock: ManualClock())
            let ids = [tickets.first, tickets.second, tickets.merged]
            var pairs: [Pair] = []
            func api(_ path: String) async throws -> [UInt8] {
                let r = try await client.get(path, as: .auditor)
                try #require(r.status == .ok, "\(path): \(r)")
                return r.bytes
            }
            for id in ids {
                pairs.append(
                    Pair(
                        path: "/v1/tickets/\(id)/history", body: try await api("/v1/tickets/\(id)/history"),
                        cli: ["history", "--json", id]))
            }
            // Instants: every distinct `at` of the log, and a moment after the last.
            let events = try backend.store.events(after: 0, limit: 1000)
            var instants = Array(Set(events.map(\.at.milliseconds))).sorted().map { Timestamp(milliseconds: $0) }
            instants.append(Timestamp(milliseconds: instants.last!.milliseconds + 86_400_000))
            for at in instants.enumerated().filter({ $0.offset % 4 == 0 || $0.offset == instants.count - 1 }).map(\.element) {
                for id in ids where events.contains(where: { $0.stream == id && $0.at <= at }) {
                    let path = "/v1/tickets/\(id)?asOf=\(at.rfc3339)"
                    pairs.append(Pair(path: path, body: try await api(path), cli: ["as-of", at.rfc3339, id]))
                }
                for team in ["email", "hosting", "tier2", "billing"] {
                    let path = "/v1/queues/\(team)?asOf=\(at.rfc3339)"
                    pairs.append(Pair(path: path, body: try await api(path), cli: ["as-of", "--queue", team, at.rfc3339]))
                }
                for agent in ["alice", "bob"] {
                    let path = "/v1/agents/\(agent)/queue?asOf=\(at.rfc3339)"
                    pairs.append(Pair(path: path, body: try await api(path), cli: ["as-of", "--agent", agent, at.rfc3339]))
                }
            }
            return pairs
        }
        #expect(pairs.count > 20)
        for pair in pairs {
            let r = try await supportReplay(pair.cli + ["--data-dir", data])
            try #require(r.status == 0, "support-replay \(pair.cli.joined(separator: " ")): \(r)")
            #expect(
                r.stdout == pair.body + [0x0A],
                "support-replay \(pair.cli.joined(separator: " ")) differs from GET \(pair.path):\ncli: \(r.out)\napi: \(String(decoding: pair.body, as: UTF8.self))"
            )
        }
    }
}
