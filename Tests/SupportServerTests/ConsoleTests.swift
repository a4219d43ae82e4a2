import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportDomain
@testable import SupportServer

/// The console's pages, one for each kind of page the contract names (with a ticket T-1).
let consolePages = ["/console/queue", "/console/queues/email", "/console/tickets/T-1", "/console/handoff", "/console/find"]

/// A principal per role, plus the mail gateway.
let consoleTokens = TokenStore(
    Who.allCases.map { (token: $0.token, principal: Principal(role: $0.role, id: $0.id)) }
        + [(token: "token-of-gateway", principal: Principal(role: .gateway, id: "mailgate"))])

/// The value of `next` in a sign-in redirect, decoded.
func nextParameter(_ location: String?) -> String? {
    guard let location, let range = location.range(of: "?next=") else { return nil }
    return String(location[range.upperBound...]).removingPercentEncoding
}

// MARK: - Signing in

@Suite("Console: signing in and out")
struct ConsoleSignInTests {
    @Test func theSignInFormPostsTheTokenAsAPasswordAndKeepsNext() async throws {
        try await withServer { _, client in
            let page = try await client.consolePage("/console/login?next=%2Fconsole%2Ffind", cookie: nil)
            expectConsoleHTML(page, .ok)
            let form = try #require(page.form(id: "signin"), "\(page)")
            #expect(form.method == "post" && form.action == "/console/login")
            let token = try #require(page.element(id: "token"))
            #expect(token["name"] == "token" && token["type"] == "password")
            #expect(page.all("label") { $0["for"] == "token" }.count == 1, "the token field has a label")
            #expect(form.value("next") == "/console/find")
        }
    }

    @Test func agentsManagersAndAdminsGetAnHttpOnlyStrictSession() async throws {
        try await withServer { _, client in
            for who in [Who.alice, .manager, .admin] {
                let r = try await client.consoleSignIn(token: who.token)
                expectRedirect(r, to: "/console/queue")
                let cookie = r.headers[values: .setCookie].first ?? ""
                #expect(cookie.hasPrefix("ledgerdesk_session="), "\(who): \(cookie)")
                #expect(cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict") && cookie.contains("; Path=/"), "\(cookie)")
                #expect(!cookie.contains(who.token) && !r.text.contains(who.token))
                let id = try #require(r.sessionCookie)
                let queue = try await client.consolePage("/console/queue", cookie: id)
                expectConsoleHTML(queue, .ok)
                #expect(queue.text.contains("\(who.id) (\(who.role.rawValue))"), "\(who): the page names who signed in")
                let root = try await client.consolePage("/console", cookie: id)
                expectRedirect(root.reply, to: "/console/queue")
            }
        }
    }

    @Test func customersAuditorsAndGatewaysAreRefusedWithoutACookie() async throws {
        try await withServer(tokens: consoleTokens) { _, client in
            for token in [Who.c1.token, Who.auditor.token, "token-of-gateway"] {
                let r = try await client.consoleSignIn(token: token)
                let page = ConsolePage(r)
                expectConsoleHTML(page, .forbidden)
                #expect(r.sessionCookie == nil && r.headers[values: .setCookie].isEmpty, "\(token) got a cookie")
                #expect(!r.text.contains(token))
            }
        }
    }

    @Test func anUnknownTokenIs401AndATokenInTheURLIs400() async throws {
        try await withServer { _, client in
            let unknown = try await client.consoleSignIn(token: "not-a-token")
            expectConsoleHTML(ConsolePage(unknown), .unauthorized)
            #expect(unknown.sessionCookie == nil && !unknown.text.contains("not-a-token"))

            let inQuery = try await client.consolePage("/console/login?token=\(Who.alice.token)", cookie: nil)
            expectConsoleHTML(inQuery, .badRequest)
            #expect(inQuery.reply.sessionCookie == nil && !inQuery.text.contains(Who.alice.token))
            let postedInQuery = try await client.consolePost(
                "/console/login?token=\(Who.alice.token)", body: "token=\(Who.alice.token)", session: nil)
            expectConsoleHTML(ConsolePage(postedInQuery), .badRequest)
            #expect(postedInQuery.sessionCookie == nil)
        }
    }

    @Test func signingInFromAnotherSiteIsRefused() async throws {
        try await withServer { _, client in
            for headers: HTTPFields in [[.fetchSite: "cross-site"], [.fetchSite: "same-site"], [.dashboardOrigin: "https://evil.example"]] {
                let r = try await client.consoleSignIn(token: Who.alice.token, headers: headers)
                expectConsoleHTML(ConsolePage(r), .forbidden)
                #expect(r.sessionCookie == nil, "\(headers)")
            }
            let own = try await client.consoleSignIn(token: Who.alice.token, headers: [.fetchSite: "same-origin"])
            #expect(own.status == .seeOther && own.sessionCookie != nil)
        }
    }

    @Test func aNextThatTriesToBreakOutOfTheFormIsText() async throws {
        try await withServer { _, client in
            let next = "/console/\"><script>alert(1)</script>"
            let page = try await client.consolePage("/console/login?next=\(ConsoleForm.formEscape(next))", cookie: nil)
            expectConsoleHTML(page, .ok)
            let inlineScripts = page.all("script").filter { $0["src"] == nil }.count
            #expect(inlineScripts == 0)
            let kept = page.form(id: "signin")?.value("next")
            #expect(kept == nil || kept == next, "\(kept ?? "none")")
        }
    }

    @Test func nextLeadsOnlyToConsolePaths() async throws {
        try await withServer { _, client in
            let inside = try await client.consoleSignIn(token: Who.alice.token, next: "/console/find?status=open")
            expectRedirect(inside, to: "/console/find?status=open")
            for elsewhere in [
                "https://evil.example/console/queue", "//evil.example/console/queue", "/satisfaction", "/v1/tickets", "javascript:alert(1)",
            ] {
                let r = try await client.consoleSignIn(token: Who.alice.token, next: elsewhere)
                expectRedirect(r, to: "/console/queue")
            }
        }
    }

    @Test func signingOutNeedsTheCSRFTokenAndEndsTheSession() async throws {
        try await withServer { _, client in
            let s = try await client.consoleSession(.alice)
            let without = try await client.consolePost("/console/logout", session: s, fields: [])
            expectConsoleHTML(ConsolePage(without), .forbidden)
            let wrong = try await client.consolePost("/console/logout", session: s, fields: [("csrf", String(repeating: "0", count: 64))])
            expectConsoleHTML(ConsolePage(wrong), .forbidden)
            let crossSite = try await client.consolePost(
                "/console/logout", session: s, fields: [("csrf", s.csrf)], headers: [.fetchSite: "cross-site"])
            expectConsoleHTML(ConsolePage(crossSite), .forbidden)
            #expect(try await client.consolePage("/console/queue", s).status == .ok, "a refused sign-out leaves the session")

            let out = try await client.consolePost("/console/logout", session: s, fields: [("csrf", s.csrf)])
            expectRedirect(out, to: "/console/login")
            let cleared = out.headers[values: .setCookie].first ?? ""
            #expect(cleared.hasPrefix("ledgerdesk_session=;") && cleared.contains("Max-Age=0"), "\(cleared)")
            let after = try await client.consolePage("/console/queue", s)
            expectRedirect(after.reply, to: "/console/login?next=", prefix: true)
        }
    }
}

// MARK: - Who may see what

