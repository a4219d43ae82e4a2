import EventLog
import Projections
import SupportDomain

/// The weeks a page shows: the last `count` ISO weeks (Monday to Monday in the policy's zone,
/// SPEC §3 buckets), the current week last, each a half-open window.
struct DashboardPeriod: Sendable {
    struct Week: Sendable {
        var start: Timestamp
        var end: Timestamp
        /// The bucket start as the API writes it (`2026-03-02T00:00:00+01:00`).
        var key: String
        var label: String
        var window: TimeWindow { TimeWindow(from: start, to: end) }
    }

    var weeks: [Week]
    var window: TimeWindow { TimeWindow(from: weeks.first?.start, to: weeks.last?.end) }

    static let defaultWeeks = 4
    static let weekRange = 1...26

    init(weeks count: Int, endingAt now: Timestamp, calendar: BusinessCalendar) {
        var starts = [calendar.bucketStart(containing: now, unit: .week)]
        while starts.count < count {
            starts.insert(calendar.bucketStart(containing: Timestamp(milliseconds: starts[0].milliseconds - 1), unit: .week), at: 0)
        }
        weeks = starts.map { start in
            let key = calendar.formatBucketStart(start)
            return Week(
                start: start, end: calendar.nextBucketStart(after: start, unit: .week), key: key,
                label: DashboardHTML.shortDate(key))
        }
    }

    /// The week categories of a chart.
    var categories: [DashboardChart.Category] { weeks.map { .init(key: $0.key, label: $0.label) } }

    /// The index of the week that starts at `start`.
    func index(ofWeekStartingAt start: Timestamp) -> Int? { weeks.firstIndex { $0.start == start } }

    /// `weeks of 2 Mar to 13 Apr 2026` (the last week may still be running).
    var description: String {
        guard let first = weeks.first, let last = weeks.last else { return "" }
        return weeks.count == 1
            ? "week of \(first.label) \(last.key.prefix(4))"
            : "weeks of \(first.label) to \(last.label) \(last.key.prefix(4))"
    }
}

/// A row of the SLA table: one priority and metric.
struct DashboardSLARow: Sendable {
    var priority: Priority
    var metric: SLAMetric
    var target: SLATarget?
    var achieved: Int
    var breached: Int
    var compliance: Double?
}

/// Builds the dashboard's charts and tables from the projection: pure functions of the
/// projection, the period and the evaluation instant.
enum DashboardData {
    static let teamTitle = "Team"
    static let weekTitle = "Week starting Monday"

    // MARK: Satisfaction

    /// CSAT and mean score per week from the satisfaction groups (one series per group).
    static func satisfactionCharts(
        _ groups: [SatisfactionGroup], period: DashboardPeriod, idPrefix: String,
        seriesColumn: String, what: String
    ) -> (csat: DashboardChart, mean: DashboardChart) {
        var csatSeries: [DashboardChart.Series] = []
        var meanSeries: [DashboardChart.Series] = []
        for group in groups {
            var csat = [DashboardChart.Point?](repeating: nil, count: period.weeks.count)
            var mean = csat
            for point in group.series {
                guard let i = period.index(ofWeekStartingAt: point.bucketStart) else { continue }
                csat[i] = .init(value: point.csat, count: point.count)
                mean[i] = .init(value: point.mean, count: point.count)
            }
            let name = group.key ?? "(none)"
            csatSeries.append(.init(name: name, points: csat))
            meanSeries.append(.init(name: name, points: mean))
        }
        let categories = period.categories
        let csat = DashboardChart(
            id: "\(idPrefix)-csat", title: "CSAT per week\(what)",
            subtitle: "Share of ratings 4 or 5; the number under each point is the count of ratings.",
            kind: .line, unit: .fraction, categoryTitle: weekTitle, valueTitle: "CSAT", categories: categories,
            series: csatSeries, countNoun: "ratings",
            columns: .init(series: seriesColumn, category: "week_start", value: "csat", count: "ratings"),
            emptyText: "No ratings in this period")
        let mean = DashboardChart(
            id: "\(idPrefix)-mean", title: "Mean score per week\(what)",
            subtitle: "Mean of the current ratings (1 to 5); the number under each point is the count of ratings.",
            kind: .line, unit: .score, categoryTitle: weekTitle, valueTitle: "Mean score", categories: categories,
            series: meanSeries, countNoun: "ratings",
            columns: .init(series: seriesColumn, category: "week_start", value: "mean_score", count: "ratings"),
            emptyText: "No ratings in this period")
        return (csat, mean)
    }

