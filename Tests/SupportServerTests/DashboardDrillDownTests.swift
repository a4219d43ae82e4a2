import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportDomain
import SupportService
import Testing

@testable import SupportServer

/// The response-times page's drill-down: each bar and point links to the list of the values
/// behind it, breached first (most late first), each ticket linking to its clock explanation.
@Suite("Dashboard drill-down")
struct DashboardDrillDownTests {
    /// A link as the page writes it, unescaped as a parser reads it.
    static func link(
        _ metric: SLAMetric, priority: Priority? = nil, week: String? = nil, weeks: Int = 3, clock: SLAClock = .calendar
    ) -> String {
        DashboardContentBuilder.ticketsLink(
            metric: metric, groupBy: priority == nil ? .none : .priority, group: priority?.rawValue, week: week, weeks: weeks,
            clock: clock
        ).replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The CSV rows of a list (header dropped), each split at commas (the fixture's values hold none).
    static func rows(_ client: any TestClientProtocol, _ link: String, session: String) async throws -> [[String]] {
        let csv = link.replacingOccurrences(of: "/response-times/tickets?", with: "/response-times/tickets.csv?chart=tickets-table&")
        let r = try await client.page(csv, session: session)
        #expect(r.status == .ok, "\(csv): \(r.status)")
        return r.text.split(separator: "\r\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    @Test func everyBarAndPointLinksToTheValuesBehindItWithTheSameCountsAndOutcomes() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.manager)
            for clock in SLAClock.allCases {
                let scan = PageScan.parse(try await client.page("/response-times?weeks=3&clock=\(clock.rawValue)", session: id).text)
                try #require(scan.failure == nil, "\(scan.failure ?? "")")
                // Bars: achieved + breached of the list equal the bar's count, and its share the compliance.
                for bar in scan.points("sla") {
                    let metric = try #require(SLAMetric.allCases.first { DashboardData.metricName($0) == bar.series })
                    let priority = try #require(Priority(rawValue: bar.category))
                    let link = Self.link(metric, priority: priority, clock: clock)
                    guard bar.count != "0" else {
                        #expect(!scan.urls.contains(link), "\(link): a bar without outcomes links nowhere")
                        continue
                    }
                    #expect(scan.urls.contains(link), "no link \(link)")
                    let rows = try await Self.rows(client, link, session: id)
                    let achieved = rows.filter { $0[3] == "achieved" }.count, breached = rows.filter { $0[3] == "breached" }.count
                    #expect(String(achieved + breached) == bar.count, "\(link)")
                    #expect(DashboardHTML.number(Double(achieved) / Double(achieved + breached)) == bar.value, "\(link)")
                }
                // Points: the ended values of the list are the point's count.
                for (chart, metric) in [("first-reply", SLAMetric.firstReply), ("resolution", .resolution)] {
                    for point in scan.points(chart) {
                        let link = Self.link(metric, week: point.category, clock: clock)
                        #expect(scan.urls.contains(link), "no link \(link)")
                        let rows = try await Self.rows(client, link, session: id)
                        #expect(String(rows.filter { !$0[10].isEmpty }.count) == point.count, "\(link)")
                    }
                }
            }
        }
    }

    @Test func theListShowsBreachedFirstMostLateFirstThenAchievedEachLinkingToItsClockExplanation() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.auditor)
            let link = Self.link(.resolution, priority: .urgent)
            let page = try await client.page(link, session: id)
            #expect(page.status == .ok)
            let scan = PageScan.parse(page.text)
            try #require(scan.failure == nil, "\(scan.failure ?? "")")
            // T-2, T-3 and T-5 still run (breached at their due, measured now), T-4 took 50 h
            // against 8 h, T-1 was in time.
            let tickets = scan.urls.filter { $0.hasPrefix("/tickets/") }
            #expect(tickets == ["/tickets/T-2/sla", "/tickets/T-3/sla", "/tickets/T-5/sla", "/tickets/T-4/sla", "/tickets/T-1/sla"])
            let rows = try await Self.rows(client, link, session: id)
            let hour = 3600
            let expected: [[String]] = [
                ["T-2", "breached", String((16 * 24 + 19) * hour)],
                ["T-3", "breached", String((9 * 24 + 19) * hour)],
                ["T-5", "breached", String((3 * 24 + 20) * hour)],
                ["T-4", "breached", String(42 * hour)],
                ["T-1", "achieved", ""],
            ]
            let found: [[String]] = rows.map { [$0[0], $0[3], $0[4]] }
            #expect(found == expected)
            #expect(page.text.contains("5 values · 4 breached (3 still running) · 1 achieved"))
            // The first-reply list of week A: T-2 late by 1 h, then T-1.
            let weekList = try await Self.rows(client, Self.link(.firstReply, week: weekA), session: id)
            let weekFound: [[String]] = weekList.map { [$0[0], $0[3], $0[4], $0[5]] }
            #expect(weekFound == [["T-2", "breached", "3600", "7200"], ["T-1", "achieved", "", "1800"]])
            #expect(!page.text.contains("<script"))
        }
    }

    @Test func theListNeedsADashboardSessionAndRefusesUnknownOrBadParametersWithAPage() async throws {
        try await withDashboard { _, client in
            let link = Self.link(.firstReply)
            let anonymous = try await client.page(link, session: nil)
            #expect(anonymous.status == .seeOther && anonymous.location == "/login?next=%2Fresponse-times%2Ftickets")
            let bearer = try await client.get(link, as: .alice)
            #expect(bearer.status == .seeOther)
            let agent = try await client.signIn(token: Who.alice.token)
            #expect(agent.status == .forbidden && agent.sessionCookie == nil)
            for who in [Who.manager, .auditor, .admin] {
                let id = try await client.session(who)
                #expect(try await client.page(link, session: id).status == .ok, "\(who)")
            }
            let id = try await client.session(.manager)
            for (path, words) in [
                ("/response-times/tickets?metric=firstReply&nope=1", "unknown query parameter \"nope\""),
                ("/response-times/tickets", "\"metric\" names the metric"),
                ("/response-times/tickets?metric=requesterWait", "\"metric\" must be one of"),
                ("/response-times/tickets?metric=firstReply&group=urgent", "\"group\" needs \"groupBy\""),
                (
                    "/response-times/tickets?metric=firstReply&week=2026-01-05T00:00:00%2B01:00",
                    "\"week\" must be the start of one of the weeks shown"
                ),
                ("/response-times/tickets?metric=firstReply&clock=wall", "\"clock\" must be one of"),
                ("/response-times/tickets.csv?chart=nope&metric=firstReply", "\"chart\" must be one of tickets-table"),
            ] {
                let r = try await client.page(path, session: id)
                #expect(r.status == .badRequest, "\(path)")
                #expect(r.contentType == "text/html; charset=utf-8", "\(path)")
                #expect(r.text.contains(DashboardHTML.escape(words)), "\(path): \(r.text)")
            }
            // A group nobody is in: an empty list, not an error.
            let empty = try await client.page("/response-times/tickets?metric=nextReply&groupBy=priority&group=low", session: id)
            #expect(empty.status == .ok && empty.text.contains("No value behind this point."))
        }
    }
}

