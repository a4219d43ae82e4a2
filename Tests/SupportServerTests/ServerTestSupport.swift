import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LogReplication
import NIOCore
import SupportService
import Synchronization
import Testing

@testable import SupportDomain
@testable import SupportServer

// MARK: - An injectable clock

/// A clock that only moves when the test moves it.
final class ManualClock: Sendable {
    static let start = Timestamp(rfc3339: "2026-03-02T09:00:00.000Z")!
    private let state: Mutex<Timestamp>

    init(_ start: Timestamp = ManualClock.start) { state = Mutex(start) }

    var now: Timestamp { state.withLock { $0 } }
    var read: @Sendable () -> Timestamp { { [self] in self.now } }

    func advance(seconds: Int64) { state.withLock { $0 = Timestamp(milliseconds: $0.milliseconds + seconds * 1000) } }
    func set(_ t: Timestamp) { state.withLock { $0 = t } }
}

func instant(_ text: String) -> Timestamp { Timestamp(rfc3339: text)! }

// MARK: - Principals: one per role

/// The callers of the tests: customers c-1 and c-2, agents alice and bob, a manager, an auditor, an admin.
enum Who: String, CaseIterable, Sendable, CustomStringConvertible {
    case c1 = "c-1", c2 = "c-2", alice, bob, manager, auditor, admin

    var id: String { rawValue }
    var token: String { "token-of-\(rawValue)" }
    var description: String { rawValue }

    var role: Role {
        switch self {
        case .c1, .c2: .customer
        case .alice, .bob: .agent
        case .manager: .manager
        case .auditor: .auditor
        case .admin: .admin
        }
    }

    /// The actor kind its writes are recorded under.
    var kind: String { role.rawValue }

    static let tokens = TokenStore(Who.allCases.map { (token: $0.token, principal: Principal(role: $0.role, id: $0.id)) })

    /// The tokens file `supportd --tokens` reads.
    static var tokensFileJSON: String {
        let items = Who.allCases.map { "{\"token\": \"\($0.token)\", \"role\": \"\($0.role.rawValue)\", \"id\": \"\($0.id)\"}" }
        return "{\"tokens\": [\(items.joined(separator: ", "))]}"
    }
}

// MARK: - Answers

/// One HTTP answer, as bytes.
struct Reply: Sendable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var bytes: [UInt8]

    var text: String { String(decoding: bytes, as: UTF8.self) }
    var json: JSONValue { (try? JSONParser.parse(bytes)) ?? .null }
    var etag: String? { headers[.eTag] }
    var location: String? { headers[.location] }
    var contentType: String? { headers[.contentType] }
    /// The version an `ETag: "<n>"` names.
    var etagVersion: UInt64? {
        guard let e = etag, e.count >= 3, e.hasPrefix("\""), e.hasSuffix("\"") else { return nil }
        return UInt64(e.dropFirst().dropLast())
    }
    var version: Int64? { json["version"]?.intValue }
    var description: String { "\(status.code) \(text.prefix(600))" }
}

