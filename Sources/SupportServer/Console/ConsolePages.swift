import EventLog
import Projections
import SupportDomain
import SupportService

/// The console's page frame, sign-in and error pages, and the pieces its pages share: the queue
/// table, times for people, and turning a reason into a sentence.
enum ConsolePages {
    /// The pages of the top bar, in order.
    static let navigation: [(path: String, title: String)] = [
        ("/console/queue", "My queue"), ("/console/handoff", "Hand-off"), ("/console/find", "Find"),
    ]

    /// A whole console page (the shared frame, the console's navigation and script).
    static func page(title: String, user: ConsoleUser?, active: String?, refreshSeconds: Int? = nil, body: String) -> String {
        // Without JavaScript a queue page reloads itself; with it, the script refreshes the
        // queue in place (keeping the selected row and the scroll position).
        WebPage.frame(
            title: title, home: "/console", principal: user?.principal, navigationLabel: "Console pages", navigation: navigation,
            active: active, refreshSeconds: refreshSeconds, refreshOnlyWithoutScript: true,
            signOut: user.map { WebPage.SignOut(action: "/console/logout", csrf: $0.csrf) }, script: ConsoleScript.path,
            body: body + (user == nil ? "" : shortcutsHelp))
    }

    /// The keyboard shortcuts, listed at the foot of every page (the script provides them).
    static let shortcutsHelp = """
        <details class="shortcuts"><summary>Keyboard shortcuts</summary><p class="hint">With JavaScript on: \
        <kbd>j</kbd>/<kbd>k</kbd> next/previous ticket in a queue, <kbd>o</kbd> or <kbd>Enter</kbd> open it, \
        <kbd>t</kbd> take next, <kbd>r</kbd> write a reply, <kbd>i</kbd> write an internal note, \
        <kbd>/</kbd> find, <kbd>q</kbd> my queue. Everything works without them.</p></details>
        """

    /// The sign-in form. `message` is shown above it; the token is never echoed.
    static func signIn(message: String? = nil, next: String?) -> String {
        var body = "<section class=\"signin\"><h1>Sign in to the agent console</h1>"
        body +=
            "<p>For agents (managers and administrators may look). Paste the access token from the tokens file; it is sent in the form, never in a link.</p>"
        if let message { body += "<p class=\"error\" role=\"alert\" id=\"signin-error\">\(DashboardHTML.escape(message))</p>" }
        body += "<form id=\"signin\" method=\"post\" action=\"/console/login\" autocomplete=\"off\">"
        if let next { body += "<input type=\"hidden\" name=\"next\" value=\"\(DashboardHTML.escape(next))\"/>" }
        body += "<label for=\"token\">Access token</label>"
        body += "<input id=\"token\" name=\"token\" type=\"password\" required=\"required\" autocomplete=\"off\" spellcheck=\"false\""
        body += message == nil ? "/>" : " aria-describedby=\"signin-error\"/>"
        body += "<button class=\"primary\" type=\"submit\">Sign in</button></form></section>"
        return page(title: "Sign in", user: nil, active: nil, body: body)
    }

    /// A plain error page.
    static func error(title: String, message: String, user: ConsoleUser?) -> String {
        var body = "<h1>\(DashboardHTML.escape(title))</h1><p class=\"error\" role=\"alert\">\(DashboardHTML.escape(message))</p>"
        body += user == nil ? "<p><a href=\"/console/login\">Sign in</a></p>" : "<p><a href=\"/console/queue\">Back to my queue</a></p>"
        return page(title: title, user: user, active: nil, body: body)
    }

    /// A reason as a sentence: the first letter capitalized, a full stop at the end.
    static func sentence(_ text: String) -> String {
        guard let first = text.first else { return text }
        var out = first.uppercased() + text.dropFirst()
        if let last = out.last, !".!?".contains(last) { out += "." }
        return out
    }

    /// The notice after a successful write (`?done=`), as a sentence; nil for an unknown value.
    static func flash(_ done: String?) -> String? {
        switch done {
        case "claimed": "You took this ticket: it is assigned to you."
        case "reply": "Your reply was sent."
        case "note": "The internal note was added."
        case "assign": "The assignment was changed."
        case "escalate": "The ticket was escalated."
        case "priority": "The priority was changed."
        case "status": "The status was changed."
        case "tags": "The tags were changed."
        case "merge": "The ticket was merged."
        case "again": "This form had already been sent (a double click or a reload): it was recorded once."
        case "empty": "This queue has no ticket waiting for an agent."
        default: nil
        }
    }

    static func flashMarkup(_ done: String?) -> String {
        guard let text = flash(done) else { return "" }
        let ok = done != "empty"
        return "<p class=\"notice\(ok ? " ok" : "")\" id=\"flash\" role=\"status\">\(DashboardHTML.escape(text))</p>"
    }

    /// Hidden inputs.
    static func hidden(_ name: String, _ value: String) -> String {
        "<input type=\"hidden\" name=\"\(DashboardHTML.escape(name))\" value=\"\(DashboardHTML.escape(value))\"/>"
    }

