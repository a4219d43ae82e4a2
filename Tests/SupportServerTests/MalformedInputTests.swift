import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportDomain
import SupportService
import Testing

@testable import SupportServer

/// SPEC §7: 400 malformed input, 401, 413 — each an `application/problem+json` body, and bad
/// input never writes anything.
@Suite("Malformed input, authentication and body size")
struct MalformedInputTests {
    struct BadBody: Sendable, CustomStringConvertible {
        var route: String  // "open" or a command route
        var who: Who
        var body: String
        var detail: String
        var description: String { "\(route) as \(who): \(body)" }
    }

    static let badBodies: [BadBody] = [
        BadBody(route: "messages", who: .alice, body: "{\"body\": ", detail: "malformed JSON"),
        BadBody(route: "messages", who: .alice, body: "", detail: "malformed JSON"),
        BadBody(route: "messages", who: .alice, body: "{\"body\": \"a\"} trailing", detail: "malformed JSON"),
        BadBody(route: "messages", who: .alice, body: "[\"body\"]", detail: "JSON object"),
        BadBody(route: "messages", who: .alice, body: "{\"body\": \"a\", \"bogus\": 1}", detail: "unknown field \"bogus\""),
        BadBody(route: "messages", who: .c1, body: "{\"body\": 42}", detail: "\"body\" must be a string"),
        BadBody(route: "messages", who: .alice, body: "{}", detail: "\"body\" is required"),
        BadBody(route: "messages", who: .alice, body: "{\"body\": \"a\", \"status\": \"new\"}", detail: "\"status\" must be one of"),
        BadBody(
            route: "messages", who: .alice,
            body: "{\"body\": \"a\", \"attachments\": [{\"name\": \"x.txt\", \"size\": 3, "
                + "\"contentType\": \"text/plain\", \"sha256\": \"ABCDEF\"}]}", detail: "sha256"),
        BadBody(
            route: "messages", who: .alice,
            body: "{\"body\": \"a\", \"attachments\": [{\"name\": \"x.txt\", \"size\": -1, "
                + "\"contentType\": \"text/plain\", \"sha256\": \"\(String(repeating: "a", count: 64))\"}]}", detail: "size"),
        BadBody(
            route: "messages", who: .alice,
            body: "{\"body\": \"a\", \"attachments\": [{\"name\": \"x.txt\", \"size\": 1, "
                + "\"contentType\": \"text/plain\", \"sha256\": \"\(String(repeating: "a", count: 64))\", \"extra\": 1}]}",
            detail: "unknown field \"attachments[0].extra\""),
        BadBody(route: "notes", who: .alice, body: "{\"body\": \"a\", \"status\": \"open\"}", detail: "unknown field \"status\""),
        BadBody(route: "priority", who: .alice, body: "{\"priority\": \"critical\"}", detail: "\"priority\" must be one of"),
        BadBody(route: "priority", who: .alice, body: "{\"priority\": 3}", detail: "\"priority\" must be a string"),
        BadBody(route: "status", who: .alice, body: "{\"status\": \"new\"}", detail: "\"status\" must be one of"),
        BadBody(route: "status", who: .alice, body: "{}", detail: "\"status\" is required"),
        BadBody(route: "assign", who: .alice, body: "{}", detail: "\"agent\" is required"),
        BadBody(route: "assign", who: .alice, body: "{\"agent\": 7}", detail: "\"agent\" must be a string"),
        BadBody(route: "assign", who: .alice, body: "{\"agent\": \"\"}", detail: "\"agent\" must not be empty"),
        BadBody(route: "assign", who: .alice, body: "{\"agent\": \"\(String(repeating: "é", count: 129))\"}", detail: "at most 128"),
        BadBody(route: "escalate", who: .alice, body: "{\"team\": \"t\"}", detail: "\"reason\" is required"),
        BadBody(route: "tags", who: .alice, body: "{\"added\": [\"a\", \"b\"], \"removed\": [\"b\"]}", detail: "both added and removed"),
        BadBody(route: "tags", who: .alice, body: "{\"added\": \"a\"}", detail: "\"added\" must be an array"),
        BadBody(route: "tags", who: .alice, body: "{\"added\": [1]}", detail: "\"added\"[0] must be a string"),
        BadBody(route: "merge", who: .alice, body: "{}", detail: "\"into\" is required"),
        BadBody(route: "rating", who: .c1, body: "{\"score\": 6}", detail: "\"score\" must be an integer from 1 to 5"),
        BadBody(route: "rating", who: .c1, body: "{\"score\": 0}", detail: "\"score\" must be an integer from 1 to 5"),
        BadBody(route: "rating", who: .c1, body: "{\"score\": \"5\"}", detail: "\"score\" must be an integer"),
        BadBody(route: "rating", who: .c1, body: "{\"score\": 4.5}", detail: "\"score\" must be an integer"),
        BadBody(route: "rating", who: .c1, body: "{\"score\": 4, \"reply\": 0}", detail: "\"reply\""),
        BadBody(route: "notes", who: .admin, body: "{\"body\": \"b\", \"at\": \"2026-03-02T10:00:00+01:00\"}", detail: "\"at\""),
        BadBody(route: "notes", who: .admin, body: "{\"body\": \"b\", \"at\": \"2026-03-02T10:00:00.1234Z\"}", detail: "\"at\""),
        BadBody(route: "notes", who: .admin, body: "{\"body\": \"b\", \"at\": \"2026-03-02 10:00:00Z\"}", detail: "\"at\""),
        BadBody(route: "notes", who: .admin, body: "{\"body\": \"b\", \"at\": 1772442000000}", detail: "\"at\""),
        BadBody(route: "open", who: .c1, body: Bodies.open(channel: "fax"), detail: "\"channel\" must be one of"),
        BadBody(route: "open", who: .alice, body: Bodies.open(priority: "asap"), detail: "\"priority\" must be one of"),
        BadBody(
            route: "open", who: .alice,
            body: "{\"customer\": \"c-1\", \"subject\": \"s\", \"body\": \"b\", \"channel\": \"web\", "
                + "\"product\": \"email\"}", detail: "\"priority\" is required"),
        BadBody(
            route: "open", who: .alice,
            body: "{\"customer\": \"c-1\", \"subject\": \"s\", \"body\": \"b\", \"channel\": \"web\", "
                + "\"product\": \"email\", \"priority\": \"low\", \"context\": 5}", detail: "\"context\" must be a string"),
        BadBody(
            route: "open", who: .alice,
            body: "{\"customer\": \"c-1\", \"subject\": \"s\", \"body\": \"b\", \"channel\": \"web\", "
                + "\"product\": \"email\", \"priority\": \"low\", \"id\": \"T-77\"}", detail: "unknown field \"id\""),
    ]

