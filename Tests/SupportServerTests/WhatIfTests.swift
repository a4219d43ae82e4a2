import DemoWorkload
import EventLog
import Foundation
import Hummingbird
import HummingbirdTesting
import Projections
import SupportService
import Testing

@testable import SupportDomain
@testable import SupportServer

// POST /v1/metrics/what-if: roles, strict bodies, the current half against the plain routes, and
// the proposed half against a server started with the proposed policy over the same log.

/// A what-if body: the overlay (JSON text) and the other members as given.
private func whatIfBody(_ policy: String = "{}", _ members: [String: String] = [:]) -> String {
    let rest = members.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \(Bodies.quote($0.value))" }
    return "{" + (["\"policy\": \(policy)"] + rest).joined(separator: ", ") + "}"
}

/// The canonical bytes of a member of a JSON answer (`path` of member names).
private func member(_ reply: Reply, _ path: [String]) -> [UInt8]? {
    var value: JSONValue? = reply.json
    for name in path { value = value?[name] }
    return value.map { CanonicalJSON.encode($0) }
}

/// A few tickets, one of them answered, at the manual clock's start.
private func smallDesk(_ client: some TestClientProtocol, _ server: TestServer) async throws {
    let first = try await client.open(priority: "high")
    server.clock.advance(seconds: 2 * 3600)
    try await client.command(first, "messages", as: .alice, Bodies.message("on it"))
    _ = try await client.open(as: .c2, customer: "c-2", subject: "DNS", priority: "urgent")
    server.clock.advance(seconds: 600)
    _ = try await client.open(subject: "Billing", priority: "low")
    server.clock.advance(seconds: 3 * 3600)
}

/// A policy overlay that halves nothing but moves every target: short first replies for high
/// and urgent, a business-clock resolution for normal.
private let strictOverlay = """
    {"targets": {"high": {"firstReply": {"seconds": 3600, "clock": "calendar"}},
                 "urgent": {"firstReply": {"seconds": 300, "clock": "calendar"}},
                 "low": {"firstReply": {"seconds": 600, "clock": "calendar"}}}}
    """

@Suite("What-if route")
struct WhatIfRouteTests {
    @Test func managersAuditorsAndAdminsGetTheAnswerAgentsAndCustomersAreForbiddenStrangersUnauthenticated() async throws {
        try await withServer { server, client in
            try await smallDesk(client, server)
            for who in [Who.manager, .auditor, .admin] {
                let r = try await client.post("/v1/metrics/what-if", as: who, whatIfBody(strictOverlay))
                #expect(r.status == .ok, "\(who): \(r)")
                #expect(r.contentType == "application/json")
            }
            for who in [Who.alice, .bob, .c1, .c2] {
                try await expectLogUnchanged(server) {
                    expectProblem(try await client.post("/v1/metrics/what-if", as: who, whatIfBody(strictOverlay)), .forbidden)
                }
            }
            try await expectLogUnchanged(server) {
                expectProblem(try await client.post("/v1/metrics/what-if", as: nil, whatIfBody(strictOverlay)), .unauthorized)
            }
        }
    }

