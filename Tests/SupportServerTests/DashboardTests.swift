import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportServer

/// The management dashboard: sign-in, the charts' exact points, the CSV downloads, escaping.
@Suite("Dashboard")
struct DashboardTests {
    // MARK: Sign-in

    @Test func pagesNeedASessionAndRedirectToTheSignInForm() async throws {
        try await withDashboard(events: []) { _, client in
            for path in ["/satisfaction", "/response-times", "/queues", "/agents"] {
                let r = try await client.page(path, session: nil)
                #expect(r.status == .seeOther, "\(path): \(r)")
                #expect(r.location == "/login?next=\(DashboardHTML.percentEncode(path))")
                let csv = try await client.page(path + ".csv?chart=x", session: nil)
                #expect(csv.status == .seeOther && csv.location?.hasPrefix("/login") == true, "\(path).csv: \(csv)")
            }
            let root = try await client.page("/", session: nil)
            #expect(root.status == .seeOther && root.location == "/login")
            // A bearer token is for the API, not the dashboard.
            let bearer = try await client.get("/satisfaction", as: .manager)
            #expect(bearer.status == .seeOther && bearer.location?.hasPrefix("/login") == true)
            // An unknown session id is no session.
            let forged = try await client.page("/satisfaction", session: String(repeating: "ab", count: 32))
            #expect(forged.status == .seeOther)
        }
    }

