import EventLog
import Hummingbird
import Projections
import SupportDomain
import SupportService

/// My queue, a team's queue, and Take next.
struct ConsoleQueuePages: Sendable {
    let backend: SupportBackend

    /// How often a queue page refreshes itself.
    static let refreshSeconds = 30
    /// How many entries of each team the agent works are shown on My queue.
    static let teamPreview = 10

    /// GET /console/queue: the agent queue of SPEC §5 for the signed-in agent (a manager or
    /// admin may pass `agent` to look at one), the queues summary with Take next, and the
    /// queues of the teams the agent works (the teams of the tickets in their queue).
    func myQueue(_ request: Request, user: ConsoleUser) throws -> Response {
        let query = try QueryParameters(request, allowed: ["agent", "done"])
        let agent: String? = user.mayAct ? user.principal.id : query.string("agent").flatMap { $0.isEmpty ? nil : $0 }
        let clock = ConsoleClock(backend: backend)
        let now = clock.now
        let (mine, waiting, summary, teams) = try backend.projections.read { p in
            let mine = agent.map { p.agentQueue($0, at: now) } ?? []
            // The agent's tickets that wait on the customer or a third party: in no queue (SPEC §5
            // queues hold tickets awaiting an agent), still theirs to follow up.
            var waiting: [TicketSummary] = []
            if let agent {
                for status in [TicketStatus.pending, .onHold] {
                    waiting += try p.tickets(matching: TicketFilter(status: status, assignee: agent), at: now, limit: Self.waitingLimit)
                        .tickets
                }
            }
            var worked: [String] = []
            for entry in mine {
                if let ticket = p.ticket(entry.id, at: now), !worked.contains(where: { Identifier.same($0, ticket.team) }) {
                    worked.append(ticket.team)
                }
            }
            let teams = worked.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map {
                (team: $0, entries: p.teamQueue($0, at: now, limit: Self.teamPreview))
            }
            return (mine, waiting, p.queues(at: now), teams)
        }

        var body = "<h1>\(agent.map { user.mayAct ? "My queue" : "Queue of \(DashboardHTML.escape($0))" } ?? "Queues")</h1>"
        body += ConsolePages.flashMarkup(query.string("done"))
        body += "<section id=\"queue-content\" data-refresh=\"\(Self.refreshSeconds)\">" + clock.evaluated
        if let agent {
            body += "<div class=\"section-head\"><h2 id=\"mine\">Assigned to \(user.mayAct ? "me" : DashboardHTML.escape(agent))</h2>"
            body += "<p class=\"hint\">\(mine.count) awaiting an agent, most urgent first</p></div>"
            body += ConsolePages.queueTable(
                id: "my-queue", caption: "Tickets assigned to \(agent) awaiting an agent", entries: mine, clock: clock, showAssignee: false)
        } else {
            body +=
                "<form class=\"controls\" method=\"get\" action=\"/console/queue\"><label>Agent <input type=\"text\" name=\"agent\" id=\"queue-agent\"/></label><button class=\"primary\" type=\"submit\">Show their queue</button></form>"
        }
        if agent != nil, !waiting.isEmpty {
            body += "<div class=\"section-head\"><h2 id=\"waiting\">Waiting on others</h2>"
            body +=
                "<p class=\"hint\">\(waiting.count) pending or on hold: in no queue until the customer or a third party answers</p></div>"
            body += Self.waitingTable(waiting, clock: clock)
        }
        body +=
            "<div class=\"section-head\"><h2 id=\"teams\">Team queues</h2><p class=\"hint\">Take next assigns you the first unassigned ticket of a team's queue.</p></div>"
        body += Self.summaryTable(summary, clock: clock, user: user)
        for team in teams {
            body += "<div class=\"section-head\"><h2>\(DashboardHTML.escape(team.team))</h2>"
            body += "<a href=\"/console/queues/\(DashboardHTML.percentEncode(team.team))\">the whole queue</a>"
            if user.mayAct { body += ConsolePages.takeNext(team: team.team, user: user) }
            body += "</div>"
            body += ConsolePages.queueTable(
                id: "team-queue-\(team.team)", caption: "The first tickets of \(team.team)'s queue", entries: team.entries, clock: clock,
                showAssignee: true)
        }
        body += "</section>"
        return WebResponse.html(
            ConsolePages.page(title: "My queue", user: user, active: "/console/queue", refreshSeconds: Self.refreshSeconds, body: body))
    }

    /// At most this many pending and as many on-hold tickets are listed on My queue.
    static let waitingLimit = 100

