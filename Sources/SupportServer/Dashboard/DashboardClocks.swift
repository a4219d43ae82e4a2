import EventLog
import SupportDomain
import SupportService

/// The clock explanation page (`/tickets/{id}/sla`, `asOf` optional): every SLA interval of a
/// ticket as `GET /v1/tickets/{id}/sla` answers it (the same ``SLAExplanationAnswer``, made by
/// the same function: no second computation), laid out for people.
extension DashboardContentBuilder {
    static let clockParameters: Set<String> = ["asOf"]
    /// The business windows listed per interval at most (the answer holds the first 400).
    static let windowsShown = 60

    func clocks(ticket id: String, _ query: QueryParameters) async throws(Problem) -> DashboardContent {
        let asOf = try query.instant("asOf")
        guard StreamName.isTicket(id) else { throw Problem.notFound("ticket \(id) not found") }
        let events: [RecordedEvent]
        do { events = try backend.store.events(inStream: id) } catch { throw Problem(error) }
        guard !events.isEmpty else { throw Problem.notFound("ticket \(id) not found") }
        let made: SLAExplanationAnswer?
        do { made = try await backend.explainClocks(ticket: id, events: events, asOf: asOf) } catch { throw Problem(error) }
        guard let answer = made else { throw Problem.notFound("ticket \(id) did not exist at \(asOf.map { $0.rfc3339 } ?? "")") }
        return Self.clocksContent(answer, local: local)
    }

