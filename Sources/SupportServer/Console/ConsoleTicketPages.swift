import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import Projections
import SupportDomain
import SupportService

/// What a form that was sent but not applied shows when the page comes back: the agent's text,
/// and why, next to the fields and at the form's head.
struct ConsoleFormState {
    var kind: ConsoleTicketForm
    /// The fields as the agent sent them, by name.
    var values: FormFields
    /// Sentences by the element id of their field.
    var fieldErrors: [String: String] = [:]
    /// A sentence for the whole form.
    var formError: String?
    /// The version the agent's page showed: thread entries after it are marked new.
    var readVersion: UInt64?
}

/// The ticket page (thread, state, SLA clock and a form per agent command) and the submission
/// of those forms.
struct ConsoleTicketPages: Sendable {
    let backend: SupportBackend
    /// The agents that have a token, offered in the assignment forms.
    let agents: [String]

    /// GET /console/tickets/{id}.
    func show(_ request: Request, id: String, user: ConsoleUser) throws -> Response {
        let query = try QueryParameters(request, allowed: ["done"])
        let ticket = try backend.commands.visibleTicket(id, to: user.principal)
        return WebResponse.html(render(ticket, user: user, done: query.string("done"), state: nil))
    }

    /// POST /console/tickets/{id}/{form}: the form's fields as the API's command body, run as
    /// the API runs it, with the form's version as `If-Match` and its key as the idempotency key.
    func submit(_ kind: ConsoleTicketForm, id: String, form: FormFields, user: ConsoleUser) async throws -> Response {
        let commands = backend.commands
        let ticket = try commands.visibleTicket(id, to: user.principal)
        var state = ConsoleFormState(kind: kind, values: form)
        guard let readVersion = form["version"].flatMap(UInt64.init), readVersion >= 1 else {
            state.formError = "This form lacks the version of the ticket it was opened at. Nothing was saved: reload the page."
            return WebResponse.html(render(ticket, user: user, done: nil, state: state), status: .badRequest)
        }
        state.readVersion = readVersion
        let json: JSONValue
        switch kind.body(form) {
        case .invalid(let errors):
            state.fieldErrors = errors
            return WebResponse.html(render(ticket, user: user, done: nil, state: state), status: .badRequest)
        case .body(let value): json = value
        }
        let path = "/v1/tickets/\(ticket.id)/\(kind.route.rawValue)"
        let idempotency = ConsoleTicketForm.idempotencyKey(
            form["key"], principal: user.principal, path: path, body: CanonicalJSON.encode(json))
        let done = "/console/tickets/\(DashboardHTML.percentEncode(ticket.id))?done="
        if let idempotency {
            switch try await IdempotentAnswers(store: backend.store).lookUp(idempotency.key, fingerprint: idempotency.fingerprint) {
            case .answered: return WebResponse.redirect(to: done + "again")
            case .reused:
                state.formError =
                    "This form was already sent with other content, so it was not sent again. Your text is kept below: check the ticket and send it once more."
                return WebResponse.html(render(ticket, user: user, done: nil, state: state), status: .conflict)
            case .unused: break
            }
        }
        guard let actor = user.principal.actor else { throw Problem.forbidden("a \(user.principal.role.rawValue) may not write") }
        do {
            let command = try TicketCommand.parse(route: kind.route, body: json, actor: actor, limits: backend.levels.policy.limits)
            let expected = try commands.version(ticket, readAt: readVersion)
            _ = try await commands.run(command, on: ticket, principal: user.principal, idempotency: idempotency, expectedVersion: expected)
            return WebResponse.redirect(to: done + kind.rawValue)
        } catch let error as DomainError {
            return refused(ServiceError(error), kind: kind, ticket: ticket, state: state, user: user)
        } catch let error as ServiceError {
            return refused(error, kind: kind, ticket: ticket, state: state, user: user)
        }
    }

    /// The page again after a refusal: the ticket as it stands now (when it changed since the form
    /// was read, the new state with a sentence saying so), the agent's text kept, the reason as a
    /// sentence next to its field.
    private func refused(
        _ error: ServiceError, kind: ConsoleTicketForm, ticket: Ticket, state: ConsoleFormState, user: ConsoleUser
    ) -> Response {
        var state = state
        let current = (try? backend.commands.visibleTicket(ticket.id, to: user.principal)) ?? ticket
        let problem = Problem(error)
        switch error.kind {
        case .preconditionFailed:
            state.formError =
                "This ticket changed since you opened it (version \(state.readVersion.map(String.init) ?? "?") → \(current.version)): the changes are marked new below. Nothing was saved; your text is kept. Check the ticket and send again."
            return WebResponse.html(render(current, user: user, done: nil, state: state), status: .conflict)
        case .badRequest, .conflict, .forbidden, .notFound:
            let sentence = ConsolePages.sentence(error.detail)
            if let field = kind.fieldID(for: error.detail) { state.fieldErrors[field] = sentence } else { state.formError = sentence }
            return WebResponse.html(render(current, user: user, done: nil, state: state), status: problem.status)
        default:
            state.formError = "The desk could not save this: \(ConsolePages.sentence(error.detail)) Your text is kept; try again."
            var headers: HTTPFields = [:]
            if let retry = problem.headers[.retryAfter] { headers[.retryAfter] = retry }
            return WebResponse.html(render(current, user: user, done: nil, state: state), status: problem.status, headers: headers)
        }
    }

