import EventLog
import Projections
import SupportDomain

/// The ticket body of SPEC §8.
package enum TicketRepresentation {
    package static func actor(_ a: SupportActor) -> JSONValue { .object(["kind": .string(a.kind.rawValue), "id": .string(a.id)]) }

    package static func attachment(_ a: Attachment) -> JSONValue {
        .object(["name": .string(a.name), "size": .int(a.size), "contentType": .string(a.contentType), "sha256": .string(a.sha256)])
    }

    /// The ticket without its thread (history states and lists use this form).
    package static func summary(_ ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels) -> [String: JSONValue] {
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

    /// A queue entry as a JSON value: the reference form that ReadRoutes.queueAnswer
    /// writes directly (the tests check that both give the same bytes), also used by tools.
    package static func queueEntry(_ e: QueueEntry) -> JSONValue {
        .object(["id": .string(e.id), "subject": .string(e.subject), "customer": .string(e.customer),
                 "priority": .string(e.priority.rawValue), "status": .string(e.status.rawValue), "assignee": e.assignee.json,
                 "channel": .string(e.channel.rawValue), "waitingSince": e.waitingSince.json, "nextDue": e.nextDue.json,
                 "nextDueTarget": e.nextDueTarget.map { .string($0.rawValue) } ?? .null, "breached": .bool(e.breached)])
    }

    /// Whether `viewer` sees the thread without its internal notes (customers never get notes).
    package static func hidesNotes(from viewer: Principal) -> Bool { viewer.role == .customer }

    /// The whole ticket; customers never get notes.
    package static func full(_ ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels, viewer: Principal) -> JSONValue {
        var o = summary(ticket, at: evaluation, levels: levels)
        o["thread"] = thread(ticket, messagesOnly: hidesNotes(from: viewer))
        return .object(o)
    }

    /// The ticket's thread, without its notes when `messagesOnly`.
    package static func thread(_ ticket: Ticket, messagesOnly: Bool) -> JSONValue {
        let entries = ticket.thread.filter { !messagesOnly || $0.kind == .message }
        return .array(entries.map { entry in
            .object(["version": .int(Int64(entry.version)), "at": entry.at.json, "kind": .string(entry.kind.rawValue),
                     "author": actor(entry.author), "body": .string(entry.body),
                     "attachments": .array(entry.attachments.map(attachment))])
        })
    }

    /// The canonical JSON of ``full(_:at:levels:viewer:)`` cut around the thread's value:
    /// `head + CanonicalJSON.encode(thread) + tail` is the whole body. The thread is the part that
    /// grows with the ticket; what is around it is small.
    package static func fullAroundThread(_ ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels) -> (head: [UInt8], tail: [UInt8]) {
        let members = summary(ticket, at: evaluation, levels: levels)
        let precedes = { (key: String) in BinaryJSON.canonicalKeyOrder(key, "thread") }
        var head = CanonicalJSON.encode(.object(members.filter { precedes($0.key) }))
        head.removeLast() // "}"
        if head.count > 1 { head.append(UInt8(ascii: ",")) }
        head += Array(#""thread":"#.utf8)
        var tail = CanonicalJSON.encode(.object(members.filter { !precedes($0.key) }))
        if tail.count > 2 { tail[0] = UInt8(ascii: ",") } else { tail = [UInt8(ascii: "}")] }
        return (head, tail)
    }
}

extension Timestamp {
    package var json: JSONValue { .string(rfc3339) }
}

extension Optional where Wrapped == Timestamp {
    package var json: JSONValue { map { .string($0.rfc3339) } ?? .null }
}

extension Optional where Wrapped == String {
    package var json: JSONValue { map(JSONValue.string) ?? .null }
}
