import EventLog
import Projections
import SupportDomain
import SupportService

/// The What if page (`/what-if`): the form prefilled with the current policy; with `run`, the
/// current and proposed policies' SLA compliance and first-reply times side by side, from
/// `SupportBackend.whatIf` (the figures of `POST /v1/metrics/what-if`).
extension DashboardContentBuilder {
    func whatIf(_ query: QueryParameters) async throws(Problem) -> DashboardContent {
        let current = backend.levels.policy
        let form = try WhatIfForm(query, current: current)
        var body = "<h1>What if</h1>"
        body +=
            "<p class=\"meta\">\(DashboardHTML.escape("Current policy \(current.hash.prefix(12)) (\(timeZone)). Change hours, holidays or targets and compare: the proposed policy is folded over the same events, nothing is written."))</p>"
        guard query.string("run") != nil else {
            return DashboardContent(title: "What if", html: body + form.html, csv: [:])
        }
        let overlay: [UInt8]
        do { overlay = try form.overlay() } catch {
            return DashboardContent(title: "What if", html: body + Self.formError(error.text) + form.html, csv: [:], status: .badRequest)
        }
        let now = backend.clock()
        let period = DashboardPeriod(weeks: form.weeks, endingAt: now, calendar: calendar)
        let result: WhatIfResult
        do {
            var whatIf = WhatIfQuery(overlay: overlay, window: period.window, groupBy: form.groupBy, clock: form.clock, bucket: form.bucket)
            whatIf.curveWindows = period.weeks.map(\.window)
            result = try await backend.whatIf(whatIf)
        } catch {
            let problem = Problem(error)
            guard problem.status == .badRequest else { throw problem }
            return DashboardContent(
                title: "What if", html: body + Self.formError(problem.detail) + form.html, csv: [:], status: .badRequest)
        }
        let charts = Self.whatIfCharts(result, groupBy: form.groupBy)
        let weekly = Self.firstReplyWeekly(result, period: period)
        let links = form.queryItems
        body +=
            "<p class=\"meta\">\(DashboardHTML.escape("Evaluated at \(local(result.at)) · \(period.description) · current \(result.current.policyHash.prefix(12)), proposed \(result.proposed.policyHash.prefix(12))"))</p>"
        if result.current.policyHash == result.proposed.policyHash {
            body += "<p class=\"notice\">The proposed policy is the current one: both halves are the same.</p>"
        }
        body +=
            "<div class=\"grid\">"
            + [charts.compliance, weekly, charts.firstReply].map { DashboardPages.figure($0, csvPath: "/what-if.csv", query: links) }
            .joined()
            + "</div>"
        body += charts.tableHTML
        body +=
            "<p class=\"links\"><a href=\"/what-if.csv\(DashboardHTML.query([("chart", "whatif-sla-table")] + links))\" download=\"\">Download CSV</a></p></section>"
        body += Self.queueChanges(result)
        body += form.html
        var csv = Dictionary(uniqueKeysWithValues: [charts.compliance, weekly, charts.firstReply].map { ($0.id, $0.csv) })
        csv["whatif-sla-table"] = charts.table
        return DashboardContent(title: "What if", html: body, csv: csv)
    }

    static func formError(_ message: String) -> String {
        "<p class=\"error\" role=\"alert\" id=\"whatif-error\">\(DashboardHTML.escape(message))</p>"
    }

    static func groupLabel(_ key: String?, _ groupBy: GroupBy) -> String { groupBy == .none ? "all" : key ?? "(none)" }

    /// Groups as the metric orders them (by key), except priorities: the most urgent first, as
    /// on the response-times page.
    static func ordered<T>(_ items: [T], key: (T) -> String?, groupBy: GroupBy) -> [T] {
        guard groupBy == .priority else { return items }
        func rank(_ item: T) -> Int {
            key(item).flatMap(Priority.init(rawValue:)).flatMap { DashboardData.priorities.firstIndex(of: $0) } ?? Int.max
        }
        return items.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
    }

