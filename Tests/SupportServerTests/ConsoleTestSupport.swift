import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SupportService
import Testing

@testable import SupportDomain
@testable import SupportServer

#if canImport(FoundationXML)
import FoundationXML
#endif

// MARK: - Pages as a tree

/// One element of a page, parsed as XML (the console's pages are polyglot markup).
struct Markup: Sendable, CustomStringConvertible {
    enum Node: Sendable {
        case element(Markup)
        case text(String)
    }

    var name: String
    var attributes: [String: String]
    var children: [Node] = []

    subscript(_ attribute: String) -> String? { attributes[attribute] }
    var id: String? { attributes["id"] }
    var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
    func hasClass(_ c: String) -> Bool { classes.contains(c) }

    /// The text of the element and its descendants.
    var text: String {
        children.map { node in
            switch node {
            case .element(let e): e.text
            case .text(let t): t
            }
        }.joined()
    }

    /// The text with runs of white space made one space, trimmed.
    var flatText: String { text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ") }

    var elements: [Markup] {
        children.compactMap {
            if case .element(let e) = $0 { return e }
            return nil
        }
    }

    /// Every element below this one, in document order.
    var descendants: [Markup] {
        var out: [Markup] = []
        for e in elements {
            out.append(e)
            out += e.descendants
        }
        return out
    }

    func all(_ name: String? = nil, where predicate: (Markup) -> Bool = { _ in true }) -> [Markup] {
        descendants.filter { (name == nil || $0.name == name) && predicate($0) }
    }

    func first(_ name: String? = nil, where predicate: (Markup) -> Bool = { _ in true }) -> Markup? {
        for e in elements {
            if (name == nil || e.name == name) && predicate(e) { return e }
            if let found = e.first(name, where: predicate) { return found }
        }
        return nil
    }

    func element(id: String) -> Markup? { first { $0.id == id } }

    var description: String { "<\(name) \(attributes)>\(flatText.prefix(200))" }

    /// Parses `html` (the doctype dropped); the failure as a sentence when it is not well-formed.
    static func parse(_ html: String) -> Result<Markup, MarkupFailure> {
        let builder = MarkupBuilder()
        let xml = html.replacingOccurrences(of: "<!DOCTYPE html>", with: "")
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let why = parser.parserError.map { "\($0)" } ?? "unknown"
            return .failure(MarkupFailure(detail: "\(why) at line \(parser.lineNumber), column \(parser.columnNumber)"))
        }
        return .success(root)
    }
}

struct MarkupFailure: Error, Sendable, CustomStringConvertible {
    var detail: String
    var description: String { detail }
}

private final class MarkupBuilder: NSObject, XMLParserDelegate {
    var stack: [Markup] = []
    var root: Markup?

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        stack.append(Markup(name: name, attributes: attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].children.append(.text(string))
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard let done = stack.popLast() else { return }
        if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(.element(done)) }
    }
}

// MARK: - Forms as a browser submits them

/// A form of a page with the values a browser would send as rendered (hidden and text inputs,
/// checked boxes and radios, textareas, the selected option); tests change fields and submit.
struct ConsoleForm: Sendable, CustomStringConvertible {
    struct Field: Sendable, Equatable {
        var name: String
        var value: String
    }

    var id: String?
    var action: String
    var method: String
    var fields: [Field]
    /// The form element itself.
    var element: Markup

    init(_ form: Markup) {
        element = form
        id = form.id
        action = form["action"] ?? ""
        method = (form["method"] ?? "get").lowercased()
        var fields: [Field] = []
        for e in form.descendants {
            guard let name = e["name"], !name.isEmpty else { continue }
            switch e.name {
            case "input":
                let type = (e["type"] ?? "text").lowercased()
                if type == "submit" || type == "button" || type == "reset" || type == "image" || type == "file" { continue }
                if type == "checkbox" || type == "radio" {
                    if e["checked"] != nil { fields.append(Field(name: name, value: e["value"] ?? "on")) }
                    continue
                }
                fields.append(Field(name: name, value: e["value"] ?? ""))
            case "textarea":
                fields.append(Field(name: name, value: e.text))
            case "select":
                let options = e.all("option")
                let chosen = options.first { $0["selected"] != nil } ?? options.first
                fields.append(Field(name: name, value: chosen.map { $0["value"] ?? $0.text } ?? ""))
            default:
                continue
            }
        }
        self.fields = fields
    }