extension TestClientProtocol {
    /// Sends one request as `who` (no Authorization header when nil).
    func send(
        _ method: HTTPRequest.Method, _ path: String, as who: Who?, body: String? = nil, raw: [UInt8]? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let who, headers[.authorization] == nil { headers[.authorization] = "Bearer \(who.token)" }
        var buffer: ByteBuffer?
        if let raw { buffer = ByteBuffer(bytes: raw) } else if let body { buffer = ByteBuffer(string: body) }
        if buffer != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: buffer) { response in
            Reply(status: response.status, headers: response.headers, bytes: Array(buffer: response.body))
        }
    }

    func post(_ path: String, as who: Who?, _ body: String, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(.post, path, as: who, body: body, headers: headers)
    }

    func get(_ path: String, as who: Who?, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(.get, path, as: who, headers: headers)
    }

    /// Opens a ticket and returns its id (201 required).
    func open(
        as who: Who = .c1, customer: String = "c-1", subject: String = "Mailbox over quota",
        body: String = "I cannot receive mail since this morning.", product: String = "email",
        priority: String = "normal", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let r = try await post(
            "/v1/tickets", as: who,
            Bodies.open(
                customer: customer, subject: subject, body: body,
                product: product, priority: priority))
        try #require(r.status == .created, "opening failed: \(r)", sourceLocation: sourceLocation)
        return try #require(r.json["id"]?.stringValue, sourceLocation: sourceLocation)
    }

    /// Opens a ticket (version 1) with an agent reply (version 2), so that every command route,
    /// rating included, applies to it; returns its id.
    func openWithAgentReply(
        subject: String = "Mailbox over quota", body: String = "I cannot receive mail since this morning.",
        reply: String = "an agent reply to rate",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let id = try await open(subject: subject, body: body, sourceLocation: sourceLocation)
        try await command(id, "messages", as: .alice, Bodies.message(reply), sourceLocation: sourceLocation)
        return id
    }

    /// Posts a command and requires 200; returns the answer.
    @discardableResult
    func command(
        _ id: String, _ route: String, as who: Who, _ body: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Reply {
        let r = try await post("/v1/tickets/\(id)/\(route)", as: who, body)
        try #require(r.status == .ok, "\(route) as \(who) failed: \(r)", sourceLocation: sourceLocation)
        return r
    }
}

/// The path a command route posts to: `open` is POST /v1/tickets, the others act on ticket `id`.
func commandPath(_ route: String, on id: String) -> String {
    route == "open" ? "/v1/tickets" : "/v1/tickets/\(id)/\(route)"
}

enum Bodies {
    static func open(
        customer: String = "c-1", subject: String = "Mailbox over quota",
        body: String = "I cannot receive mail since this morning.", channel: String = "web",
        product: String = "email", priority: String = "normal"
    ) -> String {
        "{\"customer\": \(quote(customer)), \"subject\": \(quote(subject)), \"body\": \(quote(body)), "
            + "\"channel\": \(quote(channel)), \"product\": \(quote(product)), \"priority\": \(quote(priority))}"
    }

    static func message(_ body: String) -> String { "{\"body\": \(quote(body))}" }

    static func quote(_ s: String) -> String { String(decoding: CanonicalJSON.encode(.string(s)), as: UTF8.self) }
}

// MARK: - An in-process server over a real log

/// A backend on a real LMDB log in a fresh directory, with a manual clock.
struct TestServer: Sendable {
    let backend: SupportBackend
    let clock: ManualClock
    let directory: TemporaryDirectory

    var head: LogHead { get throws { try backend.store.head } }

    func events(_ ticket: String) throws -> [RecordedEvent] { try backend.store.events(inStream: ticket) }
}

/// The limits of in-process tests: the defaults, but no rate limit (tests send hundreds of
/// requests as one principal in a moment; the rate limit has its own tests, `EdgeLimitTests`).
let testLimits = ServerLimits(requestsPerSecond: 0)

/// A monotonic clock (nanoseconds) that only moves when the test moves it (the rate limiter's).
final class ManualMonotonicClock: Sendable {
    private let nanoseconds = Mutex<UInt64>(1_000_000_000)
    var read: @Sendable () -> UInt64 { { [self] in self.nanoseconds.withLock { $0 } } }
    func advance(milliseconds: UInt64) { nanoseconds.withLock { $0 += milliseconds * 1_000_000 } }
}

/// Runs `body` against `buildRouter` over a fresh log; closes the log and deletes the directory after.
func withServer<T: Sendable>(
    clock: ManualClock = ManualClock(), policy: Policy = .default, limits: ServerLimits = testLimits,
    monotonic: ManualMonotonicClock = ManualMonotonicClock(), tokens: TokenStore = Who.tokens,
    faults: StorageFaults = StorageFaults(), mail: MailSettings = .default, customers: CustomerDirectory? = nil,
    replicator: (any LogReplicator)? = nil, cluster: (any ClusterMembership)? = nil,
    sharedAttachments: (any SharedAttachments)? = nil,
    _ body: @Sendable (TestServer, any TestClientProtocol) async throws -> T
) async throws -> T {
    let directory = TemporaryDirectory()
    defer { directory.remove() }
    let backend = try SupportBackend(
        dataDirectory: directory.path, policy: policy, durability: .durable,
        rebuildProjections: false, limits: limits, mail: mail, customers: customers, clock: clock.read,
        monotonicNanoseconds: monotonic.read, faults: faults, replicator: replicator, cluster: cluster,
        sharedAttachments: sharedAttachments)
    // The projections follow the log as `ProjectionService` makes them do in `supportd`.
    let projector = Task { await backend.projections.run() }
    let server = TestServer(backend: backend, clock: clock, directory: directory)
    let app = Application(router: buildRouter(backend: backend, tokens: tokens))
    let result: Result<T, any Error>
    do { result = .success(try await app.test(.router) { client in try await body(server, client) }) } catch { result = .failure(error) }
    projector.cancel()
    backend.close()
    await projector.value
    return try result.get()
}

