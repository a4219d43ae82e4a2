import Foundation
import HummingbirdTesting
import SupportDomain
import SupportService
import Testing

@testable import EventLog
@testable import SupportServer

/// GET /v1/tickets/{id}/sla and `support-replay sla`: every SLA interval of a ticket explained,
/// over a real log, under a policy with a holiday the day after Paris's spring change.
@Suite("SLA clocks explained: the route and support-replay")
struct SLAClockRouteTests {
    /// Default targets and hours (Europe/Paris; Monday to Friday 08:00-19:00, Saturday
    /// 09:00-17:00), Monday 2026-03-30 a holiday.
    static let policyJSON = #"{"holidays": ["2026-03-30"]}"#
    static var policy: Policy { get throws { try Policy.parse(jsonData: Data(policyJSON.utf8)) } }

    /// Friday 18:00 local (+01:00).
    static let opening = instant("2026-03-27T17:00:00.000Z")
    /// Tuesday 09:00 local (+02:00).
    static let reply = instant("2026-03-31T07:00:00.000Z")

    /// A high-priority ticket opened by c-1 on Friday evening, first answered on Tuesday morning
    /// after a Saturday of business hours, the Sunday of the change and Monday's holiday.
    static func story(_ client: some TestClientProtocol, clock: ManualClock) async throws -> String {
        clock.set(opening)
        let t = try await client.open(as: .c1, priority: "high")  // v1
        clock.set(reply)
        try await client.command(t, "messages", as: .alice, Bodies.message("Quota raised"))  // v2
        return t
    }

    @Test func staffReadATicketsClocksCustomersDoNot() async throws {
        try await withServer(clock: ManualClock(Self.opening), policy: try Self.policy) { server, client in
            let t = try await Self.story(client, clock: server.clock)
            var bodies: [[UInt8]] = []
            for who in [Who.alice, .bob, .manager, .auditor, .admin] {
                let r = try await client.get("/v1/tickets/\(t)/sla", as: who)
                #expect(r.status == .ok, "\(who): \(r)")
                #expect(r.contentType?.hasPrefix("application/json") == true)
                bodies.append(r.bytes)
            }
            let same = bodies.allSatisfy { $0 == bodies[0] }
            #expect(same, "the answer differs between roles")
            expectProblem(try await client.get("/v1/tickets/\(t)/sla", as: .c1), .forbidden)
            expectProblem(try await client.get("/v1/tickets/\(t)/sla", as: .c2), .notFound)
            expectProblem(try await client.get("/v1/tickets/\(t)/sla", as: nil), .unauthorized)
            expectProblem(try await client.get("/v1/tickets/T-999/sla", as: .auditor), .notFound)
            expectProblem(try await client.get("/v1/tickets/T-999/sla", as: .c1), .notFound)
            expectProblem(try await client.get("/v1/tickets/$webhooks/sla", as: .admin), .notFound)
            // Reading changes nothing.
            try await expectLogUnchanged(server) { _ = try await client.get("/v1/tickets/\(t)/sla", as: .manager) }
        }
    }

