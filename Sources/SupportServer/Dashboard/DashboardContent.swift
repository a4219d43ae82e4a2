import EventLog
import HTTPTypes
import Projections
import SupportDomain
import SupportService

/// What a page shows: its markup and the CSV of each chart and table on it (by id), built
/// together from one read of the projection so that the page and its downloads agree.
struct DashboardContent {
    var title: String
    var html: String
    var csv: [String: DashboardCSV]
    var refreshSeconds: Int?
    /// A page that shows a form again with what was wrong is 400 (`.badRequest`).
    var status: HTTPResponse.Status = .ok
}

/// The four pages. Each reads its query parameters (unknown ones and bad values are 400), reads
/// the projection once, and lays out its charts and tables.
struct DashboardContentBuilder {
    let backend: SupportBackend
    var calendar: BusinessCalendar { backend.levels.calendar }
    var timeZone: String { backend.levels.policy.timeZoneIdentifier }

    static let weekChoices = [2, 4, 6, 8, 12, 26]

    func local(_ t: Timestamp) -> String { DashboardHTML.localMinute(calendar.formatBucketStart(t)) }

    private func period(_ query: QueryParameters, now: Timestamp) throws(Problem) -> DashboardPeriod {
        let weeks = try query.integer("weeks", in: DashboardPeriod.weekRange) ?? DashboardPeriod.defaultWeeks
        return DashboardPeriod(weeks: weeks, endingAt: now, calendar: calendar)
    }

    private func header(_ title: String, now: Timestamp, period: DashboardPeriod?, extra: String = "") -> String {
        var meta = "Evaluated at \(local(now)) (\(timeZone))"
        if let period { meta += " · \(period.description) (weeks from Monday; the last is still running)" }
        return "<h1>\(DashboardHTML.escape(title))</h1><p class=\"meta\">\(DashboardHTML.escape(meta))\(extra)</p>"
    }

    private func weeksControl(_ period: DashboardPeriod) -> String {
        var choices = Self.weekChoices
        if !choices.contains(period.weeks.count) { choices = (choices + [period.weeks.count]).sorted() }
        var out = "<label>Weeks shown <select name=\"weeks\">"
        for n in choices {
            out += "<option value=\"\(n)\"" + (n == period.weeks.count ? " selected=\"selected\"" : "") + ">\(n)</option>"
        }
        return out + "</select></label>"
    }

    private func charts(_ charts: [DashboardChart], csvPath: String, query: [(String, String)]) -> String {
        "<div class=\"grid\">" + charts.map { DashboardPages.figure($0, csvPath: csvPath, query: query) }.joined() + "</div>"
    }

    // MARK: Satisfaction

    static let satisfactionParameters: Set<String> = ["weeks", "agent"]