    @Test func theSignInFormPostsTheTokenInTheBodyAndRefusesItInAURL() async throws {
        try await withDashboard(events: []) { _, client in
            let form = try await client.page("/login?next=%2Fqueues", session: nil)
            #expect(form.status == .ok && form.contentType == "text/html; charset=utf-8")
            let scan = PageScan.parse(form.text)
            #expect(scan.failure == nil, "\(scan.failure ?? "")")
            #expect(form.text.contains("<form method=\"post\" action=\"/login\""))
            #expect(form.text.contains("name=\"token\" type=\"password\""))
            #expect(form.text.contains("name=\"next\" value=\"/queues\""))
            #expect(form.headers[.cacheControl] == "no-store")
            #expect(form.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)

            let inURL = try await client.page("/login?token=\(Who.manager.token)", session: nil)
            #expect(inURL.status == .badRequest && inURL.sessionCookie == nil)
            #expect(!inURL.text.contains(Who.manager.token))
            let postedInURL = try await client.send(
                .post, "/login?token=\(Who.manager.token)", as: nil, body: "",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(postedInURL.status == .badRequest && postedInURL.sessionCookie == nil)
            let json = try await client.send(.post, "/login", as: nil, body: "{\"token\": \"\(Who.manager.token)\"}")
            #expect(json.status == .unsupportedMediaType && json.sessionCookie == nil)
        }
    }

    @Test func badTokensCustomersAndAgentsAreRefusedWithAClearPage() async throws {
        try await withDashboard(events: []) { _, client in
            let bad = try await client.signIn(token: "not-a-token")
            #expect(bad.status == .unauthorized && bad.sessionCookie == nil)
            #expect(bad.text.contains("This token is not known") && !bad.text.contains("not-a-token"))
            let empty = try await client.signIn(token: "")
            #expect(empty.status == .badRequest && empty.sessionCookie == nil)
            for who in [Who.c1, .alice] {
                let r = try await client.signIn(token: who.token)
                #expect(r.status == .forbidden && r.sessionCookie == nil, "\(who): \(r)")
                #expect(r.text.contains("cannot sign in to the dashboard"), "\(r)")
                #expect(r.text.contains("A \(who.role.rawValue) cannot"))
                #expect(!r.text.contains(who.token))
            }
        }
    }

    @Test func managersAuditorsAndAdminsSignInWithAnHttpOnlyStrictCookieAndSignOut() async throws {
        try await withDashboard(events: []) { server, client in
            for who in [Who.manager, .auditor, .admin] {
                let r = try await client.signIn(token: who.token)
                #expect(r.status == .seeOther && r.location == "/satisfaction", "\(who): \(r)")
                let cookie = r.headers[values: .setCookie].first ?? ""
                #expect(cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict") && cookie.contains("; Path=/"), "\(cookie)")
                let id = try #require(r.sessionCookie)
                #expect(id.count == 64 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
                #expect(!cookie.contains(who.token) && !r.text.contains(who.token))
                let page = try await client.page("/satisfaction", session: id)
                #expect(page.status == .ok && page.text.contains("\(who.id) (\(who.role.rawValue))"), "\(who): \(page.status)")
                let root = try await client.page("/", session: id)
                #expect(root.status == .seeOther && root.location == "/satisfaction")
            }
            // `next` returns to the page asked for, and only to a dashboard page.
            let next = try await client.signIn(token: Who.manager.token, next: "/queues")
            #expect(next.location == "/queues")
            let elsewhere = try await client.signIn(token: Who.manager.token, next: "https://evil.example/")
            #expect(elsewhere.location == "/satisfaction")
            // Signing out ends the session.
            let id = try await client.session(.manager)
            let out = try await client.send(.post, "/logout", as: nil, headers: [.cookie: "ledgerdesk_session=\(id)"])
            #expect(out.status == .seeOther && out.location == "/login")
            #expect(out.headers[values: .setCookie].first?.hasPrefix("ledgerdesk_session=; Max-Age=0") == true)
            #expect(try await client.page("/queues", session: id).status == .seeOther)
            // Sessions expire.
            let later = try await client.session(.auditor)
            #expect(try await client.page("/queues", session: later).status == .ok)
            server.clock.advance(seconds: WebSessions.lifetimeSeconds + 1)
            #expect(try await client.page("/queues", session: later).status == .seeOther)
        }
    }

    @Test func signingInFromAnotherSiteIsRefused() async throws {
        try await withDashboard(events: []) { _, client in
            let r = try await client.signIn(token: Who.manager.token, headers: [.dashboardOrigin: "https://evil.example"])
            #expect(r.status == .forbidden && r.sessionCookie == nil)
            let fetch = try await client.signIn(token: Who.manager.token, headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(fetch.status == .forbidden && fetch.sessionCookie == nil)
            let sameSite = try await client.signIn(token: Who.manager.token, headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-site"])
            #expect(sameSite.status == .forbidden && sameSite.sessionCookie == nil)
            // What a browser sends from the sign-in form itself.
            let own = try await client.signIn(
                token: Who.manager.token,
                headers: [
                    HTTPField.Name("Sec-Fetch-Site")!: "same-origin",
                    .dashboardOrigin: "null",
                ])
            #expect(own.status == .seeOther && own.sessionCookie != nil)
            let out = try await client.send(
                .post, "/logout", as: nil,
                headers: [
                    .cookie: "ledgerdesk_session=\(own.sessionCookie ?? "")",
                    HTTPField.Name("Sec-Fetch-Site")!: "cross-site",
                ])
            #expect(out.status == .forbidden)
        }
    }

    @Test func noTokenAppearsInAnyURLOrPage() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.manager)
            var seen: [Reply] = []
            seen.append(try await client.page("/login", session: nil))
            for path in [
                "/satisfaction?weeks=3&agent=alice", "/response-times?weeks=3&clock=business", "/queues", "/agents?weeks=3",
                "/satisfaction.csv?chart=team-csat&weeks=3",
            ] {
                let r = try await client.page(path, session: id)
                #expect(r.status == .ok, "\(path): \(r.status)")
                seen.append(r)
                guard r.contentType?.hasPrefix("text/html") == true else { continue }
                let scan = PageScan.parse(r.text)
                #expect(scan.failure == nil, "\(path): \(scan.failure ?? "")")
                for url in scan.urls {
                    #expect(!url.lowercased().contains("token"), "\(path) links to \(url)")
                }
            }
            for r in seen {
                for who in Who.allCases { #expect(!r.text.contains(who.token)) }
                #expect(!(r.location ?? "").contains("token"))
            }
        }
    }

    // MARK: Charts carry exactly the expected points

    @Test func satisfactionChartsCarryOnePointPerTeamAndWeekWithTheirCounts() async throws {
        try await withDashboard { _, client in
            let id = try await client.session()
            let r = try await client.page("/satisfaction?weeks=3", session: id)
            #expect(r.status == .ok)
            let scan = PageScan.parse(r.text)
            try #require(scan.failure == nil, "\(scan.failure ?? "")")
            #expect(scan.charts == ["team-csat", "team-mean"])
            let csat: Set<ChartMark> = [
                mark("team-csat", "circle", "email", weekA, "0.5", "2"),
                mark("team-csat", "circle", "email", weekB, "1", "1"),
                mark("team-csat", "circle", "email", weekC, "0", "1"),
                mark("team-csat", "circle", "hosting", weekB, "1", "1"),
            ]
            #expect(scan.points("team-csat") == csat)
            #expect(scan.points("team-csat", layout: "narrow") == csat, "the phone layout shows the same points")
            #expect(
                scan.points("team-mean") == [
                    mark("team-mean", "circle", "email", weekA, "3.5", "2"),
                    mark("team-mean", "circle", "email", weekB, "4", "1"),
                    mark("team-mean", "circle", "email", weekC, "3", "1"),
                    mark("team-mean", "circle", "hosting", weekB, "4", "1"),
                ])
            // The count of ratings is written under each point; axes say what and in which unit.
            #expect(scan.countLabels["team-csat/wide"]?.sorted() == ["1", "1", "1", "2"])
            #expect(scan.axisTitles["team-csat/wide"]?.sorted() == ["CSAT (%)", "Week starting Monday"])
            #expect(scan.axisTitles["team-mean/wide"]?.sorted() == ["Mean score (1–5)", "Week starting Monday"])
            #expect(r.text.contains(">2 Mar</text>") && r.text.contains(">9 Mar</text>") && r.text.contains(">16 Mar</text>"))
            // The agent picker lists the rated agents (groupBy=agent).
            #expect(scan.options["agent"] == ["", "alice", "bob"])
            #expect(scan.options["weeks"]?.contains("3") == true)

            let agent = PageScan.parse(try await client.page("/satisfaction?weeks=3&agent=alice", session: id).text)
            #expect(agent.charts == ["team-csat", "team-mean", "agent-csat", "agent-mean"])
            #expect(
                agent.points("agent-csat") == [
                    mark("agent-csat", "circle", "alice", weekA, "1", "1"),
                    mark("agent-csat", "circle", "alice", weekB, "1", "2"),
                ])
            #expect(
                agent.points("agent-mean") == [
                    mark("agent-mean", "circle", "alice", weekA, "5", "1"),
                    mark("agent-mean", "circle", "alice", weekB, "4", "2"),
                ])
            // One week only: the current one.
            let one = PageScan.parse(try await client.page("/satisfaction?weeks=1", session: id).text)
            #expect(one.points("team-csat") == [mark("team-csat", "circle", "email", weekC, "0", "1")])
        }
    }

    @Test func responseTimeChartsCarryP50AndP90PerWeekOnEitherClock() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.auditor)
            let calendar = PageScan.parse(try await client.page("/response-times?weeks=3", session: id).text)
            try #require(calendar.failure == nil, "\(calendar.failure ?? "")")
            #expect(calendar.charts == ["first-reply", "resolution", "sla"])
            let firstReply: Set<ChartMark> = [
                mark("first-reply", "circle", "p50", weekA, "1800", "2"),
                mark("first-reply", "circle", "p50", weekB, "900", "2"),
                mark("first-reply", "circle", "p50", weekC, "1200", "1"),
                mark("first-reply", "circle", "p90", weekA, "7200", "2"),
                mark("first-reply", "circle", "p90", weekB, "2700", "2"),
                mark("first-reply", "circle", "p90", weekC, "1200", "1"),
            ]
            #expect(calendar.points("first-reply") == firstReply)
            // No resolution ended in week C: no point there.
            #expect(
                calendar.points("resolution") == [
                    mark("resolution", "circle", "p50", weekA, "3600", "1"),
                    mark("resolution", "circle", "p50", weekB, "180000", "1"),
                    mark("resolution", "circle", "p90", weekA, "3600", "1"),
                    mark("resolution", "circle", "p90", weekB, "180000", "1"),
                ])
            #expect(calendar.axisTitles["first-reply/wide"]?.sorted() == ["First reply time (minutes)", "Week starting Monday"])
            #expect(calendar.axisTitles["resolution/wide"]?.sorted() == ["Resolution time (hours)", "Week starting Monday"])

            // SLA compliance per priority: urgent targets run on the calendar clock.
            var sla: Set<ChartMark> = [
                mark("sla", "rect", "First reply", "urgent", "0.8", "5"),
                mark("sla", "rect", "Resolution", "urgent", "0.2", "5"),
                mark("sla", "rect", "Next reply", "urgent", "", "0"),
            ]
            for priority in ["high", "normal", "low"] {
                for metric in ["First reply", "Next reply", "Resolution"] { sla.insert(mark("sla", "rect", metric, priority, "", "0")) }
            }
            #expect(calendar.points("sla") == sla)
            #expect(calendar.axisTitles["sla/wide"]?.sorted() == ["Compliance (%)", "Priority"])

            // On the business clock T-4's resolution is 24 h (Tue 11:00 to Thu 13:00 Paris); SLA unchanged.
            let business = PageScan.parse(try await client.page("/response-times?weeks=3&clock=business", session: id).text)
            #expect(business.points("first-reply") == firstReply)
            #expect(
                business.points("resolution") == [
                    mark("resolution", "circle", "p50", weekA, "3600", "1"),
                    mark("resolution", "circle", "p50", weekB, "86400", "1"),
                    mark("resolution", "circle", "p90", weekA, "3600", "1"),
                    mark("resolution", "circle", "p90", weekB, "86400", "1"),
                ])
            #expect(business.points("sla") == sla)
        }
    }

    @Test func theChartsAgreeWithTheJSONAPI() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.manager)
            let scan = PageScan.parse(try await client.page("/response-times?weeks=3", session: id).text)
            // Week B as the API computes it.
            let api = try await client.get(
                "/v1/metrics/response-times?from=2026-03-09T00:00:00%2B01:00&to=2026-03-16T00:00:00%2B01:00",
                as: .manager)
            let first = api.json["groups"]?.arrayValue?.first?["firstReply"]
            let p50 = scan.points("first-reply").first { $0.series == "p50" && $0.category == weekB }
            #expect(p50?.value == first?["p50"]?.intValue.map(String.init))
            #expect(p50?.count == first?["count"]?.intValue.map(String.init))
            let sat = try await client.get("/v1/satisfaction?groupBy=team&from=2026-03-02T00:00:00%2B01:00", as: .manager)
            let page = PageScan.parse(try await client.page("/satisfaction?weeks=3", session: id).text)
            var fromAPI: Set<ChartMark> = []
            for group in sat.json["groups"]?.arrayValue ?? [] {
                for p in group["series"]?.arrayValue ?? [] {
                    fromAPI.insert(
                        mark(
                            "team-mean", "circle", group["key"]?.stringValue ?? "?", p["bucketStart"]?.stringValue ?? "?",
                            DashboardHTML.number(Self.double(p["mean"]) ?? -1), p["count"]?.intValue.map(String.init)))
                }
            }
            #expect(page.points("team-mean") == fromAPI)
        }
    }

    static func double(_ v: JSONValue?) -> Double? {
        switch v {
        case .int(let i)?: Double(i)
        case .double(let d)?: d
        default: nil
        }
    }

    @Test func queuesPageShowsDepthBreachedAndOldestWaitingAndRefreshesItself() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.manager)
            let r = try await client.page("/queues", session: id)
            let scan = PageScan.parse(r.text)
            try #require(scan.failure == nil, "\(scan.failure ?? "")")
            #expect(scan.metaRefresh == "30")
            #expect(
                scan.points("queue-depth") == [
                    mark("queue-depth", "rect", "Waiting", "email", "2", nil),
                    mark("queue-depth", "rect", "Breached", "email", "2", nil),
                    mark("queue-depth", "rect", "Waiting", "hosting", "1", nil),
                    mark("queue-depth", "rect", "Breached", "hosting", "1", nil),
                ])
            // email: T-2 open since bob's reply on 3 Mar 11:00; hosting: T-3 since 10 Mar 09:15 (UTC).
            #expect(
                scan.points("queue-oldest") == [
                    mark("queue-oldest", "rect", "Oldest waiting", "email", "1472400", nil),
                    mark("queue-oldest", "rect", "Oldest waiting", "hosting", "873900", nil),
                ])
            #expect(scan.axisTitles["queue-oldest/wide"]?.sorted() == ["Team", "Waiting for (days)"])
            #expect(r.text.contains("2026-03-03 12:00"), "oldest waiting since, in Paris time")
        }
    }

    @Test func agentsPageMarksOverloadedAgents() async throws {
        try await withDashboard(capacity: 1) { _, client in
            let id = try await client.session(.admin)
            let r = try await client.page("/agents?weeks=3", session: id)
            let scan = PageScan.parse(r.text)
            try #require(scan.failure == nil, "\(scan.failure ?? "")")
            var assigned: Set<ChartMark> = [
                mark("agent-assigned", "rect", "New + open", "alice", "1", nil),
                mark("agent-assigned", "rect", "New + open", "bob", "2", nil),
            ]
            for agent in ["alice", "bob"] {
                assigned.insert(mark("agent-assigned", "rect", "Pending", agent, "0", nil))
                assigned.insert(mark("agent-assigned", "rect", "On hold", agent, "0", nil))
            }
            #expect(scan.points("agent-assigned") == assigned)
            #expect(
                scan.points("agent-activity") == [
                    mark("agent-activity", "rect", "Replies", "alice", "3", nil),
                    mark("agent-activity", "rect", "Solved", "alice", "2", nil),
                    mark("agent-activity", "rect", "Replies", "bob", "2", nil),
                    mark("agent-activity", "rect", "Solved", "bob", "0", nil),
                ])
            // bob has 2 new+open tickets over a capacity of 1: marked in the chart and the table.
            #expect(r.text.contains("<tr class=\"flagged\"><td class=\"text\">bob</td>"))
            #expect(!r.text.contains("<tr class=\"flagged\"><td class=\"text\">alice</td>"))
            #expect(r.text.contains("⚠ bob<title>bob</title></text>"))
            #expect(r.text.contains("<g class=\"reference\" data-value=\"1\">"))
            #expect(r.text.contains("1 overloaded agent"))
        }
    }

    // MARK: CSV

    @Test func everyChartDownloadsItsDataAsCSV() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.manager)
            func csv(_ path: String) async throws -> String {
                let r = try await client.page(path, session: id)
                #expect(r.status == .ok, "\(path): \(r)")
                #expect(r.contentType == "text/csv; charset=utf-8; header=present")
                #expect(r.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"ledgerdesk-") == true)
                return r.text
            }
            #expect(
                try await csv("/satisfaction.csv?chart=team-csat&weeks=3") == """
                    team,week_start,csat,ratings\r
                    email,\(weekA),0.5,2\r
                    email,\(weekB),1,1\r
                    email,\(weekC),0,1\r
                    hosting,\(weekB),1,1\r

                    """)
            #expect(
                try await csv("/satisfaction.csv?chart=agent-mean&weeks=3&agent=bob") == """
                    agent,week_start,mean_score,ratings\r
                    bob,\(weekA),2,1\r
                    bob,\(weekC),3,1\r

                    """)
            #expect(
                try await csv("/response-times.csv?chart=resolution&weeks=3&clock=business") == """
                    percentile,week_start,seconds,values\r
                    p50,\(weekA),3600,1\r
                    p50,\(weekB),86400,1\r
                    p50,\(weekC),,0\r
                    p90,\(weekA),3600,1\r
                    p90,\(weekB),86400,1\r
                    p90,\(weekC),,0\r

                    """)
            let sla = try await csv("/response-times.csv?chart=sla&weeks=3")
            #expect(sla.hasPrefix("metric,priority,compliance,outcomes\r\nFirst reply,urgent,0.8,5\r\nFirst reply,high,,0\r\n"))
            #expect(sla.contains("Resolution,urgent,0.2,5\r\n"))
            #expect(
                try await csv("/response-times.csv?chart=sla-table&weeks=3").hasPrefix(
                    """
                    priority,metric,target_seconds,target_clock,achieved,breached,compliance\r
                    urgent,firstReply,3600,calendar,4,1,0.8\r
                    urgent,nextReply,7200,calendar,0,0,\r
                    urgent,resolution,28800,calendar,1,4,0.2\r
                    high,firstReply,14400,business,0,0,\r

                    """))
            #expect(
                try await csv("/queues.csv?chart=queue-table") == """
                    team,depth,breached,oldest_waiting_since,oldest_waiting_seconds\r
                    email,2,2,2026-03-03T11:00:00.000Z,1472400\r
                    hosting,1,1,2026-03-10T09:15:00.000Z,873900\r

                    """)
            #expect(
                try await csv("/queues.csv?chart=queue-depth") == """
                    measure,team,tickets\r
                    Waiting,email,2\r
                    Waiting,hosting,1\r
                    Breached,email,2\r
                    Breached,hosting,1\r

                    """)
            #expect(
                try await csv("/agents.csv?chart=workload-table&weeks=3") == """
                    agent,new_open,pending,on_hold,solved,replies,ratings,mean_score,csat,overloaded\r
                    alice,1,0,0,2,3,3,4.333333333333333,1,false\r
                    bob,2,0,0,0,2,2,2.5,0,true\r

                    """)
            // Every chart on every page has a CSV link that downloads.
            for page in ["/satisfaction?weeks=3&agent=alice", "/response-times?weeks=3", "/queues", "/agents?weeks=3"] {
                let scan = PageScan.parse(try await client.page(page, session: id).text)
                let links = scan.urls.filter { $0.contains(".csv?") }
                for chart in scan.charts {
                    let link = try #require(
                        links.first { $0.contains("chart=\(chart)&") || $0.hasSuffix("chart=\(chart)") },
                        "\(page): no CSV link for \(chart)")
                    let r = try await client.page(link, session: id)
                    #expect(r.status == .ok && r.contentType?.hasPrefix("text/csv") == true, "\(link): \(r.status)")
                }
            }
            // An unknown chart or parameter is a 400 page.
            #expect(try await client.page("/queues.csv?chart=nope", session: id).status == .badRequest)
            #expect(try await client.page("/satisfaction?weeks=0", session: id).status == .badRequest)
            #expect(try await client.page("/satisfaction?token=x", session: id).status == .badRequest)
        }
    }

    // MARK: Escaping

    static let evilTeam = "<script>alert(\"t\")</script>&'"
    static let evilAgent = "<img src=x onerror=alert(1)>"
    static let formulaTeam = "=HYPERLINK(\"http://x\",\"y\")"

    @Test func namesFromUserDataAreEscapedEverywhere() async throws {
        let events = [
            opened("T-1", "2026-03-16T09:00:00Z", customer: "c-1", team: Self.evilTeam),
            reply("T-1", "2026-03-16T09:10:00Z", agent: Self.evilAgent),
            rate("T-1", "2026-03-16T10:00:00Z", customer: "c-1", score: 5),
            opened("T-2", "2026-03-17T09:00:00Z", customer: "c-2", team: Self.formulaTeam),
        ]
        try await withDashboard(events: events) { _, client in
            let id = try await client.session(.manager)
            for path in ["/satisfaction?agent=\(DashboardHTML.percentEncode(Self.evilAgent))", "/response-times", "/queues", "/agents"] {
                let r = try await client.page(path, session: id)
                #expect(r.status == .ok, "\(path)")
                #expect(!r.text.contains("<script"), "\(path) carries a raw script tag")
                #expect(!r.text.contains("<img"), "\(path) carries a raw img tag")
                let scan = PageScan.parse(r.text)
                #expect(scan.failure == nil, "\(path) is not well-formed: \(scan.failure ?? "")")
            }
            let satisfaction = try await client.page("/satisfaction?agent=\(DashboardHTML.percentEncode(Self.evilAgent))", session: id)
            #expect(satisfaction.text.contains("&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;&amp;&#39;"))
            let scan = PageScan.parse(satisfaction.text)
            // The parsed attributes give the names back exactly.
            #expect(scan.points("team-csat") == [mark("team-csat", "circle", Self.evilTeam, weekC, "1", "1")])
            #expect(scan.points("agent-csat") == [mark("agent-csat", "circle", Self.evilAgent, weekC, "1", "1")])
            #expect(scan.options["agent"] == ["", Self.evilAgent])
            // CSV: quoted where needed, and a name a spreadsheet would run as a formula is defused.
            let queues = try await client.page("/queues.csv?chart=queue-depth", session: id)
            #expect(queues.text.contains("Waiting,\"<script>alert(\"\"t\"\")</script>&'\",1\r\n"))
            #expect(queues.text.contains("Waiting,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1\r\n"))
        }
    }

    @Test func csvAndHTMLHelpers() {
        var doc = DashboardCSV(header: ["a", "b,c"])
        doc.rows = [[.text("-1"), .number("-1")], [.text("x\r\ny"), .empty], [.text("@sum"), .text("plain")]]
        #expect(doc.text == "a,\"b,c\"\r\n'-1,-1\r\n\"x\r\ny\",\r\n'@sum,plain\r\n")
        #expect(DashboardHTML.escape("a<b>&\"'\u{7}") == "a&lt;b&gt;&amp;&quot;&#39;\u{FFFD}")
        #expect(DashboardHTML.shortDate(weekA) == "2 Mar")
        #expect(DashboardHTML.humanDuration(seconds: 11_100) == "3 h 05 min")
        #expect(DashboardHTML.percent(0.875) == "87.5 %" && DashboardHTML.percent(0.5) == "50 %")
        let form = FormFields("token=a%2Bb+c&next=%2Fqueues&token=second")
        #expect(form["token"] == "a+b c" && form["next"] == "/queues" && form["absent"] == nil)
        #expect(form.all("token") == ["a+b c", "second"])
    }
}
