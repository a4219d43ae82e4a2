import EventLog
import Foundation
import Testing

@testable import SupportDomain

/// The policy's input limits: each one holds at its value and refuses one more (400 naming the
/// field), for commands and import lines alike; the policy file overrides them key by key.
@Suite("Input limits")
struct InputLimitsTests {
    typealias F = TicketFixture

    /// `count` code points of two UTF-8 bytes each (`é`): code points and bytes differ.
    static func text(_ count: Int) -> JSONValue { .string(String(repeating: "\u{E9}", count: count)) }

    /// Exactly `count` bytes of UTF-8.
    static func bytes(_ count: Int) -> JSONValue {
        .string(String(repeating: "\u{E9}", count: count / 2) + (count % 2 == 1 ? "a" : ""))
    }

    static func attachment(name: JSONValue = .string("x"), contentType: JSONValue = .string("text/plain")) -> JSONValue {
        .object(["name": name, "size": .int(3), "contentType": contentType, "sha256": .string(F.sha)])
    }

    static func opening(_ extra: [String: JSONValue]) -> JSONValue {
        var o: [String: JSONValue] = [
            "customer": .string("carol"), "subject": .string("s"), "body": .string("b"),
            "channel": .string("web"), "product": .string("hosting"), "priority": .string("low"),
        ]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var limit: String
        var field: String
        var route: CommandRoute
        var actor: ActorKind
        var data: @Sendable (Int) -> JSONValue
        var testDescription: String { "\(limit) on \(route.rawValue)" }
    }

    static let cases: [Case] = [
        Case(limit: "subject", field: "\"subject\"", route: .open, actor: .agent) { opening(["subject": text($0)]) },
        Case(limit: "body", field: "\"body\"", route: .open, actor: .customer) { opening(["body": bytes($0)]) },
        Case(limit: "body", field: "\"body\"", route: .messages, actor: .agent) { .object(["body": bytes($0)]) },
        Case(limit: "body", field: "\"body\"", route: .notes, actor: .agent) { .object(["body": bytes($0)]) },
        Case(limit: "context", field: "\"context\"", route: .open, actor: .agent) { opening(["context": text($0)]) },
        Case(limit: "comment", field: "\"comment\"", route: .rating, actor: .customer) {
            .object(["score": .int(5), "comment": text($0)])
        },
        Case(limit: "reason", field: "\"reason\"", route: .escalate, actor: .agent) {
            .object(["team": .string("tier-2"), "reason": text($0)])
        },
        Case(limit: "attachmentName", field: "\"attachments[1].name\"", route: .messages, actor: .customer) {
            .object(["body": .string("b"), "attachments": .array([attachment(), attachment(name: text($0))])])
        },
        Case(limit: "attachmentContentType", field: "\"attachments[0].contentType\"", route: .open, actor: .customer) {
            opening(["attachments": .array([attachment(contentType: text($0))])])
        },
        Case(limit: "attachments", field: "\"attachments\"", route: .messages, actor: .agent) {
            .object(["body": .string("b"), "attachments": .array(Array(repeating: attachment(), count: $0))])
        },
        Case(limit: "attachments", field: "\"attachments\"", route: .open, actor: .customer) {
            opening(["attachments": .array(Array(repeating: attachment(), count: $0))])
        },
        Case(limit: "tagsPerCommand", field: "\"added\"", route: .tags, actor: .agent) {
            .object(["added": .array((0..<$0).map { .string("tag-\($0)") })])
        },
        Case(limit: "tagsPerCommand", field: "\"removed\"", route: .tags, actor: .manager) {
            .object(["removed": .array((0..<$0).map { .string("tag-\($0)") })])
        },
    ]

    static func limit(_ c: Case, in limits: InputLimits) throws -> Int {
        try limits[#require(InputLimits.Field(rawValue: c.limit))]
    }

    @Test(arguments: cases)
    func commandsAreAcceptedAtTheLimitAndRefusedOneOver(_ c: Case) throws {
        let n = try Self.limit(c, in: .default)
        let actor = F.actor(c.actor)
        #expect(F.refusal { try TicketCommand.parse(route: c.route, body: c.data(n), actor: actor, limits: .default) } == nil)
        let refusal = try #require(
            F.refusal { try TicketCommand.parse(route: c.route, body: c.data(n + 1), actor: actor, limits: .default) })
        #expect(refusal.kind == .badRequest)
        #expect(refusal.detail.contains(c.field) && refusal.detail.contains("limits.\(c.limit)"), "\(refusal.detail)")
    }