    // MARK: Rendering

    func render(_ ticket: Ticket, user: ConsoleUser, done: String?, state: ConsoleFormState?) -> String {
        let clock = ConsoleClock(backend: backend)
        let now = clock.now
        let teams = backend.projections.read { p in p.queues(at: now).map(\.team) }
        var body = "<h1>\(DashboardHTML.escape(ticket.id)): \(DashboardHTML.escape(ticket.subject))</h1>"
        body += ConsolePages.flashMarkup(done)
        if let state, let read = state.readVersion, read < ticket.version, state.formError == nil {
            body += "<p class=\"notice\" role=\"status\">This ticket changed since you opened it: the changes are marked new below.</p>"
        }
        body += "<div class=\"ticket\"><section class=\"thread-column\" aria-labelledby=\"thread-title\">"
        body += "<h2 id=\"thread-title\" class=\"visually-hidden\">Thread</h2>"
        body += thread(ticket, clock: clock, newAfter: state?.readVersion)
        if user.mayAct {
            for kind in [ConsoleTicketForm.reply, .note] {
                body += form(kind, ticket: ticket, user: user, state: state)
            }
        } else {
            body +=
                "<p class=\"notice\">You are signed in as a \(user.principal.role.rawValue): you can look at this ticket; only agents act in the console.</p>"
        }
        body += "</section><aside class=\"side\" aria-label=\"Ticket state and actions\">"
        body += stateCard(ticket, clock: clock)
        if user.mayAct {
            for kind in [ConsoleTicketForm.assign, .escalate, .priority, .status, .tags, .merge] {
                body += form(kind, ticket: ticket, user: user, state: state)
            }
        }
        body += "</aside></div>"
        body += "<datalist id=\"agents-list\">" + agents.map { "<option value=\"\(DashboardHTML.escape($0))\"></option>" }.joined()
        body += "</datalist><datalist id=\"teams-list\">"
        body += teams.map { "<option value=\"\(DashboardHTML.escape($0))\"></option>" }.joined() + "</datalist>"
        return ConsolePages.page(title: "\(ticket.id): \(ticket.subject)", user: user, active: nil, body: body)
    }

    /// The state card: status, priority, team, assignee, customer, tags, and the SLA clock.
    private func stateCard(_ ticket: Ticket, clock: ConsoleClock) -> String {
        func row(_ term: String, _ value: String, id: String? = nil) -> String {
            "<dt>\(term)</dt><dd" + (id.map { " id=\"\($0)\"" } ?? "") + ">\(value)</dd>"
        }
        let e = DashboardHTML.escape
        var out = "<section class=\"card\" id=\"ticket-state\"><h2>State</h2><dl class=\"state\">"
        out += row("Status", ConsolePages.statusName(ticket.status), id: "state-status")
        out += row("Priority", ticket.priority.rawValue, id: "state-priority")
        out += row("Team", e(ticket.team), id: "state-team")
        out += row("Assignee", ticket.assignee.map(e) ?? "nobody (in the team's queue)", id: "state-assignee")
        out += row("Customer", e(ticket.customer), id: "state-customer")
        out += row("Channel", ticket.channel.rawValue)
        out += row("Product", e(ticket.product))
        if let context = ticket.context { out += row("Context", e(context)) }
        out += row("Tags", ticket.tags.isEmpty ? "none" : ticket.tags.map(e).joined(separator: ", "), id: "state-tags")
        out += row("Opened", clock.local(ticket.openedAt) + " by \(ticket.openedBy.kind.rawValue) \(e(ticket.openedBy.id))")
        if let into = ticket.mergedInto {
            out += row("Merged into", "<a href=\"/console/tickets/\(DashboardHTML.percentEncode(into))\">\(e(into))</a>")
        }
        out += row("SLA", sla(ticket, clock: clock), id: "sla")
        let service = ticket.serviceState(at: clock.now, levels: backend.levels)
        out += row("Waiting since", service.waitingSince.map { clock.local($0) } ?? "not waiting for an agent")
        out += row("Version", String(ticket.version), id: "state-version")
        out += "</dl></section>"
        return out
    }

