import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportDomain
@testable import SupportServer

/// Identifiers in paths (SPEC §2.1: spaces, `/`, `%`, any Unicode) are sent percent-encoded and
/// must reach every route decoded, exactly once, with canonically equivalent spellings kept apart.
@Suite("Path identifiers are percent-decoded")
struct PathIdentifierTests {
    /// Teams that need escaping; `é` and `e\u{301}` are different identifiers.
    static let teams = ["Group 3", "a/b", "100%", "é", "e\u{301}", "🚀 L2", "C++ team", "%41"]
    /// Ticket ids that need escaping.
    static let ticketIDs = ["T 1", "x/y", "50%", "é-1", "e\u{301}-1", "🎫 ticket", "a+b", "%2F"]
    static let agent = "Zoë/ops 100%"
    static let customer = "Ömer 1/2 %"

    /// The test principals plus an agent and a customer whose ids need escaping.
    static let tokens = TokenStore(
        Who.allCases.map { (token: $0.token, principal: Principal(role: $0.role, id: $0.id)) } + [
            (token: "token-of-escaped-agent", principal: Principal(role: .agent, id: agent)),
            (token: "token-of-escaped-customer", principal: Principal(role: .customer, id: customer)),
        ])
    static let asAgent: HTTPFields = [.authorization: "Bearer token-of-escaped-agent"]
    static let asCustomer: HTTPFields = [.authorization: "Bearer token-of-escaped-customer"]

    static func path(_ segment: String) -> String { DashboardHTML.percentEncode(segment) }