    @Test func badBodiesAreRefusedWith400NamingWhatIsWrongAndWriteNothing() async throws {
        try await withServer { server, client in
            try await smallDesk(client, server)
            let cases: [(body: String, detail: String)] = [
                ("{\"policy\": {}", "malformed JSON"),
                ("[]", "JSON object"),
                ("{}", "\"policy\" is required"),
                ("{\"policy\": [], \"groupBy\": \"team\"}", "policy: expected an object"),
                (whatIfBody("{}", ["colour": "red"]), "unknown member \"colour\""),
                (whatIfBody("{\"tragets\": {}}"), "policy.tragets"),
                (
                    whatIfBody("{\"targets\": {\"high\": {\"firstReply\": {\"seconds\": -5, \"clock\": \"calendar\"}}}}"),
                    "policy.targets.high.firstReply.seconds"
                ),
                (
                    whatIfBody("{\"targets\": {\"high\": {\"firstReply\": {\"seconds\": 2.0, \"clock\": \"calendar\"}}}}"),
                    "policy.targets.high.firstReply.seconds"
                ),
                (whatIfBody("{\"schedule\": {\"mon\": [\"13:00-12:00\"]}}"), "policy.schedule.mon[0]"),
                (whatIfBody("{\"timeZone\": \"Mars/Olympus\"}"), "policy.timeZone"),
                // The overlay's own bytes are read: brackets inside its strings end nothing.
                ("{\"groupBy\": \"team\", \"policy\": {\n \"timeZone\": \"}]\\\"x\"\n}, \"clock\": \"business\"}", "policy.timeZone"),
                (whatIfBody("{\"holidays\": [\"2026-02-30\"]}"), "policy.holidays[0]"),
                (whatIfBody("{}", ["from": "2026-03-05T00:00:00Z", "to": "2026-03-01T00:00:00Z"]), "is after"),
                (whatIfBody("{}", ["asOf": "yesterday"]), "\"asOf\" must be an RFC 3339 instant"),
                (whatIfBody("{}", ["groupBy": "weather"]), "\"groupBy\" must be one of"),
                (whatIfBody("{}", ["clock": "sundial"]), "\"clock\" must be one of"),
                (whatIfBody("{}", ["bucket": "year"]), "\"bucket\" must be one of"),
                ("{\"policy\": {}, \"groupBy\": 3}", "\"groupBy\" must be one of"),
            ]
            for (body, detail) in cases {
                try await expectLogUnchanged(server) {
                    expectProblem(try await client.post("/v1/metrics/what-if", as: .manager, body), .badRequest, detail: detail)
                }
            }
            try await expectLogUnchanged(server) {
                expectProblem(
                    try await client.post("/v1/metrics/what-if?asOf=2026-03-02T10:00:00Z", as: .manager, whatIfBody()), .badRequest,
                    detail: "unknown query parameter")
            }
            let huge = whatIfBody("{\"holidays\": [" + Array(repeating: "\"2026-05-01\"", count: 90_000).joined(separator: ",") + "]}")
            expectProblem(try await client.post("/v1/metrics/what-if", as: .manager, huge), .contentTooLarge)
        }
    }

