import EventLog
import HTTPTypes
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportServer

/// SPEC §2.2: an integer is a JSON number written without fraction or exponent. `4.0`, `4e0`
/// and the like are 400 on every integer field, through commands and through import lines, and
/// write nothing.
@Suite("Integer fields refuse fractions and exponents")
struct IntegerFieldTests {
    /// The ways of writing the integer `n` that are not integers.
    static func nonIntegerSpellings(of n: Int) -> [String] {
        ["\(n).0", "\(n)e0", "\(n)E+0", "\(n)0e-1", "\(n).000"]
    }

    static let sha = String(repeating: "a", count: 64)

    static func attachment(size: String) -> String {
        "[{\"name\": \"x.txt\", \"size\": \(size), \"contentType\": \"text/plain\", \"sha256\": \"\(sha)\"}]"
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var field: String
        var route: String
        var who: Who
        /// The body with the number in place of `#`.
        var template: String
        var value: Int
        var testDescription: String { "\(route).\(field)" }

        func body(_ number: String) -> String { template.replacingOccurrences(of: "#", with: number) }
    }

    /// Every integer field of the command API. The ticket is opened (version 1) and has an agent
    /// message (version 2) before each case runs.
    static let commandCases: [Case] = [
        Case(field: "score", route: "rating", who: .c1, template: "{\"score\": #}", value: 4),
        Case(field: "reply", route: "rating", who: .c1, template: "{\"score\": 4, \"reply\": #}", value: 2),
        Case(
            field: "attachments[0].size", route: "messages", who: .alice,
            template: "{\"body\": \"a\", \"attachments\": \(attachment(size: "#"))}", value: 812),
        Case(
            field: "attachments[0].size", route: "messages", who: .c1,
            template: "{\"body\": \"a\", \"attachments\": \(attachment(size: "#"))}", value: 3),
        Case(
            field: "attachments[0].size", route: "open", who: .c1,
            template: "{\"customer\": \"c-1\", \"subject\": \"s\", \"body\": \"b\", \"channel\": \"web\", \"product\": \"email\", "
                + "\"priority\": \"low\", \"attachments\": \(attachment(size: "#"))}", value: 812),
    ]

    @Test(arguments: commandCases)
    func commandsRefuseIntegersWrittenWithAFractionOrAnExponent(_ c: Case) async throws {
        try await withServer { server, client in
            let path = commandPath(c.route, on: try await client.openWithAgentReply())
            try await expectLogUnchanged(server) {
                for spelling in Self.nonIntegerSpellings(of: c.value) {
                    let r = try await client.post(path, as: c.who, c.body(spelling))
                    expectProblem(r, .badRequest, detail: "\"\(c.field)\" must be an integer")
                }
            }
            // The same body with the integer written as one is accepted.
            let r = try await client.post(path, as: c.who, c.body(String(c.value)))
            #expect(r.status == (c.route == "open" ? .created : .ok), "\(r)")
        }
    }

    // MARK: Import lines

    /// Opens I-1 with an attachment, an agent reply, a rating; `#size`, `#version`, `#score` and
    /// `#reply` are the numbers to spell.
    static let importTemplate = [
        "{\"ticket\": \"I-1\", \"version\": 1, \"type\": \"ticket.opened\", \"at\": \"2026-03-01T10:00:00.000Z\", "
            + "\"actor\": {\"kind\": \"customer\", \"id\": \"c-1\"}, \"data\": {\"customer\": \"c-1\", \"subject\": \"s\", "
            + "\"body\": \"b\", \"channel\": \"web\", \"product\": \"email\", \"priority\": \"low\", "
            + "\"attachments\": \(attachment(size: "#size"))}}",
        "{\"ticket\": \"I-1\", \"version\": #version, \"type\": \"message.posted\", \"at\": \"2026-03-01T10:05:00.000Z\", "
            + "\"actor\": {\"kind\": \"agent\", \"id\": \"alice\"}, \"data\": {\"body\": \"hello\"}}",
        "{\"ticket\": \"I-1\", \"version\": 3, \"type\": \"satisfaction.rated\", \"at\": \"2026-03-01T10:10:00.000Z\", "
            + "\"actor\": {\"kind\": \"customer\", \"id\": \"c-1\"}, \"data\": {\"score\": #score, \"reply\": #reply}}",
    ]

    static let integers = ["#size": "812", "#version": "2", "#score": "4", "#reply": "2"]

    static func importBody(_ replaced: String? = nil, with spelling: String = "") -> [UInt8] {
        var text = importTemplate.joined(separator: "\n") + "\n"
        if let replaced { text = text.replacingOccurrences(of: replaced, with: spelling) }
        for (placeholder, integer) in integers { text = text.replacingOccurrences(of: placeholder, with: integer) }
        return Array(text.utf8)
    }

    struct ImportCase: Sendable, CustomTestStringConvertible {
        var placeholder: String
        var field: String
        var line: Int64
        var testDescription: String { field }
    }

    static let importCases: [ImportCase] = [
        ImportCase(placeholder: "#size", field: "attachments[0].size", line: 1),
        ImportCase(placeholder: "#version", field: "version", line: 2),
        ImportCase(placeholder: "#score", field: "score", line: 3),
        ImportCase(placeholder: "#reply", field: "reply", line: 3),
    ]

    func postImport(_ client: some TestClientProtocol, _ bytes: [UInt8]) async throws -> Reply {
        try await client.send(.post, "/v1/import", as: .admin, raw: bytes, headers: [.contentType: "application/x-ndjson"])
    }

    @Test(arguments: importCases)
    func importLinesRefuseIntegersWrittenWithAFractionOrAnExponent(_ c: ImportCase) async throws {
        try await withServer { server, client in
            let integer = Int(Self.integers[c.placeholder] ?? "") ?? 0
            for spelling in Self.nonIntegerSpellings(of: integer) {
                let r = try await postImport(client, Self.importBody(c.placeholder, with: spelling))
                expectProblem(r, .badRequest, detail: "\"\(c.field)\" must be an integer")
                #expect(r.json["line"]?.intValue == c.line, "\(spelling): \(r)")
                #expect(try server.head == .empty, "a refused import appended events")
            }
            let r = try await postImport(client, Self.importBody())
            #expect(r.status == .ok && r.json["imported"]?.intValue == 3, "\(r)")
        }
    }
}
