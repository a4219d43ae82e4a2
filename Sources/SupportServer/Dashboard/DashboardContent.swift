import EventLog
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
        let (times, rows) = backend.projections.read { p in
            (
                DashboardData.responseTimeCharts(p, period: period, at: now, clock: clock),
                DashboardData.slaRows(p, period: period, at: now, levels: levels)
            )
        }
        let sla = DashboardData.slaChart(rows)

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
            let target =
                row.target.map { target in
                    let length =
                        target.seconds % 3600 == 0
                        ? "\(target.seconds / 3600) h" : DashboardHTML.humanDuration(seconds: Double(target.seconds))
                    return "\(length), \(target.clock.rawValue) clock"
                } ?? "no target"
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
