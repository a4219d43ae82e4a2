import EventLog
import SupportDomain
import SupportService

/// The forms of the ticket page, one per agent command of SPEC §2.2, and the one mapping from a
/// form's fields to the body the API takes for the same command: the console sends that body
/// through the API's own parsing and rules, so the log records exactly what the API would have
/// appended.
enum ConsoleTicketForm: String, CaseIterable, Sendable {
    case reply, note, assign, escalate, priority, status, tags, merge

    /// The API route of the command.
    var route: CommandRoute {
        switch self {
        case .reply: .messages
        case .note: .notes
        case .assign: .assign
        case .escalate: .escalate
        case .priority: .priority
        case .status: .status
        case .tags: .tags
        case .merge: .merge
        }
    }

    /// The form element's id.
    var formID: String { "form-\(rawValue)" }

    var title: String {
        switch self {
        case .reply: "Reply to the customer"
        case .note: "Internal note"
        case .assign: "Assign or hand off"
        case .escalate: "Escalate"
        case .priority: "Priority"
        case .status: "Status"
        case .tags: "Tags"
        case .merge: "Merge into another ticket"
        }
    }

    var submitLabel: String {
        switch self {
        case .reply: "Send reply"
        case .note: "Add note"
        case .assign: "Assign"
        case .escalate: "Escalate"
        case .priority: "Set priority"
        case .status: "Set status"
        case .tags: "Change tags"
        case .merge: "Merge"
        }
    }

    /// A field of a form: its name in the form, its element id, and the API body member it feeds.
    struct Field: Sendable {
        var name: String
        var id: String
        var member: String
    }

    var fields: [Field] {
        switch self {
        case .reply: [Field(name: "body", id: "reply-body", member: "body"), Field(name: "status", id: "reply-status", member: "status")]
        case .note: [Field(name: "body", id: "note-body", member: "body")]
        case .assign: [Field(name: "agent", id: "assign-agent", member: "agent"), Field(name: "team", id: "assign-team", member: "team")]
        case .escalate:
            [Field(name: "team", id: "escalate-team", member: "team"), Field(name: "reason", id: "escalate-reason", member: "reason")]
        case .priority: [Field(name: "priority", id: "priority", member: "priority")]
        case .status: [Field(name: "status", id: "status", member: "status")]
        case .tags: [Field(name: "add", id: "tags-add", member: "added"), Field(name: "remove", id: "tags-remove", member: "removed")]
        case .merge: [Field(name: "into", id: "merge-into", member: "into")]
        }
    }

    /// What a form's fields ask for: the API body, or why it cannot be sent yet (sentences by
    /// the element id of the field they belong to).
    enum Outcome {
        case body(JSONValue)
        case invalid([String: String])
    }

    /// The API body of the form's fields, exactly as an API client would send the command.
    /// Text areas send CRLF line breaks (HTML's form encoding); the log stores the agent's
    /// lines with LF, as an API client writes them.
    func body(_ form: FormFields) -> Outcome {
        func text(_ name: String) -> String { (form[name] ?? "").replacingCRLF() }
        func word(_ name: String) -> String { (form[name] ?? "").trimmingSpaces() }
        var members: [String: JSONValue] = [:]
        var errors: [String: String] = [:]
        switch self {
        case .reply, .note:
            let body = text("body")
            if body.trimmingSpaces().isEmpty {
                errors[fields[0].id] = self == .reply ? "Write the reply before sending it." : "Write the note before adding it."
            }
            members["body"] = .string(body)
            if self == .reply, !word("status").isEmpty { members["status"] = .string(word("status")) }
        case .assign:
            let agent = word("agent"), team = word("team")
            members["agent"] = agent.isEmpty ? .null : .string(agent)
            if !team.isEmpty { members["team"] = .string(team) }
        case .escalate:
            let team = word("team"), reason = text("reason")
            if team.isEmpty { errors["escalate-team"] = "Choose the team to escalate to." }
            if reason.trimmingSpaces().isEmpty { errors["escalate-reason"] = "Say why you escalate: the other team reads it first." }
            members["team"] = .string(team)
            members["reason"] = .string(reason)
        case .priority:
            members["priority"] = .string(word("priority"))
        case .status:
            members["status"] = .string(word("status"))
        case .tags:
            let added = Self.words(form["add"] ?? ""), removed = Self.words(form["remove"] ?? "")
            if added.isEmpty, removed.isEmpty { errors["tags-add"] = "Enter a tag to add or one to remove." }
            if !added.isEmpty { members["added"] = .array(added.map(JSONValue.string)) }
            if !removed.isEmpty { members["removed"] = .array(removed.map(JSONValue.string)) }
        case .merge:
            let into = word("into")
            if into.isEmpty { errors["merge-into"] = "Enter the ticket to merge this one into." }
            members["into"] = .string(into)
        }
        return errors.isEmpty ? .body(.object(members)) : .invalid(errors)
    }

    /// Tags typed in one field, separated by spaces or commas.
    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
    }

    /// The element id of the field a refusal names (its detail starts with the member's name in
    /// quotes, as the domain writes them: `"team" must be …`); nil when it names none.
    func fieldID(for detail: String) -> String? {
        for field in fields where detail.hasPrefix("\"\(field.member)\"") || detail.contains("tag \"") && field.member == "added" {
            return field.id
        }
        return nil
    }

    /// The idempotency key of a form post: its hidden `key` (1 to 255 printable ASCII), scoped
    /// exactly as the API scopes an `Idempotency-Key` to the request `path` and `body` stand for;
    /// nil when the form has none.
    static func idempotencyKey(_ key: String?, principal: Principal, path: String, body: [UInt8]) -> IdempotencyKey? {
        guard let key, TicketCommands.isValidIdempotencyKey(key) else { return nil }
        return TicketCommands.idempotencyKey(key, principal: principal, method: "POST", path: path, body: body)
    }
}

extension String {
    /// CRLF and lone CR line breaks as LF.
    func replacingCRLF() -> String {
        guard unicodeScalars.contains("\r") else { return self }
        return replacing("\r\n", with: "\n").replacing("\r", with: "\n")
    }

    /// Without leading and trailing spaces, tabs and line breaks.
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(scalars[first...last])
    }
}