    @Test(arguments: badBodies)
    func malformedBodiesAre400ProblemsAndWriteNothing(_ bad: BadBody) async throws {
        try await withServer { server, client in
            let path = commandPath(bad.route, on: try await client.openWithAgentReply())
            try await expectLogUnchanged(server) {
                let r = try await client.post(path, as: bad.who, bad.body)
                expectProblem(r, .badRequest, detail: bad.detail)
            }
        }
    }

    @Test func optionalMembersGivenAsNullCountAsAbsent() async throws {
        try await withServer { server, client in
            let opened = try await client.post(
                "/v1/tickets", as: .c1,
                "{\"customer\": \"c-1\", \"subject\": \"s\", \"body\": \"b\", \"channel\": \"chat\", "
                    + "\"product\": \"domains\", \"priority\": \"low\", \"context\": null, \"attachments\": null, \"at\": null}")
            expectTicketAnswer(opened, .created, viewer: .c1)
            let id = opened.json["id"]?.stringValue ?? "?"
            #expect(try server.events(id).first?.data["context"] == nil, "null members are not stored")
            let message = try await client.post("/v1/tickets/\(id)/messages", as: .c1, "{\"body\": \"b\", \"status\": null, \"at\": null}")
            expectTicketAnswer(message, viewer: .c1)
            expectTicketAnswer(
                try await client.post("/v1/tickets/\(id)/tags", as: .bob, "{\"added\": null, \"removed\": [\"x\"]}"),
                viewer: .bob)
        }
    }