/// The clock explanation page: the answer of `GET /v1/tickets/{id}/sla`, laid out.
@Suite("Dashboard clock explanation")
struct DashboardClockPageTests {
    @Test func theClockPageShowsTheAPIsIntervalsAndAgreesWithTheDrillDownOnHowLate() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.manager)
            let page = try await client.page("/tickets/T-2/sla", session: id)
            #expect(page.status == .ok)
            let scan = PageScan.parse(page.text)
            try #require(scan.failure == nil, "\(scan.failure ?? "")")
            #expect(page.text.contains("Clocks of ticket T-2"))
            #expect(page.text.contains("still running at 2026-03-20 13:00"))
            let api = try await client.get("/v1/tickets/T-2/sla", as: .manager)
            let intervals = api.json["intervals"]?.arrayValue ?? []
            #expect(intervals.count == 2)
            let csv = try await client.page("/tickets/T-2/sla.csv?chart=intervals-table", session: id)
            #expect(csv.status == .ok)
            let rows = csv.text.split(separator: "\r\n").dropFirst().map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
            let fromPage: [[String]] = rows.map { [$0[0], $0[1], $0[2], $0[12]] }
            let fromAPI: [[String]] = intervals.map { i in
                [
                    i["metric"]?.stringValue ?? "?", i["state"]?.stringValue ?? "?", i["outcome"]?.stringValue ?? "",
                    i["late"]?.intValue.map(String.init) ?? "",
                ]
            }
            #expect(fromPage == fromAPI)
            // The drill-down's "how late" of T-2's resolution is the explanation's.
            let list = try await client.page(
                "/response-times/tickets.csv?chart=tickets-table&metric=resolution&groupBy=priority&group=urgent&weeks=3", session: id)
            let late = list.text.split(separator: "\r\n").first { $0.hasPrefix("T-2,") }?.split(
                separator: ",", omittingEmptySubsequences: false)[4]
            #expect(late.map(String.init) == fromPage.first { $0[0] == "resolution" }?[3])
            // As of an earlier instant: only what had happened by then, evaluated then.
            let early = try await client.page("/tickets/T-2/sla?asOf=2026-03-03T10:00:00Z", session: id)
            #expect(early.status == .ok && early.text.contains("still running at 2026-03-03 11:00"))
        }
    }

    @Test func theClockPageNeedsASessionAndAnswersUnknownTicketsAndBadParametersWithAPage() async throws {
        try await withDashboard { _, client in
            let anonymous = try await client.page("/tickets/T-2/sla", session: nil)
            #expect(anonymous.status == .seeOther && anonymous.location == "/login?next=%2Ftickets%2FT-2%2Fsla")
            // Signing in returns to the explanation.
            let back = try await client.signIn(token: Who.auditor.token, next: "/tickets/T-2/sla")
            #expect(back.status == .seeOther && back.location == "/tickets/T-2/sla")
            let elsewhere = try await client.signIn(token: Who.auditor.token, next: "/tickets/T-2/../../evil")
            #expect(elsewhere.location == "/satisfaction")
            for who in [Who.manager, .auditor, .admin] {
                let id = try await client.session(who)
                #expect(try await client.page("/tickets/T-1/sla", session: id).status == .ok, "\(who)")
            }
            let id = try await client.session(.manager)
            for (path, status, words) in [
                ("/tickets/T-99/sla", HTTPResponse.Status.notFound, "ticket T-99 not found"),
                ("/tickets/T-2/sla?asOf=2026-03-01T00:00:00Z", .notFound, "did not exist"),
                ("/tickets/T-2/sla?asOf=yesterday", .badRequest, "\"asOf\" must be an RFC 3339 instant"),
                ("/tickets/T-2/sla?nope=1", .badRequest, "unknown query parameter \"nope\""),
                ("/tickets/T-2/sla.csv?chart=nope", .badRequest, "\"chart\" must be one of intervals-table"),
            ] {
                let r = try await client.page(path, session: id)
                #expect(r.status == status, "\(path): \(r.status)")
                #expect(r.contentType == "text/html; charset=utf-8", "\(path)")
                #expect(r.text.contains(DashboardHTML.escape(words)), "\(path): \(r.text)")
            }
        }
    }
}