    @Test func theAnswerHoldsBothPoliciesTheirHashesAndTheDifferencesPerGroupAndQueue() async throws {
        try await withServer { server, client in
            try await smallDesk(client, server)
            let r = try await client.post(
                "/v1/metrics/what-if", as: .manager, whatIfBody(strictOverlay, ["groupBy": "priority", "clock": "business"]))
            try #require(r.status == .ok, "\(r)")
            let j = r.json
            let keys = Set(j.objectValue?.keys.map { $0 } ?? [])
            #expect(
                keys == ["from", "to", "groupBy", "clock", "bucket", "evaluatedAt", "throughSeq", "current", "proposed", "differences"])
            #expect(j["evaluatedAt"]?.stringValue == server.clock.now.rfc3339)
            #expect(j["throughSeq"]?.intValue == Int64(try server.head.seq))
            let proposed = try Policy.parse(jsonData: Data(strictOverlay.utf8))
            #expect(j["current"]?["policyHash"]?.stringValue == Policy.default.hash)
            #expect(j["proposed"]?["policyHash"]?.stringValue == proposed.hash)
            #expect(j["proposed"]?["responseTimes"]?["policyHash"]?.stringValue == proposed.hash)
            #expect(j["proposed"]?["policy"]?["targets"]?["urgent"]?["firstReply"]?["seconds"]?.intValue == 300)
            // The urgent ticket has waited 3 h 10 min unanswered: within the default urgent first
            // reply target (business clock), breached under 5 minutes.
            let groups = j["differences"]?["groups"]?.arrayValue ?? []
            let urgent = groups.first { $0["key"]?.stringValue == "urgent" }
            #expect(urgent?["firstReply"]?["proposed"]?["breached"]?.intValue == 1, "\(groups)")
            #expect(
                urgent?["firstReply"]?["breachedChange"]?.intValue == 1 - (urgent?["firstReply"]?["current"]?["breached"]?.intValue ?? 0))
            // Every due instant moves: the queue's tickets are listed with both placements.
            let queues = j["differences"]?["queues"]?.arrayValue ?? []
            #expect(!queues.isEmpty, "\(j["differences"] ?? .null)")
            for q in queues {
                let tickets = q["tickets"]?.arrayValue ?? []
                #expect(q["changed"]?.intValue == Int64(tickets.count))
                for t in tickets {
                    #expect(t["current"] != t["proposed"])
                    #expect((t["proposed"]?["position"]?.intValue ?? 0) >= 1)
                }
            }
        }
    }

    /// Input limits are not part of the policy hash: the same projection, the same figures.
    @Test func aPolicyWithTheSameHashChangesNothing() async throws {
        try await withServer { server, client in
            try await smallDesk(client, server)
            let r = try await client.post(
                "/v1/metrics/what-if", as: .auditor, whatIfBody("{\"limits\": {\"subject\": 300}}", ["groupBy": "team"]))
            try #require(r.status == .ok, "\(r)")
            #expect(member(r, ["current", "responseTimes"]) == member(r, ["proposed", "responseTimes"]))
            #expect(member(r, ["current", "satisfaction"]) == member(r, ["proposed", "satisfaction"]))
            #expect(r.json["differences"]?["queues"]?.arrayValue?.isEmpty == true)
            for g in r.json["differences"]?["groups"]?.arrayValue ?? [] {
                for metric in ["firstReply", "nextReply", "resolution"] {
                    #expect(g[metric]?["achievedChange"]?.intValue == 0 && g[metric]?["breachedChange"]?.intValue == 0)
                }
            }
        }
    }

    @Test func theCurrentHalfIsWhatThePlainRoutesAnswerByteForByte() async throws {
        try await withServer { server, client in
            try await smallDesk(client, server)
            let asOf = instant("2026-03-02T11:30:00.000Z")
            for (groupBy, clock, bucket, asOfText) in [
                ("none", "calendar", "week", nil), ("team", "business", "day", nil), ("priority", "business", "month", asOf.rfc3339),
                ("agent", "calendar", "day", asOf.rfc3339),
            ] as [(String, String, String, String?)] {
                var members = ["groupBy": groupBy, "clock": clock, "bucket": bucket, "from": "2026-03-01T00:00:00Z"]
                var params = "groupBy=\(groupBy)&from=2026-03-01T00:00:00Z"
                if let asOfText {
                    members["asOf"] = asOfText
                    params += "&asOf=\(asOfText)"
                }
                let r = try await client.post("/v1/metrics/what-if", as: .manager, whatIfBody(strictOverlay, members))
                try #require(r.status == .ok, "\(r)")
                let times = try await client.get("/v1/metrics/response-times?\(params)&clock=\(clock)", as: .manager)
                let satisfaction = try await client.get("/v1/satisfaction?\(params)&bucket=\(bucket)", as: .manager)
                try #require(times.status == .ok && satisfaction.status == .ok)
                #expect(member(r, ["current", "responseTimes"]) == times.bytes)
                #expect(member(r, ["current", "satisfaction"]) == satisfaction.bytes)
                // Written by the same encoder: the route's body is a part of the what-if's bytes.
                #expect(r.text.contains(times.text) && r.text.contains(satisfaction.text))
            }
        }
    }

    /// The worked example of docs/metrics.md ("What if (another policy)"), figure by figure.
    @Test func theWorkedExampleOfTheMetricsPageHoldsItsFigures() async throws {
        try await withServer(clock: ManualClock(instant("2026-03-10T00:00:00.000Z"))) { server, client in
            func opened(_ id: String, _ at: String, _ priority: String, _ customer: String) -> ImportLine {
                ImportLine(
                    ticket: id, type: "ticket.opened", at: instant(at), actor: EventActor(kind: "customer", id: customer),
                    data: .object([
                        "customer": .string(customer), "subject": .string("help"), "body": .string("help"), "channel": .string("web"),
                        "product": .string("hosting"), "priority": .string(priority),
                    ]))
            }
            func reply(_ id: String, _ at: String, _ agent: String = "alice") -> ImportLine {
                ImportLine(
                    ticket: id, type: "message.posted", at: instant(at), actor: EventActor(kind: "agent", id: agent),
                    data: .object(["body": .string("on it")]))
            }
            _ = try await LogImporter(backend: server.backend).run([
                opened("T-1", "2026-03-06T15:00:00.000Z", "high", "c-1"), opened("T-4", "2026-03-06T17:00:00.000Z", "low", "c-4"),
                opened("T-2", "2026-03-07T09:00:00.000Z", "normal", "c-2"), opened("T-3", "2026-03-09T08:00:00.000Z", "urgent", "c-3"),
                reply("T-1", "2026-03-09T08:30:00.000Z"), reply("T-3", "2026-03-09T08:40:00.000Z", "bob"),
                opened("T-5", "2026-03-09T09:00:00.000Z", "normal", "c-5"), reply("T-2", "2026-03-09T10:00:00.000Z"),
                opened("T-6", "2026-03-09T12:30:00.000Z", "high", "c-6"),
            ])
            let week = ["mon", "tue", "wed", "thu", "fri"].map { "\"\($0)\": [\"08:00-20:00\"]" }.joined(separator: ", ")
            let overlay =
                "{\"schedule\": {\(week)}, \"targets\": {\"high\": {\"firstReply\": {\"seconds\": 21600, \"clock\": \"business\"}}}}"
            let r = try await client.post(
                "/v1/metrics/what-if", as: .manager,
                whatIfBody(overlay, ["groupBy": "priority", "clock": "business", "asOf": "2026-03-09T13:00:00Z"]))
            try #require(r.status == .ok, "\(r)")
            #expect(r.json["throughSeq"]?.intValue == 9)
            func firstReply(_ side: String, _ key: String) -> [Int64?] {
                let group = r.json[side]?["responseTimes"]?["groups"]?.arrayValue?.first { $0["key"]?.stringValue == key }
                let m = group?["firstReply"]
                return [m?["max"]?.intValue, m?["sla"]?["achieved"]?.intValue, m?["sla"]?["breached"]?.intValue]
            }
            #expect(firstReply("current", "high") == [45_000, 0, 1] && firstReply("proposed", "high") == [19_800, 1, 0])
            #expect(firstReply("current", "normal") == [36_000, 0, 1] && firstReply("proposed", "normal") == [10_800, 1, 0])
            #expect(firstReply("current", "urgent") == [2_400, 1, 0] && firstReply("proposed", "urgent") == [2_400, 1, 0])
            let queue = try #require(r.json["differences"]?["queues"]?.arrayValue?.first)
            #expect(queue["team"]?.stringValue == "hosting" && queue["depth"]?.intValue == 6 && queue["changed"]?.intValue == 5)
            let moves = (queue["tickets"]?.arrayValue ?? []).map { t in
                [
                    t["id"]?.stringValue ?? "", "\(t["current"]?["position"]?.intValue ?? 0)", t["current"]?["nextDue"]?.stringValue ?? "",
                    "\(t["proposed"]?["position"]?.intValue ?? 0)", t["proposed"]?["nextDue"]?.stringValue ?? "",
                ]
            }
            #expect(
                moves == [
                    ["T-5", "3", "2026-03-09T17:00:00.000Z", "2", "2026-03-09T17:00:00.000Z"],
                    ["T-6", "2", "2026-03-09T16:30:00.000Z", "3", "2026-03-09T18:30:00.000Z"],
                    ["T-1", "4", "2026-03-10T09:00:00.000Z", "4", "2026-03-10T15:00:00.000Z"],
                    ["T-4", "5", "2026-03-10T11:00:00.000Z", "5", "2026-03-10T17:00:00.000Z"],
                    ["T-2", "6", "2026-03-11T18:00:00.000Z", "6", "2026-03-12T11:00:00.000Z"],
                ])
        }
    }

    @Test func aWhatIfBeyondThePointInTimeLimitIsRefusedWithRetryAfter() async throws {
        try await withServer(limits: ServerLimits(requestsPerSecond: 0, concurrentPointInTimeFolds: 0)) { server, client in
            try await smallDesk(client, server)
            let r = try await client.post("/v1/metrics/what-if", as: .manager, whatIfBody(strictOverlay))
            expectProblem(r, .serviceUnavailable)
            #expect(r.headers[.retryAfter] != nil)
        }
    }
}