    func value(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    /// The form with `name` set to `value` (the first such field replaced, or one added).
    func setting(_ name: String, _ value: String) -> ConsoleForm {
        var copy = self
        if let k = copy.fields.firstIndex(where: { $0.name == name }) {
            copy.fields[k].value = value
        } else {
            copy.fields.append(Field(name: name, value: value))
        }
        return copy
    }

    func setting(_ changes: KeyValuePairs<String, String>) -> ConsoleForm {
        var copy = self
        for (name, value) in changes { copy = copy.setting(name, value) }
        return copy
    }

    /// The form with one more `name=value` (a second checkbox of the same name).
    func adding(_ name: String, _ value: String) -> ConsoleForm {
        var copy = self
        copy.fields.append(Field(name: name, value: value))
        return copy
    }

    func removing(_ name: String) -> ConsoleForm {
        var copy = self
        copy.fields.removeAll { $0.name == name }
        return copy
    }

    var encoded: String { ConsoleForm.encode(fields.map { ($0.name, $0.value) }) }

    /// `application/x-www-form-urlencoded`, as a browser writes it.
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(formEscape($0.0))=\(formEscape($0.1))" }.joined(separator: "&")
    }

    static func formEscape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "*"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    var description: String { "form \(id ?? "?") \(method) \(action) \(fields.map { "\($0.name)=\($0.value.prefix(40))" })" }
}

// MARK: - A page

/// An answer of the console, parsed.
struct ConsolePage: Sendable, CustomStringConvertible {
    let reply: Reply
    let root: Markup?
    let failure: String?

    init(_ reply: Reply) {
        self.reply = reply
        if reply.contentType?.hasPrefix("text/html") == true {
            switch Markup.parse(reply.text) {
            case .success(let root):
                self.root = root
                failure = nil
            case .failure(let f):
                root = nil
                failure = f.detail
            }
        } else {
            root = nil
            failure = reply.bytes.isEmpty ? nil : "not HTML: \(reply.contentType ?? "no content type")"
        }
    }

    var status: HTTPResponse.Status { reply.status }
    var location: String? { reply.location }
    var text: String { reply.text }

    func element(id: String) -> Markup? { root?.element(id: id) }
    func all(_ name: String? = nil, where predicate: (Markup) -> Bool = { _ in true }) -> [Markup] {
        root?.all(name, where: predicate) ?? []
    }

    func form(id: String) -> ConsoleForm? { element(id: id).flatMap { $0.name == "form" ? ConsoleForm($0) : nil } }
    var forms: [ConsoleForm] { all("form").map(ConsoleForm.init) }
    /// The forms that post (every one but find and the sign-out).
    var writeForms: [ConsoleForm] { forms.filter { $0.method == "post" && !$0.action.hasSuffix("/logout") } }

    /// The `data-ticket` of each row of a table, in order.
    func ticketRows(_ table: String) -> [String] {
        element(id: table)?.all("tr").compactMap { $0["data-ticket"] } ?? []
    }

    func row(_ table: String, ticket: String) -> Markup? {
        element(id: table)?.first("tr") { $0["data-ticket"] == ticket }
    }

    /// The session's CSRF token as the page carries it (the sign-out form has it).
    var csrf: String? { all("input") { $0["name"] == "csrf" }.first?["value"] }

