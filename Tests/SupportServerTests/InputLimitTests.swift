import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportDomain
import SupportService
import Testing

@testable import SupportServer

/// The policy's input limits at the HTTP edge: at a limit a command is accepted, one over is a
/// 400 naming the field and writes nothing; import lines get the same answer with their line;
/// a policy file's `limits` replace the defaults.
@Suite("Input limits over HTTP")
struct InputLimitTests {
    /// `count` code points of two bytes each.
    static func text(_ count: Int) -> String { String(repeating: "\u{E9}", count: count) }

    static func attachments(_ count: Int) -> String {
        let one =
            "{\"name\": \"x.txt\", \"size\": 3, \"contentType\": \"text/plain\", \"sha256\": \"\(String(repeating: "a", count: 64))\"}"
        return "[" + Array(repeating: one, count: count).joined(separator: ", ") + "]"
    }

    static func tags(_ count: Int) -> String { "[" + (0..<count).map { "\"t\($0)\"" }.joined(separator: ", ") + "]" }

    struct Case: Sendable, CustomTestStringConvertible {
        var field: String
        var route: String
        var who: Who
        var body: @Sendable (Int) -> String
        var limit: @Sendable (InputLimits) -> Int
        var testDescription: String { "\(field) on \(route)" }
    }

    static let cases: [Case] = [
        Case(field: "subject", route: "open", who: .c1, body: { Bodies.open(subject: text($0), body: "b") }, limit: { $0.subject }),
        Case(field: "body", route: "open", who: .alice, body: { Bodies.open(subject: "s", body: text($0 / 2)) }, limit: { $0.body }),
        Case(field: "body", route: "messages", who: .c1, body: { Bodies.message(text($0 / 2)) }, limit: { $0.body }),
        Case(
            field: "body", route: "notes", who: .alice, body: { Bodies.message(text($0 / 2) + ($0 % 2 == 1 ? "a" : "")) },
            limit: { $0.body }),
        Case(field: "comment", route: "rating", who: .c1, body: { "{\"score\": 4, \"comment\": \"\(text($0))\"}" }, limit: { $0.comment }),
        Case(
            field: "reason", route: "escalate", who: .manager, body: { "{\"team\": \"t2\", \"reason\": \"\(text($0))\"}" },
            limit: { $0.reason }),
        Case(
            field: "attachments", route: "messages", who: .alice,
            body: { "{\"body\": \"b\", \"attachments\": \(attachments($0))}" }, limit: { $0.attachments }),
        Case(field: "added", route: "tags", who: .alice, body: { "{\"added\": \(tags($0))}" }, limit: { $0.tagsPerCommand }),
    ]

    /// Sizes one under, at and one over a limit for bodies (bytes, in steps of 2: `é`) and others.
    static func sizes(_ c: Case, _ limits: InputLimits) -> (ok: Int, over: Int) {
        let n = c.limit(limits)
        return c.field == "body" && c.route != "notes" ? (n, n + 2) : (n, n + 1)
    }

    func run(_ c: Case, policy: Policy) async throws {
        try await withServer(policy: policy) { server, client in
            let path = commandPath(c.route, on: try await client.openWithAgentReply(subject: "s", body: "b", reply: "ok"))
            let (ok, over) = Self.sizes(c, policy.limits)
            try await expectLogUnchanged(server) {
                let r = try await client.post(path, as: c.who, c.body(over))
                expectProblem(r, .badRequest, detail: "\"\(c.field)\"")
                #expect(r.json["detail"]?.stringValue?.contains("limits.") == true, "\(r)")
            }
            let r = try await client.post(path, as: c.who, c.body(ok))
            #expect(r.status == (c.route == "open" ? .created : .ok), "at the limit: \(r.status)")
        }
    }

    @Test(arguments: cases)
    func aCommandAtTheDefaultLimitIsAcceptedAndOneOverIs400(_ c: Case) async throws {
        try await run(c, policy: .default)
    }

    static let smallLimits = try? Policy.parse(
        jsonData: Data(
            #"{"limits": {"subject": 5, "body": 10, "comment": 4, "reason": 3, "attachments": 2, "tagsPerCommand": 2}}"#.utf8))

    @Test(arguments: cases)
    func aPolicyFileLimitIsWhatCommandsMeet(_ c: Case) async throws {
        try await run(c, policy: try #require(Self.smallLimits))
    }

    // MARK: Import

    static func importBody(subject: String) -> [UInt8] {
        let lines = [
            "{\"ticket\": \"I-1\", \"type\": \"ticket.opened\", \"at\": \"2026-03-01T10:00:00.000Z\", "
                + "\"actor\": {\"kind\": \"customer\", \"id\": \"c-1\"}, \"data\": {\"customer\": \"c-1\", \"subject\": \"s\", "
                + "\"body\": \"b\", \"channel\": \"web\", \"product\": \"email\", \"priority\": \"low\"}}",
            "{\"ticket\": \"I-2\", \"type\": \"ticket.opened\", \"at\": \"2026-03-01T10:01:00.000Z\", "
                + "\"actor\": {\"kind\": \"customer\", \"id\": \"c-1\"}, \"data\": {\"customer\": \"c-1\", \"subject\": \"\(subject)\", "
                + "\"body\": \"b\", \"channel\": \"web\", \"product\": \"email\", \"priority\": \"low\"}}",
        ]
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    @Test(arguments: [Policy.default, smallLimits ?? .default])
    func importLinesMeetTheSameLimits(policy: Policy) async throws {
        try await withServer(policy: policy) { server, client in
            let limit = policy.limits.subject
            let over = try await client.send(
                .post, "/v1/import", as: .admin, raw: Self.importBody(subject: Self.text(limit + 1)),
                headers: [.contentType: "application/x-ndjson"])
            expectProblem(over, .badRequest, detail: "\"subject\"")
            #expect(over.json["line"]?.intValue == 2, "\(over)")
            #expect(try server.head == .empty, "a refused import appended events")
            let ok = try await client.send(
                .post, "/v1/import", as: .admin, raw: Self.importBody(subject: Self.text(limit)),
                headers: [.contentType: "application/x-ndjson"])
            #expect(ok.status == .ok && ok.json["imported"]?.intValue == 2, "\(ok)")
        }
    }
}