    /// The SLA clock: each running interval, its target, when it is due, on which clock.
    private func sla(_ ticket: Ticket, clock: ConsoleClock) -> String {
        let levels = backend.levels
        let deadlines = ticket.lifecycle.deadlines(openedAt: ticket.openedAt, priority: ticket.priority, levels: levels)
        var lines: [String] = []
        for deadline in [deadlines.reply, deadlines.resolution].compactMap({ $0 }) {
            let target = levels.target(deadline.metric, priority: ticket.priority)
            var line = "<span class=\"clock\">\(ConsolePages.targetName(deadline.metric).capitalizedFirst)"
            if let due = deadline.due {
                let breached = deadline.isBreached(at: clock.now)
                line += " due \(clock.local(due)): "
                line +=
                    breached
                    ? "<span class=\"breached\">\(DashboardHTML.escape(clock.timeLeft(due)))</span>" : "\(clock.timeLeft(due)) left"
            } else {
                line += ": never due (the schedule has no business time)"
            }
            if let target {
                line += " · \(target.clock.rawValue) clock, target \(DashboardHTML.humanDuration(seconds: Double(target.seconds)))"
            }
            lines.append(line + "</span>")
        }
        if lines.isEmpty {
            return ticket.status.isResolved
                ? "No clock runs: the ticket is \(ConsolePages.statusName(ticket.status))."
                : "No reply clock runs: the ticket awaits the customer or a third party."
        }
        return lines.joined(separator: "<br/>")
    }

    /// The thread: messages and internal notes told apart, attachments as links.
    private func thread(_ ticket: Ticket, clock: ConsoleClock, newAfter: UInt64?) -> String {
        var out = "<ol id=\"thread\" class=\"thread\">"
        for entry in ticket.thread {
            let isNew = newAfter.map { entry.version > $0 } ?? false
            let kind = entry.kind == .message ? "message" : "note"
            out += "<li class=\"entry \(kind)\(isNew ? " new" : "")\" id=\"v\(entry.version)\"><div class=\"who\">"
            out += "<span class=\"kind\">\(entry.kind == .message ? "Message" : "Internal note")</span>"
            out +=
                "<span>\(entry.author.kind.rawValue) \(DashboardHTML.escape(entry.author.id))</span><span>\(clock.local(entry.at))</span>"
            if let email = entry.email { out += "<span>by e-mail from \(DashboardHTML.escape(email.from))</span>" }
            if isNew { out += "<span class=\"flag\">new</span>" }
            out += "</div><div class=\"body\">\(DashboardHTML.escape(entry.body))</div>"
            if let quoted = entry.quoted, !quoted.isEmpty {
                out +=
                    "<details class=\"quoted\"><summary>Quoted text</summary><div class=\"body\">\(DashboardHTML.escape(quoted))</div></details>"
            }
            if !entry.attachments.isEmpty {
                out += "<ul class=\"attachments\">"
                for a in entry.attachments {
                    let href = "/console/tickets/\(DashboardHTML.percentEncode(ticket.id))/attachments/\(a.sha256)"
                    out +=
                        "<li><a href=\"\(href)\">\(DashboardHTML.escape(a.name))</a> (\(Self.size(a.size)), \(DashboardHTML.escape(a.contentType)))</li>"
                }
                out += "</ul>"
            }
            out += "</li>"
        }
        return out + "</ol>"
    }

    static func size(_ bytes: Int64) -> String {
        bytes < 1024 ? "\(bytes) B" : bytes < 1024 * 1024 ? "\(bytes / 1024) KB" : String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }

    // MARK: Forms