    /// The `<dd>` after the `<dt>` saying `term` in the ticket's state.
    func state(_ term: String) -> String? {
        guard let dl = element(id: "ticket-state")?.first("dl") else { return nil }
        var take = false
        for e in dl.descendants {
            if e.name == "dt" { take = e.flatText == term }
            if e.name == "dd", take { return e.flatText }
        }
        return nil
    }

    var description: String { "\(reply.status.code) \(reply.location.map { "-> \($0) " } ?? "")\(reply.text.prefix(800))" }
}

// MARK: - Signing in and posting

/// A console session: the cookie's id and the CSRF token its forms carry.
struct ConsoleSession: Sendable {
    var who: Who
    var id: String
    var csrf: String
    var cookie: HTTPFields { [.cookie: "ledgerdesk_session=\(id)"] }
}

extension HTTPField.Name {
    static let fetchSite = Self("Sec-Fetch-Site")!
    static let csp = Self("Content-Security-Policy")!
}

extension TestClientProtocol {
    /// Posts the console's sign-in form.
    func consoleSignIn(token: String, next: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var pairs = [("token", token)]
        if let next { pairs.append(("next", next)) }
        return try await consolePost("/console/login", body: ConsoleForm.encode(pairs), session: nil, headers: extra)
    }

    /// Signs in to the console as `who`; the session id and its CSRF token (read from My queue).
    func consoleSession(_ who: Who, sourceLocation: SourceLocation = #_sourceLocation) async throws -> ConsoleSession {
        let r = try await consoleSignIn(token: who.token)
        try #require(r.status == .seeOther, "console sign-in as \(who) failed: \(r)", sourceLocation: sourceLocation)
        let id = try #require(r.sessionCookie, "no session cookie: \(r.headers)", sourceLocation: sourceLocation)
        let page = try await consolePage("/console/queue", cookie: id)
        try #require(page.status == .ok, "My queue as \(who): \(page)", sourceLocation: sourceLocation)
        let csrf = try #require(page.csrf, "no csrf field on My queue", sourceLocation: sourceLocation)
        return ConsoleSession(who: who, id: id, csrf: csrf)
    }

    func consolePage(_ path: String, cookie: String?, headers extra: HTTPFields = [:]) async throws -> ConsolePage {
        var headers = extra
        if let cookie { headers[.cookie] = "ledgerdesk_session=\(cookie)" }
        return ConsolePage(try await send(.get, path, as: nil, headers: headers))
    }

    func consolePage(_ path: String, _ session: ConsoleSession?) async throws -> ConsolePage {
        try await consolePage(path, cookie: session?.id)
    }

    /// Posts a URL-encoded body to a console path, as a browser posting a form of this site.
    func consolePost(_ path: String, body: String, session: ConsoleSession?, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let session, headers[.cookie] == nil { headers[.cookie] = "ledgerdesk_session=\(session.id)" }
        return try await send(.post, path, as: nil, body: body, headers: headers)
    }

    func consolePost(_ path: String, session: ConsoleSession?, fields: [(String, String)], headers: HTTPFields = [:]) async throws -> Reply
    {
        try await consolePost(path, body: ConsoleForm.encode(fields), session: session, headers: headers)
    }

    /// Submits a rendered form (its action and fields as they are now).
    func submit(_ form: ConsoleForm, _ session: ConsoleSession, headers: HTTPFields = [:]) async throws -> Reply {
        try await consolePost(form.action, body: form.encoded, session: session, headers: headers)
    }