    @Test func aFirstReplyBreachedAcrossADaylightSavingSundayAndAHolidayIsExplainedFieldByField() async throws {
        try await withServer(clock: ManualClock(Self.opening), policy: try Self.policy) { server, client in
            let t = try await Self.story(client, clock: server.clock)
            let r = try await client.get("/v1/tickets/\(t)/sla", as: .auditor)
            try #require(r.status == .ok, "\(r)")
            let j = r.json
            #expect(j["ticket"]?.stringValue == t && j["version"]?.intValue == 2)
            #expect(j["evaluatedAt"]?.stringValue == Self.reply.rfc3339 && j["timeZone"]?.stringValue == "Europe/Paris")
            #expect(j["policyHash"]?.stringValue == (try Self.policy).hash)
            let intervals = j["intervals"]?.arrayValue ?? []
            try #require(intervals.count == 2, "\(r)")
            Self.expectWindowsAddUp(j)

            let first = intervals[0]
            #expect(first["metric"]?.stringValue == "firstReply" && first["state"]?.stringValue == "ended")
            #expect(first["outcome"]?.stringValue == "breached")
            #expect(first["start"]?.stringValue == Self.opening.rfc3339 && first["end"]?.stringValue == Self.reply.rfc3339)
            let events = try server.events(t)
            #expect(first["startedBy"] == Self.reference(events[0]) && first["endedBy"] == Self.reference(events[1]))
            #expect(first["reopenedBy"]?.isNull == true)
            #expect(first["priority"]?.stringValue == "high" && first["priorityBasis"]?.stringValue == "atEnd")
            #expect(first["target"] == .object(["seconds": .int(14_400), "clock": .string("business")]))
            // 4 business hours: Friday 18:00-19:00, Saturday 09:00-12:00 (+01:00).
            #expect(first["due"]?.stringValue == "2026-03-28T11:00:00.000Z")
            // Friday 1 h + Saturday 8 h + Tuesday 1 h; Sunday closed, Monday a holiday.
            #expect(first["elapsed"] == .object(["calendar": .int(86 * 3600), "business": .int(36_000)]))
            #expect(first["late"]?.intValue == 21_600)
            let business = first["businessTime"] ?? .null
            #expect(business["seconds"]?.intValue == 36_000 && business["windowCount"]?.intValue == 3)
            let windows = business["windows"]?.arrayValue ?? []
            #expect(
                windows == [
                    Self.window("2026-03-27", "2026-03-27T18:00:00+01:00", "2026-03-27T19:00:00+01:00", 3600),
                    Self.window("2026-03-28", "2026-03-28T09:00:00+01:00", "2026-03-28T17:00:00+01:00", 28_800),
                    Self.window("2026-03-31", "2026-03-31T08:00:00+02:00", "2026-03-31T09:00:00+02:00", 3600),
                ], "\(auditText(business))")
            let days = business["notableDays"]?.arrayValue ?? []
            try #require(days.count == 2, "\(auditText(business))")
            #expect(days[0]["date"]?.stringValue == "2026-03-29" && days[0]["kind"]?.stringValue == "daylightSaving")
            #expect(days[0]["offsetBefore"]?.stringValue == "+01:00" && days[0]["offsetAfter"]?.stringValue == "+02:00")
            #expect(days[1]["date"]?.stringValue == "2026-03-30" && days[1]["kind"]?.stringValue == "holiday")
            #expect(days[1]["offsetBefore"]?.stringValue == nil && days[1]["offsetAfter"]?.stringValue == nil)

            let resolution = intervals[1]
            #expect(resolution["metric"]?.stringValue == "resolution" && resolution["state"]?.stringValue == "running")
            #expect(resolution["outcome"]?.isNull == true && resolution["late"]?.isNull == true)
            #expect(resolution["end"]?.isNull == true && resolution["endedBy"]?.isNull == true)
            #expect(resolution["priorityBasis"]?.stringValue == "atEvaluation" && resolution["startedBy"] == Self.reference(events[0]))
            // 24 business hours: Friday 1, Saturday 8, Tuesday 11, Wednesday 08:00-12:00 (+02:00).
            #expect(resolution["due"]?.stringValue == "2026-04-01T10:00:00.000Z")
            #expect(resolution["elapsed"]?["business"]?.intValue == 36_000)
        }
    }

    @Test func asOfChoosesTheEventsConsideredAndTheEvaluationInstant() async throws {
        try await withServer(clock: ManualClock(Self.opening), policy: try Self.policy) { server, client in
            let t = try await Self.story(client, clock: server.clock)
            func sla(_ query: String) async throws -> JSONValue {
                let r = try await client.get("/v1/tickets/\(t)/sla?\(query)", as: .manager)
                try #require(r.status == .ok, "\(query): \(r)")
                Self.expectWindowsAddUp(r.json)
                return r.json
            }
            // Saturday 13:00 local: only the opening; the first reply runs, an hour past its due.
            let saturday = try await sla("asOf=2026-03-28T12:00:00Z")
            #expect(saturday["version"]?.intValue == 1 && saturday["evaluatedAt"]?.stringValue == "2026-03-28T12:00:00.000Z")
            let running = saturday["intervals"]?[0] ?? .null
            #expect(running["state"]?.stringValue == "running" && running["outcome"]?.stringValue == "breached")
            #expect(running["late"]?.intValue == 3600 && running["elapsed"]?["business"]?.intValue == 5 * 3600)
            #expect(running["priorityBasis"]?.stringValue == "atEvaluation" && running["end"]?.isNull == true)
            // Exactly at its due, spelled in Paris time: not breached yet.
            let due = try await sla("asOf=2026-03-28T12:00:00%2B01:00")
            #expect(due["evaluatedAt"]?.stringValue == "2026-03-28T11:00:00.000Z")
            #expect(due["intervals"]?[0]?["outcome"]?.isNull == true, "\(auditText(due))")
            // After the reply: the events up to then, evaluated then.
            let tuesday = try await sla("asOf=2026-03-31T08:00:00.000Z")
            #expect(tuesday["version"]?.intValue == 2 && tuesday["intervals"]?[0]?["state"]?.stringValue == "ended")
            #expect(tuesday["intervals"]?[1]?["elapsed"]?["business"]?.intValue == 39_600)
            // Years later the running resolution's windows are listed up to 400, all summed.
            let later = try await sla("asOf=2028-03-31T08:00:00Z")
            let business = later["intervals"]?[1]?["businessTime"] ?? .null
            #expect((business["windowCount"]?.intValue ?? 0) > 400 && business["windows"]?.arrayValue?.count == 400)
            #expect(business["seconds"] == later["intervals"]?[1]?["elapsed"]?["business"])
            // Beyond the days an explanation walks (past the precomputed years too), the seconds
            // are still all the business time the metric measures (`expectWindowsAddUp`).
            let farther = try await sla("asOf=2160-01-01T00:00:00Z")
            #expect(farther["intervals"]?[1]?["businessTime"]?["windows"]?.arrayValue?.count == 400)
            // Without asOf: everything, evaluated now.
            server.clock.set(instant("2026-04-02T12:00:00Z"))
            let now = try await sla("")
            #expect(now["evaluatedAt"]?.stringValue == "2026-04-02T12:00:00.000Z" && now["version"]?.intValue == 2)
            #expect(now["intervals"]?[1]?["outcome"]?.stringValue == "breached", "the resolution is past its due on Wednesday")

            for query in ["asOf=2026-03-27T16:59:59.999Z", "asOf=2020-01-01T00:00:00Z"] {
                expectProblem(try await client.get("/v1/tickets/\(t)/sla?\(query)", as: .manager), .notFound)
            }
            for query in [
                "asOf=yesterday", "asOf=2026-03-28", "asOf=", "as_of=2026-03-28T12:00:00Z", "asOf=2026-03-28T12:00:00Z&clock=business",
            ] {
                expectProblem(try await client.get("/v1/tickets/\(t)/sla?\(query)", as: .manager), .badRequest)
            }
        }
    }

    @Test func supportReplaySLAPrintsTheRoutesBodyByteForByte() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let data = root.path + "/data", policyFile = root.path + "/policy.json"
        try Data(Self.policyJSON.utf8).write(to: URL(fileURLWithPath: policyFile))
        let clock = ManualClock(Self.opening)
        let pairs = try await withAuditServer(in: data, clock: clock, policy: try Self.policy) { backend, client in
            let t1 = try await Self.story(client, clock: clock)
            // A second ticket: answered, solved, reopened by the customer, a turn cancelled by solving.
            let t2 = try await client.open(as: .c2, customer: "c-2", priority: "urgent")
            clock.advance(seconds: 600)
            try await client.command(t2, "messages", as: .bob, #"{"body": "Done", "status": "solved"}"#)
            clock.advance(seconds: 3600)
            try await client.command(t2, "messages", as: .c2, Bodies.message("Not done"))
            clock.advance(seconds: 9000)
            try await client.command(t2, "status", as: .bob, #"{"status": "solved"}"#)
            let events = try backend.store.events(after: 0, limit: 100)
            var instants = Array(Set(events.map(\.at.milliseconds))).sorted().map { Timestamp(milliseconds: $0) }
            instants += [instant("2026-03-28T11:00:00.001Z"), Timestamp(milliseconds: instants.last!.milliseconds + 86_400_000)]
            var pairs: [(at: Timestamp, ticket: String, body: [UInt8])] = []
            for at in instants {
                for t in [t1, t2] where events.contains(where: { $0.stream == t && $0.at <= at }) {
                    let r = try await client.get("/v1/tickets/\(t)/sla?asOf=\(at.rfc3339)", as: .auditor)
                    try #require(r.status == .ok, "\(t) at \(at): \(r)")
                    pairs.append((at, t, r.bytes))
                }
            }
            return pairs
        }
        #expect(pairs.count >= 8)
        for (at, ticket, body) in pairs {
            let r = try await supportReplay(["sla", ticket, "--as-of", at.rfc3339, "--json", "--data-dir", data, "--policy", policyFile])
            try #require(r.status == 0, "support-replay sla \(ticket) --as-of \(at.rfc3339): \(r)")
            #expect(
                r.stdout == body + [0x0A],
                "support-replay sla \(ticket) --as-of \(at.rfc3339) differs from the route:\ncli: \(r.out)\napi: \(String(decoding: body, as: UTF8.self))"
            )
        }

        // The text form, and what it refuses.
        let ticket = pairs[0].ticket
        let text = try await supportReplay(["sla", ticket, "--as-of", "2026-03-31T08:00:00Z", "--data-dir", data, "--policy", policyFile])
        #expect(text.status == 0, "\(text)")
        #expect(text.out.contains("firstReply ended, BREACHED (21600 s late)"), "\(text)")
        #expect(text.out.contains("2026-03-29 daylightSaving") && text.out.contains("2026-03-30 holiday"), "\(text)")
        for arguments in [
            ["sla", "T-999"], ["sla", ticket, "--as-of", "2026-03-27T16:59:59Z"], ["sla", ticket, "--as-of", "soon"],
            ["sla", "$webhooks"],
        ] {
            let refused = try await supportReplay(arguments + ["--data-dir", data])
            #expect(refused.status != 0 && refused.stdout.isEmpty, "support-replay \(arguments.joined(separator: " ")): \(refused)")
        }
    }

    @Test func theRoutesIntervalsOfAllTicketsAddUpToTheResponseTimeMetric() async throws {
        try await withServer(policy: try Self.policy) { server, client in
            let scenario = try await auditScenario(client, clock: server.clock)
            let t1 = try await Self.story(client, clock: server.clock)
            let t2 = try await client.open(as: .c2, customer: "c-2", priority: "urgent")
            server.clock.advance(seconds: 600)
            try await client.command(t2, "messages", as: .bob, #"{"body": "Done", "status": "solved"}"#)
            server.clock.advance(seconds: 3600)
            try await client.command(t2, "messages", as: .c2, Bodies.message("Not done"))
            server.clock.advance(seconds: 30_000)  // 9 h 30 min after the opening: breached
            try await client.command(t2, "status", as: .bob, #"{"status": "solved"}"#)
            let tickets = [scenario.first, scenario.second, scenario.merged, t1, t2]
            let events = try server.backend.store.events(after: 0, limit: 1000)
            let ats = Array(Set(events.map(\.at.milliseconds))).sorted()
            var instants = stride(from: 0, to: ats.count, by: 3).map { Timestamp(milliseconds: ats[$0]) }
            instants += [instant("2026-03-28T11:00:00.001Z"), instant("2026-04-20T00:00:00Z")]
            var counted: Set<String> = []
            for at in instants {
                var explanations: [JSONValue] = []
                for t in tickets where events.contains(where: { $0.stream == t && $0.at <= at }) {
                    let r = try await client.get("/v1/tickets/\(t)/sla?asOf=\(at.rfc3339)", as: .auditor)
                    try #require(r.status == .ok, "\(t) at \(at): \(r)")
                    explanations.append(r.json)
                }
                for clock in ["calendar", "business"] {
                    for groupBy in ["none", "priority"] {
                        let path = "/v1/metrics/response-times?asOf=\(at.rfc3339)&clock=\(clock)&groupBy=\(groupBy)"
                        let r = try await client.get(path, as: .manager)
                        try #require(r.status == .ok, "\(path): \(r)")
                        var expected: [String: [String: JSONValue]] = [:]
                        for interval in explanations.flatMap({ $0["intervals"]?.arrayValue ?? [] }) {
                            let key = groupBy == "none" ? "null" : interval["priority"]?.stringValue ?? "?"
                            let metric = interval["metric"]?.stringValue ?? "?"
                            var m =
                                expected[key, default: [:]][metric]
                                ?? .object(["values": .array([]), "achieved": .int(0), "breached": .int(0)])
                            switch (interval["state"]?.stringValue, interval["outcome"]?.stringValue) {
                            case ("ended", let outcome):
                                m = Self.adding(m, value: interval["elapsed"]?[clock], outcome: outcome)
                            case ("running", "breached"):
                                m = Self.adding(m, value: nil, outcome: "breached")
                            default: continue
                            }
                            counted.insert("\(metric) \(interval["state"]?.stringValue ?? "?") \(interval["outcome"]?.stringValue ?? "-")")
                            expected[key, default: [:]][metric] = m
                        }
                        let groups = r.json["groups"]?.arrayValue ?? []
                        #expect(Set(groups.map { $0["key"]?.stringValue ?? "null" }) == Set(expected.keys), "\(path): groups")
                        for group in groups {
                            let key = group["key"]?.stringValue ?? "null"
                            for metric in ["firstReply", "nextReply", "resolution"] {
                                let m = expected[key]?[metric] ?? .object(["values": .array([]), "achieved": .int(0), "breached": .int(0)])
                                let values = (m["values"]?.arrayValue ?? []).map { Self.milliseconds($0) }.sorted()
                                let actual = group[metric] ?? .null
                                let what = "\(path), \(key), \(metric)"
                                #expect(actual["count"]?.intValue == Int64(values.count), "\(what): count")
                                #expect(Self.milliseconds(actual["min"] ?? .null) == values.first ?? -1, "\(what): min")
                                #expect(Self.milliseconds(actual["max"] ?? .null) == values.last ?? -1, "\(what): max")
                                let sum = values.reduce(0, +), n = Int64(values.count)
                                #expect(
                                    Self.milliseconds(actual["mean"] ?? .null) == (n == 0 ? -1 : (2 * sum + n) / (2 * n)), "\(what): mean")
                                #expect(actual["sla"]?["achieved"] == m["achieved"], "\(what): achieved")
                                #expect(actual["sla"]?["breached"] == m["breached"], "\(what): breached")
                            }
                        }
                    }
                }
            }
            let expectedKinds: Set<String> = [
                "firstReply ended achieved", "firstReply ended breached", "firstReply running breached", "nextReply ended achieved",
                "resolution ended achieved", "resolution ended breached", "resolution running breached",
            ]
            #expect(counted.isSuperset(of: expectedKinds), "\(counted.sorted())")
        }
    }

    // MARK: Helpers

    /// A metric's tally (`values`, `achieved`, `breached`) with one more interval.
    static func adding(_ tally: JSONValue, value: JSONValue?, outcome: String?) -> JSONValue {
        var o = tally.objectValue ?? [:]
        if let value { o["values"] = .array((o["values"]?.arrayValue ?? []) + [value]) }
        if let outcome, let count = o[outcome]?.intValue { o[outcome] = .int(count + 1) }
        return .object(o)
    }

    /// Seconds (integer or with a fraction) in milliseconds; -1 for null.
    static func milliseconds(_ value: JSONValue) -> Int64 {
        switch value {
        case .int(let n): n * 1000
        case .double(let d): Int64((d * 1000).rounded())
        default: -1
        }
    }

    static func reference(_ event: RecordedEvent) -> JSONValue {
        .object(["seq": .int(Int64(event.seq)), "version": .int(Int64(event.version)), "type": .string(event.type)])
    }

    static func window(_ date: String, _ start: String, _ end: String, _ seconds: Int64) -> JSONValue {
        .object(["date": .string(date), "start": .string(start), "end": .string(end), "seconds": .int(seconds)])
    }

    /// Every interval's business seconds are its windows' sum (when all are listed) and its
    /// elapsed business time.
    static func expectWindowsAddUp(_ answer: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) {
        for interval in answer["intervals"]?.arrayValue ?? [] {
            let business = interval["businessTime"] ?? .null
            let windows = business["windows"]?.arrayValue ?? []
            #expect(business["seconds"] == interval["elapsed"]?["business"], "\(auditText(interval))", sourceLocation: sourceLocation)
            guard business["windowCount"]?.intValue == Int64(windows.count) else { continue }
            let sum = windows.reduce(0.0) { $0 + Self.seconds($1["seconds"]) }
            #expect(sum == Self.seconds(business["seconds"]), "\(auditText(interval))", sourceLocation: sourceLocation)
        }
    }

    static func seconds(_ value: JSONValue?) -> Double {
        switch value {
        case .int(let n)?: Double(n)
        case .double(let d)?: d
        default: .nan
        }
    }
}

extension JSONValue {
    /// The element at `index` of an array; nil for another value or out of bounds.
    fileprivate subscript(index: Int) -> JSONValue? {
        guard let elements = arrayValue, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}