    /// The compliance bars (a category per group and SLA metric with outcomes on either side)
    /// and the first-reply p50 and p90 of both policies per group, and the table of both.
    static func whatIfCharts(
        _ result: WhatIfResult, groupBy: GroupBy
    ) -> (compliance: DashboardChart, firstReply: DashboardChart, table: DashboardCSV, tableHTML: String) {
        var categories: [DashboardChart.Category] = []
        var current: [DashboardChart.Point?] = [], proposed: [DashboardChart.Point?] = []
        var table = DashboardCSV(header: [
            "group", "metric", "current_achieved", "current_breached", "current_compliance", "proposed_achieved", "proposed_breached",
            "proposed_compliance",
        ])
        var rows: [(cells: [String], flagged: Bool)] = []
        for g in ordered(result.groups, key: \.key, groupBy: groupBy) {
            for (metric, change) in [(SLAMetric.firstReply, g.firstReply), (.nextReply, g.nextReply), (.resolution, g.resolution)] {
                let a = change.current, b = change.proposed
                guard a.achieved + a.breached + b.achieved + b.breached > 0 else { continue }
                let label = "\(groupLabel(g.key, groupBy)) · \(DashboardData.metricName(metric))"
                categories.append(.init(key: "\(g.key ?? "")/\(metric.rawValue)", label: label))
                current.append(.init(value: a.compliance, count: a.achieved + a.breached))
                proposed.append(.init(value: b.compliance, count: b.achieved + b.breached))
                table.rows.append([
                    .text(g.key ?? ""), .text(metric.rawValue), .number(String(a.achieved)), .number(String(a.breached)),
                    a.compliance.map { .number(DashboardHTML.number($0)) } ?? .empty, .number(String(b.achieved)),
                    .number(String(b.breached)), b.compliance.map { .number(DashboardHTML.number($0)) } ?? .empty,
                ])
                let worse = (b.compliance ?? 1) < (a.compliance ?? 1)
                rows.append(
                    (
                        [
                            DashboardHTML.escape(groupLabel(g.key, groupBy)), DashboardData.metricName(metric), String(a.achieved),
                            String(a.breached), a.compliance.map(DashboardHTML.percent) ?? "–", String(b.achieved), String(b.breached),
                            b.compliance.map(DashboardHTML.percent) ?? "–",
                        ], worse
                    ))
            }
        }
        let compliance = DashboardChart(
            id: "whatif-compliance", title: "SLA compliance, current and proposed policy",
            subtitle:
                "Achieved ÷ (achieved + breached) per group and target, each target on its own clock; in brackets the number of SLA outcomes.",
            kind: .bars, unit: .fraction, categoryTitle: "Group and target", valueTitle: "Compliance", categories: categories,
            series: [.init(name: "Current", points: current), .init(name: "Proposed", points: proposed)], countNoun: "SLA outcomes",
            columns: .init(series: "policy", category: "group_metric", value: "compliance", count: "outcomes"),
            emptyText: "No SLA outcomes in this period")

        // First reply per group: p50 and p90 of both.
        var keys: [String?] = []
        var seen = Set<String?>()
        for g in result.current.responseTimes + result.proposed.responseTimes where seen.insert(g.key).inserted { keys.append(g.key) }
        keys = ordered(keys, key: \.self, groupBy: groupBy)
        let firstReply = firstReplyCurves(
            result, id: "whatif-first-reply", title: "First reply time, current and proposed policy",
            subtitle:
                "p50 and p90 per group on the \(result.query.clock.rawValue) clock (business hours and holidays change business durations); under each point the number of values.",
            categoryTitle: groupBy == .none ? "All tickets" : "Group (\(groupBy.rawValue))",
            categories: keys.map { .init(key: $0 ?? "", label: groupLabel($0, groupBy)) }, column: "group"
        ) { side, k in side.responseTimes.first { $0.key == keys[k] }?.firstReply.statistics }

        var html = "<section class=\"card spaced\"><h2>SLA outcomes under both policies</h2>"
        html += "<p class=\"sub\">Highlighted: the proposed policy's compliance is lower.</p>"
        html += DashboardPages.table(
            id: "whatif-sla-table", caption: "SLA outcomes under both policies", textColumns: 2,
            header: ["Group", "Metric", "Achieved now", "Breached now", "Compliance now", "Achieved", "Breached", "Compliance"],
            rows: rows)
        return (compliance, firstReply, table, html)
    }

