import EventLog

/// One write to a ticket, as a caller asks for it: the event it wants, who asks, and when.
public struct TicketCommand: Sendable, Equatable {
    /// The event the command asks for.
    public var event: TicketEvent
    /// Who asks.
    public var actor: SupportActor
    /// A back-dated `at` (admins, imports); nil takes the writer's clock.
    public var at: Timestamp?
    /// On a message from an agent: the status to leave the ticket in, appended atomically.
    public var status: TicketStatus?

    /// A command for `event` by `actor`, at `at` (nil: now) and, on a message, leaving the ticket in `status`.
    public init(event: TicketEvent, actor: SupportActor, at: Timestamp? = nil, status: TicketStatus? = nil) {
        self.event = event
        self.actor = actor
        self.at = at
        self.status = status
    }
}

/// The command routes of the HTTP API (`POST /v1/tickets/{id}/<route>`), and opening.
package enum CommandRoute: String, Sendable, CaseIterable {
    case open
    case messages, notes, assign, priority, status, escalate, tags, merge, rating

    /// The event type the route asks for.
    package var eventKind: TicketEvent.Kind {
        switch self {
        case .open: .opened
        case .messages: .messagePosted
        case .notes: .noteAdded
        case .assign: .assigned
        case .priority: .priorityChanged
        case .status: .statusChanged
        case .escalate: .escalated
        case .tags: .tagsChanged
        case .merge: .merged
        case .rating: .satisfactionRated
        }
    }
}

extension TicketCommand {
    /// Reads a command body (the event's `data`, plus `at` and, on messages, `status`), in the
    /// order SPEC §7 answers: first what the actor may not send at all (403: `at` from anyone
    /// but an admin, `status` from a customer, opening for another customer), then malformed
    /// input (400), sizes over the policy's `limits` included.
    package static func parse(
        route: CommandRoute, body: JSONValue, actor: SupportActor,
        limits: InputLimits
    ) throws(DomainError) -> TicketCommand {
        guard case .object(var members) = body else { throw .badRequest("the body must be a JSON object") }
        let atValue = members.removeValue(forKey: "at") ?? .null
        let statusValue: JSONValue = route == .messages ? (members.removeValue(forKey: "status") ?? .null) : .null
        if !atValue.isNull, actor.kind != .admin {
            throw .forbidden("only an admin may set \"at\"")
        }
        if !statusValue.isNull, actor.kind == .customer {
            throw .forbidden("a customer may not set a status with a message")
        }
        // What a message took from mail is written by the mail intake only: a Message-ID given
        // here would let anyone thread mail into a ticket or make the intake skip a mail.
        for member in ["email", "quoted"] where members[member].map({ !$0.isNull }) ?? false {
            throw .forbidden("\"\(member)\" is written by the mail gateway only")
        }
        // A reaction's record (a note's `automation`) is the automations' own.
        if route == .notes, members["automation"].map({ !$0.isNull }) ?? false {
            throw .forbidden("\"automation\" is written by the automations only")
        }
        if route == .open, actor.kind == .customer, case .string(let customer)? = members["customer"],
            !Identifier.same(customer, actor.id)
        {
            throw .forbidden("a customer may open tickets only for themselves")
        }
        var at: Timestamp?
        if !atValue.isNull {
            guard case .string(let text) = atValue, let t = Timestamp(rfc3339: text) else {
                throw .badRequest("\"at\" must be an RFC 3339 UTC instant such as 2026-03-01T10:22:33.000Z")
            }
            at = t
        }
        var status: TicketStatus?
        if !statusValue.isNull {
            guard case .string(let text) = statusValue, let s = SettableStatus(rawValue: text) else {
                let allowed = SettableStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw .badRequest("\"status\" must be one of \(allowed)")
            }
            status = s.status
        }
        let event = try TicketEvent(kind: route.eventKind, data: .object(members))
        try limits.check(event)
        return TicketCommand(event: event, actor: actor, at: at, status: status)
    }
}