    @Test func teamsThatNeedEscapingAnswerOnTheQueueClaimAndAgentQueueRoutes() async throws {
        try await withServer(tokens: Self.tokens) { server, client in
            // Pairs, not a dictionary: Swift's `==` on strings would make "é" and "e\u{301}" one key.
            var opened: [(team: String, id: String)] = []
            for team in Self.teams { opened.append((team, try await client.open(subject: "for \(team)", product: team))) }
            for (team, id) in opened {
                let queue = try await client.get("/v1/queues/\(Self.path(team))", as: .alice)
                #expect(queue.status == .ok, "\(team): \(queue)")
                #expect(queue.json["team"]?.stringValue.map { Identifier.same($0, team) } == true, "\(team): \(queue)")
                let ids = queue.json["entries"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                #expect(ids == [id], "the queue of \(team) holds its own ticket only: \(queue)")
            }
            for (team, id) in opened {
                let claim = try await client.send(.post, "/v1/queues/\(Self.path(team))/claim", as: nil, headers: Self.asAgent)
                #expect(claim.status == .ok, "claiming from \(team): \(claim)")
                #expect(claim.json["id"]?.stringValue == id, "\(team): \(claim)")
                #expect(claim.json["assignee"]?.stringValue.map { Identifier.same($0, Self.agent) } == true, "\(team): \(claim)")
            }
            let mine = try await client.send(.get, "/v1/agents/\(Self.path(Self.agent))/queue", as: nil, headers: Self.asAgent)
            #expect(mine.status == .ok, "\(mine)")
            #expect(mine.json["agent"]?.stringValue.map { Identifier.same($0, Self.agent) } == true, "\(mine)")
            let claimed = Set(mine.json["entries"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
            #expect(claimed == Set(opened.map(\.id)), "the agent's queue holds what it claimed: \(mine)")
            // The undecoded spelling is another (unknown) agent.
            let raw = try await client.get("/v1/agents/\(Self.path(Self.path(Self.agent)))/queue", as: .manager)
            #expect(raw.json["entries"]?.arrayValue?.isEmpty == true, "\(raw)")
            _ = server
        }
    }

    @Test func ticketIDsThatNeedEscapingReachEveryTicketRoute() async throws {
        try await withServer(tokens: Self.tokens) { server, client in
            let at = instant("2026-03-01T10:00:00.000Z")
            let lines = Self.ticketIDs.enumerated().map { k, id in
                let data =
                    "{\"customer\":\(Bodies.quote(Self.customer)),\"subject\":\"imported \(k)\",\"body\":\"help\","
                    + "\"channel\":\"email\",\"product\":\"hosting\",\"priority\":\"normal\"}"
                return
                    "{\"ticket\":\(Bodies.quote(id)),\"version\":1,\"type\":\"ticket.opened\",\"at\":\"\(Timestamp(milliseconds: at.milliseconds + Int64(k)).rfc3339)\","
                    + "\"actor\":{\"kind\":\"customer\",\"id\":\(Bodies.quote(Self.customer))},\"data\":\(data)}"
            }
            let imported = try await client.post(
                "/v1/import", as: .admin, lines.joined(separator: "\n"),
                headers: [.contentType: "application/x-ndjson"])
            try #require(imported.status == .ok, "\(imported)")
            for id in Self.ticketIDs {
                let p = "/v1/tickets/\(Self.path(id))"
                let read = try await client.get(p, as: .alice)
                #expect(read.status == .ok, "\(id): \(read)")
                #expect(read.json["id"]?.stringValue.map { Identifier.same($0, id) } == true, "\(id): \(read)")
                let own = try await client.send(.get, p, as: nil, headers: Self.asCustomer)
                #expect(own.status == .ok, "the customer reads \(id): \(own)")
                let past = try await client.get(p + "?asOf=2026-03-01T11:00:00Z", as: .alice)
                #expect(past.status == .ok, "\(id) as of: \(past)")
                let history = try await client.get(p + "/history", as: .auditor)
                #expect(history.status == .ok, "\(id) history: \(history)")
                #expect(history.json["ticket"]?.stringValue.map { Identifier.same($0, id) } == true, "\(id): \(history)")
                // Every command route finds the ticket: an empty body is refused after the lookup (404 comes first).
                for route in CommandRoute.allCases where route != .open {
                    let r = try await client.post(p + "/\(route.rawValue)", as: .alice, "{}")
                    #expect(r.status != .notFound, "\(route.rawValue) on \(id): \(r)")
                }
                let before = try server.events(id).count
                let note = try await client.post(p + "/notes", as: .alice, Bodies.message("note on \(id)"))
                #expect(note.status == .ok, "\(id): \(note)")
                let after = try server.events(id)
                #expect(after.count == before + 1 && after.last?.type == "note.added", "the note went to \(id)'s own stream")
            }
            // The undecoded spelling of an id is another (missing) ticket.
            let undecoded = try await client.get("/v1/tickets/\(Self.path(Self.path("x/y")))", as: .alice)
            expectProblem(undecoded, .notFound)
        }
    }

    @Test(arguments: ["%zz", "%C3", "%", "%4", "ok%C3%28", "%FF%FE", "T-1%"])
    func aMalformedEscapeIs400OnEveryRoute(segment: String) async throws {
        try await withServer(tokens: Self.tokens) { server, client in
            try await expectLogUnchanged(server) {
                var requests: [(HTTPRequest.Method, String)] = [
                    (.get, "/v1/tickets/\(segment)"), (.get, "/v1/tickets/\(segment)/history"),
                    (.get, "/v1/queues/\(segment)"), (.post, "/v1/queues/\(segment)/claim"), (.get, "/v1/agents/\(segment)/queue"),
                ]
                for route in CommandRoute.allCases where route != .open {
                    requests.append((.post, "/v1/tickets/\(segment)/\(route.rawValue)"))
                }
                for (method, path) in requests {
                    let r = try await client.send(method, path, as: nil, body: method == .post ? "{}" : nil, headers: Self.asAgent)
                    expectProblem(r, .badRequest, detail: "percent-encoded")
                }
            }
        }
    }

    /// An idempotent retry names the same ticket however its id is escaped: it gets the first
    /// answer byte for byte, not a 409 for a "different" request.
    @Test func anIdempotentRetryWithTheIDEscapedOtherwiseGetsTheFirstAnswer() async throws {
        try await withServer(tokens: Self.tokens) { server, client in
            let line =
                #"{"ticket": "é-1", "version": 1, "type": "ticket.opened", "at": "2026-03-02T08:00:00Z", "#
                + #""actor": {"kind": "customer", "id": "c-1"}, "data": {"customer": "c-1", "subject": "s", "body": "b", "#
                + #""channel": "web", "product": "email", "priority": "normal"}}"#
            #expect(try await client.post("/v1/import", as: .admin, line).status == .ok)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "retry-escaped"]
            let first = try await client.post("/v1/tickets/%C3%A9-1/messages", as: .alice, Bodies.message("on it"), headers: key)
            #expect(first.status == .ok, "\(first)")
            let retry = try await client.post("/v1/tickets/%c3%a9-1/messages", as: .alice, Bodies.message("on it"), headers: key)
            #expect(retry.status == .ok && retry.bytes == first.bytes, "\(retry)")
            #expect(try server.events("é-1").count == 2, "the retry appended nothing")
        }
    }

    /// Decoding undoes encoding for any string, and leaves a segment with no escape as it is.
    @Test func decodingUndoesEncodingForAnyString() {
        var generator = SystemRandomNumberGenerator()
        let pool: [ClosedRange<UInt32>] = [0x20...0x7E, 0xA0...0x24F, 0x300...0x36F, 0x4E00...0x4E50, 0x1F300...0x1F64F]
        for _ in 0..<2000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                let range = pool.randomElement(using: &generator)!
                text.unicodeScalars.append(Unicode.Scalar(UInt32.random(in: range, using: &generator))!)
            }
            let decoded = PercentDecoding.decode(DashboardHTML.percentEncode(text))
            #expect(decoded.map { Identifier.same($0, text) } == true, "\(text.debugDescription) -> \(String(describing: decoded))")
            if !text.unicodeScalars.contains("%") {
                #expect(PercentDecoding.decode(text).map { Identifier.same($0, text) } == true, "\(text.debugDescription)")
            }
        }
    }
}