// MARK: - Expectations

/// An RFC 9457 problem with this status: `application/problem+json`, `type`, `title`, `status`, `detail`.
func expectProblem(
    _ r: Reply, _ status: HTTPResponse.Status, detail fragment: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(r.status == status, "expected \(status.code), got \(r)", sourceLocation: sourceLocation)
    #expect(
        r.contentType == "application/problem+json", "content type \(r.contentType ?? "none") of \(r)",
        sourceLocation: sourceLocation)
    let j = r.json
    #expect(j["type"]?.stringValue?.isEmpty == false, "no type in \(r)", sourceLocation: sourceLocation)
    #expect(j["title"]?.stringValue?.isEmpty == false, "no title in \(r)", sourceLocation: sourceLocation)
    #expect(j["status"]?.intValue == Int64(r.status.code), "status member of \(r)", sourceLocation: sourceLocation)
    let detail = j["detail"]?.stringValue ?? ""
    #expect(!detail.isEmpty, "no detail in \(r)", sourceLocation: sourceLocation)
    if let fragment {
        #expect(detail.contains(fragment), "detail \"\(detail)\" should mention \"\(fragment)\"", sourceLocation: sourceLocation)
    }
    #expect(r.etag == nil, "an error carries no ETag: \(r)", sourceLocation: sourceLocation)
}