// MARK: - The proposed half against a server started with the proposed policy

/// Runs `body` against a router over a backend opened on an existing data directory under
/// `policy` (its projection folded at open), closing the log after.
private func withServer<T: Sendable>(
    on directory: TemporaryDirectory, policy: Policy, clock: ManualClock,
    _ body: @Sendable (SupportBackend, any TestClientProtocol) async throws -> T
) async throws -> T {
    let backend = try SupportBackend(
        dataDirectory: directory.path, policy: policy, durability: .durable, rebuildProjections: false, limits: testLimits,
        clock: clock.read)
    defer { backend.close() }
    let app = Application(router: buildRouter(backend: backend, tokens: Who.tokens))
    return try await app.test(.router) { client in try await body(backend, client) }
}

/// Random policy overlays in the policy file's form: targets, clocks, schedule, holidays, time zone.
private struct RandomOverlay {
    var rng: SeededRandom

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    /// An overlay for a log whose days are `days` (UTC dates, for holidays).
    mutating func make(days: [String]) -> String {
        var parts: [String] = []
        if chance(0.8) {
            var priorities: [String] = []
            for priority in Priority.allCases where chance(0.6) {
                var metrics: [String] = []
                for metric in SLAMetric.allCases where chance(0.6) {
                    if chance(0.15) {
                        metrics.append("\"\(metric.rawValue)\": null")
                    } else {
                        let seconds = pick([120, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 259_200])
                        metrics.append(
                            "\"\(metric.rawValue)\": {\"seconds\": \(seconds), \"clock\": \"\(pick(["calendar", "business"]))\"}")
                    }
                }
                priorities.append("\"\(priority.rawValue)\": {\(metrics.joined(separator: ", "))}")
            }
            parts.append("\"targets\": {\(priorities.joined(separator: ", "))}")
        }
        if chance(0.5) {
            parts.append(
                "\"timeZone\": \"\(pick(["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney", "Asia/Kolkata"]))\"")
        }
        if chance(0.5) {
            var week: [String] = []
            for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] where chance(0.7) {
                let start = Int.random(in: 0...11, using: &rng), end = Int.random(in: start + 1...13, using: &rng)
                var windows = [String(format: "\"%02d:00-%02d:30\"", start, end - 1)]
                if chance(0.5) { windows.append(String(format: "\"%02d:00-%02d:00\"", end, Int.random(in: end + 1...24, using: &rng))) }
                week.append("\"\(day)\": [\(windows.joined(separator: ", "))]")
            }
            parts.append("\"schedule\": {\(week.joined(separator: ", "))}")
        }
        if chance(0.5) {
            let holidays = Set((0..<Int.random(in: 1...3, using: &rng)).map { _ in pick(days) }).sorted()
            parts.append("\"holidays\": [\(holidays.map { "\"\($0)\"" }.joined(separator: ", "))]")
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