@Suite("Console: access")
struct ConsoleAccessTests {
    @Test func everyPageWithoutASessionRedirectsToSignInWithNext() async throws {
        try await withServer { server, client in
            try await openDesk(client)
            for path in consolePages + ["/console/find?status=open&customer=c-1", "/console/tickets/T-1/attachments/\(abcDigest)"] {
                let r = try await client.consolePage(path, cookie: nil)
                #expect(r.status == .seeOther, "\(path): \(r)")
                #expect(r.location?.hasPrefix("/console/login?next=") == true, "\(path): \(r.location ?? "none")")
                // The path asked for (its query may be left out).
                let asked = String(path.prefix { $0 != "?" })
                let next = nextParameter(r.location) ?? "none"
                #expect(next == path || next == asked, "\(path): next is \(next)")
                // A bearer token is for the API; the console knows sessions only.
                let bearer = try await client.get(path, as: .alice)
                #expect(
                    bearer.status == .seeOther && bearer.location?.hasPrefix("/console/login") == true, "\(path) with a bearer: \(bearer)")
                let forged = try await client.consolePage(path, cookie: String(repeating: "ab", count: 32))
                #expect(forged.status == .seeOther, "\(path) with an unknown session: \(forged)")
            }
            let root = try await client.consolePage("/console", cookie: nil)
            expectRedirect(root.reply, to: "/console/login", prefix: true)
            // A form posted without a session writes nothing.
            try await expectNothingAppended(server, "a note without a session") {
                let r = try await client.consolePost(
                    "/console/tickets/T-1/note", session: nil, fields: [("body", "x"), ("key", "k1"), ("version", "1")])
                #expect(r.status == .seeOther || r.status == .forbidden, "\(r)")
            }
        }
    }

    @Test func anAuditorsDashboardSessionIsRefusedOnEveryConsolePage() async throws {
        try await withServer { server, client in
            try await openDesk(client)
            let auditor = try await client.session(.auditor)
            for path in consolePages {
                let page = try await client.consolePage(path, cookie: auditor)
                expectConsoleHTML(page, .forbidden)
                #expect(page.writeForms.isEmpty, "\(path)")
            }
            try await expectNothingAppended(server, "a note by an auditor's session") {
                let r = try await client.consolePost(
                    "/console/tickets/T-1/note", body: "body=x&key=k1&version=1",
                    session: nil, headers: [.cookie: "ledgerdesk_session=\(auditor)"])
                #expect(r.status == .forbidden, "\(r)")
            }
        }
    }

    @Test func anAgentsConsoleSessionOpensNoDashboardPage() async throws {
        try await withServer { _, client in
            try await openDesk(client)
            let alice = try await client.consoleSession(.alice)
            for path in ["/satisfaction", "/response-times", "/queues", "/agents", "/queues.csv?chart=queue-table"] {
                let r = try await client.page(path, session: alice.id)
                #expect(r.status != .ok, "\(path) is open to an agent's session: \(r.status)")
                #expect(!r.text.contains("<svg"), "\(path) shows a chart to an agent")
            }
            // A manager's one session serves both.
            let manager = try await client.consoleSession(.manager)
            #expect(try await client.page("/queues", session: manager.id).status == .ok)
        }
    }

    @Test func aCustomerNeverSeesAConsolePage() async throws {
        try await withServer { _, client in
            try await openDesk(client)
            let signIn = try await client.consoleSignIn(token: Who.c1.token)
            #expect(signIn.status == .forbidden && signIn.sessionCookie == nil)
            let dashboard = try await client.signIn(token: Who.c1.token)
            #expect(dashboard.sessionCookie == nil, "a customer got a dashboard session")
            for path in consolePages {
                let r = try await client.get(path, as: .c1)
                #expect(r.status == .seeOther && r.location?.hasPrefix("/console/login") == true, "\(path): \(r)")
                #expect(!r.text.contains("Mailbox over quota"))
            }
        }
    }
}

// MARK: - CSRF and look-only roles

/// The console's write forms.
enum ConsoleWrite: String, CaseIterable, Sendable {
    case reply, note, assign, escalate, priority, status, tags, merge, claim, handoff

    /// T-1 (assigned to alice), T-2 and T-3 open; the form as alice renders it, filled in.
    func filledForm(_ client: any TestClientProtocol, _ session: ConsoleSession) async throws -> ConsoleForm {
        switch self {
        case .claim:
            let page = try await client.consolePage("/console/queues/email", session)
            return try #require(page.forms.first { $0.action == "/console/queues/email/claim" }, "\(page)")
        case .handoff:
            let page = try await client.consolePage("/console/handoff", session)
            let form = try #require(page.form(id: "form-handoff"), "\(page)")
            return form.adding("ticket", "T-1").setting(["target": "agent", "agent": "bob", "note": "over to you"])
        default:
            let form = try await client.ticketForm("T-1", "form-\(rawValue)", session)
            let fields: KeyValuePairs<String, String> =
                switch self {
                case .reply: ["body": "We are on it.", "status": "pending"]
                case .note: ["body": "Customer called twice."]
                case .assign: ["agent": "bob"]
                case .escalate: ["team": "billing", "reason": "A refund is due."]
                case .priority: ["priority": "urgent"]
                case .status: ["status": "pending"]
                case .tags: ["add": "vip refund"]
                case .merge: ["into": "T-2"]
                default: [:]
                }
            return form.setting(fields)
        }
    }
}

/// The desk with T-1 assigned to alice.
func openDeskWithAlicesTicket(_ client: any TestClientProtocol) async throws {
    try await openDesk(client)
    try await client.assignByAPI("T-1", to: "alice")
}

@Suite("Console: forms are this site's and only agents write")
struct ConsoleCSRFTests {
    @Test(arguments: ConsoleWrite.allCases)
    func aFormWithoutTheRightCSRFOrFromAnotherSiteIsRefusedAndWritesNothing(write: ConsoleWrite) async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            let form = try await write.filledForm(client, alice)
            #expect(form.value("csrf") == alice.csrf, "\(write): the form carries the session's token")
            #expect(form.value("key")?.isEmpty == false, "\(write): the form carries an idempotency key")
            let bobsToken = try await client.consoleSession(.bob).csrf
            let attempts: [(String, ConsoleForm, HTTPFields)] = [
                ("no csrf", form.removing("csrf"), [:]),
                ("a wrong csrf", form.setting("csrf", String(repeating: "0", count: 64)), [:]),
                ("another session's csrf", form.setting("csrf", bobsToken), [:]),
                ("Sec-Fetch-Site cross-site", form, [.fetchSite: "cross-site"]),
                ("Sec-Fetch-Site same-site", form, [.fetchSite: "same-site"]),
                ("a foreign Origin", form, [.dashboardOrigin: "https://evil.example"]),
            ]
            for (what, attempt, headers) in attempts {
                try await expectNothingAppended(server, "\(write) with \(what)") {
                    let r = try await client.submit(attempt, alice, headers: headers)
                    expectConsoleHTML(ConsolePage(r), .forbidden)
                }
            }
            // The form itself goes through: the refusals above were for the csrf and the site alone.
            let before = try server.head
            let r = try await client.submit(form, alice, headers: [.fetchSite: "same-origin"])
            #expect(r.status == .seeOther || r.status == .ok, "\(write): \(r)")
            #expect(try server.head.seq > before.seq, "\(write) appended nothing")
        }
    }

    @Test func managersAndAdminsSeeEveryPageButNoFormThatWrites() async throws {
        try await withServer { _, client in
            try await openDeskWithAlicesTicket(client)
            for who in [Who.manager, .admin] {
                let s = try await client.consoleSession(who)
                for path in consolePages {
                    let page = try await client.consolePage(path, s)
                    #expect(page.status == .ok || (path == "/console/handoff" && page.status == .forbidden), "\(who) \(path): \(page)")
                    expectConsoleHTML(page)
                    #expect(page.writeForms.isEmpty, "\(who) \(path) has write forms: \(page.writeForms.map(\.action))")
                }
                let ticket = try await client.consolePage("/console/tickets/T-1", s)
                #expect(ticket.element(id: "thread") != nil && ticket.element(id: "ticket-state") != nil, "\(who) sees the ticket")
            }
        }
    }

    @Test(arguments: ConsoleWrite.allCases)
    func aManagerOrAdminPostingAWriteFormIsRefusedAndNothingIsAppended(write: ConsoleWrite) async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            let form = try await write.filledForm(client, alice)
            for who in [Who.manager, .admin] {
                let s = try await client.consoleSession(who)
                try await expectNothingAppended(server, "\(write) by \(who)") {
                    let r = try await client.submit(form.setting("csrf", s.csrf), s)
                    expectConsoleHTML(ConsolePage(r), .forbidden)
                }
            }
        }
    }
}

// MARK: - Queues

/// Five tickets in two teams, four of them alice's, two breached three hours later.
func openQueues(_ server: TestServer, _ client: any TestClientProtocol) async throws {
    let specs: [(Who, String, String, String)] = [
        (.c1, "email", "normal", "Quota"), (.c2, "email", "urgent", "Bounce"), (.c1, "hosting", "high", "Down"),
        (.c2, "email", "urgent", "Spam"), (.c1, "email", "low", "Alias"), (.c2, "hosting", "urgent", "DNS"),
    ]
    for (who, team, priority, subject) in specs {
        _ = try await client.open(as: who, customer: who.id, subject: subject, product: team, priority: priority)
        server.clock.advance(seconds: 600)
    }
    for id in ["T-1", "T-2", "T-3", "T-5"] { try await client.assignByAPI(id, to: "alice") }
    try await client.assignByAPI("T-4", to: "bob")
    try await client.command("T-3", "messages", as: .alice, Bodies.message("Rebooting it now."))
    server.clock.advance(seconds: 3 * 3600)
}