    /// The first-reply curves of both policies over the period's weeks (p50 and p90 of all
    /// tickets, each week's values as the response-times page counts them).
    static func firstReplyWeekly(_ result: WhatIfResult, period: DashboardPeriod) -> DashboardChart {
        firstReplyCurves(
            result, id: "whatif-first-reply-weekly", title: "First reply time per week, current and proposed policy",
            subtitle:
                "p50 and p90 of all tickets per week on the \(result.query.clock.rawValue) clock; under each point the number of values.",
            categoryTitle: "Week", categories: period.categories, column: "week"
        ) { side, k in k < side.firstReplyCurve.count ? side.firstReplyCurve[k]?.statistics : nil }
    }

    /// A chart of first-reply p50 and p90 of both policies over `categories`, each point's
    /// statistics given by `statistics(side, category index)`.
    static func firstReplyCurves(
        _ result: WhatIfResult, id: String, title: String, subtitle: String, categoryTitle: String,
        categories: [DashboardChart.Category], column: String, statistics: (WhatIfSide, Int) -> DurationStatistics?
    ) -> DashboardChart {
        func series(_ name: String, _ side: WhatIfSide, _ pick: (DurationStatistics) -> Int64?) -> DashboardChart.Series {
            .init(
                name: name,
                points: categories.indices.map { k in
                    statistics(side, k).map { s in .init(value: pick(s).map { Double($0) / 1000 }, count: s.count) }
                })
        }
        return DashboardChart(
            id: id, title: title, subtitle: subtitle, kind: .line, unit: .seconds, categoryTitle: categoryTitle,
            valueTitle: "First reply time", categories: categories,
            series: [
                series("Current p50", result.current, \.p50), series("Proposed p50", result.proposed, \.p50),
                series("Current p90", result.current, \.p90), series("Proposed p90", result.proposed, \.p90),
            ], countNoun: "values",
            columns: .init(series: "policy_percentile", category: column, value: "seconds", count: "values"),
            emptyText: "No first reply in this period")
    }

    /// The queue placement changes at the evaluation instant.
    static func queueChanges(_ result: WhatIfResult) -> String {
        var out = "<section class=\"card spaced\"><h2>Queue placement at the evaluation instant</h2>"
        guard !result.queues.isEmpty else {
            return out + "<p class=\"notice ok\">No ticket changes place, due instant or breach in any queue.</p></section>"
        }
        var rows: [(cells: [String], flagged: Bool)] = []
        for q in result.queues {
            for move in q.tickets {
                func placement(_ p: WhatIfPlacement) -> String {
                    var text = "#\(p.position)"
                    if let due = p.nextDue {
                        text += ", due \(DashboardHTML.localMinute(result.current.levels.calendar.formatBucketStart(due)))"
                    }
                    if p.breached { text += ", breached" }
                    return DashboardHTML.escape(text)
                }
                rows.append(
                    (
                        [
                            DashboardHTML.escape(q.team),
                            "<a href=\"/tickets/\(DashboardHTML.percentEncode(move.id))/sla\">\(DashboardHTML.escape(move.id))</a>",
                            placement(move.current), placement(move.proposed),
                        ], move.proposed.breached && !move.current.breached
                    ))
            }
        }
        out +=
            "<p class=\"sub\">"
            + DashboardHTML.escape(result.queues.map { "\($0.team): \($0.changed) of \($0.depth) tickets change" }.joined(separator: " · "))
            + "</p>"
        out += DashboardPages.table(
            id: "whatif-queue-table", caption: "Queue placement changes", textColumns: 4,
            header: ["Team", "Ticket", "Current", "Proposed"], rows: rows)
        return out + "</section>"
    }
}