    /// Import lines run the same check: the event at the limit is folded in, one over is a 400.
    @Test(arguments: cases)
    func importLinesAreAcceptedAtTheLimitAndRefusedOneOver(_ c: Case) throws {
        let n = try Self.limit(c, in: .default)
        for (size, accepted) in [(n, true), (n + 1, false)] {
            var validation = ImportValidation(now: try F.instant("2026-03-03T00:00:00Z"), limits: .default) { _ in nil }
            _ = try validation.add(
                ticket: "T-1", type: "ticket.opened", at: try F.instant("2026-03-02T09:00:00Z"),
                actor: EventActor(kind: "customer", id: "carol"), data: Self.opening([:]))
            _ = try validation.add(
                ticket: "T-1", type: "message.posted", at: try F.instant("2026-03-02T09:01:00Z"),
                actor: EventActor(kind: "agent", id: "alice"), data: .object(["body": .string("hi")]))
            let actor = F.actor(c.actor)
            let ticket = c.route == .open ? "T-2" : "T-1"
            let data = c.data(size)
            let refusal = F.refusal {
                try validation.add(
                    ticket: ticket, type: c.route.eventKind.rawValue, at: try F.instant("2026-03-02T09:02:00Z"),
                    actor: EventActor(kind: actor.kind.rawValue, id: actor.id), data: data)
            }
            if accepted {
                #expect(refusal == nil, "at the limit: \(refusal?.detail ?? "")")
            } else {
                #expect(refusal?.kind == .badRequest && refusal?.detail.contains(c.field) == true, "\(refusal?.detail ?? "accepted")")
            }
        }
    }

    @Test(arguments: cases)
    func aPolicyLimitReplacesTheDefault(_ c: Case) throws {
        let policy = try Policy.parse(jsonData: Data("{\"limits\": {\"\(c.limit)\": 3}}".utf8))
        #expect(try Self.limit(c, in: policy.limits) == 3)
        let actor = F.actor(c.actor)
        #expect(F.refusal { try TicketCommand.parse(route: c.route, body: c.data(3), actor: actor, limits: policy.limits) } == nil)
        #expect(
            F.refusalKind { try TicketCommand.parse(route: c.route, body: c.data(4), actor: actor, limits: policy.limits) } == .badRequest)
    }

    @Test func limitsCountCodePointsAndBodiesCountBytes() throws {
        var limits = InputLimits.default
        limits.subject = 2
        limits.body = 4
        let scalars = "e\u{301}\u{1F600}"  // 3 code points, 1 + 2 + 4 bytes
        let open = { (subject: String, body: String) in
            F.refusal {
                try TicketCommand.parse(
                    route: .open, body: Self.opening(["subject": .string(subject), "body": .string(body)]),
                    actor: F.alice, limits: limits)
            }
        }
        #expect(open("e\u{301}", "\u{E9}\u{E9}") == nil)  // 2 code points; 4 bytes
        #expect(open(scalars, "b")?.detail.contains("\"subject\"") == true)
        #expect(open("s", "\u{E9}\u{E9}a")?.detail.contains("\"body\" is 5 bytes") == true)
    }

    // MARK: The policy file

    /// The default policy's hash is what it was before limits existed (limits are not hashed), and
    /// no `limits` overlay changes it.
    @Test func limitsAreNotPartOfThePolicyHash() throws {
        #expect(Policy.default.hash == "d543eee8b31b872aab50f810531777d1b110c0f836f5e19ffae95cf994c8a27e")
        #expect(!String(decoding: Policy.default.canonicalJSON, as: UTF8.self).contains("limits"))
        let limited = try Policy.parse(jsonData: Data(#"{"limits": {"subject": 10, "body": 100}}"#.utf8))
        #expect(limited.limits != Policy.default.limits)
        #expect(limited.hash == Policy.default.hash)
    }

    @Test func theLimitsOverlayReplacesKeyByKey() throws {
        let policy = try Policy.parse(jsonData: Data(#"{"limits": {"subject": 80, "tagsPerCommand": 5}, "capacity": 9}"#.utf8))
        var expected = InputLimits.default
        expected.subject = 80
        expected.tagsPerCommand = 5
        #expect(policy.limits == expected)
        #expect(policy.capacity == 9)
        let every = InputLimits.keys.enumerated().map { "\"\($0.element)\": \($0.offset + 1)" }.joined(separator: ", ")
        let all = try Policy.parse(jsonData: Data("{\"limits\": {\(every)}}".utf8))
        for (i, key) in InputLimits.keys.enumerated() {
            #expect(all.limits[try #require(InputLimits.Field(rawValue: key))] == i + 1, "\(key)")
        }
        #expect(try Policy.parse(jsonData: Data(#"{"limits": {}}"#.utf8)).limits == .default)
    }

    @Test(arguments: [
        (#"{"limits": []}"#, PolicyError.Kind.wrongType, "limits"),
        (#"{"limits": {"subjects": 10}}"#, .unknownKey, "limits.subjects"),
        (#"{"limits": {"subject": "10"}}"#, .wrongType, "limits.subject"),
        (#"{"limits": {"body": 1024.0}}"#, .wrongType, "limits.body"),
        (#"{"limits": {"body": 1e3}}"#, .wrongType, "limits.body"),
        (#"{"limits": {"comment": null}}"#, .wrongType, "limits.comment"),
        (#"{"limits": {"attachments": 0}}"#, .invalidValue, "limits.attachments"),
        (#"{"limits": {"reason": -5}}"#, .invalidValue, "limits.reason"),
        (#"{"limits": {"context": 99999999999999999999}}"#, .invalidValue, "limits.context"),
        (#"{"limits": {"subject": 1, "subject": 2}}"#, .malformedJSON, ""),
    ])
    func badLimitsAreRefusedWithTheirKeyPath(json: String, kind: PolicyError.Kind, keyPath: String) {
        do {
            _ = try Policy.parse(jsonData: Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.kind == kind, "\(json): \(error)")
            #expect(error.keyPath == keyPath, "\(json): \(error)")
        }
    }
}