/// The ids of a queue answer and those of its breached entries.
func apiQueue(_ client: any TestClientProtocol, _ path: String) async throws -> (ids: [String], breached: Set<String>) {
    let r = try await client.get(path, as: .manager)
    try #require(r.status == .ok, "\(path): \(r)")
    let entries = r.json["entries"]?.arrayValue ?? []
    let ids = entries.compactMap { $0["id"]?.stringValue }
    let breached = Set(entries.filter { $0["breached"] == .bool(true) }.compactMap { $0["id"]?.stringValue })
    return (ids, breached)
}

/// The rows of a queue table whose time-left cell is marked breached.
func breachedRows(_ page: ConsolePage, _ table: String) -> Set<String> {
    Set(
        page.ticketRows(table).filter { id in
            page.row(table, ticket: id)?.all { $0.hasClass("breached") }.isEmpty == false
        })
}

@Suite("Console: queues and taking the next ticket")
struct ConsoleQueueTests {
    @Test func myQueueShowsTheAgentQueueInTheProjectedOrderWithBreachesMarked() async throws {
        try await withServer { server, client in
            try await openQueues(server, client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/queue", alice)
            expectConsoleHTML(page, .ok)
            let api = try await apiQueue(client, "/v1/agents/alice/queue")
            #expect(api.ids.count >= 3 && !api.breached.isEmpty && api.breached.count < api.ids.count, "the fixture: \(api)")
            #expect(page.ticketRows("my-queue") == api.ids)
            #expect(breachedRows(page, "my-queue") == api.breached)
            for id in api.breached {
                let cell = page.row("my-queue", ticket: id)?.first { $0.hasClass("breached") }
                #expect(cell?.flatText.contains("breached") == true, "\(id): \(cell?.flatText ?? "no cell")")
            }
            for id in api.ids {
                let link = page.row("my-queue", ticket: id)?.first("td")?.first("a")
                #expect(link?["href"] == "/console/tickets/\(id)" && link?.flatText == id, "\(id): \(String(describing: link))")
            }
            #expect(page.all("meta") { $0["http-equiv"] == "refresh" }.first?["content"] == "30")
            #expect(
                page.element(id: "evaluated")?.flatText.hasPrefix("Evaluated at 2026-03-02 ") == true,
                "\(String(describing: page.element(id: "evaluated")))")
            // The team summary: one row per team of GET /v1/queues, each with Take next.
            let queues = try await client.get("/v1/queues", as: .manager).json["queues"]?.arrayValue ?? []
            let teams = queues.compactMap { $0["team"]?.stringValue }
            let rows = page.element(id: "team-queues")?.all("tr").compactMap { $0["data-team"] } ?? []
            #expect(rows == teams && !teams.isEmpty)
            for team in teams {
                let row = page.element(id: "team-queues")?.first("tr") { $0["data-team"] == team }
                #expect(row?.first("a")?["href"] == "/console/queues/\(team)")
                #expect(row?.all("form").contains { $0["action"] == "/console/queues/\(team)/claim" } == true, "\(team): no Take next")
            }
        }
    }

    /// A ticket the agent left pending or on hold is in no queue (SPEC §5), but still theirs:
    /// My queue lists it apart, and it leaves the list when the customer answers.
    @Test func myQueueListsTheAgentsPendingAndOnHoldTicketsApart() async throws {
        try await withServer { server, client in
            try await openQueues(server, client)
            try await client.command("T-1", "status", as: .alice, "{\"status\": \"pending\"}")
            try await client.command("T-2", "status", as: .alice, "{\"status\": \"on_hold\"}")
            try await client.command("T-4", "status", as: .bob, "{\"status\": \"pending\"}")
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/queue", alice)
            expectConsoleHTML(page, .ok)
            #expect(Set(page.ticketRows("my-waiting")) == ["T-1", "T-2"])
            #expect(!page.ticketRows("my-queue").contains("T-1") && !page.ticketRows("my-queue").contains("T-2"))
            try await client.command("T-1", "messages", as: .c1, Bodies.message("Here is the log."))
            let after = try await client.consolePage("/console/queue", alice)
            #expect(after.ticketRows("my-waiting") == ["T-2"])
            #expect(after.ticketRows("my-queue").contains("T-1"))
        }
    }

    @Test func aManagerLooksAtAnAgentsQueueAndAnAgentAlwaysSeesTheirOwn() async throws {
        try await withServer { server, client in
            try await openQueues(server, client)
            let manager = try await client.consoleSession(.manager)
            let alicesQueue = try await apiQueue(client, "/v1/agents/alice/queue")
            let bobsQueue = try await apiQueue(client, "/v1/agents/bob/queue")
            #expect(try await client.consolePage("/console/queue?agent=alice", manager).ticketRows("my-queue") == alicesQueue.ids)
            #expect(try await client.consolePage("/console/queue?agent=bob", manager).ticketRows("my-queue") == bobsQueue.ids)
            let alice = try await client.consoleSession(.alice)
            #expect(try await client.consolePage("/console/queue?agent=bob", alice).ticketRows("my-queue") == alicesQueue.ids)
        }
    }

    @Test func aTeamQueueListsEveryEntryInTheProjectedOrder() async throws {
        try await withServer { server, client in
            try await openQueues(server, client)
            let alice = try await client.consoleSession(.alice)
            for team in ["email", "hosting"] {
                let page = try await client.consolePage("/console/queues/\(team)", alice)
                expectConsoleHTML(page, .ok)
                let api = try await apiQueue(client, "/v1/queues/\(team)")
                #expect(!api.ids.isEmpty)
                #expect(page.ticketRows("team-queue") == api.ids, "\(team)")
                #expect(breachedRows(page, "team-queue") == api.breached, "\(team)")
                #expect(page.all("meta") { $0["http-equiv"] == "refresh" }.first?["content"] == "30")
                #expect(page.forms.contains { $0.action == "/console/queues/\(team)/claim" })
            }
        }
    }

    @Test func takeNextClaimsTheTicketTheAPIWouldClaimAndLandsOnIt() async throws {
        try await withServer { server, client in
            try await openDesk(client)
            let alice = try await client.consoleSession(.alice)
            // The claim takes the first unassigned entry of the queue as GET /v1/queues lists it.
            let queue = try await client.get("/v1/queues/email", as: .alice).json["entries"]?.arrayValue ?? []
            let first = try #require(queue.first { $0["assignee"]?.isNull == true }?["id"]?.stringValue)
            let before = try server.head
            let outcome = try await client.perform(console: .claim(team: "email", by: .alice), alice)
            #expect(outcome == .done)
            let appended = try server.events(after: before)
            #expect(appended.count == 1)
            #expect(appended.first?.stream == first && appended.first?.type == "ticket.assigned")
            #expect(appended.first?.actor == EventActor(kind: "agent", id: "alice"))
            #expect(appended.first?.data == .object(["agent": .string("alice")]))
            // The landing page is the claimed ticket, with the flash.
            let landing = try await client.consolePage("/console/tickets/\(first)?done=claimed", alice)
            expectConsoleHTML(landing, .ok)
            #expect(landing.element(id: "flash")?.flatText.isEmpty == false)
        }
    }

