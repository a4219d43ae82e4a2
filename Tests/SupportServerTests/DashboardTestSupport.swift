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

// MARK: - A server with a known event set

/// The dashboard tests' clock: Friday 20 March 2026, 12:00 UTC (13:00 in Paris), in the third
/// of the weeks starting Monday 2, 9 and 16 March (Paris is UTC+1 until 29 March).
let dashboardNow = instant("2026-03-20T12:00:00.000Z")
let weekA = "2026-03-02T00:00:00+01:00"
let weekB = "2026-03-09T00:00:00+01:00"
let weekC = "2026-03-16T00:00:00+01:00"

/// Runs `body` against the full router over a fresh log holding `events` (imported through
/// ``LogImporter``, so every rule applies), under the default policy with `capacity`.
func withDashboard<T: Sendable>(
    events: [ImportLine] = DashboardFixture.events, capacity: Int = 1,
    _ body: @Sendable (TestServer, any TestClientProtocol) async throws -> T
) async throws -> T {
    let directory = TemporaryDirectory()
    defer { directory.remove() }
    let clock = ManualClock(dashboardNow)
    let policy = try Policy.parse(jsonData: Data("{\"capacity\": \(capacity)}".utf8))
    let backend = try SupportBackend(
        dataDirectory: directory.path, policy: policy, durability: .durable, limits: testLimits, clock: clock.read)
    defer { backend.close() }
    let server = TestServer(backend: backend, clock: clock, directory: directory)
    // The projection service follows the log while the test runs.
    let app = Application(
        router: buildRouter(backend: backend, tokens: Who.tokens),
        services: [ProjectionService(backend: backend)])
    return try await app.test(.router) { client in
        if !events.isEmpty {
            let summary = try await LogImporter(backend: backend).run(events)
            await backend.projections.waitUntilApplied(summary.lastSeq)
        }
        return try await body(server, client)
    }
}

/// One line of an import.
func line(_ ticket: String, _ type: String, _ at: String, _ kind: String, _ id: String, _ data: [String: JSONValue]) -> ImportLine {
    ImportLine(ticket: ticket, type: type, at: instant(at), actor: EventActor(kind: kind, id: id), data: .object(data))
}

func opened(_ ticket: String, _ at: String, customer: String, team: String, priority: String = "urgent") -> ImportLine {
    line(
        ticket, "ticket.opened", at, "customer", customer,
        [
            "customer": .string(customer), "subject": .string("Subject of \(ticket)"), "body": .string("Help"),
            "channel": .string("web"), "product": .string(team), "priority": .string(priority),
        ])
}

func reply(_ ticket: String, _ at: String, agent: String) -> ImportLine {
    line(ticket, "message.posted", at, "agent", agent, ["body": .string("Answer")])
}

func assign(_ ticket: String, _ at: String, agent: String) -> ImportLine {
    line(ticket, "ticket.assigned", at, "agent", agent, ["agent": .string(agent)])
}

func solve(_ ticket: String, _ at: String, agent: String) -> ImportLine {
    line(ticket, "status.changed", at, "agent", agent, ["status": .string("solved")])
}

func rate(_ ticket: String, _ at: String, customer: String, score: Int) -> ImportLine {
    line(ticket, "satisfaction.rated", at, "customer", customer, ["score": .int(Int64(score))])
}

/// Five urgent tickets (calendar-clock targets: first reply 1 h, resolution 8 h) in teams
/// `email` and `hosting`, replied to by alice and bob, rated in three weeks:
///
/// | ticket | team | opened (UTC) | first reply | resolution | rating |
/// | --- | --- | --- | --- | --- | --- |
/// | T-1 | email | Mon 2 Mar 09:00 | alice 30 min | solved 10:00: 1 h | 5 on 3 Mar (week A) |
/// | T-2 | email | Tue 3 Mar 09:00 | bob 2 h (breached) | open (breached) | 2 on 4 Mar (A) |
/// | T-3 | hosting | Tue 10 Mar 09:00 | alice 15 min | open (breached) | 4 on 11 Mar (B) |
/// | T-4 | email | Tue 10 Mar 10:00 | alice 45 min | solved Thu 12 Mar 12:00: 50 h, 24 business h | 4 on 12 Mar (B) |
/// | T-5 | email | Mon 16 Mar 08:00 | bob 20 min | open (breached) | 3 on 17 Mar (C) |
enum DashboardFixture {
    static let events: [ImportLine] = [
        opened("T-1", "2026-03-02T09:00:00Z", customer: "c-1", team: "email"),
        assign("T-1", "2026-03-02T09:01:00Z", agent: "alice"),
        reply("T-1", "2026-03-02T09:30:00Z", agent: "alice"),
        solve("T-1", "2026-03-02T10:00:00Z", agent: "alice"),
        rate("T-1", "2026-03-03T08:00:00Z", customer: "c-1", score: 5),

        opened("T-2", "2026-03-03T09:00:00Z", customer: "c-2", team: "email"),
        assign("T-2", "2026-03-03T09:05:00Z", agent: "bob"),
        reply("T-2", "2026-03-03T11:00:00Z", agent: "bob"),
        rate("T-2", "2026-03-04T10:00:00Z", customer: "c-2", score: 2),

        opened("T-3", "2026-03-10T09:00:00Z", customer: "c-1", team: "hosting"),
        assign("T-3", "2026-03-10T09:01:00Z", agent: "alice"),
        reply("T-3", "2026-03-10T09:15:00Z", agent: "alice"),
        opened("T-4", "2026-03-10T10:00:00Z", customer: "c-2", team: "email"),
        assign("T-4", "2026-03-10T10:01:00Z", agent: "alice"),
        reply("T-4", "2026-03-10T10:45:00Z", agent: "alice"),
        rate("T-3", "2026-03-11T09:00:00Z", customer: "c-1", score: 4),
        rate("T-4", "2026-03-12T10:00:00Z", customer: "c-2", score: 4),
        solve("T-4", "2026-03-12T12:00:00Z", agent: "alice"),

        opened("T-5", "2026-03-16T08:00:00Z", customer: "c-1", team: "email"),
        assign("T-5", "2026-03-16T08:01:00Z", agent: "bob"),
        reply("T-5", "2026-03-16T08:20:00Z", agent: "bob"),
        rate("T-5", "2026-03-17T09:00:00Z", customer: "c-1", score: 3),
    ]
}