    // MARK: Response times

    /// p50 and p90 of first reply and resolution per week (each week its own window, values
    /// placed by their end), summarised on `clock`.
    static func responseTimeCharts(
        _ projection: borrowing SupportProjection, period: DashboardPeriod, at now: Timestamp,
        clock: SLAClock, link: (SLAMetric, DashboardPeriod.Week) -> String? = { _, _ in nil }
    ) -> (firstReply: DashboardChart, resolution: DashboardChart) {
        var first: [DurationStatistics] = []
        var resolution: [DurationStatistics] = []
        for week in period.weeks {
            let group = projection.responseTimes(at: now, window: week.window, groupBy: .none, clock: clock).first
            first.append(group?.firstReply.statistics ?? .empty)
            resolution.append(group?.resolution.statistics ?? .empty)
        }
        func chart(
            _ id: String, _ title: String, _ valueTitle: String, _ metric: SLAMetric, _ stats: [DurationStatistics]
        ) -> DashboardChart {
            let links = zip(period.weeks, stats).map { week, s in s.count == 0 ? nil : link(metric, week) }
            func series(_ name: String, _ pick: (DurationStatistics) -> Int64?) -> DashboardChart.Series {
                .init(
                    name: name, points: stats.map { s in .init(value: pick(s).map { Double($0) / 1000 }, count: s.count) },
                    links: links)
            }
            return DashboardChart(
                id: id, title: title,
                subtitle:
                    "\(clock == .business ? "Business" : "Calendar") clock. Each week holds the values that ended in it; the number under each point is how many.",
                kind: .line, unit: .seconds, categoryTitle: weekTitle, valueTitle: valueTitle, categories: period.categories,
                series: [series("p50", \.p50), series("p90", \.p90)], countNoun: "values",
                columns: .init(series: "percentile", category: "week_start", value: "seconds", count: "values"),
                emptyText: "No values in this period")
        }
        return (
            chart("first-reply", "First reply time per week", "First reply time", .firstReply, first),
            chart("resolution", "Resolution time per week", "Resolution time", .resolution, resolution)
        )
    }

    /// Priorities from the most urgent.
    static let priorities = Priority.allCases.sorted { $0.urgencyRank > $1.urgencyRank }

    /// SLA outcomes per priority over the period, each on its target's own clock.
    static func slaRows(
        _ projection: borrowing SupportProjection, period: DashboardPeriod, at now: Timestamp,
        levels: ServiceLevels
    ) -> [DashboardSLARow] {
        // SLA outcomes never depend on the summarising clock.
        let groups = projection.responseTimes(at: now, window: period.window, groupBy: .priority, clock: .calendar)
        var rows: [DashboardSLARow] = []
        for priority in priorities {
            let group = groups.first { $0.key == priority.rawValue }
            for metric in SLAMetric.allCases {
                let summary: MetricSummary? =
                    switch metric {
                    case .firstReply: group?.firstReply
                    case .nextReply: group?.nextReply
                    case .resolution: group?.resolution
                    }
                let sla = summary?.sla ?? SLACompliance()
                rows.append(
                    DashboardSLARow(
                        priority: priority, metric: metric, target: levels.target(metric, priority: priority),
                        achieved: sla.achieved, breached: sla.breached, compliance: sla.compliance))
            }
        }
        return rows
    }

    static func metricName(_ metric: SLAMetric) -> String {
        switch metric {
        case .firstReply: "First reply"
        case .nextReply: "Next reply"
        case .resolution: "Resolution"
        }
    }