    @Test func takeNextSubmittedTwiceWithTheSameKeyClaimsOnce() async throws {
        try await withServer { server, client in
            try await openDesk(client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/queues/email", alice)
            let form = try #require(page.forms.first { $0.action == "/console/queues/email/claim" })
            let before = try server.head
            let first = try await client.submit(form, alice)
            let second = try await client.submit(form, alice)
            #expect(first.status == .seeOther && first.location?.hasPrefix("/console/tickets/") == true, "\(first)")
            #expect(second.status == .seeOther && second.location == first.location, "\(second) after \(first)")
            let claimed = try server.events(after: before)
            #expect(claimed.count == 1, "\(claimed)")
            // A new rendering is a new key: the next click takes the next ticket.
            let again = try await client.perform(console: .claim(team: "email", by: .alice), alice)
            let count = try server.events(after: before).count
            #expect(again == .done && count == 2)
        }
    }

    @Test func takeNextOnAnEmptyQueueSaysSoAndWritesNothing() async throws {
        try await withServer { server, client in
            try await openDesk(client)
            let alice = try await client.consoleSession(.alice)
            try await client.assignByAPI("T-3", to: "bob")
            let page = try await client.consolePage("/console/queues/hosting", alice)
            let form = try #require(page.forms.first { $0.action == "/console/queues/hosting/claim" })
            let r = try await expectNothingAppended(server, "a claim on an empty queue") { try await client.submit(form, alice) }
            expectRedirect(r, to: "/console/queues/hosting?done=empty")
            let shown = try await client.consolePage("/console/queues/hosting?done=empty", alice)
            expectConsoleHTML(shown, .ok)
            #expect(shown.element(id: "flash")?.flatText.isEmpty == false, "no message on an empty queue")
        }
    }
}

// MARK: - The ticket page

@Suite("Console: the ticket page")
struct ConsoleTicketPageTests {
    @Test func theThreadTellsMessagesFromNotesAndListsAttachmentsWithConsoleLinks() async throws {
        try await withServer { _, client in
            try await openDeskWithAlicesTicket(client)
            try await client.command("T-1", "messages", as: .alice, Bodies.message("Have you emptied the trash?"))
            try await client.command("T-1", "notes", as: .bob, Bodies.message("Customer is on the old plan <b>&amp;</b>"))
            let sha = try await client.uploaded(pdfBytes, as: .c1)
            try await client.command("T-1", "messages", as: .c1, messageNaming(sha, name: "Rechnung März.pdf", size: pdfBytes.count))
            let ticket = try await client.get("/v1/tickets/T-1", as: .alice)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.ticketPage("T-1", alice)
            expectConsoleHTML(page, .ok)
            let entries = page.element(id: "thread")?.all("li") { $0.hasClass("entry") } ?? []
            let thread = ticket.json["thread"]?.arrayValue ?? []
            #expect(entries.compactMap(\.id) == thread.map { "v\($0["version"]?.intValue ?? -1)" }, "\(entries.map(\.id))")
            for (entry, expected) in zip(entries, thread) {
                let kind = expected["kind"]?.stringValue ?? "?"
                #expect(entry.hasClass(kind) && !entry.hasClass(kind == "note" ? "message" : "note"), "\(entry.id ?? "?") is a \(kind)")
                let body = entry.first { $0.name == "div" && $0.hasClass("body") }
                #expect(body?.text == expected["body"]?.stringValue, "\(entry.id ?? "?"): \(body?.text ?? "no body")")
            }
            let links = page.element(id: "thread")?.all("ul") { $0.hasClass("attachments") }.flatMap { $0.all("a") } ?? []
            #expect(links.map { $0["href"] } == ["/console/tickets/T-1/attachments/\(sha)"])
            #expect(links.first?.flatText == "Rechnung März.pdf")
            let download = try await client.send(.get, "/console/tickets/T-1/attachments/\(sha)", as: nil, headers: alice.cookie)
            #expect(download.status == .ok && download.bytes == pdfBytes, "\(download.status)")
            #expect(download.contentType == "application/pdf")
            #expect(download.headers[.contentDisposition]?.hasPrefix("attachment;") == true, "\(download.headers)")
            #expect(download.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            // A file no entry of this ticket names is not served through it.
            let other = try await client.uploaded(Array("abc".utf8), as: .c1)
            let notNamed = try await client.send(.get, "/console/tickets/T-1/attachments/\(other)", as: nil, headers: alice.cookie)
            #expect(notNamed.status == .notFound)
        }
    }

    @Test func theStateShowsStatusPriorityTeamAssigneeTagsSLAAndVersion() async throws {
        try await withServer { _, client in
            try await openDeskWithAlicesTicket(client)
            try await client.command("T-1", "tags", as: .alice, "{\"added\": [\"vip\", \"quota\"]}")
            let alice = try await client.consoleSession(.alice)
            let page = try await client.ticketPage("T-1", alice)
            let api = try await client.get("/v1/tickets/T-1", as: .alice).json
            #expect(page.state("Status")?.contains(api["status"]?.stringValue ?? "?") == true, "\(page.state("Status") ?? "none")")
            #expect(page.state("Priority")?.contains("normal") == true)
            #expect(page.state("Team")?.contains("email") == true)
            #expect(page.state("Assignee")?.contains("alice") == true)
            #expect(page.state("Customer")?.contains("c-1") == true)
            #expect(page.state("Tags")?.contains("vip") == true && page.state("Tags")?.contains("quota") == true)
            #expect(page.state("Version") == "\(api["version"]?.intValue ?? -1)")
            let sla = page.element(id: "sla")?.flatText ?? ""
            #expect(sla.contains("business"), "the SLA clock of a normal ticket: \(sla)")
        }
    }

    @Test func everyAgentFormCarriesCSRFAKeyAndTheVersionAndLabelsItsFields() async throws {
        try await withServer { _, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.ticketPage("T-1", alice)
            let again = try await client.ticketPage("T-1", alice)
            let fields: [String: [String]] = [
                "reply": ["reply-body", "reply-status"], "note": ["note-body"], "assign": ["assign-agent", "assign-team"],
                "escalate": ["escalate-team", "escalate-reason"], "priority": ["priority"], "status": ["status"],
                "tags": ["tags-add", "tags-remove"], "merge": ["merge-into"],
            ]
            for (action, ids) in fields {
                let form = try #require(page.form(id: "form-\(action)"), "no form-\(action)")
                #expect(form.method == "post" && form.action == "/console/tickets/T-1/\(action)")
                #expect(form.value("csrf") == alice.csrf)
                #expect(form.value("version") == "2", "form-\(action) version \(form.value("version") ?? "none")")
                let key = try #require(form.value("key"))
                #expect(key.count >= 16 && key != again.form(id: "form-\(action)")?.value("key"), "a fresh key per rendering")
                for id in ids {
                    #expect(form.element.element(id: id) != nil, "form-\(action) lacks #\(id)")
                    #expect(page.all("label") { $0["for"] == id }.count == 1, "#\(id) has no label")
                }
            }
            #expect(page.element(id: "reply-body")?.name == "textarea")
            let statuses = page.element(id: "reply-status")?.all("option").map { $0["value"] ?? "?" }
            #expect(statuses == ["", "open", "pending", "on_hold", "solved", "closed"])
            #expect(page.element(id: "priority")?.all("option").map { $0["value"] ?? "?" } == ["low", "normal", "high", "urgent"])
        }
    }

    @Test func nothingOfAnotherCustomersTicketAppearsOnATicketPage() async throws {
        try await withServer { _, client in
            _ = try await client.open(as: .c1, customer: "c-1", subject: "Alpha subject", body: "alpha body")
            _ = try await client.open(as: .c2, customer: "c-2", subject: "Zulu secret subject", body: "zulu secret body")
            try await client.command("T-2", "notes", as: .bob, Bodies.message("zulu secret note"))
            let sha = try await client.uploaded(Array("zulu secret file".utf8), as: .c2)
            try await client.command("T-2", "messages", as: .c2, messageNaming(sha, name: "zulu.txt", size: 16))
            let alice = try await client.consoleSession(.alice)
            let page = try await client.ticketPage("T-1", alice)
            #expect(page.text.contains("Alpha subject"))
            #expect(!page.text.lowercased().contains("zulu") && !page.text.contains("c-2"), "T-2 leaks into T-1's page")
            let crossed = try await client.send(.get, "/console/tickets/T-1/attachments/\(sha)", as: nil, headers: alice.cookie)
            #expect(crossed.status == .notFound && !crossed.text.contains("zulu secret file"))
            let find = try await client.consolePage("/console/find?customer=c-1", alice)
            #expect(find.ticketRows("find-results") == ["T-1"] && !find.text.lowercased().contains("zulu"))
        }
    }

    @Test func anUnknownTicketIsA404Page() async throws {
        try await withServer { _, client in
            try await openDesk(client)
            let alice = try await client.consoleSession(.alice)
            for path in ["/console/tickets/T-404", "/console/tickets/T-404/attachments/\(abcDigest)"] {
                let page = try await client.consolePage(path, alice)
                expectConsoleHTML(page, .notFound)
            }
        }
    }
}

// MARK: - Each form appends what the API appends

/// One form as the table of the contract names it, with what an agent types.
struct FormCase: Sendable, CustomTestStringConvertible {
    var name: String
    var before: [DeskAction]
    var action: DeskAction
    var testDescription: String { name }