    /// The Take next form of a team queue.
    static func takeNext(team: String, user: ConsoleUser, label: String = "Take next") -> String {
        "<form class=\"take-next inline\" method=\"post\" action=\"/console/queues/\(DashboardHTML.percentEncode(team))/claim\">"
            + hidden("csrf", user.csrf) + hidden("key", WebSessions.randomToken())
            + "<button class=\"primary\" type=\"submit\" data-team=\"\(DashboardHTML.escape(team))\">\(DashboardHTML.escape(label))</button></form>"
    }

    /// A queue as a table, in the projected order.
    static func queueTable(id: String, caption: String, entries: [QueueEntry], clock: ConsoleClock, showAssignee: Bool) -> String {
        var header = ["Ticket", "Time left", "Priority", "Status", "Channel", "Customer", "Subject", "Waiting since"]
        if showAssignee { header.append("Assignee") }
        var out = "<div class=\"table-wrap\"><table class=\"queue\" id=\"\(DashboardHTML.escape(id))\">"
        out += "<caption class=\"visually-hidden\">\(DashboardHTML.escape(caption))</caption><thead><tr>"
        out += header.map { "<th scope=\"col\" class=\"text\">\($0)</th>" }.joined()
        out += "</tr></thead><tbody>"
        if entries.isEmpty {
            out += "<tr><td class=\"text\" colspan=\"\(header.count)\">No ticket is waiting.</td></tr>"
        }
        for e in entries {
            let link = "/console/tickets/\(DashboardHTML.percentEncode(e.id))"
            out += "<tr data-ticket=\"\(DashboardHTML.escape(e.id))\"" + (e.breached ? " class=\"flagged\"" : "") + ">"
            out += "<td class=\"text\"><a href=\"\(link)\">\(DashboardHTML.escape(e.id))</a></td>"
            out += clock.dueCell(e.nextDue, target: e.nextDueTarget, breached: e.breached)
            out += "<td class=\"text\">\(e.priority.rawValue)</td><td class=\"text\">\(ConsolePages.statusName(e.status))</td>"
            out += "<td class=\"text\">\(e.channel.rawValue)</td><td class=\"text\">\(DashboardHTML.escape(e.customer))</td>"
            out += "<td class=\"text subject\">\(DashboardHTML.escape(e.subject))</td>"
            out += "<td class=\"text\">\(e.waitingSince.map { clock.local($0) } ?? "–")</td>"
            if showAssignee { out += "<td class=\"text\">\(DashboardHTML.escape(e.assignee ?? "–"))</td>" }
            out += "</tr>"
        }
        out += "</tbody></table></div>"
        return out
    }

    static func statusName(_ status: TicketStatus) -> String {
        status == .onHold ? "on hold" : status.rawValue
    }

    static func targetName(_ metric: SLAMetric) -> String {
        switch metric {
        case .firstReply: "first reply"
        case .nextReply: "next reply"
        case .resolution: "resolution"
        }
    }
}

/// The evaluation instant of a page and how it writes times for people: local wall time in the
/// policy's zone, and time left until a due instant.
struct ConsoleClock {
    let now: Timestamp
    let calendar: BusinessCalendar
    let timeZone: String

    init(backend: SupportBackend) {
        now = backend.clock()
        calendar = backend.levels.calendar
        timeZone = backend.levels.policy.timeZoneIdentifier
    }

    /// `2026-03-02 10:15` in the policy's zone, in a `<time>` element with the instant.
    func local(_ t: Timestamp) -> String {
        "<time datetime=\"\(t)\">\(DashboardHTML.escape(DashboardHTML.localMinute(calendar.formatBucketStart(t))))</time>"
    }

    /// The plain text of ``local(_:)``.
    func localText(_ t: Timestamp) -> String { DashboardHTML.localMinute(calendar.formatBucketStart(t)) }

    /// "Evaluated at …": when the page's figures were computed.
    var evaluated: String {
        "<p class=\"meta\" id=\"evaluated\">Evaluated at \(local(now)) (\(DashboardHTML.escape(timeZone)))</p>"
    }

    /// Time left until `due` for people: `2 h 05 min`, or `breached 12 min ago`.
    func timeLeft(_ due: Timestamp) -> String {
        let ms = due.milliseconds - now.milliseconds
        return ms >= 0
            ? DashboardHTML.humanDuration(seconds: Double(ms) / 1000)
            : "breached \(DashboardHTML.humanDuration(seconds: Double(-ms) / 1000)) ago"
    }

    /// The queue's "Time left" cell: red when breached, amber within the last hour.
    func dueCell(_ due: Timestamp?, target: SLAMetric?, breached: Bool) -> String {
        guard let due else { return breached ? "<td class=\"text breached\">breached</td>" : "<td class=\"text\">–</td>" }
        let left = due.milliseconds - now.milliseconds
        let cls = breached || left < 0 ? "text breached" : left < 3_600_000 ? "text soon" : "text"
        var text = breached && left >= 0 ? "breached (\(timeLeft(due)) to \(target.map(ConsolePages.targetName) ?? "due"))" : timeLeft(due)
        if let target, !(breached && left >= 0) { text += " · \(ConsolePages.targetName(target))" }
        return "<td class=\"\(cls)\"><span title=\"due \(DashboardHTML.escape(localText(due)))\">\(DashboardHTML.escape(text))</span></td>"
    }
}
