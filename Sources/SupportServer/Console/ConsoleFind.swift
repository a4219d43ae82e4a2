import EventLog
import HTTPTypes
import Hummingbird
import Projections
import SupportDomain
import SupportService

/// Finding a ticket: by id (straight to it), or the ticket list of SPEC §5 by customer, tag,
/// status, team or assignee, newest first, a page at a time.
struct ConsoleFind: Sendable {
    let backend: SupportBackend

    static let pageSize = 25
    static let parameters: Set<String> = ["id", "customer", "tag", "status", "team", "assignee", "after"]

    /// GET /console/find.
    func show(_ request: Request, user: ConsoleUser) throws -> Response {
        let query: QueryParameters
        do { query = try QueryParameters(request, allowed: Self.parameters) } catch {
            return WebResponse.html(
                page(user: user, values: [:], formError: ConsolePages.sentence(error.detail), results: ""), status: .badRequest)
        }
        var values: [String: String] = [:]
        for name in Self.parameters {
            if let v = query.string(name)?.trimmingSpaces(), !v.isEmpty { values[name] = v }
        }
        if let id = values["id"] {
            guard let ticket = try backend.commands.load(id) else {
                return WebResponse.html(
                    page(user: user, values: values, fieldErrors: ["find-id": "There is no ticket \(id)."], results: ""), status: .notFound)
            }
            return WebResponse.redirect(to: "/console/tickets/\(DashboardHTML.percentEncode(ticket.id))")
        }
        var status: TicketStatus?
        if let text = values["status"] {
            guard let s = TicketStatus(rawValue: text) else {
                return WebResponse.html(
                    page(user: user, values: values, fieldErrors: ["find-status": "Choose a status from the list."], results: ""),
                    status: .badRequest)
            }
            status = s
        }
        let filter = TicketFilter(
            status: status, team: values["team"], assignee: values["assignee"], customer: values["customer"], tag: values["tag"])
        let clock = ConsoleClock(backend: backend)
        let now = clock.now
        let after = values["after"]
        let found: TicketPage
        do {
            found = try backend.projections.read { p in try p.tickets(matching: filter, at: now, limit: Self.pageSize, after: after) }
        } catch let error as DomainError {
            return WebResponse.html(
                page(user: user, values: values, formError: ConsolePages.sentence(error.detail), results: ""), status: .badRequest)
        }
        return WebResponse.html(page(user: user, values: values, results: results(found, values: values, clock: clock)))
    }

    private func results(_ found: TicketPage, values: [String: String], clock: ConsoleClock) -> String {
        let e = DashboardHTML.escape
        var out = clock.evaluated
        out +=
            "<div class=\"table-wrap\"><table id=\"find-results\"><caption class=\"visually-hidden\">Tickets found, newest first</caption><thead><tr>"
        for title in ["Ticket", "Status", "Priority", "Team", "Assignee", "Customer", "Subject", "Opened"] {
            out += "<th scope=\"col\" class=\"text\">\(title)</th>"
        }
        out += "</tr></thead><tbody>"
        if found.tickets.isEmpty { out += "<tr><td class=\"text\" colspan=\"8\">No ticket matches.</td></tr>" }
        for t in found.tickets {
            out +=
                "<tr data-ticket=\"\(e(t.id))\"><td class=\"text\"><a href=\"/console/tickets/\(DashboardHTML.percentEncode(t.id))\">\(e(t.id))</a></td>"
            out += "<td class=\"text\">\(ConsolePages.statusName(t.status))</td><td class=\"text\">\(t.priority.rawValue)</td>"
            out +=
                "<td class=\"text\">\(e(t.team))</td><td class=\"text\">\(e(t.assignee ?? "–"))</td><td class=\"text\">\(e(t.customer))</td>"
            out += "<td class=\"text subject\">\(e(t.subject))</td><td class=\"text\">\(clock.local(t.openedAt))</td></tr>"
        }
        out += "</tbody></table></div>"
        if let next = found.next {
            var items = values.filter { $0.key != "after" }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            items.append(("after", next))
            out += "<p class=\"pager\"><a id=\"find-next\" href=\"/console/find\(DashboardHTML.query(items))\">Next page</a></p>"
        }
        return out
    }

    private func page(
        user: ConsoleUser, values: [String: String], fieldErrors: [String: String] = [:], formError: String? = nil, results: String
    ) -> String {
        let e = DashboardHTML.escape
        var body = "<h1>Find a ticket</h1>"
        body += "<form class=\"controls\" id=\"form-find\" method=\"get\" action=\"/console/find\" role=\"search\">"
        if let formError { body += "<p class=\"error\" id=\"form-find-error\" role=\"alert\">\(e(formError))</p>" }
        func field(_ name: String, _ id: String, _ label: String) -> String {
            let error = fieldErrors[id]
            var out = "<label for=\"\(id)\">\(label)<input type=\"search\" id=\"\(id)\" name=\"\(name)\" value=\"\(e(values[name] ?? ""))\""
            out += error == nil ? "/>" : " aria-invalid=\"true\" aria-describedby=\"\(id)-error\"/>"
            if let error { out += "<span class=\"field-error\" id=\"\(id)-error\">\(e(error))</span>" }
            return out + "</label>"
        }
        body += field("id", "find-id", "Ticket id") + field("customer", "find-customer", "Customer") + field("tag", "find-tag", "Tag")
        body += "<label for=\"find-status\">Status<select id=\"find-status\" name=\"status\""
        body += fieldErrors["find-status"] == nil ? ">" : " aria-invalid=\"true\" aria-describedby=\"find-status-error\">"
        body += "<option value=\"\">any</option>"
        for s in TicketStatus.allCases {
            body += "<option value=\"\(s.rawValue)\"" + (values["status"] == s.rawValue ? " selected=\"selected\"" : "")
            body += ">\(ConsolePages.statusName(s))</option>"
        }
        body += "</select>"
        if let error = fieldErrors["find-status"] { body += "<span class=\"field-error\" id=\"find-status-error\">\(e(error))</span>" }
        body += "</label>" + field("team", "find-team", "Team") + field("assignee", "find-assignee", "Assignee")
        body += "<button class=\"primary\" type=\"submit\">Find</button></form>"
        body += results
        return ConsolePages.page(title: "Find a ticket", user: user, active: "/console/find", body: body)
    }
}