/// Runs `body` and expects the log's head not to move.
func expectLogUnchanged(
    _ server: TestServer, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async throws {
    let before = try server.head
    try await body()
    let after = try server.head
    #expect(after == before, "the log moved from \(before) to \(after)", sourceLocation: sourceLocation)
}

/// An output instant: RFC 3339 UTC with `Z` and exactly three fraction digits.
func isOutputInstant(_ v: JSONValue?) -> Bool {
    guard let s = v?.stringValue else { return false }
    let b = Array(s.utf8)
    let pattern = Array("dddd-dd-ddTdd:dd:dd.dddZ".utf8)
    guard b.count == pattern.count else { return false }
    for (c, p) in zip(b, pattern) {
        if p == UInt8(ascii: "d") { if !(48...57).contains(c) { return false } } else if c != p { return false }
    }
    return Timestamp(rfc3339: s) != nil
}

func isOutputInstantOrNull(_ v: JSONValue?) -> Bool { v?.isNull == true || isOutputInstant(v) }

/// The ticket body of SPEC §8, field by field, as `viewer` must get it.
func expectTicketShape(_ j: JSONValue, viewer: Who, sourceLocation: SourceLocation = #_sourceLocation) {
    let required = [
        "id", "version", "status", "priority", "team", "assignee", "customer", "subject", "channel",
        "product", "context", "tags", "openedAt", "openedBy", "mergedInto", "waitingSince", "nextDue",
        "nextDueTarget", "breached", "evaluatedAt", "thread",
    ]
    let keys = Set(j.objectValue?.keys.map { $0 } ?? [])
    for key in required {
        #expect(keys.contains(key), "ticket lacks \"\(key)\": \(j)", sourceLocation: sourceLocation)
    }
    #expect(j["id"]?.stringValue?.hasPrefix("T-") == true, sourceLocation: sourceLocation)
    #expect((j["version"]?.intValue ?? 0) >= 1, sourceLocation: sourceLocation)
    #expect(
        ["new", "open", "pending", "on_hold", "solved", "closed"].contains(j["status"]?.stringValue ?? "?"),
        sourceLocation: sourceLocation)
    #expect(["low", "normal", "high", "urgent"].contains(j["priority"]?.stringValue ?? "?"), sourceLocation: sourceLocation)
    #expect(["email", "web", "phone", "chat", "api"].contains(j["channel"]?.stringValue ?? "?"), sourceLocation: sourceLocation)
    #expect(
        j["team"]?.stringValue != nil && j["customer"]?.stringValue != nil && j["subject"]?.stringValue != nil
            && j["product"]?.stringValue != nil, sourceLocation: sourceLocation)
    #expect(j["assignee"]?.isNull == true || j["assignee"]?.stringValue != nil, sourceLocation: sourceLocation)
    #expect(j["context"]?.isNull == true || j["context"]?.stringValue != nil, sourceLocation: sourceLocation)
    #expect(j["mergedInto"]?.isNull == true || j["mergedInto"]?.stringValue != nil, sourceLocation: sourceLocation)
    let tags = j["tags"]?.arrayValue?.compactMap(\.stringValue)
    #expect(tags != nil, sourceLocation: sourceLocation)
    if let tags { #expect(tags == tags.sorted(by: Identifier.precedes), "tags sorted by code point", sourceLocation: sourceLocation) }
    #expect(isOutputInstant(j["openedAt"]), "openedAt \(String(describing: j["openedAt"]))", sourceLocation: sourceLocation)
    #expect(isOutputInstant(j["evaluatedAt"]), sourceLocation: sourceLocation)
    #expect(isOutputInstantOrNull(j["waitingSince"]), sourceLocation: sourceLocation)
    #expect(isOutputInstantOrNull(j["nextDue"]), sourceLocation: sourceLocation)
    let target = j["nextDueTarget"]
    #expect(
        target?.isNull == true || ["firstReply", "nextReply", "resolution"].contains(target?.stringValue ?? "?"),
        sourceLocation: sourceLocation)
    if case .bool = j["breached"] {} else { Issue.record("breached is not a boolean: \(j)", sourceLocation: sourceLocation) }
    #expect(j["openedBy"]?["kind"]?.stringValue != nil && j["openedBy"]?["id"]?.stringValue != nil, sourceLocation: sourceLocation)
    let thread = j["thread"]?.arrayValue ?? []
    #expect(!thread.isEmpty, "the thread starts with the opening body", sourceLocation: sourceLocation)
    #expect(
        thread.first?["version"]?.intValue == 1 && thread.first?["kind"]?.stringValue == "message",
        sourceLocation: sourceLocation)
    for entry in thread {
        let kind = entry["kind"]?.stringValue
        #expect(kind == "message" || kind == "note", sourceLocation: sourceLocation)
        #expect(
            entry["version"]?.intValue != nil && isOutputInstant(entry["at"]) && entry["body"]?.stringValue != nil,
            "thread entry \(entry)", sourceLocation: sourceLocation)
        #expect(
            entry["author"]?["kind"]?.stringValue != nil && entry["author"]?["id"]?.stringValue != nil,
            sourceLocation: sourceLocation)
        #expect(entry["attachments"]?.arrayValue != nil, "attachments is [] when there are none", sourceLocation: sourceLocation)
        if viewer.role == .customer {
            #expect(kind != "note", "a customer got a note: \(entry)", sourceLocation: sourceLocation)
        }
    }
    let versions = thread.compactMap { $0["version"]?.intValue }
    #expect(versions == versions.sorted(), "thread in version order", sourceLocation: sourceLocation)
}

/// A successful command answer: 200, `ETag: "<version>"` equal to the body's version, the ticket shape.
func expectTicketAnswer(
    _ r: Reply, _ status: HTTPResponse.Status = .ok, viewer: Who,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(r.status == status, "expected \(status.code), got \(r)", sourceLocation: sourceLocation)
    #expect(r.contentType?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    #expect(
        r.etag == "\"\(r.version ?? -1)\"", "ETag \(r.etag ?? "none") vs body version \(r.version ?? -1)",
        sourceLocation: sourceLocation)
    expectTicketShape(r.json, viewer: viewer, sourceLocation: sourceLocation)
}
