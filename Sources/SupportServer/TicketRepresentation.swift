import EventLog
import SupportDomain

/// The ticket body of SPEC §8.
enum TicketRepresentation {
    static func actor(_ a: SupportActor) -> JSONValue { .object(["kind": .string(a.kind.rawValue), "id": .string(a.id)]) }

    static func attachment(_ a: Attachment) -> JSONValue {
        .object(["name": .string(a.name), "size": .int(a.size), "contentType": .string(a.contentType), "sha256": .string(a.sha256)])
    }

    /// The ticket without its thread (history states and lists use this form).
    static func summary(_ ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels) -> [String: JSONValue] {
        let service = ticket.serviceState(at: evaluation, levels: levels)
        return [
            "id": .string(ticket.id),
            "version": .int(Int64(ticket.version)),
            "status": .string(ticket.status.rawValue),
            "priority": .string(ticket.priority.rawValue),
            "team": .string(ticket.team),
            "assignee": ticket.assignee.json,
            "customer": .string(ticket.customer),
            "subject": .string(ticket.subject),
            "channel": .string(ticket.channel.rawValue),
            "product": .string(ticket.product),
            "context": ticket.context.json,
            "tags": .array(ticket.tags.map(JSONValue.string)),
            "openedAt": ticket.openedAt.json,
            "openedBy": actor(ticket.openedBy),
            "mergedInto": ticket.mergedInto.json,
            "waitingSince": service.waitingSince.json,
            "nextDue": service.nextDue.json,
            "nextDueTarget": service.nextDueTarget.map { .string($0.rawValue) } ?? .null,
            "breached": .bool(service.breached),
            "evaluatedAt": evaluation.json,
        ]
    }

    /// The whole ticket; customers never get notes.
    static func full(_ ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels, viewer: Principal) -> JSONValue {
        var o = summary(ticket, at: evaluation, levels: levels)
        let entries = ticket.thread.filter { viewer.role != .customer || $0.kind == .message }
        o["thread"] = .array(entries.map { entry in
            .object(["version": .int(Int64(entry.version)), "at": entry.at.json, "kind": .string(entry.kind.rawValue),
                     "author": actor(entry.author), "body": .string(entry.body),
                     "attachments": .array(entry.attachments.map(attachment))])
        })
        return .object(o)
    }
}
