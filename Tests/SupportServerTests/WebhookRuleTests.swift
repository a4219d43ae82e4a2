import EventLog
import Foundation
import SupportDomain
import SupportService
import Testing

/// The rules of the `$webhooks` stream: its events' strict decoding, the URL and event-type rules,
/// the `$` rule of stream names, the fold of the registrations, and the address policy.
@Suite struct WebhookRuleTests {
    static func registered(_ id: String = "W-1", url: String = "https://hooks.example.com/in", events: [String] = ["*"]) -> JSONValue {
        .object([
            "id": .string(id), "url": .string(url), "events": .array(events.map { .string($0) }), "notes": .bool(false),
            "secret": .string("v1:sealed"),
        ])
    }

    @Test func aRegistrationDecodesAndEncodesBackToTheSameData() throws {
        let event = try WebhookEvent(type: "webhook.registered", data: Self.registered())
        guard case .registered(let r) = event else {
            Issue.record("not a registration")
            return
        }
        #expect(r.id == "W-1" && r.url == "https://hooks.example.com/in" && r.events == ["*"] && !r.notes)
        #expect(event.data == Self.registered())
        let removed = try WebhookEvent(type: "webhook.removed", data: .object(["id": .string("W-1")]))
        #expect(removed == .removed(id: "W-1"))
    }

    @Test func unknownMembersTypesAndBadValuesAreBadRequests() {
        func refusal(_ type: String, _ data: JSONValue) -> DomainError.Kind? {
            do {
                _ = try WebhookEvent(type: type, data: data)
                return nil
            } catch { return error.kind }
        }
        var extra = Self.registered().objectValue ?? [:]
        extra["colour"] = .string("red")
        #expect(refusal("webhook.registered", .object(extra)) == .badRequest)
        #expect(refusal("webhook.renamed", .object(["id": .string("W-1")])) == .badRequest)
        #expect(refusal("webhook.removed", .object(["id": .string("W-1"), "why": .string("x")])) == .badRequest)
        #expect(refusal("webhook.removed", .object(["id": .string("W-01")])) == .badRequest)
        #expect(refusal("webhook.removed", .object(["id": .string("T-1")])) == .badRequest)
        #expect(refusal("webhook.registered", Self.registered(url: "ftp://example.com/")) == .badRequest)
        #expect(refusal("webhook.registered", Self.registered(url: "https://user:pw@example.com/")) == .badRequest)
        #expect(refusal("webhook.registered", Self.registered(url: "javascript:alert(1)")) == .badRequest)
        #expect(refusal("webhook.registered", Self.registered(events: ["ticket.exploded"])) == .badRequest)
        #expect(refusal("webhook.registered", Self.registered(events: [])) == .badRequest)
        #expect(refusal("webhook.registered", Self.registered(events: ["ticket.opened", "ticket.opened"])) == .badRequest)
    }

