import EventLog
import Hummingbird
import Projections
import SupportDomain
import SupportService

/// The hand-off at shift change: the agent's open tickets, handed in one go to another agent or
/// back to their teams' queues, with a note. Per ticket it appends what the API would for the
/// same hand-off: the note (`note.added`), then the assignment (`ticket.assigned`).
struct ConsoleHandOff: Sendable {
    let backend: SupportBackend
    /// The agents that have a token, offered as the one who takes over.
    let agents: [String]

    /// The statuses of an open ticket, in the order the page lists them.
    static let openStatuses: [TicketStatus] = [.new, .open, .pending, .onHold]
    /// At most this many tickets per status are listed.
    static let limit = 500

    /// What a refused hand-off form shows again.
    struct FormState {
        var values: FormFields
        var fieldErrors: [String: String] = [:]
        var formError: String?
    }

    /// GET /console/handoff.
    func show(_ request: Request, user: ConsoleUser) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        return WebResponse.html(page(user: user, state: nil))
    }

    /// The agent's open tickets: assigned to them, neither solved nor closed.
    private func openTickets(of agent: String, at now: Timestamp) throws -> [TicketSummary] {
        try backend.projections.read { p in
            var out: [TicketSummary] = []
            for status in Self.openStatuses {
                out += try p.tickets(matching: TicketFilter(status: status, assignee: agent), at: now, limit: Self.limit).tickets
            }
            return out
        }
    }

    func page(user: ConsoleUser, state: FormState?, status: HTTPResponse.Status = .ok) -> String {
        var body = "<h1>Hand-off</h1>"
        guard user.mayAct else {
            body +=
                "<p class=\"notice\">Agents hand their open tickets over here at shift change. You are signed in as a \(user.principal.role.rawValue): only agents act in the console.</p>"
            return ConsolePages.page(title: "Hand-off", user: user, active: "/console/handoff", body: body)
        }
        let clock = ConsoleClock(backend: backend)
        let tickets: [TicketSummary]
        do { tickets = try openTickets(of: user.principal.id, at: clock.now) } catch {
            body += "<p class=\"error\" role=\"alert\">\(DashboardHTML.escape(ConsolePages.sentence("\(error)")))</p>"
            return ConsolePages.page(title: "Hand-off", user: user, active: "/console/handoff", body: body)
        }
        body += clock.evaluated
        body +=
            "<p>Your open tickets (assigned to you, neither solved nor closed). Hand the chosen ones, or all, to another agent or back to their team's queue, with a note for whoever takes over.</p>"
        let e = DashboardHTML.escape
        body += "<form class=\"stack\" id=\"form-handoff\" method=\"post\" action=\"/console/handoff\" novalidate=\"novalidate\">"
        body += ConsolePages.hidden("csrf", user.csrf) + ConsolePages.hidden("key", WebSessions.randomToken())
        if let error = state?.formError {
            body += "<p class=\"error\" id=\"form-handoff-error\" role=\"alert\">\(e(error))</p>"
        }
        func described(_ id: String) -> (attributes: String, after: String) {
            guard let error = state?.fieldErrors[id] else { return ("", "") }
            return (
                " aria-invalid=\"true\" aria-describedby=\"\(id)-error\"", "<p class=\"field-error\" id=\"\(id)-error\">\(e(error))</p>"
            )
        }
        let chosen = Set(state?.values.all("ticket") ?? [])
        let ticked = described("handoff-tickets")
        body += "<fieldset><legend>Tickets</legend>"
        if tickets.isEmpty {
            body += "<p id=\"handoff-none\">You have no open ticket.</p>"
        } else {
            body +=
                "<p><input type=\"checkbox\" name=\"all\" value=\"1\" id=\"handoff-all\"\((state?.values["all"] == "1") ? " checked=\"checked\"" : "")\(ticked.attributes)/> <label for=\"handoff-all\">All \(tickets.count) of them</label></p>"
            body += ticked.after
            body +=
                "<div class=\"table-wrap\"><table id=\"handoff-tickets\"><caption class=\"visually-hidden\">Your open tickets</caption><thead><tr>"
            for title in ["Hand off", "Ticket", "Status", "Priority", "Team", "Customer", "Subject", "Time left"] {
                body += "<th scope=\"col\" class=\"text\">\(title)</th>"
            }
            body += "</tr></thead><tbody>"
            for t in tickets {
                let id = e(t.id)
                body += "<tr data-ticket=\"\(id)\"" + (t.breached ? " class=\"flagged\"" : "") + ">"
                body += "<td class=\"text\"><input type=\"checkbox\" name=\"ticket\" value=\"\(id)\" id=\"handoff-\(id)\""
                body += (chosen.contains(t.id) ? " checked=\"checked\"" : "") + "/>"
                body += "<label class=\"visually-hidden\" for=\"handoff-\(id)\">Hand off \(id)</label>"
                body += ConsolePages.hidden("version.\(t.id)", String(t.version)) + "</td>"
                body += "<td class=\"text\"><a href=\"/console/tickets/\(DashboardHTML.percentEncode(t.id))\">\(id)</a></td>"
                body += "<td class=\"text\">\(ConsolePages.statusName(t.status))</td><td class=\"text\">\(t.priority.rawValue)</td>"
                body += "<td class=\"text\">\(e(t.team))</td><td class=\"text\">\(e(t.customer))</td>"
                body += "<td class=\"text subject\">\(e(t.subject))</td>"
                body += clock.dueCell(t.nextDue, target: t.nextDueTarget, breached: t.breached) + "</tr>"
            }
            body += "</tbody></table></div>"
        }
        body += "</fieldset>"
        let target = state?.values["target"] ?? "agent"
        let agentField = described("handoff-agent")
        body += "<fieldset><legend>To</legend>"
        body +=
            "<p><input type=\"radio\" name=\"target\" value=\"agent\" id=\"target-agent\"\(target != "queue" ? " checked=\"checked\"" : "")/> "
        body += "<label for=\"target-agent\">Another agent</label></p>"
        body += "<label for=\"handoff-agent\">Agent</label><input type=\"text\" id=\"handoff-agent\" name=\"agent\" list=\"agents-list\""
        body += " value=\"\(e(state?.values["agent"] ?? ""))\" autocomplete=\"off\"\(agentField.attributes)/>" + agentField.after
        body +=
            "<p><input type=\"radio\" name=\"target\" value=\"queue\" id=\"target-queue\"\(target == "queue" ? " checked=\"checked\"" : "")/> "
        body += "<label for=\"target-queue\">Back to each ticket's team queue (unassigned)</label></p></fieldset>"
        body += "<label for=\"handoff-note\">Note for whoever takes over (internal, added to each ticket; optional)</label>"
        body += "<textarea id=\"handoff-note\" name=\"note\" rows=\"3\">\(e(state?.values["note"] ?? ""))</textarea>"
        body += "<div><button class=\"primary\" type=\"submit\" id=\"handoff-submit\">Hand off</button></div></form>"
        body += "<datalist id=\"agents-list\">"
        body += agents.filter { !Identifier.same($0, user.principal.id) }.map { "<option value=\"\(e($0))\"></option>" }.joined()
        body += "</datalist>"
        return ConsolePages.page(title: "Hand-off", user: user, active: "/console/handoff", body: body)
    }

    /// One ticket's outcome.
    struct Outcome {
        var ticket: String
        var ok: Bool
        var sentence: String
    }

    /// POST /console/handoff.
    func submit(form: FormFields, user: ConsoleUser) async throws -> Response {
        var state = FormState(values: form)
        var listed: [(id: String, version: UInt64)] = []
        for pair in form.pairs where pair.name.hasPrefix("version.") {
            guard let v = UInt64(pair.value) else { continue }
            listed.append((String(pair.name.dropFirst("version.".count)), v))
        }
        let chosen = form["all"] == "1" ? listed.map(\.id) : form.all("ticket")
        let toAgent = form["target"] != "queue"
        let agent = (form["agent"] ?? "").trimmingSpaces()
        if chosen.isEmpty { state.fieldErrors["handoff-tickets"] = "Tick the tickets to hand off, or “All of them”." }
        if toAgent {
            if agent.isEmpty {
                state.fieldErrors["handoff-agent"] = "Enter the agent who takes over, or choose their team's queue."
            } else if Identifier.same(agent, user.principal.id) {
                state.fieldErrors["handoff-agent"] = "Choose another agent than yourself."
            } else if let problem = Identifier.problem(with: agent) {
                state.fieldErrors["handoff-agent"] = ConsolePages.sentence("the agent's id \(problem)")
            }
        }
        guard state.fieldErrors.isEmpty, let actor = user.principal.actor else {
            return WebResponse.html(page(user: user, state: state), status: .badRequest)
        }
        let note = (form["note"] ?? "").replacingCRLF()
        var outcomes: [Outcome] = []
        for id in chosen {
            guard let read = listed.first(where: { $0.id == id })?.version else {
                outcomes.append(Outcome(ticket: id, ok: false, sentence: "\(id) was not in your list; it was not handed off."))
                continue
            }
            outcomes.append(
                await handOff(
                    id, readAt: read, to: toAgent ? agent : nil, note: note.trimmingSpaces().isEmpty ? nil : note, form: form,
                    user: user, actor: actor))
        }
        let e = DashboardHTML.escape
        var body = "<h1>Hand-off</h1>"
        let handed = outcomes.filter(\.ok).count
        body +=
            "<p class=\"notice\(handed == outcomes.count ? " ok" : "")\" id=\"flash\" role=\"status\">\(handed) of \(outcomes.count) ticket\(outcomes.count == 1 ? "" : "s") handed \(toAgent ? "to \(e(agent))" : "back to their team's queue").</p>"
        body += "<ul id=\"handoff-results\" class=\"results\">"
        for o in outcomes {
            body += "<li data-ticket=\"\(e(o.ticket))\" class=\"\(o.ok ? "ok" : "failed")\">"
            body += "<a href=\"/console/tickets/\(DashboardHTML.percentEncode(o.ticket))\">\(e(o.ticket))</a>: \(e(o.sentence))</li>"
        }
        body += "</ul><p><a href=\"/console/handoff\">Back to the hand-off</a> · <a href=\"/console/queue\">My queue</a></p>"
        return WebResponse.html(ConsolePages.page(title: "Hand-off", user: user, active: "/console/handoff", body: body))
    }

    /// Hands one ticket off: its note, then its assignment, each under its own idempotency key
    /// derived from the form's (a reload of the result appends nothing again), each at the
    /// version it expects (a ticket that changed since the list was shown is left alone).
    private func handOff(
        _ id: String, readAt read: UInt64, to agent: String?, note: String?, form: FormFields, user: ConsoleUser, actor: SupportActor
    ) async -> Outcome {
        let commands = backend.commands
        let answers = IdempotentAnswers(store: backend.store)
        let limits = backend.levels.policy.limits
        let target = agent.map { "to \($0)" } ?? "back to the team's queue"
        func key(_ step: String, _ route: CommandRoute, _ body: JSONValue) -> IdempotencyKey? {
            guard let base = form["key"] else { return nil }
            return ConsoleTicketForm.idempotencyKey(
                "\(base).\(DashboardHTML.percentEncode(id)).\(step)", principal: user.principal,
                path: "/v1/tickets/\(id)/\(route.rawValue)", body: CanonicalJSON.encode(body))
        }
        do {
            var ticket = try commands.visibleTicket(id, to: user.principal)
            let assignBody: JSONValue = .object(["agent": agent.map(JSONValue.string) ?? .null])
            let assignKey = key("assign", .assign, assignBody)
            if let assignKey, case .answered = try await answers.lookUp(assignKey.key, fingerprint: assignKey.fingerprint) {
                return Outcome(ticket: id, ok: true, sentence: "already handed \(target) by this form.")
            }
            var expected = try commands.version(ticket, readAt: read)
            if let note {
                let noteBody: JSONValue = .object(["body": .string(note)])
                let noteKey = key("note", .notes, noteBody)
                var noted = false
                if let noteKey, case .answered(let reply) = try await answers.lookUp(noteKey.key, fingerprint: noteKey.fingerprint) {
                    expected = reply.version
                    noted = true
                }
                if !noted {
                    let command = try TicketCommand.parse(route: .notes, body: noteBody, actor: actor, limits: limits)
                    expected = try await commands.run(
                        command, on: ticket, principal: user.principal, idempotency: noteKey, expectedVersion: expected
                    ).version
                }
                ticket = try commands.visibleTicket(id, to: user.principal)
            }
            let command = try TicketCommand.parse(route: .assign, body: assignBody, actor: actor, limits: limits)
            _ = try await commands.run(command, on: ticket, principal: user.principal, idempotency: assignKey, expectedVersion: expected)
            return Outcome(ticket: id, ok: true, sentence: "handed \(target)" + (note == nil ? "." : ", with the note."))
        } catch let error as ServiceError where error.kind == .preconditionFailed {
            return Outcome(
                ticket: id, ok: false,
                sentence: "changed since the list was shown, so it was not handed off. Open it, check it, and hand it off again.")
        } catch let error as ServiceError {
            return Outcome(ticket: id, ok: false, sentence: "not handed off: \(ConsolePages.sentence(error.detail))")
        } catch let error as DomainError {
            return Outcome(ticket: id, ok: false, sentence: "not handed off: \(ConsolePages.sentence(error.detail))")
        } catch {
            return Outcome(ticket: id, ok: false, sentence: "not handed off: \(ConsolePages.sentence("\(error)"))")
        }
    }
}