    static func clocksContent(_ answer: SLAExplanationAnswer, local: (Timestamp) -> String) -> DashboardContent {
        func e(_ s: String) -> String { DashboardHTML.escape(s) }
        func seconds(_ s: SecondsBody) -> String { DashboardHTML.humanDuration(seconds: Double(s.milliseconds) / 1000) }
        func reference(_ r: SLAExplanationAnswer.Reference) -> String { "\(r.type) (seq \(r.seq), version \(r.version))" }
        func metricName(_ raw: String) -> String { SLAMetric(rawValue: raw).map(DashboardData.metricName) ?? raw }

        var body = "<h1>Clocks of ticket \(e(answer.ticket))</h1>"
        body +=
            "<p class=\"meta\">\(e("Evaluated at \(local(answer.evaluatedAt)) (\(answer.timeZone)) · version \(answer.version) · policy \(answer.policyHash.prefix(12))"))</p>"
        body +=
            "<p class=\"sub\">Each customer turn and the resolution: when it started and ended and by what event, the target and the priority it was judged against, and the business windows that counted.</p>"

        // The overview: one row per interval.
        var rows: [(cells: [String], flagged: Bool)] = []
        var csv = DashboardCSV(header: [
            "metric", "state", "outcome", "start", "end", "priority", "priority_basis", "target_seconds", "target_clock", "due",
            "calendar_seconds", "business_seconds", "late_seconds",
        ])
        for (n, i) in answer.intervals.enumerated() {
            let outcome: String =
                switch i.outcome {
                case "breached"?: "<span class=\"flag\">breached</span>"
                case let o?: e(o)
                case nil: "–"
                }
            rows.append(
                (
                    [
                        "<a href=\"#interval-\(n + 1)\">\(e(metricName(i.metric)))</a>", e(i.state), outcome, e(local(i.start)),
                        i.end.map { e(local($0)) } ?? "running", e(i.priority),
                        e(DashboardContentBuilder.targetText(i.target)), i.due.map { e(local($0)) } ?? "–",
                        seconds(i.elapsed.calendar), seconds(i.elapsed.business), i.late.map(seconds) ?? "–",
                    ], i.outcome == "breached"
                ))
            csv.rows.append([
                .text(i.metric), .text(i.state), i.outcome.map { .text($0) } ?? .empty, .text(i.start.rfc3339),
                i.end.map { .text($0.rfc3339) } ?? .empty, .text(i.priority), .text(i.priorityBasis),
                i.target.map { .number(String($0.seconds)) } ?? .empty, i.target.map { .text($0.clock.rawValue) } ?? .empty,
                i.due.map { .text($0.rfc3339) } ?? .empty,
                .number(DashboardHTML.seconds(milliseconds: i.elapsed.calendar.milliseconds)),
                .number(DashboardHTML.seconds(milliseconds: i.elapsed.business.milliseconds)),
                i.late.map { .number(DashboardHTML.seconds(milliseconds: $0.milliseconds)) } ?? .empty,
            ])
        }
        body += "<section class=\"card spaced\"><h2>Intervals</h2>"
        if answer.intervals.isEmpty {
            body += "<p class=\"notice\">No SLA interval: no customer turn ran and the ticket has no resolution to measure.</p>"
        } else {
            body += DashboardPages.table(
                id: "intervals-table", caption: "SLA intervals", textColumns: 3,
                header: ["Metric", "State", "Outcome", "Started", "Ended", "Priority", "Target", "Due", "Calendar", "Business", "Late"],
                rows: rows)
        }
        body += "</section>"

        for (n, i) in answer.intervals.enumerated() {
            body += "<section class=\"card spaced interval\" id=\"interval-\(n + 1)\">"
            var title = "\(metricName(i.metric)) · \(i.state)"
            if let outcome = i.outcome { title += " · \(outcome)" }
            body += "<h2>\(e(title))</h2><dl class=\"facts\">"
            func fact(_ term: String, _ value: String) { body += "<dt>\(e(term))</dt><dd>\(value)</dd>" }
            fact("Started", e("\(local(i.start)) by \(reference(i.startedBy))"))
            if let end = i.end {
                fact(i.state == "cancelled" ? "Cancelled" : "Ended", e("\(local(end))" + (i.endedBy.map { " by \(reference($0))" } ?? "")))
            } else {
                fact("Ended", e("still running at \(local(answer.evaluatedAt))"))
            }
            if let r = i.reopenedBy { fact("Reopened", e("by \(reference(r))")) }
            fact(
                "Priority",
                e(i.priority + (i.priorityBasis == "atEnd" ? " (the priority when it ended)" : " (the priority now: it still runs)")))
            fact("Target", e(DashboardContentBuilder.targetText(i.target)))
            if let due = i.due { fact("Due", e(local(due))) }
            fact("Elapsed", e("\(seconds(i.elapsed.calendar)) calendar, \(seconds(i.elapsed.business)) business"))
            if let late = i.late { fact("Late", "<span class=\"flag\">\(e(seconds(late)))</span> beyond the target on its clock") }
            body += "</dl>"
            let business = i.businessTime
            body +=
                "<h3>Business time: \(e(seconds(business.seconds))) in \(business.windowCount) window\(business.windowCount == 1 ? "" : "s")</h3>"
            if !business.notableDays.isEmpty {
                body += "<ul class=\"notable\">"
                for day in business.notableDays {
                    let text =
                        day.kind == "holiday"
                        ? "\(day.date): holiday, no business time"
                        : "\(day.date): daylight-saving change (\(day.offsetBefore ?? "?") → \(day.offsetAfter ?? "?"))"
                    body += "<li>\(e(text))</li>"
                }
                body += "</ul>"
            }
            if !business.windows.isEmpty {
                let shown = business.windows.prefix(Self.windowsShown)
                body += "<details><summary>The business windows that counted</summary><div class=\"table-wrap\"><table><thead><tr>"
                body +=
                    "<th scope=\"col\" class=\"text\">Date</th><th scope=\"col\" class=\"text\">From</th><th scope=\"col\" class=\"text\">To</th><th scope=\"col\">Length</th></tr></thead><tbody>"
                for w in shown {
                    body +=
                        "<tr><td class=\"text\">\(e(w.date))</td><td class=\"text\">\(e(DashboardHTML.localMinute(w.start)))</td><td class=\"text\">\(e(DashboardHTML.localMinute(w.end)))</td><td>\(e(seconds(w.seconds)))</td></tr>"
                }
                body += "</tbody></table></div>"
                if business.windowCount > shown.count {
                    body += "<p class=\"sub\">\(business.windowCount - shown.count) more windows not listed.</p>"
                }
                body += "</details>"
            }
            body += "</section>"
        }
        let csvHref = "/tickets/\(DashboardHTML.percentEncode(answer.ticket))/sla.csv"
        body +=
            "<p class=\"links\"><a href=\"\(csvHref)\(DashboardHTML.query([("chart", "intervals-table"), ("asOf", answer.evaluatedAt.rfc3339)]))\" download=\"\">Download CSV</a> · <a href=\"/response-times\">Response times</a></p>"
        return DashboardContent(title: "Clocks of \(answer.ticket)", html: body, csv: ["intervals-table": csv])
    }
}