    static let all: [FormCase] = [
        FormCase(name: "reply", before: [], action: .reply("T-1", by: .alice, body: "Could you send the bounce?", status: "")),
        FormCase(
            name: "reply with status", before: [], action: .reply("T-1", by: .alice, body: "Fixed.\nTell us if not.", status: "solved")),
        FormCase(name: "reply with the status it leaves", before: [], action: .reply("T-1", by: .alice, body: "On it", status: "open")),
        FormCase(name: "note", before: [], action: .note("T-1", by: .bob, body: "Called the customer <twice> & left a message")),
        FormCase(name: "assign", before: [], action: .assign("T-1", by: .alice, agent: "bob", team: "")),
        FormCase(name: "assign with team", before: [], action: .assign("T-2", by: .alice, agent: "alice", team: "billing")),
        FormCase(
            name: "unassign", before: [.assign("T-1", by: .alice, agent: "alice", team: "")],
            action: .assign("T-1", by: .alice, agent: "", team: "")),
        FormCase(name: "escalate", before: [], action: .escalate("T-3", by: .bob, team: "network", reason: "Router down in DC2")),
        FormCase(name: "priority", before: [], action: .priority("T-1", by: .alice, priority: "high")),
        FormCase(name: "status", before: [], action: .status("T-2", by: .alice, status: "on_hold")),
        FormCase(name: "tags", before: [], action: .tags("T-1", by: .alice, add: ["vip", "quota"], remove: [], separator: ", ")),
        FormCase(
            name: "tags added and removed", before: [.tags("T-1", by: .alice, add: ["vip", "old"], remove: [], separator: " ")],
            action: .tags("T-1", by: .alice, add: ["new"], remove: ["old"], separator: " ")),
        FormCase(name: "merge", before: [], action: .merge("T-3", by: .alice, into: "T-1")),
        FormCase(name: "take next", before: [], action: .claim(team: "email", by: .bob)),
    ]
}

/// Serialized: each case runs two servers, and forty at once would starve the suite's other tests.
@Suite("Console: each form appends exactly what the API appends", .serialized)
struct ConsoleFormEquivalenceTests {
    @Test(arguments: FormCase.all)
    func theFormAppendsTheEventsOfTheAPIRequest(form: FormCase) async throws {
        let actions = form.before + [form.action]
        let console = try await runShift(actions, throughConsole: true)
        let api = try await runShift(actions, throughConsole: false)
        #expect(api.outcomes.last == .done, "the API refused \(form.action): \(api.outcomes)")
        #expect(console.outcomes == api.outcomes)
        #expect(console.log.count == api.log.count, "console \(console.log.count) events, API \(api.log.count)")
        for (k, (c, a)) in zip(console.log, api.log).enumerated() {
            #expect(c == a, "event \(k + 1): console \(c) vs API \(a)")
        }
    }

    /// Random shifts by two agents over three tickets: every form, refusals included, in any order.
    @Test(arguments: 1...40)
    func aRandomShiftThroughTheConsoleLeavesTheLogTheAPIWouldLeave(seed: Int) async throws {
        let actions = randomShift(seed: UInt64(seed), count: 18)
        let console = try await runShift(actions, throughConsole: true)
        let api = try await runShift(actions, throughConsole: false)
        // The shift did something: some actions went through and appended beyond the three openings.
        #expect(api.outcomes.contains(.done) && api.log.count > 3, "seed \(seed): \(api.outcomes)")
        for (k, action) in actions.enumerated() where k < console.outcomes.count && k < api.outcomes.count {
            #expect(
                console.outcomes[k] == api.outcomes[k],
                "seed \(seed) action \(k): \(action): console \(console.outcomes[k]), API \(api.outcomes[k])")
        }
        #expect(console.log.count == api.log.count, "seed \(seed): console \(console.log.count) events, API \(api.log.count)")
        for (k, (c, a)) in zip(console.log, api.log).enumerated() {
            #expect(c == a, "seed \(seed) event \(k + 1): console \(c) vs API \(a)")
        }
    }
}

// MARK: - If-Match and idempotency

/// The ticket forms (not the claim or the hand-off).
let ticketFormActions: [DeskAction] = [
    .reply("T-1", by: .alice, body: "My typed answer\nsecond line", status: "pending"),
    .note("T-1", by: .alice, body: "My typed note"),
    .assign("T-1", by: .alice, agent: "bob", team: ""),
    .escalate("T-1", by: .alice, team: "billing", reason: "My typed reason"),
    .priority("T-1", by: .alice, priority: "urgent"),
    .status("T-1", by: .alice, status: "on_hold"),
    .tags("T-1", by: .alice, add: ["vip"], remove: [], separator: " "),
    .merge("T-1", by: .alice, into: "T-2"),
]

@Suite("Console: a form rendered before a change, a form sent twice")
struct ConsoleIfMatchTests {
    @Test(arguments: ticketFormActions)
    func aFormRenderedBeforeTheTicketChangedIsA409KeepingWhatWasTypedWithTheNewVersion(action: DeskAction) async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            var form = try await client.ticketForm("T-1", "form-\(action.formAction)", alice)
            for (name, value) in action.formFields { form = form.setting(name, value) }
            let rendered = try #require(form.value("version").flatMap { Int64($0) })
            try await client.command("T-1", "notes", as: .bob, Bodies.message("Meanwhile, a note."))
            let r = try await expectNothingAppended(server, "\(action) after a change") { try await client.submit(form, alice) }
            let page = ConsolePage(r)
            expectConsoleHTML(page, .conflict)
            let formError = page.element(id: "form-\(action.formAction)-error")
            #expect(
                formError?.flatText.contains("changed since you opened it") == true, "\(action): \(formError?.flatText ?? "no form error")")
            #expect(formError?["role"] == "alert")
            let shown = try #require(page.form(id: "form-\(action.formAction)"), "the 409 page has the form again")
            #expect(shown.value("version") == "\(rendered + 1)", "the form now carries the new version")
            // What was typed stays (the choices of a select may be shown afresh).
            for (name, value) in action.formFields where !value.isEmpty && name != "status" && name != "priority" {
                #expect(shown.value(name) == value, "\(action): \(name) kept as \(shown.value(name) ?? "nothing")")
            }
            // The page shows the change it was refused for.
            #expect(page.text.contains("Meanwhile, a note."))
            // Submitting the form as shown now applies it.
            let before = try server.head
            let again = try await client.submit(shown, alice)
            expectRedirect(again, to: "/console/tickets/T-1?done=\(action.formAction)")
            #expect(try server.head.seq > before.seq)
        }
    }

    @Test func aDeliveryReceiptAloneIsNoChange() async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            try await client.command("T-1", "messages", as: .alice, Bodies.message("Sent by mail"))
            let alice = try await client.consoleSession(.alice)
            let form = try await client.ticketForm("T-1", "form-note", alice).setting("body", "After the receipt")
            #expect(form.value("version") == "3")
            try await server.deliver("T-1", reply: 3)
            let delivered = try server.events("T-1").last
            #expect(delivered?.type == "message.delivered" && delivered?.version == 4)
            let before = try server.head
            let r = try await client.submit(form, alice)
            expectRedirect(r, to: "/console/tickets/T-1?done=note")
            let appended = try server.events(after: before)
            #expect(appended.map(\.type) == ["note.added"] && appended.first?.version == 5, "\(appended)")
        }
    }

    @Test(arguments: ticketFormActions)
    func theSameFormSubmittedTwiceAppendsOnceAndBothAnswersLeadToTheTicket(action: DeskAction) async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            var form = try await client.ticketForm("T-1", "form-\(action.formAction)", alice)
            for (name, value) in action.formFields { form = form.setting(name, value) }
            let before = try server.head
            let first = try await client.submit(form, alice)
            expectRedirect(first, to: "/console/tickets/T-1?done=\(action.formAction)")
            let once = try server.events(after: before)
            #expect(!once.isEmpty)
            let second = try await client.submit(form, alice)
            expectRedirect(second, to: "/console/tickets/T-1?", prefix: true)
            #expect(try server.events(after: before) == once, "the second submit appended")
        }
    }

    @Test func aKeyIsTheAgentsOwnAndSharesTheAPIsScope() async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            let bob = try await client.consoleSession(.bob)
            let form = try await client.ticketForm("T-1", "form-note", alice).setting("body", "Same words")
            let key = try #require(form.value("key"))
            expectRedirect(try await client.submit(form, alice), to: "/console/tickets/T-1?done=note")
            // The same key and fields from bob are bob's own request: it applies.
            let before = try server.head
            let bobs = try await client.submit(form.setting("csrf", bob.csrf).setting("version", "3"), bob)
            expectRedirect(bobs, to: "/console/tickets/T-1?done=note")
            #expect(try server.events(after: before).map(\.actor) == [EventActor(kind: "agent", id: "bob")])
            // The API, asked by alice with the same key for the same command, answers what was stored.
            try await expectNothingAppended(server, "the form's key through the API") {
                let replay = try await client.post(
                    "/v1/tickets/T-1/notes", as: .alice, #"{"body":"Same words"}"#, headers: [.idempotencyKey: key])
                #expect(replay.status == .ok && replay.version == 3, "\(replay)")
            }
        }
    }

    @Test func aFormWithoutItsVersionIsRefusedAndWritesNothing() async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            let form = try await client.ticketForm("T-1", "form-note", alice).setting("body", "No version")
            for attempt in [form.removing("version"), form.setting("version", "0"), form.setting("version", "two")] {
                let r = try await expectNothingAppended(server, "a note without a version") { try await client.submit(attempt, alice) }
                let page = ConsolePage(r)
                expectConsoleHTML(page, .badRequest)
                #expect(!errorSentences(page).isEmpty)
            }
        }
    }

    @Test func theSameKeyWithOtherFieldsIsRefusedWithASentenceAndWritesNothing() async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            let form = try await client.ticketForm("T-1", "form-note", alice).setting("body", "First text")
            expectRedirect(try await client.submit(form, alice), to: "/console/tickets/T-1?done=note")
            let r = try await expectNothingAppended(server, "the same key with another body") {
                try await client.submit(form.setting("body", "Other text"), alice)
            }
            let page = ConsolePage(r)
            expectConsoleHTML(page)
            #expect(page.status == .conflict, "the API answers 409 for a reused key: \(page)")
            #expect(!errorSentences(page).isEmpty, "no sentence says why: \(page)")
        }
    }
}