@Suite("What-if equals a restart with the policy")
struct WhatIfPropertyTests {
    /// On random demo logs and random overlays, the proposed half is, byte for byte, what a
    /// server started with that policy over the same log answers (same parameters, same
    /// instant: the same manual clock, or the same `asOf`), and its queue placements are that
    /// server's queues.
    @Test(.timeLimit(.minutes(10)))
    func theProposedHalfIsWhatAServerStartedWithThatPolicyAnswers() async throws {
        var rng = SeededRandom(seed: 15)
        // Not vacuous: some overlays change the figures, and some tickets move in their queues.
        var changedFigures = 0, movesChecked = 0
        for round in 0..<4 {
            let seed = UInt64.random(in: 1...1_000_000, using: &rng)
            let start = DemoWorkload.Configuration.defaultStart
            let days = 3
            let end = Timestamp(milliseconds: start.milliseconds + Int64(days) * 86_400_000 + 7 * 3_600_000)
            let clock = ManualClock(end)
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            // The log: a small demo workload, imported under the default policy.
            try await withServer(on: directory, policy: .default, clock: clock) { backend, _ in
                var lines: [ImportLine] = []
                for event in DemoWorkload(.init(seed: seed, start: start, tickets: 30, days: days)) where event.at <= end {
                    lines.append(ImportLine(ticket: event.ticket, type: event.type, at: event.at, actor: event.actor, data: event.data))
                }
                _ = try await LogImporter(backend: backend).run(lines)
            }
            let dayNames = (0...days).map { d in
                String(Timestamp(milliseconds: start.milliseconds + Int64(d) * 86_400_000).rfc3339.prefix(10))
            }
            var overlays = RandomOverlay(rng: SeededRandom(seed: seed))
            for _ in 0..<2 {
                let overlay = overlays.make(days: dayNames)
                let policy = try Policy.parse(jsonData: Data(overlay.utf8))
                let groupBy = overlays.pick(GroupBy.allCases).rawValue
                let metricClock = overlays.pick(["calendar", "business"]), bucket = overlays.pick(["day", "week", "month"])
                var members = ["groupBy": groupBy, "clock": metricClock, "bucket": bucket]
                var params = "groupBy=\(groupBy)"
                if overlays.chance(0.5) {
                    let asOf = Timestamp(
                        milliseconds: start.milliseconds + Int64.random(in: 3_600_000...(Int64(days) * 86_400_000), using: &overlays.rng))
                    members["asOf"] = asOf.rfc3339
                    params += "&asOf=\(asOf.rfc3339)"
                }
                if overlays.chance(0.5) {
                    let from = Timestamp(milliseconds: start.milliseconds + Int64.random(in: 0...86_400_000, using: &overlays.rng))
                    members["from"] = from.rfc3339
                    params += "&from=\(from.rfc3339)"
                }
                let context = "round \(round), seed \(seed), overlay \(overlay), \(members)"
                let body = whatIfBody(overlay, members)
                let query = params, asOfParameter = members["asOf"].map { "?asOf=\($0)" } ?? ""
                // The what-if on the server running the default policy.
                let (answer, currentQueues) = try await withServer(on: directory, policy: .default, clock: clock) { _, client in
                    let r = try await client.post("/v1/metrics/what-if", as: .manager, body)
                    var queues: [String: Reply] = [:]
                    for q in r.json["differences"]?["queues"]?.arrayValue ?? [] {
                        let team = q["team"]?.stringValue ?? ""
                        queues[team] = try await client.get("/v1/queues/\(team)\(asOfParameter)", as: .manager)
                    }
                    return (r, queues)
                }
                try #require(answer.status == .ok, "\(context): \(answer)")
                if member(answer, ["current", "responseTimes", "groups"]) != member(answer, ["proposed", "responseTimes", "groups"]) {
                    changedFigures += 1
                }
                // The same log, restarted with the proposed policy.
                movesChecked += try await withServer(on: directory, policy: policy, clock: clock) { _, client in
                    var checked = 0
                    let times = try await client.get("/v1/metrics/response-times?\(query)&clock=\(metricClock)", as: .manager)
                    let satisfaction = try await client.get("/v1/satisfaction?\(query)&bucket=\(bucket)", as: .manager)
                    try #require(times.status == .ok && satisfaction.status == .ok, "\(context): \(times) \(satisfaction)")
                    #expect(member(answer, ["proposed", "responseTimes"]) == times.bytes, "\(context)")
                    #expect(member(answer, ["proposed", "satisfaction"]) == satisfaction.bytes, "\(context)")
                    #expect(answer.text.contains(times.text), "\(context)")
                    for q in answer.json["differences"]?["queues"]?.arrayValue ?? [] {
                        let team = q["team"]?.stringValue ?? ""
                        let proposedQueue = try await client.get(
                            "/v1/queues/\(team)\(asOfParameter)", as: .manager)
                        let now = proposedQueue.json["entries"]?.arrayValue ?? []
                        let before = currentQueues[team]?.json["entries"]?.arrayValue ?? []
                        #expect(q["depth"]?.intValue == Int64(now.count) && now.count == before.count, "\(context)")
                        for t in q["tickets"]?.arrayValue ?? [] {
                            for (side, entries) in [("proposed", now), ("current", before)] {
                                let position = Int(t[side]?["position"]?.intValue ?? 0)
                                try #require(position >= 1 && position <= entries.count, "\(context): \(t)")
                                let entry = entries[position - 1]
                                #expect(entry["id"] == t["id"], "\(context): \(side) \(t)")
                                #expect(
                                    entry["nextDue"] == t[side]?["nextDue"] && entry["breached"] == t[side]?["breached"],
                                    "\(context): \(side) \(t)")
                                #expect(entry["nextDueTarget"] == t[side]?["nextDueTarget"], "\(context): \(side) \(t)")
                            }
                            checked += 1
                        }
                    }
                    return checked
                }
            }
        }
        #expect(changedFigures > 0 && movesChecked > 0, "changed figures \(changedFigures), moves checked \(movesChecked)")
    }
}
