import EventLog

/// The rules of SPEC §2.2: who may write what, and what a ticket accepts in its current state.
public enum TicketRules {
    /// Whether an actor of this kind may ever write this event type (403 otherwise). Per-ticket
    /// ownership (a customer's own ticket) is checked by ``authorize(_:on:)``.
    public static func mayWrite(_ kind: TicketEvent.Kind, as actor: ActorKind) -> Bool {
        switch kind {
        case .opened: return true
        case .messagePosted: return actor == .customer || actor == .agent
        case .noteAdded, .assigned, .priorityChanged, .statusChanged, .escalated, .tagsChanged:
            return actor == .agent || actor == .manager || actor == .admin || actor == .system
        case .merged: return actor == .agent || actor == .manager || actor == .admin
        case .satisfactionRated: return actor == .customer
        case .delivered, .deliveryFailed, .slaWarning: return actor == .system
        }
    }

    /// Who may: the kind check plus ownership (a customer writes only for themselves).
    public static func authorize(_ command: TicketCommand, on ticket: Ticket?) throws(DomainError) {
        let kind = command.event.kind
        guard mayWrite(kind, as: command.actor.kind) else {
            throw .forbidden("a \(command.actor.kind.rawValue) may not write \(kind.rawValue)")
        }
        if command.actor.kind == .customer {
            if case .opened(let o) = command.event, !Identifier.same(o.customer, command.actor.id) {
                throw .forbidden("a customer may open tickets only for themselves")
            }
            if let ticket, !Identifier.same(ticket.customer, command.actor.id) {
                throw .forbidden("only the ticket's customer may write \(kind.rawValue) on \(ticket.id)")
            }
        }
        // A reaction's record is the automations' own: only they say what was due and when.
        if case .noteAdded(let note) = command.event, note.automation != nil, command.actor.kind != .system {
            throw .forbidden("\"automation\" is written by the automations only")
        }
        if kind == .satisfactionRated, let ticket, !(command.actor.kind == .customer && Identifier.same(ticket.customer, command.actor.id))
        {
            throw .forbidden("only the ticket's customer may rate it")
        }
    }

    /// The events a command appends to an existing ticket, or the rule that refuses it (409).
    /// `at` is the instant the events will carry.
    public static func decide(_ command: TicketCommand, on ticket: Ticket, at: Timestamp) throws(DomainError) -> [TicketEvent] {
        try authorize(command, on: ticket)
        if at < ticket.lastAt {
            throw .conflict("at \(at) is before the ticket's last event (\(ticket.lastAt))")
        }
        if ticket.status == .closed, !Self.acceptedWhenClosed(command.event.kind) {
            throw .conflict("ticket \(ticket.id) is closed: only ratings and delivery outcomes are accepted")
        }
        switch command.event {
        case .opened:
            throw .conflict("ticket \(ticket.id) already exists")
        case .statusChanged(let s) where s == ticket.status:
            throw .conflict("ticket \(ticket.id) is already \(s.rawValue)")
        case .merged(let into) where Identifier.same(into, ticket.id):
            throw .conflict("a ticket cannot be merged into itself")
        case .satisfactionRated(let rating):
            // The stored `reply` stays absent when not sent: it means the latest agent message.
            guard !ticket.agentMessageVersions.isEmpty else {
                throw .conflict("ticket \(ticket.id) has no agent reply to rate")
            }
            if let reply = rating.reply, !ticket.agentMessageVersions.contains(reply) {
                throw .conflict("version \(reply) of \(ticket.id) is not an agent message")
            }
        case .delivered(let d):
            try checkDeliveredReply(d.reply, on: ticket)
        case .deliveryFailed(let f):
            try checkDeliveredReply(f.reply, on: ticket)
        case .slaWarning(let w):
            guard ticket.isRunning(w.target) else {
                throw .conflict("ticket \(ticket.id) has no running \(w.target.rawValue) interval to warn about")
            }
        case .messagePosted:
            guard let wanted = command.status else { return [command.event] }
            var after = ticket
            after.apply(command.event, version: ticket.version + 1, at: at, actor: command.actor)
            return after.status == wanted ? [command.event] : [command.event, .statusChanged(wanted)]
        default:
            break
        }
        return [command.event]
    }

    /// What a closed ticket still accepts: ratings (SPEC §2.2), and the outcome of mailing a reply
    /// written before it closed (the outbox follows the log, so it may report after the close).
    public static func acceptedWhenClosed(_ kind: TicketEvent.Kind) -> Bool {
        kind == .satisfactionRated || kind == .delivered || kind == .deliveryFailed
    }

    /// Whether an event of this kind changes anything an agent decides on when answering: all
    /// but the mail outbox's receipt that a reply was delivered, which only confirms what the
    /// agent already wrote, and an SLA warning, which changes nothing. A form read before such a receipt still stands (the agent console);
    /// a failed delivery does count, since the customer did not get the reply.
    package static func changesWhatAgentsDecideOn(_ kind: TicketEvent.Kind) -> Bool {
        kind != .delivered && kind != .slaWarning
    }

    /// A delivery outcome names one of the ticket's agent messages.
    private static func checkDeliveredReply(_ reply: UInt64, on ticket: Ticket) throws(DomainError) {
        guard ticket.agentMessageVersions.contains(reply) else {
            throw .conflict("version \(reply) of \(ticket.id) is not an agent message")
        }
    }

    /// The merge target rule: another existing ticket, not closed, opened at or before `at`.
    public static func checkMergeTarget(_ target: Ticket?, into: String, at: Timestamp) throws(DomainError) {
        guard let target else { throw .conflict("ticket \(into) does not exist") }
        if target.status == .closed { throw .conflict("ticket \(into) is closed") }
        if target.openedAt > at { throw .conflict("ticket \(into) was opened after \(at)") }
    }

    /// The events that open a ticket.
    public static func decideOpening(_ command: TicketCommand) throws(DomainError) -> [TicketEvent] {
        try authorize(command, on: nil)
        guard case .opened = command.event else {
            throw .conflict("a ticket's first event must be ticket.opened")
        }
        return [command.event]
    }
}