    @Test func everyTicketEventTypeAndTheStarMayBeAskedFor() throws {
        let all = TicketEventKind.allCases.map(\.rawValue) + ["*"]
        for name in all { #expect(WebhookRules.isKnownEventType(name), "\(name)") }
        _ = try WebhookEvent(type: "webhook.registered", data: Self.registered(events: all))
    }

    @Test func notesGoOnlyToEndpointsThatAskForThem() {
        let plain = WebhookRegistration(id: "W-1", url: "http://a/", events: ["*"], notes: false, secret: "s")
        let withNotes = WebhookRegistration(id: "W-2", url: "http://a/", events: ["*"], notes: true, secret: "s")
        let chosen = WebhookRegistration(id: "W-3", url: "http://a/", events: ["ticket.opened"], notes: true, secret: "s")
        #expect(!plain.wants("note.added") && plain.wants("message.posted"))
        #expect(withNotes.wants("note.added"))
        #expect(chosen.wants("ticket.opened") && !chosen.wants("note.added") && !chosen.wants("message.posted"))
    }

    @Test func streamsStartingWithDollarAreNoTickets() {
        #expect(!StreamName.isTicket("$webhooks") && !StreamName.isTicket("$anything"))
        #expect(StreamName.isTicket("T-1") && StreamName.isTicket("a$b") && StreamName.isTicket(""))
    }

    @Test func urlsAreHTTPOrHTTPSWithAHostAndNoUserinfo() {
        #expect(WebhookRules.problem(withURL: "http://example.com") == nil)
        #expect(WebhookRules.problem(withURL: "HTTPS://Example.com:8443/x?y=1") == nil)
        #expect(WebhookRules.problem(withURL: "http://[::1]:9000/in") == nil)
        #expect(WebhookRules.problem(withURL: "http://") != nil)
        #expect(WebhookRules.problem(withURL: "http://a b/") != nil)
        #expect(WebhookRules.problem(withURL: "http://example.com:99999/") != nil)
        #expect(WebhookRules.problem(withURL: "http://u@example.com/") != nil)
        #expect(WebhookRules.problem(withURL: "file:///etc/passwd") != nil)
        let parts = URLParts("http://[::1]:9000/in")
        #expect(parts?.host == "::1" && parts?.port == 9000 && parts?.scheme == "http")
        #expect(URLParts("https://Example.COM/")?.host == "example.com" && URLParts("https://example.com/")?.port == 443)
    }

    @Test func theFoldKeepsTheCurrentEndpointsAndNeverReusesAnID() throws {
        var endpoints = WebhookEndpoints()
        try endpoints.apply(WebhookEvent(type: "webhook.registered", data: Self.registered("W-1")), seq: 3, version: 1)
        try endpoints.apply(WebhookEvent(type: "webhook.registered", data: Self.registered("W-2")), seq: 7, version: 2)
        try endpoints.apply(.removed(id: "W-1"), seq: 9, version: 3)
        #expect(endpoints.endpoints.map(\.registration.id) == ["W-2"] && endpoints.endpoints.map(\.seq) == [7])
        #expect(endpoints.highestNumber == 2 && endpoints.version == 3)
        #expect(throws: DomainError.self) { try endpoints.check(.removed(id: "W-1")) }
        #expect(throws: DomainError.self) {
            try endpoints.check(WebhookEvent(type: "webhook.registered", data: Self.registered("W-1")))
        }
    }

    @Test func theDefaultAddressPolicyRefusesLinkLocalMetadataMulticastAndUnspecified() throws {
        let policy = WebhookAddressPolicy()
        for refused in [
            "169.254.169.254", "169.254.1.1", "fe80::1", "fd00:ec2::254", "100.100.100.200", "192.0.0.192", "0.0.0.0", "::",
            "224.0.0.1", "ff02::1", "255.255.255.255", "::ffff:169.254.169.254",
        ] {
            let address = try #require(IPAddress(refused))
            #expect(policy.problem(with: address) != nil, "\(refused) should be refused")
        }
        for taken in ["127.0.0.1", "::1", "10.0.0.1", "93.184.216.34", "2001:db8::1"] {
            let address = try #require(IPAddress(taken))
            #expect(policy.problem(with: address) == nil, "\(taken) should be taken")
        }
        let custom = WebhookAddressPolicy(allow: [try #require(CIDR("169.254.10.0/24"))], deny: [try #require(CIDR("10.0.0.0/8"))])
        #expect(custom.problem(with: try #require(IPAddress("169.254.10.7"))) == nil)
        #expect(custom.problem(with: try #require(IPAddress("169.254.11.7"))) != nil)
        #expect(custom.problem(with: try #require(IPAddress("10.1.2.3"))) != nil)
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("nonsense") == nil && CIDR("::/129") == nil)
    }

    @Test func theSignatureIsHMACSHA256OverTimestampDotBody() {
        // Known answer, computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec-0123456789abcdef'
        let header = WebhookRunner.signature(secret: "whsec-0123456789abcdef", timestamp: 1_700_000_000, body: Array(#"{"a":1}"#.utf8))
        #expect(header == "t=1700000000,v1=d77c78ac4da074c56908b55eac30358b2a7bfc573be4c76819af5102e8dcf939")
    }

    @Test func aSealedSecretOpensOnlyForItsEndpointAndTheKeyFileIsOwnerOnly() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sealer = WebhookSealer(dataDirectory: directory.path)
        let sealed = try sealer.seal("a secret of sixteen+", id: "W-1")
        #expect(!sealed.contains("a secret"))
        #expect(try sealer.open(sealed, id: "W-1") == "a secret of sixteen+")
        #expect(throws: ServiceError.self) { try sealer.open(sealed, id: "W-2") }
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path + "/webhook.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // Another process (a restart) reads the same key.
        #expect(try WebhookSealer(dataDirectory: directory.path).open(sealed, id: "W-1") == "a secret of sixteen+")
    }
}