    static func slaChart(_ rows: [DashboardSLARow], link: (SLAMetric, Priority) -> String? = { _, _ in nil }) -> DashboardChart {
        let series = SLAMetric.allCases.map { metric in
            let row = { (priority: Priority) in rows.first { $0.priority == priority && $0.metric == metric } }
            return DashboardChart.Series(
                name: metricName(metric),
                points: priorities.map { priority in
                    row(priority).map { row in .init(value: row.compliance, count: row.achieved + row.breached) }
                },
                links: priorities.map { priority in
                    guard let r = row(priority), r.achieved + r.breached > 0 else { return nil }
                    return link(metric, priority)
                })
        }
        return DashboardChart(
            id: "sla", title: "SLA compliance per priority",
            subtitle:
                "Achieved ÷ (achieved + breached) over the period, each target on its own clock; in brackets the number of SLA outcomes.",
            kind: .bars, unit: .fraction, categoryTitle: "Priority", valueTitle: "Compliance",
            categories: priorities.map { .init(key: $0.rawValue, label: $0.rawValue) }, series: series, countNoun: "SLA outcomes",
            columns: .init(series: "metric", category: "priority", value: "compliance", count: "outcomes"),
            emptyText: "No SLA outcomes in this period")
    }

    // MARK: Queues

    static func queueCharts(_ queues: [QueueSummary], at now: Timestamp) -> (depth: DashboardChart, oldest: DashboardChart) {
        let categories = queues.map { DashboardChart.Category(key: $0.team, label: $0.team) }
        let depth = DashboardChart(
            id: "queue-depth", title: "Tickets awaiting an agent per team",
            subtitle: "Depth: tickets new or open in the team; breached: those past an SLA due instant.",
            kind: .bars, unit: .count, categoryTitle: teamTitle, valueTitle: "Number", categories: categories,
            series: [
                .init(name: "Waiting", points: queues.map { .init(value: Double($0.depth)) }),
                .init(name: "Breached", points: queues.map { .init(value: Double($0.breached)) }, color: "#C62828"),
            ],
            columns: .init(series: "measure", category: "team", value: "tickets"),
            emptyText: "No queues")
        let oldest = DashboardChart(
            id: "queue-oldest", title: "Oldest waiting ticket per team",
            subtitle: "How long the longest-waiting ticket of each queue has waited.",
            kind: .bars, unit: .seconds, categoryTitle: teamTitle, valueTitle: "Waiting for", categories: categories,
            series: [
                .init(
                    name: "Oldest waiting",
                    points: queues.map { q in
                        q.oldestWaitingSince.map { .init(value: Double(max(0, now.milliseconds - $0.milliseconds)) / 1000) }
                    })
            ],
            columns: .init(series: "measure", category: "team", value: "seconds"),
            emptyText: "No ticket is waiting")
        return (depth, oldest)
    }

    // MARK: Agents

    static func agentCharts(_ workloads: [AgentWorkload], capacity: Int) -> (assigned: DashboardChart, activity: DashboardChart) {
        let categories = workloads.map { DashboardChart.Category(key: $0.agent, label: $0.agent, flagged: $0.overloaded) }
        let assigned = DashboardChart(
            id: "agent-assigned", title: "Assigned tickets per agent",
            subtitle:
                "Tickets assigned now, by status, new + open first; ⚠ marks an agent whose new and open tickets exceed the capacity (\(capacity), the dashed line).",
            kind: .stackedBars, unit: .count, categoryTitle: "Agent", valueTitle: "Assigned", categories: categories,
            series: [
                .init(name: "New + open", points: workloads.map { .init(value: Double($0.assigned.newOpen)) }),
                .init(name: "Pending", points: workloads.map { .init(value: Double($0.assigned.pending)) }),
                .init(name: "On hold", points: workloads.map { .init(value: Double($0.assigned.onHold)) }),
            ],
            reference: .init(value: Double(capacity), label: "capacity \(capacity) (new + open)"),
            columns: .init(series: "status", category: "agent", value: "tickets"),
            emptyText: "No agents")
        let activity = DashboardChart(
            id: "agent-activity", title: "Replies and solved tickets per agent",
            subtitle: "In the period: the agent's messages, and the resolutions attributed to the agent.",
            kind: .bars, unit: .count, categoryTitle: "Agent", valueTitle: "Count", categories: categories,
            series: [
                .init(name: "Replies", points: workloads.map { .init(value: Double($0.replies)) }),
                .init(name: "Solved", points: workloads.map { .init(value: Double($0.solved)) }),
            ],
            columns: .init(series: "measure", category: "agent", value: "count"),
            emptyText: "No agents", countUnit: "replies, tickets")
        return (assigned, activity)
    }
}
