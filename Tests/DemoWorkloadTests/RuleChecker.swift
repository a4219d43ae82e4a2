import EventLog

@testable import DemoWorkload

/// An independent fold of the SPEC §2.2 rules over a sequence of demo events, written without
/// the generator's bookkeeping: every violation is collected as a readable problem.
struct RuleChecker {
    struct TicketState {
        var status: String
        var version: Int
        var lastAt: Int64
        let openedAt: Int64
        let customer: String
        var agentMessageVersions: Set<Int> = []
        var ratings: [Int: Int] = [:]
    }

    private(set) var tickets: [String: TicketState] = [:]
    private(set) var problems: [String] = []
    private(set) var count = 0
    private var lastAt = Int64.min
    private var opened = 0

    static let statuses: Set<String> = ["open", "pending", "on_hold", "solved", "closed"]
    static let channels: Set<String> = ["email", "web", "phone", "chat", "api"]
    static let priorities: Set<String> = ["low", "normal", "high", "urgent"]
    static let actorKinds: Set<String> = ["customer", "agent", "manager", "admin", "system"]
    static let staff: Set<String> = ["agent", "manager", "admin", "system"]

    /// The final status of every ticket.
    var finalStatuses: [String: Int] {
        tickets.values.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
    }

    mutating func check(_ event: DemoEvent) {
        count += 1
        let at = event.at.milliseconds
        if at < lastAt { fail(event, "global `at` went backwards") }
        lastAt = max(lastAt, at)
        checkIdentifier(event.ticket, "ticket", event)
        checkIdentifier(event.actor.id, "actor id", event)
        if !Self.actorKinds.contains(event.actor.kind) { fail(event, "unknown actor kind \(event.actor.kind)") }
        guard let data = event.data.objectValue else { return fail(event, "data is not an object") }
        if data.values.contains(where: \.isNull), event.type != "ticket.assigned" { fail(event, "null member") }

        if event.type == "ticket.opened" {
            checkOpening(event, data)
            return
        }
        guard var ticket = tickets[event.ticket] else { return fail(event, "event before ticket.opened") }
        if at < ticket.lastAt { fail(event, "ticket `at` went backwards") }
        if ticket.status == "closed", event.type != "satisfaction.rated" { fail(event, "\(event.type) after closed") }
        ticket.version += 1
        ticket.lastAt = at
        let kind = event.actor.kind
        switch event.type {
        case "message.posted":
            expectKeys(data, required: ["body"], optional: ["attachments"], event)
            checkText(data["body"], "body", event)
            if let attachments = data["attachments"] { checkAttachments(attachments, event) }
            if kind == "customer" {
                if event.actor.id != ticket.customer { fail(event, "message by another customer") }
                if ["pending", "on_hold", "solved"].contains(ticket.status) { ticket.status = "open" }
            } else if kind == "agent" {
                ticket.agentMessageVersions.insert(ticket.version)
                if ticket.status == "new" { ticket.status = "open" }
            } else {
                fail(event, "message by \(kind)")
            }
        case "note.added":
            expectStaff(event)
            expectKeys(data, required: ["body"], optional: [], event)
            checkText(data["body"], "body", event)
        case "ticket.assigned":
            expectStaff(event)
            expectKeys(data, required: ["agent"], optional: ["team"], event)
            if let agent = data["agent"], !agent.isNull { checkIdentifier(agent.stringValue, "agent", event) }
            if let team = data["team"] { checkIdentifier(team.stringValue, "team", event) }
        case "priority.changed":
            expectStaff(event)
            expectKeys(data, required: ["priority"], optional: [], event)
            if !Self.priorities.contains(data["priority"]?.stringValue ?? "") { fail(event, "bad priority") }
        case "status.changed":
            expectStaff(event)
            expectKeys(data, required: ["status"], optional: [], event)
            let status = data["status"]?.stringValue ?? ""
            if !Self.statuses.contains(status) { fail(event, "bad status \(status)") }
            if status == ticket.status { fail(event, "status change to the current status \(status)") }
            ticket.status = status
        case "ticket.escalated":
            expectStaff(event)
            expectKeys(data, required: ["team", "reason"], optional: [], event)
            checkIdentifier(data["team"]?.stringValue, "team", event)
            checkText(data["reason"], "reason", event)
        case "tags.changed":
            expectStaff(event)
            expectKeys(data, required: ["added", "removed"], optional: [], event)
            let added = (data["added"]?.arrayValue ?? []).map { $0.stringValue }
            let removed = (data["removed"]?.arrayValue ?? []).map { $0.stringValue }
            if data["added"]?.arrayValue == nil || data["removed"]?.arrayValue == nil { fail(event, "tags not arrays") }
            for tag in added + removed { checkIdentifier(tag, "tag", event) }
            if !Set(added.compactMap { $0 }).isDisjoint(with: removed.compactMap { $0 }) {
                fail(event, "tag both added and removed")
            }
        case "ticket.merged":
            if kind != "agent" && kind != "manager" { fail(event, "merge by \(kind)") }
            expectKeys(data, required: ["into"], optional: [], event)
            let into = data["into"]?.stringValue ?? ""
            checkIdentifier(into, "into", event)
            if into == event.ticket { fail(event, "merge into itself") }
            if let target = tickets[into] {
                if target.status == "closed" { fail(event, "merge into a closed ticket") }
                if target.openedAt > at { fail(event, "merge into a ticket opened later") }
            } else {
                fail(event, "merge into an unknown ticket")
            }
            ticket.status = "closed"
        case "satisfaction.rated":
            if kind != "customer" || event.actor.id != ticket.customer { fail(event, "rating not by the ticket's customer") }
            expectKeys(data, required: ["score"], optional: ["comment", "reply"], event)
            guard let score = data["score"], case .int(let value) = score, (1...5).contains(value) else {
                return fail(event, "bad score")
            }
            if let comment = data["comment"] { checkText(comment, "comment", event) }
            let reply: Int
            if let given = data["reply"] {
                guard case .int(let version) = given else { return fail(event, "reply not an integer") }
                reply = Int(version)
                if !ticket.agentMessageVersions.contains(reply) { fail(event, "reply \(reply) is not an agent message") }
            } else {
                guard let latest = ticket.agentMessageVersions.max() else { return fail(event, "rating with no agent message") }
                reply = latest
            }
            ticket.ratings[reply] = Int(value)
        default:
            fail(event, "unknown type \(event.type)")
        }
        tickets[event.ticket] = ticket
    }