// MARK: - Bad input

/// The error sentences of a page: form-level and next to fields.
func errorSentences(_ page: ConsolePage) -> [String] {
    page.all("p") { $0.hasClass("error") || $0.hasClass("field-error") }.map(\.flatText).filter { !$0.isEmpty }
}

/// A form field given a value the API refuses, and the status it refuses it with.
struct BadInput: Sendable, CustomTestStringConvertible {
    var action: String
    var field: String
    var value: String
    var status: Int
    var testDescription: String { "\(action) \(field)=\"\(value)\" is \(status)" }

    static let all = [
        BadInput(action: "status", field: "status", value: "bogus", status: 400),
        BadInput(action: "priority", field: "priority", value: "extreme", status: 400),
        BadInput(action: "merge", field: "into", value: "", status: 400),
        BadInput(action: "merge", field: "into", value: "T-404", status: 409),
        BadInput(action: "merge", field: "into", value: "T-1", status: 409),
        BadInput(action: "note", field: "body", value: "", status: 400),
    ]
}

@Suite("Console: bad input and refusals read as sentences")
struct ConsoleBadInputTests {
    @Test func anEmptyReplyIs400WithTheErrorNextToTheField() async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            let form = try await client.ticketForm("T-1", "form-reply", alice).setting("body", "")
            let r = try await expectNothingAppended(server, "an empty reply") { try await client.submit(form, alice) }
            let page = ConsolePage(r)
            expectConsoleHTML(page, .badRequest)
            let formError = try #require(page.element(id: "reply-body-error"), "\(page)")
            #expect(formError.hasClass("field-error") && !formError.flatText.isEmpty)
            let field = page.element(id: "reply-body")
            #expect(field?["aria-invalid"] == "true" && field?["aria-describedby"] == "reply-body-error")
        }
    }

    @Test func settingTheCurrentStatusIsA409WithASentence() async throws {
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            try await client.command("T-1", "status", as: .alice, "{\"status\": \"pending\"}")
            let alice = try await client.consoleSession(.alice)
            let form = try await client.ticketForm("T-1", "form-status", alice).setting("status", "pending")
            let r = try await expectNothingAppended(server, "the status it has") { try await client.submit(form, alice) }
            let page = ConsolePage(r)
            expectConsoleHTML(page, .conflict)
            let sentences = errorSentences(page)
            #expect(sentences.contains { $0.contains("pending") }, "\(sentences)")
        }
    }

    @Test(arguments: BadInput.all)
    func malformedOrRefusedInputIsAPageNeverAProblem(input: BadInput) async throws {
        let (action, field, value, status) = (input.action, input.field, input.value, input.status)
        try await withServer { server, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            let form = try await client.ticketForm("T-1", "form-\(action)", alice).setting(field, value)
            let r = try await expectNothingAppended(server, "\(action) \(field)=\(value)") { try await client.submit(form, alice) }
            let page = ConsolePage(r)
            expectConsoleHTML(page, HTTPResponse.Status(code: status))
            #expect(!errorSentences(page).isEmpty, "no sentence: \(page)")
            #expect(page.form(id: "form-\(action)") != nil, "the form is shown again")
        }
    }
}

// MARK: - Hand-off

/// A hand-off form filled in wrong, and the field whose error says so.
struct HandoffInput: Sendable, CustomTestStringConvertible {
    var name: String
    var tickets: [String]
    var target: String
    var agent: String
    var errorID: String
    var testDescription: String { name }
}

/// alice has T-1, T-2 and T-3; T-4 is hers but solved; T-5 is bob's.
func openHandoffDesk(_ client: any TestClientProtocol) async throws {
    try await openDesk(client)
    _ = try await client.open(as: .c2, customer: "c-2", subject: "Solved already", product: "email")
    _ = try await client.open(as: .c2, customer: "c-2", subject: "Bob's", product: "email")
    for id in ["T-1", "T-2", "T-3", "T-4"] { try await client.assignByAPI(id, to: "alice") }
    try await client.command("T-4", "status", as: .alice, "{\"status\": \"solved\"}")
    try await client.assignByAPI("T-5", to: "bob", as: .bob)
}