    @Test func aBodyOverOneMebibyteIs413AndWritesNothing() async throws {
        // A message body of 1 MiB is over the default body limit (a 400); this policy lets the
        // request size alone decide.
        var policy = Policy.default
        policy.limits.body = 1 << 20
        try await withServer(policy: policy) { server, client in
            let id = try await client.open()
            let prefix = Array("{\"body\": \"".utf8), suffix = Array("\"}".utf8)
            let filler = (1 << 20) - prefix.count - suffix.count + 1
            let oversized = prefix + [UInt8](repeating: UInt8(ascii: "x"), count: filler) + suffix
            #expect(oversized.count == (1 << 20) + 1)
            try await expectLogUnchanged(server) {
                let r = try await client.send(.post, "/v1/tickets/\(id)/messages", as: .alice, raw: oversized)
                expectProblem(r, .contentTooLarge)
                let open = try await client.send(.post, "/v1/tickets", as: .c1, raw: oversized)
                expectProblem(open, .contentTooLarge)
            }
            // Exactly 1 MiB is not "over 1 MiB".
            let exact = prefix + [UInt8](repeating: UInt8(ascii: "y"), count: filler - 1) + suffix
            #expect(exact.count == 1 << 20)
            let r = try await client.send(.post, "/v1/tickets/\(id)/messages", as: .alice, raw: exact)
            expectTicketAnswer(r, viewer: .alice)
        }
    }

    @Test func aMissingOrUnknownTokenIs401WithAChallengeOnEveryV1Route() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let attempts: [HTTPFields] = [
                [:],
                [.authorization: "Bearer not-a-token"],
                [.authorization: "Bearer "],
                [.authorization: "Basic \(Data("alice:secret".utf8).base64EncodedString())"],
                [.authorization: Who.alice.token],
                [.authorization: "Bearer \(Who.alice.token)x"],
            ]
            try await expectLogUnchanged(server) {
                for headers in attempts {
                    for (method, path, body) in [
                        (HTTPRequest.Method.get, "/v1/tickets/\(id)", nil as String?),
                        (.get, "/v1/tickets/T-404", nil),
                        (.post, "/v1/tickets", Bodies.open()),
                        (.post, "/v1/tickets/\(id)/messages", Bodies.message("hi")),
                        (.post, "/v1/tickets/\(id)/notes", "{malformed"),
                    ] {
                        let r = try await client.send(method, path, as: nil, body: body, headers: headers)
                        expectProblem(r, .unauthorized)
                        #expect(r.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(method) \(path): \(r.headers)")
                        #expect(!r.text.contains("Mailbox"), "a 401 tells nothing of the ticket")
                    }
                }
            }
        }
    }

    @Test func unknownOrRepeatedQueryParametersAndBadInstantsAre400() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            try await expectLogUnchanged(server) {
                expectProblem(
                    try await client.post("/v1/tickets/\(id)/notes?dryRun=1", as: .alice, "{\"body\": \"n\"}"),
                    .badRequest, detail: "dryRun")
                expectProblem(try await client.post("/v1/tickets?x=y", as: .c1, Bodies.open()), .badRequest, detail: "\"x\"")
                expectProblem(
                    try await client.get("/v1/tickets/\(id)?asof=2026-03-02T10:00:00Z", as: .alice), .badRequest,
                    detail: "asof")
                expectProblem(try await client.get("/v1/tickets/\(id)?asOf=yesterday", as: .alice), .badRequest, detail: "asOf")
                expectProblem(
                    try await client.get("/v1/tickets/\(id)?asOf=2026-03-02T10:00:00Z&asOf=2026-03-02T11:00:00Z", as: .alice),
                    .badRequest, detail: "twice")
                expectProblem(
                    try await client.post(
                        "/v1/tickets/\(id)/notes", as: .alice, "{\"body\": \"n\"}",
                        headers: [.ifMatch: "W/\"1\""]), .badRequest, detail: "If-Match")
                expectProblem(
                    try await client.post(
                        "/v1/tickets/\(id)/notes", as: .alice, "{\"body\": \"n\"}",
                        headers: [.ifMatch: "\"zero\""]), .badRequest, detail: "If-Match")
            }
        }
    }
}