    private mutating func checkOpening(_ event: DemoEvent, _ data: [String: JSONValue]) {
        opened += 1
        if event.ticket != "T-\(opened)" { fail(event, "ticket ids not assigned in opening order") }
        if tickets[event.ticket] != nil { fail(event, "opened twice") }
        expectKeys(
            data, required: ["customer", "subject", "body", "channel", "product", "priority"],
            optional: ["context", "attachments"], event)
        let customer = data["customer"]?.stringValue ?? ""
        checkIdentifier(customer, "customer", event)
        checkIdentifier(data["product"]?.stringValue, "product", event)
        checkText(data["subject"], "subject", event)
        checkText(data["body"], "body", event)
        let channel = data["channel"]?.stringValue ?? ""
        if !Self.channels.contains(channel) { fail(event, "bad channel") }
        if !Self.priorities.contains(data["priority"]?.stringValue ?? "") { fail(event, "bad priority") }
        if let context = data["context"] {
            checkText(context, "context", event)
            if channel != "web" { fail(event, "context on a \(channel) ticket") }
        }
        if let attachments = data["attachments"] { checkAttachments(attachments, event) }
        if event.actor.kind == "customer", event.actor.id != customer { fail(event, "opened for another customer") }
        tickets[event.ticket] = TicketState(
            status: "new", version: 1, lastAt: event.at.milliseconds,
            openedAt: event.at.milliseconds, customer: customer)
    }

    private mutating func expectStaff(_ event: DemoEvent) {
        if !Self.staff.contains(event.actor.kind) { fail(event, "\(event.type) by \(event.actor.kind)") }
    }

    private mutating func expectKeys(
        _ data: [String: JSONValue], required: Set<String>, optional: Set<String>,
        _ event: DemoEvent
    ) {
        let keys = Set(data.keys)
        if !required.isSubset(of: keys) { fail(event, "missing \(required.subtracting(keys).sorted())") }
        if !keys.isSubset(of: required.union(optional)) {
            fail(event, "unknown members \(keys.subtracting(required.union(optional)).sorted())")
        }
    }

    private mutating func checkIdentifier(_ value: String?, _ what: String, _ event: DemoEvent) {
        guard let value else { return fail(event, "\(what) is not a string") }
        let length = value.unicodeScalars.count
        if length == 0 || length > 128 { fail(event, "\(what) has \(length) code points") }
    }

    private mutating func checkText(_ value: JSONValue?, _ what: String, _ event: DemoEvent) {
        guard let text = value?.stringValue, !text.isEmpty else { return fail(event, "\(what) is not a non-empty string") }
    }

    private mutating func checkAttachments(_ value: JSONValue, _ event: DemoEvent) {
        guard let list = value.arrayValue, !list.isEmpty else { return fail(event, "attachments not a non-empty array") }
        for item in list {
            guard let object = item.objectValue else { return fail(event, "attachment not an object") }
            expectKeys(object, required: ["name", "size", "contentType", "sha256"], optional: [], event)
            checkText(object["name"], "attachment name", event)
            checkText(object["contentType"], "content type", event)
            guard case .int(let size)? = object["size"], size >= 0 else { return fail(event, "bad attachment size") }
            let digest = object["sha256"]?.stringValue ?? ""
            let hex = digest.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
            if digest.utf8.count != 64 || !hex { fail(event, "bad sha256") }
        }
    }

    private mutating func fail(_ event: DemoEvent, _ problem: String) {
        if problems.count < 50 { problems.append("#\(count) \(event.ticket) \(event.type) at \(event.at): \(problem)") }
    }
}