// MARK: - Signing in

extension HTTPField.Name {
    static let dashboardOrigin = Self("Origin")!
}

extension Reply {
    /// The session id of a `Set-Cookie: ledgerdesk_session=...`, if any.
    var sessionCookie: String? {
        for value in headers[values: .setCookie] {
            guard value.hasPrefix("ledgerdesk_session=") else { continue }
            return String(value.dropFirst("ledgerdesk_session=".count).prefix { $0 != ";" })
        }
        return nil
    }
}

extension TestClientProtocol {
    /// Posts the sign-in form with `token`.
    func signIn(token: String, next: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        var body = "token=\(DashboardHTML.percentEncode(token))"
        if let next { body += "&next=\(DashboardHTML.percentEncode(next))" }
        return try await send(.post, "/login", as: nil, body: body, headers: headers)
    }

    /// Signs in as `who` and returns the session id (a 303 with the cookie is required).
    func session(_ who: Who = .manager, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let r = try await signIn(token: who.token)
        try #require(r.status == .seeOther, "sign-in as \(who) failed: \(r)", sourceLocation: sourceLocation)
        return try #require(r.sessionCookie, "no session cookie: \(r.headers)", sourceLocation: sourceLocation)
    }

    /// GETs a dashboard path with a session cookie (none when nil).
    func page(_ path: String, session: String?) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let session { headers[.cookie] = "ledgerdesk_session=\(session)" }
        return try await send(.get, path, as: nil, headers: headers)
    }
}

// MARK: - Reading the pages

/// One element of a page that carries chart data, with the chart and layout it belongs to.
struct ChartMark: Hashable, CustomStringConvertible {
    var chart: String
    var layout: String
    var element: String
    var series: String
    var category: String
    var value: String
    var count: String?

    var description: String { "\(chart)/\(layout) \(element) \(series) @ \(category) = \(value) (\(count ?? "-"))" }
}

/// What an XML parse of a page found: the chart marks, count labels, axis titles, every
/// link and form target, and the text of each chart.
final class PageScan: NSObject, XMLParserDelegate {
    var marks: [ChartMark] = []
    /// Count label texts per chart and layout.
    var countLabels: [String: [String]] = [:]
    var axisTitles: [String: [String]] = [:]
    var urls: [String] = []
    var metaRefresh: String?
    var options: [String: [String]] = [:]
    var charts: [String] = []
    var failure: String?

    private var chart: String?
    private var layout: String?
    private var textTarget: (kind: String, key: String)?
    private var text = ""
    private var select: String?

    static func parse(_ html: String) -> PageScan {
        let scan = PageScan()
        // The page is polyglot markup; the doctype is the only part an XML parser does not need.
        let xml = html.replacingOccurrences(of: "<!DOCTYPE html>", with: "")
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = scan
        if !parser.parse() {
            scan.failure = "\(parser.parserError.map { "\($0)" } ?? "unknown") at line \(parser.lineNumber), column \(parser.columnNumber)"
        }
        return scan
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        for key in ["href", "action", "src"] { if let url = attributes[key] { urls.append(url) } }
        if name == "meta", attributes["http-equiv"] == "refresh" { metaRefresh = attributes["content"] }
        if name == "select" { select = attributes["name"] }
        if name == "option", let select { options[select, default: []].append(attributes["value"] ?? "") }
        if name == "svg" {
            chart = attributes["data-chart"]
            layout = (attributes["class"] ?? "").split(separator: " ").first { $0.hasPrefix("chart-") }.map { String($0.dropFirst(6)) }
            if let chart, layout == "wide" { charts.append(chart) }
        }
        guard let chart, let layout else { return }
        let key = "\(chart)/\(layout)"
        if let series = attributes["data-series"], let value = attributes["data-value"], name != "path" {
            marks.append(
                ChartMark(
                    chart: chart, layout: layout, element: name, series: series,
                    category: attributes["data-bucket"] ?? attributes["data-category"] ?? "?",
                    value: value, count: attributes["data-count"]))
        }
        if name == "text", attributes["class"] == "count" { textTarget = ("count", key); text = "" }
        if name == "text", attributes["class"] == "axis-title" { textTarget = ("axis", key); text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if textTarget != nil { text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "select" { select = nil }
        if name == "svg" {
            chart = nil
            layout = nil
        }
        if name == "text", let target = textTarget {
            if target.kind == "count" {
                countLabels[target.key, default: []].append(text)
            } else {
                axisTitles[target.key, default: []].append(text)
            }
            textTarget = nil
        }
    }

    /// The marks of one chart in one layout, as (series, category, value, count) tuples.
    func points(_ chart: String, layout: String = "wide") -> Set<ChartMark> {
        Set(
            marks.filter { $0.chart == chart && $0.layout == layout }.map {
                var m = $0
                m.layout = ""
                return m
            })
    }
}

/// The mark a test expects.
func mark(_ chart: String, _ element: String, _ series: String, _ category: String, _ value: String, _ count: String?) -> ChartMark {
    ChartMark(chart: chart, layout: "", element: element, series: series, category: category, value: value, count: count)
}