    /// The ticket page as `session` sees it (200 required).
    func ticketPage(_ id: String, _ session: ConsoleSession, sourceLocation: SourceLocation = #_sourceLocation) async throws -> ConsolePage
    {
        let page = try await consolePage("/console/tickets/\(id)", session)
        try #require(page.status == .ok, "ticket page \(id): \(page)", sourceLocation: sourceLocation)
        return page
    }

    /// One form of the ticket page as rendered now (required).
    func ticketForm(
        _ id: String, _ form: String, _ session: ConsoleSession, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ConsoleForm {
        let page = try await ticketPage(id, session, sourceLocation: sourceLocation)
        return try #require(page.form(id: form), "no \(form) on \(id): \(page.forms.map(\.id))", sourceLocation: sourceLocation)
    }

    /// Assigns a ticket through the API (200 required).
    func assignByAPI(_ id: String, to agent: String?, as who: Who = .alice, sourceLocation: SourceLocation = #_sourceLocation) async throws
    {
        let body = agent.map { "{\"agent\": \(Bodies.quote($0))}" } ?? "{\"agent\": null}"
        try await command(id, "assign", as: who, body, sourceLocation: sourceLocation)
    }
}

// MARK: - Expectations

/// The answer of a console page: HTML (never a problem+json), well-formed, with the security headers.
func expectConsoleHTML(_ page: ConsolePage, _ status: HTTPResponse.Status? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    if let status { #expect(page.status == status, "expected \(status.code): \(page)", sourceLocation: sourceLocation) }
    let r = page.reply
    #expect(r.contentType == "text/html; charset=utf-8", "content type \(r.contentType ?? "none"): \(page)", sourceLocation: sourceLocation)
    #expect(page.failure == nil, "not well-formed: \(page.failure ?? "")", sourceLocation: sourceLocation)
    expectSecurityHeaders(r, sourceLocation: sourceLocation)
    #expect(!r.text.contains("\"detail\":") && !r.text.hasPrefix("{"), "a raw problem in a page: \(page)", sourceLocation: sourceLocation)
}

/// The web pages' headers: a CSP that loads nothing from elsewhere and runs no inline script or
/// style, no caching, no sniffing, no framing.
func expectSecurityHeaders(_ r: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
    let csp = r.headers[.csp] ?? ""
    #expect(csp.contains("default-src 'none'"), "CSP \(csp)", sourceLocation: sourceLocation)
    #expect(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"), "CSP \(csp)", sourceLocation: sourceLocation)
    #expect(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains("*"), "CSP \(csp)", sourceLocation: sourceLocation)
    #expect(r.headers[.cacheControl] == "no-store", "Cache-Control \(r.headers[.cacheControl] ?? "none")", sourceLocation: sourceLocation)
    #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", sourceLocation: sourceLocation)
}

/// A 303 to `location` (or a location with that prefix when `prefix`).
func expectRedirect(_ r: Reply, to location: String, prefix: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == .seeOther, "expected 303 to \(location): \(r)", sourceLocation: sourceLocation)
    if prefix {
        #expect(r.location?.hasPrefix(location) == true, "location \(r.location ?? "none")", sourceLocation: sourceLocation)
    } else {
        #expect(r.location == location, "location \(r.location ?? "none")", sourceLocation: sourceLocation)
    }
}

// MARK: - The log

/// What a test compares of an event: everything but the log's own bookkeeping (seq, hashes).
struct EventFacts: Sendable, Equatable, CustomStringConvertible {
    var stream: String
    var version: UInt64
    var type: String
    var actor: EventActor
    var data: JSONValue
    var at: Timestamp

    init(_ e: RecordedEvent) {
        stream = e.stream
        version = e.version
        type = e.type
        actor = e.actor
        data = e.data
        at = e.at
    }

    var description: String {
        "\(stream)@\(version) \(type) by \(actor.kind):\(actor.id) \(String(decoding: CanonicalJSON.encode(data), as: UTF8.self)) at \(at)"
    }
}

extension TestServer {
    /// Every event of the log, in order.
    func allEvents() throws -> [EventFacts] { try backend.store.events(after: 0, limit: 1_000_000).map(EventFacts.init) }

    /// The events appended after `head`.
    func events(after head: LogHead) throws -> [EventFacts] {
        try backend.store.events(after: head.seq, limit: 1_000_000).map(EventFacts.init)
    }

    /// Records that the agent message at `reply` went out by mail, as the mail outbox does (as `system`).
    func deliver(_ ticket: String, reply: UInt64, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let current = try #require(try backend.commands.load(ticket), sourceLocation: sourceLocation)
        let event = TicketEvent.delivered(.init(reply: reply, to: "customer@customer.test", messageId: "<ld.\(reply)@desk.test>"))
        _ = try await backend.commands.run(
            TicketCommand(event: event, actor: SupportActor(kind: .system, id: "mail-outbox")), on: current,
            principal: Principal(role: .admin, id: "mail-outbox"), idempotency: nil, expectedVersion: nil)
    }
}

/// Runs `body` and expects the log not to move; returns what `body` returns.
@discardableResult
func expectNothingAppended<T: Sendable>(
    _ server: TestServer, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async throws -> T {
    let before = try server.head
    let result = try await body()
    let after = try server.head
    #expect(after.seq == before.seq, "\(what): the log moved from \(before.seq) to \(after.seq)", sourceLocation: sourceLocation)
    return result
}

// MARK: - One action, through the console or through the API

/// What an agent does on the desk, as a console form or as the API request for the same action.
enum DeskAction: Sendable, CustomStringConvertible {
    case reply(String, by: Who, body: String, status: String)
    case note(String, by: Who, body: String)
    /// `agent` "" unassigns; `team` "" leaves the team.
    case assign(String, by: Who, agent: String, team: String)
    case escalate(String, by: Who, team: String, reason: String)
    case priority(String, by: Who, priority: String)
    case status(String, by: Who, status: String)
    case tags(String, by: Who, add: [String], remove: [String], separator: String)
    case merge(String, by: Who, into: String)
    case claim(team: String, by: Who)

    var by: Who {
        switch self {
        case .reply(_, let by, _, _), .note(_, let by, _), .assign(_, let by, _, _), .escalate(_, let by, _, _),
            .priority(_, let by, _), .status(_, let by, _), .tags(_, let by, _, _, _), .merge(_, let by, _), .claim(_, let by):
            by
        }
    }

    var ticket: String? {
        switch self {
        case .reply(let t, _, _, _), .note(let t, _, _), .assign(let t, _, _, _), .escalate(let t, _, _, _), .priority(let t, _, _),
            .status(let t, _, _), .tags(let t, _, _, _, _), .merge(let t, _, _):
            t
        case .claim: nil
        }
    }

    /// The console's form action and form id (`form-<action>`).
    var formAction: String {
        switch self {
        case .reply: "reply"
        case .note: "note"
        case .assign: "assign"
        case .escalate: "escalate"
        case .priority: "priority"
        case .status: "status"
        case .tags: "tags"
        case .merge: "merge"
        case .claim: "claim"
        }
    }

    /// The fields the agent fills in on the form.
    var formFields: [(String, String)] {
        switch self {
        case .reply(_, _, let body, let status): [("body", body), ("status", status)]
        case .note(_, _, let body): [("body", body)]
        case .assign(_, _, let agent, let team): [("agent", agent), ("team", team)]
        case .escalate(_, _, let team, let reason): [("team", team), ("reason", reason)]
        case .priority(_, _, let p): [("priority", p)]
        case .status(_, _, let s): [("status", s)]
        case .tags(_, _, let add, let remove, let sep): [("add", add.joined(separator: sep)), ("remove", remove.joined(separator: sep))]
        case .merge(_, _, let into): [("into", into)]
        case .claim: []
        }
    }

    /// The API request for the same action: path and JSON body (nil for the claim).
    var api: (path: String, body: String?) {
        func q(_ s: String) -> String { Bodies.quote(s) }
        switch self {
        case .reply(let t, _, let body, let status):
            return (
                "/v1/tickets/\(t)/messages", status.isEmpty ? "{\"body\": \(q(body))}" : "{\"body\": \(q(body)), \"status\": \(q(status))}"
            )
        case .note(let t, _, let body):
            return ("/v1/tickets/\(t)/notes", "{\"body\": \(q(body))}")
        case .assign(let t, _, let agent, let team):
            var members = ["\"agent\": \(agent.isEmpty ? "null" : q(agent))"]
            if !team.isEmpty { members.append("\"team\": \(q(team))") }
            return ("/v1/tickets/\(t)/assign", "{\(members.joined(separator: ", "))}")
        case .escalate(let t, _, let team, let reason):
            return ("/v1/tickets/\(t)/escalate", "{\"team\": \(q(team)), \"reason\": \(q(reason))}")
        case .priority(let t, _, let p):
            return ("/v1/tickets/\(t)/priority", "{\"priority\": \(q(p))}")
        case .status(let t, _, let s):
            return ("/v1/tickets/\(t)/status", "{\"status\": \(q(s))}")
        case .tags(let t, _, let add, let remove, _):
            var members: [String] = []
            if !add.isEmpty { members.append("\"added\": [\(add.map(q).joined(separator: ", "))]") }
            if !remove.isEmpty { members.append("\"removed\": [\(remove.map(q).joined(separator: ", "))]") }
            return ("/v1/tickets/\(t)/tags", "{\(members.joined(separator: ", "))}")
        case .merge(let t, _, let into):
            return ("/v1/tickets/\(t)/merge", "{\"into\": \(q(into))}")
        case .claim(let team, _):
            return ("/v1/queues/\(team)/claim", nil)
        }
    }

    var description: String {
        "\(by) \(formAction) \(ticket ?? "") \(formFields.map { "\($0.0)=\($0.1.prefix(30))" }.joined(separator: " "))"
    }
}

/// How an action ended, in terms both edges share.
enum DeskOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Applied (API 200; console 303 to the ticket).
    case done
    /// A claim on an empty queue (API 204; console 303 to the queue with `done=empty`).
    case empty
    /// Refused with this status (the API's problem, the console's page).
    case refused(Int)

    var description: String {
        switch self {
        case .done: "done"
        case .empty: "empty"
        case .refused(let code): "refused \(code)"
        }
    }
}

extension TestClientProtocol {
    /// Performs `action` through the API.
    func perform(api action: DeskAction) async throws -> DeskOutcome {
        let (path, body) = action.api
        let r = try await send(.post, path, as: action.by, body: body)
        switch r.status {
        case .ok: return .done
        case .noContent: return .empty
        default: return .refused(Int(r.status.code))
        }
    }

    /// Performs `action` through the console as a browser would: renders the page, fills in the
    /// form and submits it. A ticket page without the form (a closed ticket) is posted to
    /// directly with the session's token, a fresh key and the ticket's version.
    func perform(
        console action: DeskAction, _ session: ConsoleSession, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws
        -> DeskOutcome
    {
        let r: Reply
        if case .claim(let team, _) = action {
            let page = try await consolePage("/console/queues/\(team)", session)
            let form = try #require(
                page.forms.first { $0.action == "/console/queues/\(team)/claim" }, "no Take next form on \(team): \(page)",
                sourceLocation: sourceLocation)
            r = try await submit(form, session)
        } else {
            let ticket = try #require(action.ticket)
            let page = try await consolePage("/console/tickets/\(ticket)", session)
            try #require(page.status == .ok, "ticket page \(ticket): \(page)", sourceLocation: sourceLocation)
            var form: ConsoleForm
            if let rendered = page.form(id: "form-\(action.formAction)") {
                form = rendered
            } else {
                let version = try #require(try await get("/v1/tickets/\(ticket)", as: .alice).version)
                let bare = Markup(
                    name: "form", attributes: ["action": "/console/tickets/\(ticket)/\(action.formAction)", "method": "post"])
                form = ConsoleForm(bare).setting(["csrf": session.csrf, "key": UUID().uuidString, "version": "\(version)"])
            }
            for (name, value) in action.formFields { form = form.setting(name, value) }
            r = try await submit(form, session)
        }
        if r.status == .seeOther {
            if r.location?.contains("done=empty") == true { return .empty }
            if r.location?.hasPrefix("/console/tickets/") == true { return .done }
        }
        let page = ConsolePage(r)
        expectConsoleHTML(page, sourceLocation: sourceLocation)
        return .refused(Int(r.status.code))
    }
}

/// The desk every shift starts from: three tickets opened by customers through the API.
/// T-1 (c-1, email, normal), T-2 (c-2, email, urgent), T-3 (c-1, hosting, high).
func openDesk(_ client: any TestClientProtocol) async throws {
    _ = try await client.open(as: .c1, customer: "c-1", subject: "Mailbox over quota", product: "email", priority: "normal")
    _ = try await client.open(as: .c2, customer: "c-2", subject: "Cannot send mail", product: "email", priority: "urgent")
    _ = try await client.open(as: .c1, customer: "c-1", subject: "VPS unreachable", product: "hosting", priority: "high")
}

/// Runs `actions` on a fresh desk, through the console or through the API; each action's outcome and the whole log.
func runShift(_ actions: [DeskAction], throughConsole: Bool) async throws -> (outcomes: [DeskOutcome], log: [EventFacts]) {
    try await withServer { server, client in
        try await openDesk(client)
        var sessions: [Who: ConsoleSession] = [:]
        if throughConsole {
            for who in Set(actions.map(\.by)) { sessions[who] = try await client.consoleSession(who) }
        }
        var outcomes: [DeskOutcome] = []
        for action in actions {
            if throughConsole, let session = sessions[action.by] {
                outcomes.append(try await client.perform(console: action, session))
            } else {
                outcomes.append(try await client.perform(api: action))
            }
        }
        return (outcomes, try server.allEvents())
    }
}

/// A random shift of `count` actions by alice and bob on T-1...T-3 (seeded, so a failure replays).
func randomShift(seed: UInt64, count: Int) -> [DeskAction] {
    var random = SeededRandom(seed: seed)
    let tickets = ["T-1", "T-2", "T-3"]
    let bodies = [
        "Thanks, I am looking into it.", "Line one\nline two", "Prix: 12 € <b>bold</b> & \"quoted\"", "  padded  ", "ok",
    ]
    let statuses = ["", "open", "pending", "on_hold", "solved", "closed"]
    let tags = ["vip", "refund", "outage", "über"]
    var actions: [DeskAction] = []
    for _ in 0..<count {
        let who: Who = Bool.random(using: &random) ? .alice : .bob
        let t = tickets.randomElement(using: &random)!
        let body = bodies.randomElement(using: &random)!
        switch Int.random(in: 0..<20, using: &random) {
        case 0..<4: actions.append(.reply(t, by: who, body: body, status: statuses.randomElement(using: &random)!))
        case 4..<6: actions.append(.note(t, by: who, body: body))
        case 6..<9:
            actions.append(
                .assign(
                    t, by: who, agent: ["alice", "bob", ""].randomElement(using: &random)!,
                    team: ["", "", "billing"].randomElement(using: &random)!))
        case 9: actions.append(.escalate(t, by: who, team: ["billing", "hosting"].randomElement(using: &random)!, reason: body))
        case 10..<12: actions.append(.priority(t, by: who, priority: ["low", "normal", "high", "urgent"].randomElement(using: &random)!))
        case 12..<15: actions.append(.status(t, by: who, status: statuses.dropFirst().randomElement(using: &random)!))
        case 15..<17:
            var add = tags.filter { _ in Bool.random(using: &random) }
            let remove = tags.filter { _ in Int.random(in: 0..<3, using: &random) == 0 }
            if add.isEmpty && remove.isEmpty { add = ["vip"] }
            actions.append(.tags(t, by: who, add: add, remove: remove, separator: Bool.random(using: &random) ? " " : ", "))
        case 17: actions.append(.merge(t, by: who, into: tickets.randomElement(using: &random)!))
        default: actions.append(.claim(team: ["email", "hosting", "billing"].randomElement(using: &random)!, by: who))
        }
    }
    return actions
}
