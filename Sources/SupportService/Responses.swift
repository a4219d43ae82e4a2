import EventLog
import Projections
import SupportDomain

// The answers the API and support-replay both give: one function per shape, so the CLI's
// `--json` output is the API's body byte for byte.

/// A team's or an agent's queue (`GET /v1/queues/{team}`, `GET /v1/agents/{id}/queue`,
/// `support-replay as-of --queue/--agent`): `{"<owner key>", "entries", "evaluatedAt"}`.
package enum QueueAnswer {
    /// The answer written straight to bytes in canonical member order: queue reads are the
    /// hottest route, and building a dictionary per entry to sort its keys costs more than the query.
    package static func body(owner: (key: String, value: String), entries: [QueueEntry], at: Timestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + entries.count * 320)
        // Members in canonical order: "agent" < "entries" < "evaluatedAt" < "team".
        // The member names are fixed ASCII, for which RFC 8785's UTF-16 order is byte order.
        let ownerFirst = owner.key.utf8.lexicographicallyPrecedes("entries".utf8)
        out.append(UInt8(ascii: "{"))
        if ownerFirst {
            CanonicalJSON.appendStringLiteral(owner.key, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendStringLiteral(owner.value, to: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""entries":["#.utf8)
        for (k, e) in entries.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"assignee":"#.utf8)
            if let a = e.assignee { CanonicalJSON.appendStringLiteral(a, to: &out) } else { out.append(contentsOf: "null".utf8) }
            out.append(contentsOf: (e.breached ? #","breached":true,"channel":""# : #","breached":false,"channel":""#).utf8)
            out.append(contentsOf: e.channel.rawValue.utf8)
            out.append(contentsOf: #"","customer":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.customer, to: &out)
            out.append(contentsOf: #","id":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.id, to: &out)
            out.append(contentsOf: #","nextDue":"#.utf8)
            appendInstant(e.nextDue, to: &out)
            out.append(contentsOf: #","nextDueTarget":"#.utf8)
            if let t = e.nextDueTarget { out.append(contentsOf: "\"\(t.rawValue)\"".utf8) } else { out.append(contentsOf: "null".utf8) }
            out.append(contentsOf: #","priority":""#.utf8); out.append(contentsOf: e.priority.rawValue.utf8)
            out.append(contentsOf: #"","status":""#.utf8); out.append(contentsOf: e.status.rawValue.utf8)
            out.append(contentsOf: #"","subject":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.subject, to: &out)
            out.append(contentsOf: #","waitingSince":"#.utf8)
            appendInstant(e.waitingSince, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"evaluatedAt":"#.utf8)
        appendInstant(at, to: &out)
        if !ownerFirst {
            out.append(UInt8(ascii: ","))
            CanonicalJSON.appendStringLiteral(owner.key, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendStringLiteral(owner.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func appendInstant(_ t: Timestamp?, to out: inout [UInt8]) {
        guard let t else { out.append(contentsOf: "null".utf8); return }
        out.append(UInt8(ascii: "\""))
        t.appendRFC3339(to: &out)
        out.append(UInt8(ascii: "\""))
    }
}

/// A ticket's history (`GET /v1/tickets/{id}/history`, `support-replay history --json`): every
/// event of the ticket in the log's envelope, each with the ticket's state right after it
/// (evaluated at the event's `at`): `{"events": [{"event", "state"}], "ticket"}`.
package enum TicketHistory {
    /// The body for `events` (the ticket's whole stream, in order).
    package static func body(ticket id: String, events: [RecordedEvent], envelope: EnvelopeFormat,
                             levels: ServiceLevels) throws(ServiceError) -> [UInt8] {
        var fold = TicketFold()
        var body = Array(#"{"events":["#.utf8)
        for (k, recorded) in events.enumerated() {
            do { try fold.apply(recorded) } catch {
                throw ServiceError(.unavailable, "event \(recorded.seq) cannot be read: \(error.detail)")
            }
            guard let ticket = fold.ticket else { throw ServiceError(.unavailable, "ticket \(id) does not start with ticket.opened") }
            if k > 0 { body.append(UInt8(ascii: ",")) }
            body += Array(#"{"event":"#.utf8)
            body += envelope.jsonLine(of: recorded)
            body += Array(#","state":"#.utf8)
            CanonicalJSON.append(.object(TicketRepresentation.summary(ticket, at: recorded.at, levels: levels)), to: &body)
            body.append(UInt8(ascii: "}"))
        }
        body += Array(#"],"ticket":"#.utf8)
        CanonicalJSON.appendStringLiteral(id, to: &body)
        body.append(UInt8(ascii: "}"))
        return body
    }
}