    /// The agent's pending and on-hold tickets.
    static func waitingTable(_ tickets: [TicketSummary], clock: ConsoleClock) -> String {
        let e = DashboardHTML.escape
        var out =
            "<div class=\"table-wrap\"><table id=\"my-waiting\"><caption class=\"visually-hidden\">Your tickets waiting on others</caption>"
        out += "<thead><tr>"
        for title in ["Ticket", "Time left", "Status", "Priority", "Team", "Customer", "Subject"] {
            out += "<th scope=\"col\" class=\"text\">\(title)</th>"
        }
        out += "</tr></thead><tbody>"
        for t in tickets {
            out +=
                "<tr data-ticket=\"\(e(t.id))\"><td class=\"text\"><a href=\"/console/tickets/\(DashboardHTML.percentEncode(t.id))\">\(e(t.id))</a></td>"
            out += clock.dueCell(t.nextDue, target: t.nextDueTarget, breached: t.breached)
            out += "<td class=\"text\">\(ConsolePages.statusName(t.status))</td><td class=\"text\">\(t.priority.rawValue)</td>"
            out += "<td class=\"text\">\(e(t.team))</td><td class=\"text\">\(e(t.customer))</td>"
            out += "<td class=\"text subject\">\(e(t.subject))</td></tr>"
        }
        return out + "</tbody></table></div>"
    }

    /// The queues summary: a row per team, with Take next for agents.
    static func summaryTable(_ queues: [QueueSummary], clock: ConsoleClock, user: ConsoleUser) -> String {
        var out = "<div class=\"table-wrap\"><table id=\"team-queues\"><caption class=\"visually-hidden\">Every team's queue</caption>"
        // Take next sits beside the team's name, so that a phone shows it without scrolling sideways.
        out += "<thead><tr><th scope=\"col\" class=\"text\">Team</th>"
        if user.mayAct { out += "<th scope=\"col\" class=\"text\"><span class=\"visually-hidden\">Action</span></th>" }
        out += "<th scope=\"col\">Waiting</th><th scope=\"col\">Breached</th><th scope=\"col\" class=\"text\">Oldest waiting since</th>"
        out += "</tr></thead><tbody>"
        if queues.isEmpty { out += "<tr><td class=\"text\" colspan=\"5\">No team has a ticket yet.</td></tr>" }
        for q in queues {
            out += "<tr data-team=\"\(DashboardHTML.escape(q.team))\"" + (q.breached > 0 ? " class=\"flagged\"" : "") + ">"
            out +=
                "<td class=\"text\"><a href=\"/console/queues/\(DashboardHTML.percentEncode(q.team))\">\(DashboardHTML.escape(q.team))</a></td>"
            if user.mayAct { out += "<td class=\"text\">" + (q.depth > 0 ? ConsolePages.takeNext(team: q.team, user: user) : "") + "</td>" }
            out += "<td>\(q.depth)</td><td" + (q.breached > 0 ? " class=\"breached\"" : "") + ">\(q.breached)</td>"
            out += "<td class=\"text\">\(q.oldestWaitingSince.map { clock.local($0) } ?? "–")</td>"
            out += "</tr>"
        }
        out += "</tbody></table></div>"
        return out
    }

    /// GET /console/queues/{team}: the team's whole queue, with Take next.
    func teamQueue(_ request: Request, team: String, user: ConsoleUser) throws -> Response {
        let query = try QueryParameters(request, allowed: ["done"])
        let clock = ConsoleClock(backend: backend)
        let now = clock.now
        let entries = backend.projections.read { $0.teamQueue(team, at: now) }
        var body = "<h1>Queue of \(DashboardHTML.escape(team))</h1>"
        body += ConsolePages.flashMarkup(query.string("done"))
        body += "<section id=\"queue-content\" data-refresh=\"\(Self.refreshSeconds)\">" + clock.evaluated
        body += "<div class=\"section-head\"><h2>\(entries.count) awaiting an agent</h2>"
        if user.mayAct { body += ConsolePages.takeNext(team: team, user: user) }
        body += "</div>"
        body += ConsolePages.queueTable(
            id: "team-queue", caption: "\(team)'s queue, most urgent first", entries: entries, clock: clock, showAssignee: true)
        body += "</section>"
        return WebResponse.html(
            ConsolePages.page(title: "Queue of \(team)", user: user, active: nil, refreshSeconds: Self.refreshSeconds, body: body))
    }

    /// POST /console/queues/{team}/claim: the API's claim (SPEC §7), under the form's
    /// idempotency key, so a double click takes one ticket; then the ticket's page.
    func claim(team: String, form: FormFields, user: ConsoleUser) async throws -> Response {
        let idempotency = ConsoleTicketForm.idempotencyKey(
            form["key"], principal: user.principal, path: "/v1/queues/\(team)/claim", body: [])
        guard let reply = try await backend.commands.claim(team: team, principal: user.principal, idempotency: idempotency) else {
            return WebResponse.redirect(to: "/console/queues/\(DashboardHTML.percentEncode(team))?done=empty")
        }
        guard let id = (try? JSONParser.parse(reply.body))?["id"]?.stringValue else {
            throw Problem(.internalServerError, "the claim's answer names no ticket")
        }
        return WebResponse.redirect(to: "/console/tickets/\(DashboardHTML.percentEncode(id))?done=claimed")
    }
}