@Suite("Console: hand-off at shift change")
struct ConsoleHandoffTests {
    @Test func theListHoldsTheAgentsOpenTickets() async throws {
        try await withServer { _, client in
            try await openHandoffDesk(client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/handoff", alice)
            expectConsoleHTML(page, .ok)
            #expect(Set(page.ticketRows("handoff-tickets")) == ["T-1", "T-2", "T-3"])
            let form = try #require(page.form(id: "form-handoff"))
            #expect(form.method == "post" && form.action == "/console/handoff" && form.value("csrf") == alice.csrf)
            for id in ["T-1", "T-2", "T-3"] {
                #expect(page.element(id: "handoff-\(id)")?["value"] == id)
                let version = try await client.get("/v1/tickets/\(id)", as: .alice).version ?? -1
                #expect(form.value("version.\(id)") == "\(version)")
            }
            for id in ["handoff-all", "target-agent", "target-queue", "handoff-agent", "handoff-note", "handoff-submit"] {
                #expect(page.element(id: id) != nil, "no #\(id)")
            }
        }
    }

    @Test func chosenTicketsGoToAnotherAgentEachWithTheNoteThenTheAssignment() async throws {
        try await withServer { server, client in
            try await openHandoffDesk(client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/handoff", alice)
            let form = try #require(page.form(id: "form-handoff")).adding("ticket", "T-1").adding("ticket", "T-3")
                .setting(["target": "agent", "agent": "bob", "note": "Shift change: waits for a callback"])
            let before = try server.head
            let r = try await client.submit(form, alice)
            let result = ConsolePage(r)
            expectConsoleHTML(result, .ok)
            let items = result.element(id: "handoff-results")?.all("li") ?? []
            #expect(items.map { $0["data-ticket"] ?? "?" } == ["T-1", "T-3"])
            #expect(items.allSatisfy { $0.hasClass("ok") && !$0.flatText.isEmpty }, "\(items)")
            let appended = try server.events(after: before)
            for id in ["T-1", "T-3"] {
                let mine = appended.filter { $0.stream == id }
                #expect(mine.map(\.type) == ["note.added", "ticket.assigned"], "\(id): \(mine)")
                #expect(mine.first?.data == .object(["body": .string("Shift change: waits for a callback")]))
                #expect(mine.last?.data == .object(["agent": .string("bob")]))
                #expect(mine.allSatisfy { $0.actor == EventActor(kind: "agent", id: "alice") })
            }
            #expect(appended.count == 4 && !appended.contains { $0.stream == "T-2" })
            // bob finds them in his queue, alice keeps T-2 only.
            let bob = try await client.consoleSession(.bob)
            let bobsQueue = try await client.consolePage("/console/queue", bob).ticketRows("my-queue")
            #expect(bobsQueue.contains("T-1") && bobsQueue.contains("T-3"), "\(bobsQueue)")
            #expect(try await client.consolePage("/console/handoff", alice).ticketRows("handoff-tickets") == ["T-2"])
        }
    }

    @Test func allTicketsGoBackToTheQueueWithoutANote() async throws {
        try await withServer { server, client in
            try await openHandoffDesk(client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/handoff", alice)
            let listed = page.ticketRows("handoff-tickets")
            let form = try #require(page.form(id: "form-handoff")).setting(["all": "1", "target": "queue", "agent": "", "note": ""])
            let before = try server.head
            let result = ConsolePage(try await client.submit(form, alice))
            expectConsoleHTML(result, .ok)
            #expect(result.element(id: "handoff-results")?.all("li").map { $0["data-ticket"] ?? "?" } == listed)
            let appended = try server.events(after: before)
            #expect(appended.map(\.stream).sorted() == listed.sorted())
            #expect(appended.allSatisfy { $0.type == "ticket.assigned" && $0.data == .object(["agent": .null]) }, "\(appended)")
            // They are back in their team queues, unassigned.
            let email = try await apiQueue(client, "/v1/queues/email")
            #expect(email.ids.contains("T-1") && email.ids.contains("T-2"))
        }
    }

    @Test func aTicketChangedSinceTheListWasShownIsSkippedWithASentenceAndTheOthersGoOn() async throws {
        try await withServer { server, client in
            try await openHandoffDesk(client)
            try await client.command("T-1", "messages", as: .alice, Bodies.message("Mailed reply"))
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/handoff", alice)
            let form = try #require(page.form(id: "form-handoff")).setting([
                "all": "1", "target": "agent", "agent": "bob", "note": "Handing over",
            ])
            try await client.command("T-2", "notes", as: .bob, Bodies.message("I changed T-2 meanwhile"))
            let t1 = try await client.get("/v1/tickets/T-1", as: .alice).version ?? 0
            try await server.deliver("T-1", reply: UInt64(t1))  // a receipt alone is no change
            let before = try server.head
            let result = ConsolePage(try await client.submit(form, alice))
            expectConsoleHTML(result, .ok)
            let items = result.element(id: "handoff-results")?.all("li") ?? []
            let failed = items.filter { $0.hasClass("failed") }
            #expect(failed.map { $0["data-ticket"] } == ["T-2"], "\(items)")
            #expect(failed.first?.flatText.isEmpty == false)
            #expect(Set(items.filter { $0.hasClass("ok") }.compactMap { $0["data-ticket"] }) == ["T-1", "T-3"])
            let appended = try server.events(after: before)
            #expect(Set(appended.map(\.stream)) == ["T-1", "T-3"] && appended.count == 4, "\(appended)")
        }
    }

    @Test func aHandOffLeavesTheLogTheAPIWouldLeaveForTheSameNotesAndAssignments() async throws {
        let note = "Shift change:\nthe customer waits for a callback"
        let viaConsole = try await withServer { server, client in
            try await openHandoffDesk(client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/handoff", alice)
            let form = try #require(page.form(id: "form-handoff")).adding("ticket", "T-1").adding("ticket", "T-3")
                .setting(["target": "agent", "agent": "bob", "note": note])
            #expect(try await client.submit(form, alice).status == .ok)
            let back = try #require(page.form(id: "form-handoff")).adding("ticket", "T-2").setting(["target": "queue", "note": note])
            #expect(try await client.submit(back, alice).status == .ok)
            return try server.allEvents()
        }
        let viaAPI = try await withServer { server, client in
            try await openHandoffDesk(client)
            for id in ["T-1", "T-3"] {
                try await client.command(id, "notes", as: .alice, Bodies.message(note))
                try await client.command(id, "assign", as: .alice, "{\"agent\": \"bob\"}")
            }
            try await client.command("T-2", "notes", as: .alice, Bodies.message(note))
            try await client.command("T-2", "assign", as: .alice, "{\"agent\": null}")
            return try server.allEvents()
        }
        #expect(viaConsole.count == viaAPI.count, "console \(viaConsole.count) events, API \(viaAPI.count)")
        for (k, (c, a)) in zip(viaConsole, viaAPI).enumerated() {
            #expect(c == a, "event \(k + 1): console \(c) vs API \(a)")
        }
    }

    @Test(arguments: [
        HandoffInput(name: "nothing chosen", tickets: [], target: "agent", agent: "bob", errorID: "handoff-tickets-error"),
        HandoffInput(name: "no agent named", tickets: ["T-1"], target: "agent", agent: "", errorID: "handoff-agent-error"),
        HandoffInput(name: "to oneself", tickets: ["T-1"], target: "agent", agent: "alice", errorID: "handoff-agent-error"),
    ])
    func aHandOffThatCannotBeDoneSaysWhyNextToTheFieldAndWritesNothing(input: HandoffInput) async throws {
        try await withServer { server, client in
            try await openHandoffDesk(client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/handoff", alice)
            var form = try #require(page.form(id: "form-handoff")).setting(["target": input.target, "agent": input.agent, "note": "n"])
            for id in input.tickets { form = form.adding("ticket", id) }
            let r = try await expectNothingAppended(server, input.name) { try await client.submit(form, alice) }
            let result = ConsolePage(r)
            expectConsoleHTML(result, .badRequest)
            #expect(result.element(id: input.errorID)?.flatText.isEmpty == false, "\(input.name): \(errorSentences(result))")
            #expect(result.form(id: "form-handoff") != nil, "the form is shown again")
        }
    }

    @Test func aHandOffSubmittedTwiceAppendsOnce() async throws {
        try await withServer { server, client in
            try await openHandoffDesk(client)
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/handoff", alice)
            let form = try #require(page.form(id: "form-handoff")).adding("ticket", "T-2").setting(["target": "agent", "agent": "bob"])
            let before = try server.head
            _ = try await client.submit(form, alice)
            let once = try server.events(after: before)
            #expect(once.map(\.type) == ["ticket.assigned"])
            let second = try await client.submit(form, alice)
            #expect(second.status == .ok || second.status == .seeOther, "\(second)")
            #expect(try server.events(after: before) == once)
        }
    }
}

// MARK: - Find

@Suite("Console: finding a ticket")
struct ConsoleFindTests {
    @Test func anExistingIdLeadsToTheTicketAndAnUnknownOneIsAFieldError() async throws {
        try await withServer { _, client in
            try await openDesk(client)
            let alice = try await client.consoleSession(.alice)
            let form = try await client.consolePage("/console/find", alice)
            expectConsoleHTML(form, .ok)
            #expect(form.form(id: "form-find")?.method == "get" && form.form(id: "form-find")?.action == "/console/find")
            let found = try await client.consolePage("/console/find?id=T-2", alice)
            expectRedirect(found.reply, to: "/console/tickets/T-2")
            let unknown = try await client.consolePage("/console/find?id=T-404", alice)
            expectConsoleHTML(unknown)
            #expect(unknown.status == .ok || unknown.status == .notFound, "\(unknown)")
            #expect(unknown.element(id: "find-id-error")?.flatText.isEmpty == false, "\(unknown)")
            #expect(unknown.element(id: "find-id")?["aria-invalid"] == "true")
            #expect(unknown.form(id: "form-find")?.value("id") == "T-404", "the id typed is kept")
        }
    }

    @Test(arguments: ["customer=c-1", "tag=vip", "status=pending", "customer=c-2&status=open", "status="])
    func aSearchListsWhatTheTicketListReturns(query: String) async throws {
        try await withServer { _, client in
            try await openDesk(client)
            _ = try await client.open(as: .c2, customer: "c-2", subject: "Fourth", product: "hosting")
            try await client.command("T-1", "tags", as: .alice, "{\"added\": [\"vip\"]}")
            try await client.command("T-4", "tags", as: .alice, "{\"added\": [\"vip\"]}")
            try await client.command("T-2", "status", as: .alice, "{\"status\": \"pending\"}")
            try await client.command("T-4", "status", as: .alice, "{\"status\": \"open\"}")
            let alice = try await client.consoleSession(.alice)
            let page = try await client.consolePage("/console/find?\(query)", alice)
            expectConsoleHTML(page, .ok)
            let apiQuery = query == "status=" ? "" : query + "&"
            let api = try await client.get("/v1/tickets?\(apiQuery)limit=25", as: .alice)
            let ids = api.json["tickets"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(!ids.isEmpty)
            #expect(page.ticketRows("find-results") == ids, "\(query)")
            for id in ids {
                #expect(page.row("find-results", ticket: id)?.first("a")?["href"] == "/console/tickets/\(id)")
            }
        }
    }

    @Test func resultsComeTwentyFivePerPageWithANextLink() async throws {
        try await withServer { _, client in
            for k in 0..<30 { _ = try await client.open(as: .c1, customer: "c-1", subject: "Ticket \(k)") }
            let alice = try await client.consoleSession(.alice)
            let first = try await client.consolePage("/console/find?customer=c-1", alice)
            expectConsoleHTML(first, .ok)
            let page1 = first.ticketRows("find-results")
            #expect(page1.count == 25)
            let next = try #require(first.element(id: "find-next")?["href"], "no next link")
            #expect(next.contains("after=") && next.contains("customer=c-1"), "\(next)")
            let second = try await client.consolePage(next, alice)
            let page2 = second.ticketRows("find-results")
            #expect(page2.count == 5 && second.element(id: "find-next") == nil)
            #expect(Set(page1 + page2).count == 30)
            let api1 = try await client.get("/v1/tickets?customer=c-1&limit=25", as: .alice).json
            #expect(page1 == api1["tickets"]?.arrayValue?.compactMap { $0["id"]?.stringValue })
            let after = api1["next"]?.stringValue ?? "?"
            let api2 = try await client.get("/v1/tickets?customer=c-1&limit=25&after=\(after)", as: .alice).json
            #expect(page2 == api2["tickets"]?.arrayValue?.compactMap { $0["id"]?.stringValue })
        }
    }
}

// MARK: - Every page

@Suite("Console: what customers and agents typed is escaped")
struct ConsoleEscapingTests {
    static let subject = "<script>alert(\"s\")</script> & 'quotes'"
    static let body = "<img src=x onerror=alert(1)>\n]]> &amp; <!-- -->"

    @Test func subjectsBodiesAndNotesAreTextOnEveryPage() async throws {
        try await withServer { _, client in
            _ = try await client.open(as: .c1, customer: "c-1", subject: Self.subject, body: Self.body, priority: "urgent")
            try await client.assignByAPI("T-1", to: "alice")
            try await client.command("T-1", "notes", as: .bob, Bodies.message(Self.body))
            let alice = try await client.consoleSession(.alice)
            for path in [
                "/console/queue", "/console/queues/email", "/console/tickets/T-1", "/console/handoff", "/console/find?customer=c-1",
            ] {
                let page = try await client.consolePage(path, alice)
                expectConsoleHTML(page, .ok)
                let inlineScripts = page.all("script").filter { $0["src"] == nil }.count
                let images = page.all("img").count
                let text = page.root?.flatText ?? ""
                #expect(inlineScripts == 0, "\(path) runs a script it did not load")
                #expect(images == 0, "\(path) has an img from user text")
                #expect(text.contains(Self.subject), "\(path) does not show the subject as text")
            }
            let ticket = try await client.ticketPage("T-1", alice)
            let bodies = ticket.element(id: "thread")?.all("div") { $0.hasClass("body") }.map(\.text) ?? []
            #expect(bodies == [Self.body, Self.body], "\(bodies)")
            // What a link carries in its query comes back as text too.
            let evil = ConsoleForm.formEscape(Self.subject)
            let manager = try await client.consoleSession(.manager)
            let reflected: [(String, ConsoleSession)] = [
                ("/console/queue?agent=\(evil)", manager), ("/console/find?tag=\(evil)", alice), ("/console/find?customer=\(evil)", alice),
                ("/console/find?id=\(evil)", alice), ("/console/tickets/T-1?done=\(evil)", alice),
                ("/console/queues/email?done=\(evil)", alice),
            ]
            for (path, session) in reflected {
                let page = try await client.consolePage(path, session)
                expectConsoleHTML(page)
                let inlineScripts = page.all("script").filter { $0["src"] == nil }.count
                #expect(inlineScripts == 0, "\(path) runs what the link carried")
            }
        }
    }
}

@Suite("Console: every page")
struct ConsolePageTests {
    @Test func everyPageIsWellFormedWithTheSecurityHeadersAndLoadsNothingFromElsewhere() async throws {
        try await withServer { _, client in
            try await openDeskWithAlicesTicket(client)
            let alice = try await client.consoleSession(.alice)
            var pages: [(String, ConsolePage)] = [
                ("login", try await client.consolePage("/console/login", cookie: nil)),
                ("refused", ConsolePage(try await client.consoleSignIn(token: Who.c1.token))),
                ("unknown token", ConsolePage(try await client.consoleSignIn(token: "nope"))),
                ("not found", try await client.consolePage("/console/tickets/T-404", alice)),
                ("find results", try await client.consolePage("/console/find?customer=c-1", alice)),
                ("find unknown", try await client.consolePage("/console/find?id=T-404", alice)),
                ("flash", try await client.consolePage("/console/tickets/T-1?done=note", alice)),
            ]
            for path in consolePages { pages.append((path, try await client.consolePage(path, alice))) }
            let form = try await client.ticketForm("T-1", "form-note", alice).setting("body", "typed")
            try await client.command("T-1", "notes", as: .bob, Bodies.message("meanwhile"))
            pages.append(("409", ConsolePage(try await client.submit(form, alice))))
            let empty = form.setting(["body": "", "version": "3", "key": "a-fresh-key-for-the-empty-note"])
            pages.append(("400", ConsolePage(try await client.submit(empty, alice))))
            for (what, page) in pages {
                expectConsoleHTML(page)
                #expect(page.root?.name == "html", "\(what)")
                // No inline script or style, nothing from elsewhere.
                #expect(page.all("style").isEmpty && page.all { $0["style"] != nil }.isEmpty, "\(what) has inline style")
                #expect(page.all("script").allSatisfy { $0["src"]?.hasPrefix("/") == true }, "\(what) has an inline script")
                let handlers = page.all { element in element.attributes.keys.contains { $0.hasPrefix("on") } }
                #expect(handlers.isEmpty, "\(what) has an event handler attribute")
                for e in page.all() {
                    for key in ["href", "src", "action"] {
                        // This site's paths, or an inline `data:` (the empty icon).
                        if let url = e[key] {
                            let local =
                                url.hasPrefix("/") && !url.hasPrefix("//") || url.hasPrefix("#") || url.hasPrefix("?")
                                || url.hasPrefix("data:")
                            #expect(local, "\(what) links to \(url)")
                        }
                    }
                }
                #expect(page.all("link").allSatisfy { $0["href"] == "/assets/ledgerdesk.css" || $0["rel"] != "stylesheet" }, "\(what)")
                if what.hasPrefix("/console/") {
                    #expect(page.element(id: "main")?.name == "main", "\(what) has no main")
                    #expect(page.all("h1").count == 1, "\(what): one h1")
                    let nav = page.all("header") { $0.hasClass("top") }.first?.all("a").compactMap { $0["href"] } ?? []
                    #expect(["/console/queue", "/console/handoff", "/console/find"].allSatisfy { nav.contains($0) }, "\(what) nav \(nav)")
                }
                for who in Who.allCases { #expect(!page.text.contains(who.token), "\(what) shows a token") }
            }
            let css = try await client.send(.get, "/assets/ledgerdesk.css", as: nil)
            #expect(css.status == .ok && css.contentType?.hasPrefix("text/css") == true)
            let js = try await client.send(.get, "/console/console.js", as: nil)
            #expect(js.status == .ok && js.contentType?.contains("javascript") == true)
        }
    }
}