    /// One form: hidden CSRF token, fresh idempotency key and the version it is rendered at,
    /// then its fields with the agent's text and the errors of a refused send.
    private func form(_ kind: ConsoleTicketForm, ticket: Ticket, user: ConsoleUser, state: ConsoleFormState?) -> String {
        let mine = state?.kind == kind ? state : nil
        let action = "/console/tickets/\(DashboardHTML.percentEncode(ticket.id))/\(kind.rawValue)"
        let wide = kind == .reply || kind == .note
        var out = "<section class=\"card\" aria-labelledby=\"\(kind.formID)-title\">"
        out += "<h2 id=\"\(kind.formID)-title\">\(kind.title)</h2>"
        out += "<form class=\"stack\" id=\"\(kind.formID)\" method=\"post\" action=\"\(action)\""
        out += wide ? ">" : " novalidate=\"novalidate\">"
        out += ConsolePages.hidden("csrf", user.csrf) + ConsolePages.hidden("key", WebSessions.randomToken())
        out += ConsolePages.hidden("version", String(ticket.version))
        if let error = mine?.formError {
            out += "<p class=\"error\" id=\"\(kind.formID)-error\" role=\"alert\">\(DashboardHTML.escape(error))</p>"
        }
        func value(_ name: String) -> String { mine?.values[name] ?? "" }
        func described(_ id: String) -> (attributes: String, after: String) {
            guard let error = mine?.fieldErrors[id] else { return ("", "") }
            return (
                " aria-invalid=\"true\" aria-describedby=\"\(id)-error\"",
                "<p class=\"field-error\" id=\"\(id)-error\">\(DashboardHTML.escape(error))</p>"
            )
        }
        func textArea(_ name: String, _ id: String, label: String, rows: Int = 6) -> String {
            let d = described(id)
            return "<label for=\"\(id)\">\(label)</label><textarea id=\"\(id)\" name=\"\(name)\" rows=\"\(rows)\"\(d.attributes)>"
                + DashboardHTML.escape(value(name)) + "</textarea>" + d.after
        }
        func textField(_ name: String, _ id: String, label: String, list: String? = nil, hint: String? = nil) -> String {
            let d = described(id)
            var out = "<div><label for=\"\(id)\">\(label)</label>"
            out += "<input type=\"text\" id=\"\(id)\" name=\"\(name)\" value=\"\(DashboardHTML.escape(value(name)))\""
            out += list.map { " list=\"\($0)\"" } ?? ""
            out += " autocomplete=\"off\"\(d.attributes)/>" + d.after
            if let hint { out += "<p class=\"hint\">\(hint)</p>" }
            return out + "</div>"
        }
        func select(_ name: String, _ id: String, label: String, options: [(value: String, label: String)], selected: String) -> String {
            let d = described(id)
            var out = "<div><label for=\"\(id)\">\(label)</label><select id=\"\(id)\" name=\"\(name)\"\(d.attributes)>"
            for o in options {
                out += "<option value=\"\(o.value)\"" + (o.value == selected ? " selected=\"selected\"" : "") + ">\(o.label)</option>"
            }
            return out + "</select>" + d.after + "</div>"
        }
        let statuses = SettableStatus.allCases.map { ($0.rawValue, ConsolePages.statusName($0.status)) }
        switch kind {
        case .reply:
            out += textArea("body", "reply-body", label: "Reply (the customer reads it)", rows: 7)
            out += "<div class=\"row\">"
            out += select(
                "status", "reply-status", label: "Then leave the ticket",
                options: [("", "as the reply leaves it")] + statuses, selected: mine == nil ? "pending" : value("status"))
            out += "<div><button class=\"primary\" type=\"submit\">\(kind.submitLabel)</button></div></div>"
        case .note:
            out += textArea("body", "note-body", label: "Note (agents only, never shown to the customer)", rows: 4)
            out += "<div><button class=\"secondary\" type=\"submit\">\(kind.submitLabel)</button></div>"
        case .assign:
            out += textField(
                "agent", "assign-agent", label: "Agent", list: "agents-list", hint: "Empty: back to the team's queue (unassigned).")
            out += textField("team", "assign-team", label: "Move to team (optional)", list: "teams-list")
            out += "<div><button class=\"primary\" type=\"submit\">\(kind.submitLabel)</button></div>"
        case .escalate:
            out += textField("team", "escalate-team", label: "Team", list: "teams-list")
            out += textArea("reason", "escalate-reason", label: "Reason", rows: 2)
            out += "<div><button class=\"primary\" type=\"submit\">\(kind.submitLabel)</button></div>"
        case .priority:
            out += "<div class=\"row\">"
            out += select(
                "priority", "priority", label: "Priority", options: Priority.allCases.map { ($0.rawValue, $0.rawValue) },
                selected: mine == nil ? ticket.priority.rawValue : value("priority"))
            out += "<div><button class=\"primary\" type=\"submit\">\(kind.submitLabel)</button></div></div>"
        case .status:
            out += "<div class=\"row\">"
            out += select(
                "status", "status", label: "Status", options: statuses,
                selected: mine == nil ? (ticket.status == .new ? "open" : ticket.status.rawValue) : value("status"))
            out += "<div><button class=\"primary\" type=\"submit\">\(kind.submitLabel)</button></div></div>"
        case .tags:
            out += textField("add", "tags-add", label: "Add tags", hint: "Separated by spaces or commas.")
            out += textField("remove", "tags-remove", label: "Remove tags")
            out += "<div><button class=\"primary\" type=\"submit\">\(kind.submitLabel)</button></div>"
        case .merge:
            out += textField("into", "merge-into", label: "Ticket id", hint: "This ticket is closed and points to that one.")
            out += "<div><button class=\"secondary\" type=\"submit\">\(kind.submitLabel)</button></div>"
        }
        out += "</form></section>"
        return out
    }
}

extension String {
    /// The first letter in upper case.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
