import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import Projections
import SupportDomain
import SupportService
import Testing

@testable import SupportServer

/// The What if page: a form prefilled with the current policy; submitted, both policies'
/// compliance bars and first-reply curves on one chart each, from `SupportBackend.whatIf`.
@Suite("Dashboard what-if")
struct DashboardWhatIfTests {
    /// The fixture server's policy (withDashboard's capacity 1).
    static func policy() throws -> Policy { try Policy.parse(jsonData: Data("{\"capacity\": 1}".utf8)) }

    /// The page's URL for a form (as a browser sends it), with `path` `/what-if` or `/what-if.csv`.
    static func url(_ form: WhatIfForm, path: String = "/what-if", extra: [(String, String)] = []) -> String {
        path + DashboardHTML.query(extra + form.queryItems).replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func theFormIsPrefilledWithTheCurrentPolicy() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.manager)
            let page = try await client.page("/what-if", session: id)
            #expect(page.status == .ok)
            let scan = PageScan.parse(page.text)
            try #require(scan.failure == nil, "\(scan.failure ?? "")")
            #expect(scan.charts.isEmpty)
            #expect(scan.urls.contains("/what-if"))
            for field in [
                "name=\"timeZone\" type=\"text\" value=\"Europe/Paris\"", "name=\"mon\" type=\"text\" value=\"08:00-19:00\"",
                "name=\"sat\" type=\"text\" value=\"09:00-17:00\"", "name=\"sun\" type=\"text\" value=\"\"",
                "name=\"capacity\" type=\"text\" inputmode=\"numeric\" value=\"1\"",
                "name=\"urgent.firstReply\" type=\"text\" inputmode=\"numeric\" size=\"7\" aria-label=\"urgent first reply seconds\" value=\"3600\"",
                "name=\"low.resolution\" type=\"text\" inputmode=\"numeric\" size=\"7\" aria-label=\"low resolution seconds\" value=\"288000\"",
            ] {
                #expect(page.text.contains(field), "\(field)")
            }
            #expect(scan.options["urgent.firstReply.clock"] == ["calendar", "business"])
            #expect(page.text.contains("<a href=\"/what-if\" aria-current=\"page\">What if</a>"))
        }
    }

    @Test func submittingShowsBothPoliciesComplianceAndFirstReplyCurvesOnOneChartEach() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.auditor)
            var form = WhatIfForm(policy: try Self.policy())
            form.weeks = 3
            // Unchanged: both halves the same, as the response-times page counts them.
            let same = try await client.page(Self.url(form), session: id)
            #expect(same.status == .ok)
            let unchanged = PageScan.parse(same.text)
            try #require(unchanged.failure == nil, "\(unchanged.failure ?? "")")
            #expect(unchanged.charts == ["whatif-compliance", "whatif-first-reply-weekly", "whatif-first-reply"])
            #expect(same.text.contains("The proposed policy is the current one"))
            let bars = unchanged.points("whatif-compliance")
            for policy in ["Current", "Proposed"] {
                #expect(bars.contains(mark("whatif-compliance", "rect", policy, "urgent/firstReply", "0.8", "5")))
                #expect(bars.contains(mark("whatif-compliance", "rect", policy, "urgent/resolution", "0.2", "5")))
            }
            // A first-reply target of 2 h: T-2's reply after exactly 2 h is in time.
            form.targets[.urgent]?[.firstReply]?.seconds = "7200"
            let changed = try await client.page(Self.url(form), session: id)
            #expect(changed.status == .ok)
            let scan = PageScan.parse(changed.text)
            let after = scan.points("whatif-compliance")
            #expect(after.contains(mark("whatif-compliance", "rect", "Current", "urgent/firstReply", "0.8", "5")))
            #expect(after.contains(mark("whatif-compliance", "rect", "Proposed", "urgent/firstReply", "1", "5")))
            #expect(after.contains(mark("whatif-compliance", "rect", "Proposed", "urgent/resolution", "0.2", "5")))
            #expect(!changed.text.contains("The proposed policy is the current one"))
            // The first-reply curves: p50 and p90 of both per group (the calendar clock: unchanged).
            let curves = scan.points("whatif-first-reply")
            #expect(curves.contains(mark("whatif-first-reply", "circle", "Current p50", "urgent", "1800", "5")))
            #expect(curves.contains(mark("whatif-first-reply", "circle", "Proposed p50", "urgent", "1800", "5")))
            #expect(Set(curves.map(\.series)) == ["Current p50", "Proposed p50", "Current p90", "Proposed p90"])
            // The weekly curves: the current policy's are the response-times page's first-reply
            // p50 and p90 per week; the proposed ones are there too (unchanged on this clock).
            let weekly = scan.points("whatif-first-reply-weekly")
            let page = PageScan.parse(try await client.page("/response-times?weeks=3&clock=calendar", session: id).text)
            let reference = page.points("first-reply")
            #expect(!reference.isEmpty)
            for percentile in ["p50", "p90"] {
                for side in ["Current", "Proposed"] {
                    let mine = weekly.filter { $0.series == "\(side) \(percentile)" }.map { [$0.category, $0.value, $0.count ?? ""] }.sorted
                    {
                        $0[0] < $1[0]
                    }
                    let theirs = reference.filter { $0.series == percentile }.map { [$0.category, $0.value, $0.count ?? ""] }.sorted {
                        $0[0] < $1[0]
                    }
                    #expect(mine == theirs, "\(side) \(percentile)")
                }
            }
            // The form comes back with what was submitted.
            #expect(
                changed.text.contains(
                    "name=\"urgent.firstReply\" type=\"text\" inputmode=\"numeric\" size=\"7\" aria-label=\"urgent first reply seconds\" value=\"7200\""
                ))
            // The same figures as the what-if route's proposed half.
            let body =
                #"{"policy": {"capacity": 1, "targets": {"urgent": {"firstReply": {"seconds": 7200, "clock": "calendar"}}}}, "groupBy": "priority", "from": "2026-03-02T00:00:00+01:00", "to": "2026-03-23T00:00:00+01:00"}"#
            let api = try await client.send(.post, "/v1/metrics/what-if", as: .auditor, body: body)
            #expect(api.status == .ok, "\(api.text)")
            let proposedUrgent = api.json["proposed"]?["responseTimes"]?["groups"]?.arrayValue?.first { $0["key"]?.stringValue == "urgent" }
            #expect(proposedUrgent?["firstReply"]?["sla"]?["achieved"]?.intValue == 5)

            // CSV downloads of every chart and the table.
            for chart in ["whatif-compliance", "whatif-first-reply-weekly", "whatif-first-reply", "whatif-sla-table"] {
                let csv = try await client.page(Self.url(form, path: "/what-if.csv", extra: [("chart", chart)]), session: id)
                #expect(csv.status == .ok && csv.contentType?.hasPrefix("text/csv") == true, "\(chart)")
                #expect(scan.urls.contains { $0.hasPrefix("/what-if.csv?chart=\(chart)&") }, "no link for \(chart)")
                if chart == "whatif-sla-table" {
                    // Priorities the most urgent first, as on the response-times page.
                    #expect(csv.text.split(separator: "\r\n").dropFirst().first == "urgent,firstReply,4,1,0.8,5,0,1", "\(csv.text)")
                }
            }
        }
    }

    @Test func badFormInputShowsTheFormAgainWithAClearMessage() async throws {
        try await withDashboard { _, client in
            let id = try await client.session(.manager)
            let base = WhatIfForm(policy: try Self.policy())
            var cases: [(WhatIfForm, String)] = []
            var f = base
            f.hours[0] = "19:00-08:00"
            cases.append((f, "Monday hours: "))
            f = base
            f.hours[2] = "8-19"
            cases.append((f, "Wednesday hours: "))
            f = base
            f.targets[.high]?[.resolution]?.seconds = "1 day"
            cases.append((f, "Target high resolution: a whole number of seconds above 0, or empty for no target (not \"1 day\")"))
            f = base
            f.timeZone = "Mars/Olympus"
            cases.append((f, "Time zone: "))
            f = base
            f.holidays = "2026-02-30"
            cases.append((f, "Holidays: "))
            f = base
            f.capacity = "-1"
            cases.append((f, "Capacity: a whole number of tickets"))
            for (form, words) in cases {
                let r = try await client.page(Self.url(form), session: id)
                #expect(r.status == .badRequest, "\(words)")
                #expect(r.text.contains("id=\"whatif-error\""), "\(words)")
                #expect(r.text.contains(DashboardHTML.escape(words)), "\(words): \(r.text)")
                // The form again, with what was typed.
                #expect(r.text.contains("<form class=\"whatif\""), "\(words)")
                let scan = PageScan.parse(r.text)
                #expect(scan.failure == nil && scan.charts.isEmpty, "\(words)")
            }
            for (path, words) in [
                ("/what-if?nope=1", "unknown query parameter \"nope\""),
                ("/what-if?run=1&groupBy=planet", "\"groupBy\" must be one of"),
                ("/what-if?run=1&urgent.firstReply.clock=lunar", "\"urgent.firstReply.clock\" must be one of"),
                ("/what-if?run=1&weeks=99", "\"weeks\" must be an integer from 1 to 26"),
            ] {
                let r = try await client.page(path, session: id)
                #expect(r.status == .badRequest, "\(path)")
                #expect(r.text.contains(DashboardHTML.escape(words)), "\(path): \(r.text)")
            }
        }
    }

    @Test func theWhatIfPageIsForDashboardRolesOnly() async throws {
        try await withDashboard { _, client in
            let anonymous = try await client.page("/what-if", session: nil)
            #expect(anonymous.status == .seeOther && anonymous.location == "/login?next=%2Fwhat-if")
            let back = try await client.signIn(token: Who.manager.token, next: "/what-if")
            #expect(back.location == "/what-if")
            for who in [Who.manager, .auditor, .admin] {
                let id = try await client.session(who)
                #expect(try await client.page("/what-if?run=1", session: id).status == .ok, "\(who)")
            }
            for who in [Who.c1, .alice] {
                #expect(try await client.signIn(token: who.token).status == .forbidden)
            }
        }
    }
}