    func satisfaction(_ query: QueryParameters) throws(Problem) -> DashboardContent {
        let now = backend.clock()
        let period = try period(query, now: now)
        let agent = query.string("agent").flatMap { $0.isEmpty ? nil : $0 }
        let (teams, agents) = backend.projections.read { p in
            (
                p.satisfaction(window: period.window, bucket: .week, groupBy: .team),
                p.satisfaction(window: period.window, bucket: .week, groupBy: .agent)
            )
        }
        let teamCharts = DashboardData.satisfactionCharts(
            teams, period: period, idPrefix: "team", seriesColumn: "team",
            what: ", one curve per team")
        var all = [teamCharts.csat, teamCharts.mean]
        let agentKeys = agents.compactMap(\.key)

        var body = header("Satisfaction", now: now, period: period)
        body += "<form class=\"controls\" method=\"get\" action=\"/satisfaction\">" + weeksControl(period)
        body += "<label>Agent <select name=\"agent\"><option value=\"\">— none —</option>"
        for key in agentKeys {
            body +=
                "<option value=\"\(DashboardHTML.escape(key))\"" + (key == agent ? " selected=\"selected\"" : "")
                + ">\(DashboardHTML.escape(key))</option>"
        }
        body += "</select></label><button class=\"primary\" type=\"submit\">Show</button></form>"
        var query: [(String, String)] = [("weeks", String(period.weeks.count))]
        if let agent { query.append(("agent", agent)) }
        body += charts([teamCharts.csat, teamCharts.mean], csvPath: "/satisfaction.csv", query: query)
        if let agent {
            let groups = agents.filter { $0.key == agent }
            let agentCharts = DashboardData.satisfactionCharts(
                groups, period: period, idPrefix: "agent", seriesColumn: "agent",
                what: " of \(agent)")
            all += [agentCharts.csat, agentCharts.mean]
            body += "<h2>Agent \(DashboardHTML.escape(agent))</h2>"
            if groups.isEmpty {
                body += "<p class=\"notice\">No rating of a reply by \(DashboardHTML.escape(agent)) in this period.</p>"
            }
            body += charts([agentCharts.csat, agentCharts.mean], csvPath: "/satisfaction.csv", query: query)
        }
        return DashboardContent(title: "Satisfaction", html: body, csv: Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.csv) }))
    }

    // MARK: Response times

    static let responseTimeParameters: Set<String> = ["weeks", "clock"]

    func responseTimes(_ query: QueryParameters) throws(Problem) -> DashboardContent {
        let now = backend.clock()
        let period = try period(query, now: now)
        let clock = try query.enumeration("clock", SLAClock.self) ?? .calendar
        let levels = backend.levels
        let weeks = period.weeks.count
        let (times, rows) = backend.projections.read { p in
            (
                DashboardData.responseTimeCharts(p, period: period, at: now, clock: clock) { metric, week in
                    Self.ticketsLink(metric: metric, groupBy: .none, group: nil, week: week.key, weeks: weeks, clock: clock)
                },
                DashboardData.slaRows(p, period: period, at: now, levels: levels)
            )
        }
        let sla = DashboardData.slaChart(rows) { metric, priority in
            Self.ticketsLink(metric: metric, groupBy: .priority, group: priority.rawValue, week: nil, weeks: weeks, clock: clock)
        }

        var body = header("Response times", now: now, period: period)
        body += "<form class=\"controls\" method=\"get\" action=\"/response-times\">" + weeksControl(period)
        body += "<label>Clock <select name=\"clock\">"
        for c in SLAClock.allCases {
            body += "<option value=\"\(c.rawValue)\"" + (c == clock ? " selected=\"selected\"" : "") + ">\(c.rawValue)</option>"
        }
        body += "</select></label><button class=\"primary\" type=\"submit\">Show</button></form>"
        let query: [(String, String)] = [("weeks", String(period.weeks.count)), ("clock", clock.rawValue)]
        body += charts([times.firstReply, times.resolution, sla], csvPath: "/response-times.csv", query: query)

        var table = DashboardCSV(header: ["priority", "metric", "target_seconds", "target_clock", "achieved", "breached", "compliance"])
        var rowsHTML: [(cells: [String], flagged: Bool)] = []
        for row in rows {
            let target = Self.targetText(row.target)
            rowsHTML.append(
                (
                    [
                        row.priority.rawValue, DashboardData.metricName(row.metric), DashboardHTML.escape(target),
                        String(row.achieved), String(row.breached), row.compliance.map(DashboardHTML.percent) ?? "–",
                    ], false
                ))
            table.rows.append([
                .text(row.priority.rawValue), .text(row.metric.rawValue),
                row.target.map { .number(String($0.seconds)) } ?? .empty,
                row.target.map { .text($0.clock.rawValue) } ?? .empty,
                .number(String(row.achieved)), .number(String(row.breached)),
                row.compliance.map { .number(DashboardHTML.number($0)) } ?? .empty,
            ])
        }
        body += "<section class=\"card\"><h2>SLA outcomes per priority</h2>"
        body +=
            "<p class=\"sub\">Each target is judged on its own clock, whatever the clock chosen above; a running interval counts as breached in the week of its due instant.</p>"
        body += DashboardPages.table(
            id: "sla-table", caption: "SLA outcomes per priority", textColumns: 3,
            header: ["Priority", "Metric", "Target", "Achieved", "Breached", "Compliance"], rows: rowsHTML)
        body +=
            "<p class=\"links\"><a href=\"/response-times.csv\(DashboardHTML.query([("chart", "sla-table")] + query))\" download=\"\">Download CSV</a></p></section>"

        var csv = Dictionary(uniqueKeysWithValues: [times.firstReply, times.resolution, sla].map { ($0.id, $0.csv) })
        csv["sla-table"] = table
        return DashboardContent(title: "Response times", html: body, csv: csv)
    }

    /// `1 h, calendar clock`, `no target`.
    static func targetText(_ target: SLATarget?) -> String {
        guard let target else { return "no target" }
        let length =
            target.seconds % 3600 == 0
            ? "\(target.seconds / 3600) h" : DashboardHTML.humanDuration(seconds: Double(target.seconds))
        return "\(length), \(target.clock.rawValue) clock"
    }

    // MARK: Values behind a chart's point

    static let ticketsParameters: Set<String> = ["metric", "groupBy", "group", "week", "weeks", "clock"]

    /// The list of the values behind one point of the response-times page (already escaped for
    /// an attribute).
    static func ticketsLink(
        metric: SLAMetric, groupBy: GroupBy, group: String?, week: String?, weeks: Int, clock: SLAClock
    ) -> String {
        var items: [(String, String)] = [("metric", metric.rawValue)]
        if groupBy != .none {
            items.append(("groupBy", groupBy.rawValue))
            if let group { items.append(("group", group)) }
        }
        if let week { items.append(("week", week)) }
        items += [("weeks", String(weeks)), ("clock", clock.rawValue)]
        return "/response-times/tickets" + DashboardHTML.query(items)
    }

    /// The values behind one metric and group of the response-time metric over the period (or
    /// one week of it): breached first (most late first), then achieved, then those without a
    /// target, each linking to its ticket's clock explanation.
    func responseTimeTickets(_ query: QueryParameters) throws(Problem) -> DashboardContent {
        let now = backend.clock()
        let period = try period(query, now: now)
        let clock = try query.enumeration("clock", SLAClock.self) ?? .calendar
        guard let metric = try query.enumeration("metric", SLAMetric.self) else {
            throw Problem.badRequest("\"metric\" names the metric: one of \(SLAMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let groupBy = try query.enumeration("groupBy", GroupBy.self) ?? .none
        let group = query.string("group")
        if groupBy == .none, group != nil { throw Problem.badRequest("\"group\" needs \"groupBy\" (the grouping the key is from)") }
        var window = period.window
        var week: DashboardPeriod.Week?
        if let key = query.string("week") {
            guard let found = period.weeks.first(where: { $0.key == key }) else {
                throw Problem.badRequest(
                    "\"week\" must be the start of one of the weeks shown (\(period.weeks.map(\.key).joined(separator: ", "))), not \"\(key)\""
                )
            }
            week = found
            window = found.window
        }
        var values = backend.projections.read { p in
            p.responseTimeValues(at: now, window: window, groupBy: groupBy, group: group, metric: metric, clock: clock)
        }
        values.sort(by: Self.listOrder)

        let metricName = DashboardData.metricName(metric)
        var what = metricName
        if groupBy != .none { what += " · \(groupBy.rawValue) \(group ?? "(none)")" }
        var body = header("\(metricName): the values behind the chart", now: now, period: week == nil ? period : nil)
        if let week {
            body += "<p class=\"meta\">\(DashboardHTML.escape("Week of \(week.label) \(week.key.prefix(4)) (starting Monday)"))</p>"
        }
        let breached = values.filter { $0.outcome == .breached }.count
        let achieved = values.filter { $0.outcome == .achieved }.count
        let running = values.filter { $0.end == nil }.count
        let untargeted = values.count - breached - achieved
        var summary = "\(what): \(values.count) value\(values.count == 1 ? "" : "s") · \(breached) breached"
        if running > 0 { summary += " (\(running) still running)" }
        summary += " · \(achieved) achieved"
        if untargeted > 0 { summary += " · \(untargeted) without a target" }
        body += "<p class=\"notice\" id=\"tickets-summary\">\(DashboardHTML.escape(summary))</p>"
        let back = "/response-times" + DashboardHTML.query([("weeks", String(period.weeks.count)), ("clock", clock.rawValue)])
        body += "<p class=\"links\"><a href=\"\(back)\">← Response times</a></p>"

        var table = DashboardCSV(header: [
            "ticket", "metric", "priority", "outcome", "late_seconds", "duration_seconds", "clock", "target_seconds",
            "target_clock", "start", "end",
        ])
        var rows: [(cells: [String], flagged: Bool)] = []
        for v in values {
            let ticketLink = "/tickets/\(DashboardHTML.percentEncode(v.ticket))/sla"
            let outcome: String =
                switch v.outcome {
                case .breached?: v.end == nil ? "<span class=\"flag\">Breached (running)</span>" : "<span class=\"flag\">Breached</span>"
                case .achieved?: "Achieved"
                case nil: "No target"
                }
            rows.append(
                (
                    [
                        "<a href=\"\(ticketLink)\">\(DashboardHTML.escape(v.ticket))</a>", outcome,
                        v.late.map { DashboardHTML.humanDuration(seconds: Double($0) / 1000) } ?? "–",
                        DashboardHTML.humanDuration(seconds: Double(v.duration) / 1000),
                        DashboardHTML.escape(Self.targetText(v.target)), v.priority.rawValue,
                        DashboardHTML.escape(local(v.start)),
                        v.end.map { DashboardHTML.escape(local($0)) } ?? "running at \(DashboardHTML.escape(local(now)))",
                    ], v.outcome == .breached
                ))
            table.rows.append([
                .text(v.ticket), .text(v.metric.rawValue), .text(v.priority.rawValue), v.outcome.map { .text($0.rawValue) } ?? .empty,
                v.late.map { .number(DashboardHTML.seconds(milliseconds: $0)) } ?? .empty,
                .number(DashboardHTML.seconds(milliseconds: v.duration)), .text(clock.rawValue),
                v.target.map { .number(String($0.seconds)) } ?? .empty, v.target.map { .text($0.clock.rawValue) } ?? .empty,
                .text(v.start.rfc3339), v.end.map { .text($0.rfc3339) } ?? .empty,
            ])
        }
        body += "<section class=\"card spaced\"><h2>Tickets</h2>"
        body +=
            "<p class=\"sub\">Breached first (most late first), then achieved. How late: the time on the target's own clock beyond the target; a running interval is measured now. Durations on the \(clock.rawValue) clock. Each ticket links to its clock explanation.</p>"
        if values.isEmpty {
            body += "<p class=\"notice\">No value behind this point.</p>"
        } else {
            body += DashboardPages.table(
                id: "tickets-table", caption: "Tickets behind the point", textColumns: 2,
                header: [
                    "Ticket", "Outcome", "How late", "Duration (\(clock.rawValue))", "Target", "Priority", "Started (\(timeZone))", "Ended",
                ],
                rows: rows)
        }
        var csvQuery: [(String, String)] = [("chart", "tickets-table"), ("metric", metric.rawValue)]
        if groupBy != .none { csvQuery.append(("groupBy", groupBy.rawValue)) }
        if let group { csvQuery.append(("group", group)) }
        if let week { csvQuery.append(("week", week.key)) }
        csvQuery += [("weeks", String(period.weeks.count)), ("clock", clock.rawValue)]
        body +=
            "<p class=\"links\"><a href=\"/response-times/tickets.csv\(DashboardHTML.query(csvQuery))\" download=\"\">Download CSV</a></p></section>"
        return DashboardContent(title: "\(metricName) tickets", html: body, csv: ["tickets-table": table])
    }

    /// Breached first, most late first; then achieved, then without a target, longest first;
    /// then by ticket id.
    static func listOrder(_ a: ResponseTimeValue, _ b: ResponseTimeValue) -> Bool {
        func rank(_ v: ResponseTimeValue) -> Int {
            switch v.outcome {
            case .breached?: 0
            case .achieved?: 1
            case nil: 2
            }
        }
        if rank(a) != rank(b) { return rank(a) < rank(b) }
        if let la = a.late, let lb = b.late, la != lb { return la > lb }
        if a.duration != b.duration { return a.duration > b.duration }
        if a.ticket != b.ticket { return Identifier.precedes(a.ticket, b.ticket) }
        return a.start < b.start
    }

    // MARK: Queues

    static let queueParameters: Set<String> = []
    static let queueRefreshSeconds = 30

    func queues(_ query: QueryParameters) throws(Problem) -> DashboardContent {
        let now = backend.clock()
        let queues = backend.projections.read { $0.queues(at: now) }
        let charts = DashboardData.queueCharts(queues, at: now)
        var body = header(
            "Queues", now: now, period: nil,
            extra: DashboardHTML.escape(" · refreshes every \(Self.queueRefreshSeconds) s"))
        body += self.charts([charts.depth, charts.oldest], csvPath: "/queues.csv", query: [])

        var table = DashboardCSV(header: ["team", "depth", "breached", "oldest_waiting_since", "oldest_waiting_seconds"])
        var rows: [(cells: [String], flagged: Bool)] = []
        for q in queues {
            let waited = q.oldestWaitingSince.map { Double(max(0, now.milliseconds - $0.milliseconds)) / 1000 }
            rows.append(
                (
                    [
                        DashboardHTML.escape(q.team), String(q.depth),
                        q.breached > 0 ? "<span class=\"flag\">\(q.breached)</span>" : "0",
                        q.oldestWaitingSince.map { DashboardHTML.escape(local($0)) } ?? "–",
                        waited.map(DashboardHTML.humanDuration) ?? "–",
                    ], q.breached > 0
                ))
            table.rows.append([
                .text(q.team), .number(String(q.depth)), .number(String(q.breached)),
                q.oldestWaitingSince.map { .text($0.rfc3339) } ?? .empty,
                q.oldestWaitingSince.map { .number(DashboardHTML.seconds(milliseconds: max(0, now.milliseconds - $0.milliseconds))) }
                    ?? .empty,
            ])
        }
        body += "<section class=\"card\"><h2>Queues</h2>"
        body += DashboardPages.table(
            id: "queue-table", caption: "Queues",
            header: [
                "Team", "Waiting", "Breached",
                "Oldest waiting since (\(timeZone))", "Waiting for",
            ], rows: rows)
        body += "<p class=\"links\"><a href=\"/queues.csv?chart=queue-table\" download=\"\">Download CSV</a></p></section>"
        var csv = Dictionary(uniqueKeysWithValues: [charts.depth, charts.oldest].map { ($0.id, $0.csv) })
        csv["queue-table"] = table
        return DashboardContent(title: "Queues", html: body, csv: csv, refreshSeconds: Self.queueRefreshSeconds)
    }

    // MARK: Agents

    static let agentParameters: Set<String> = ["weeks"]

    func agents(_ query: QueryParameters) throws(Problem) -> DashboardContent {
        let now = backend.clock()
        let period = try period(query, now: now)
        let (workloads, capacity) = backend.projections.read { p in (p.workloads(window: period.window), p.capacity) }
        let charts = DashboardData.agentCharts(workloads, capacity: capacity)
        let overloaded = workloads.filter(\.overloaded).count
        var body = header("Agents", now: now, period: period)
        body += "<form class=\"controls\" method=\"get\" action=\"/agents\">" + weeksControl(period)
        body += "<button class=\"primary\" type=\"submit\">Show</button></form>"
        body +=
            overloaded == 0
            ? "<p class=\"notice ok\">No agent is overloaded (capacity \(capacity) new and open tickets).</p>"
            : "<p class=\"notice\"><span class=\"flag\">⚠ \(overloaded) overloaded agent\(overloaded == 1 ? "" : "s")</span>: more than \(capacity) new and open tickets assigned.</p>"
        let query: [(String, String)] = [("weeks", String(period.weeks.count))]

        var table = DashboardCSV(header: [
            "agent", "new_open", "pending", "on_hold", "solved", "replies", "ratings", "mean_score",
            "csat", "overloaded",
        ])
        var rows: [(cells: [String], flagged: Bool)] = []
        for w in workloads {
            let s = w.satisfaction
            rows.append(
                (
                    [
                        DashboardHTML.escape(w.agent), w.overloaded ? "<span class=\"flag\">⚠ Overloaded</span>" : "ok",
                        String(w.assigned.newOpen), String(w.assigned.pending), String(w.assigned.onHold),
                        String(w.solved), String(w.replies), String(s.count), s.mean.map { String(format: "%.2f", $0) } ?? "–",
                        s.csat.map(DashboardHTML.percent) ?? "–",
                    ], w.overloaded
                ))
            table.rows.append([
                .text(w.agent), .number(String(w.assigned.newOpen)), .number(String(w.assigned.pending)),
                .number(String(w.assigned.onHold)), .number(String(w.solved)), .number(String(w.replies)),
                .number(String(s.count)), s.mean.map { .number(DashboardHTML.number($0)) } ?? .empty,
                s.csat.map { .number(DashboardHTML.number($0)) } ?? .empty, .text(w.overloaded ? "true" : "false"),
            ])
        }
        body += "<section class=\"card spaced\"><h2>Workload</h2>"
        body += "<p class=\"sub\">Assigned now, by status; solved, replies and ratings in the period.</p>"
        body += DashboardPages.table(
            id: "workload-table", caption: "Workload", textColumns: 2,
            header: [
                "Agent", "Load", "New + open", "Pending", "On hold", "Solved", "Replies", "Ratings",
                "Mean score", "CSAT",
            ], rows: rows)
        body +=
            "<p class=\"links\"><a href=\"/agents.csv\(DashboardHTML.query([("chart", "workload-table")] + query))\" download=\"\">Download CSV</a></p></section>"
        body += self.charts([charts.assigned, charts.activity], csvPath: "/agents.csv", query: query)
        var csv = Dictionary(uniqueKeysWithValues: [charts.assigned, charts.activity].map { ($0.id, $0.csv) })
        csv["workload-table"] = table
        return DashboardContent(title: "Agents", html: body, csv: csv)
    }
}
