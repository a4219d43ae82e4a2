import EventLog
import Projections
import SupportDomain

/// A response body: one `Encodable` type per shape the API answers with, written by
/// ``CanonicalJSONEncoder`` for the routes and for support-replay alike.
///
/// Its members are strings, booleans, `Int`/`Int64` integers, doubles, timestamps and other
/// response bodies, none of which can fail to encode: that is what lets ``canonicalJSON`` be
/// total, and why a body holds versions as `Int64` (as the API always wrote them).
package protocol JSONAnswer: Encodable, Sendable {}

extension JSONAnswer {
    /// The body as RFC 8785 canonical JSON.
    package var canonicalJSON: [UInt8] {
        do { return try CanonicalJSONEncoder().encode(self) } catch {
            // Unreachable: no member of a response body throws or overflows (see JSONAnswer).
            preconditionFailure("a response body failed to encode: \(error)")
        }
    }
}

extension Array: JSONAnswer where Element: JSONAnswer {}

/// Who did something: `{"kind", "id"}`.
package struct ActorBody: JSONAnswer {
    package var kind: String
    package var id: String

    package init(_ actor: SupportActor) {
        kind = actor.kind.rawValue
        id = actor.id
    }
}

/// An attachment of a thread entry.
package struct AttachmentBody: JSONAnswer {
    package var name: String
    package var size: Int64
    package var contentType: String
    package var sha256: String

    package init(_ a: Attachment) {
        name = a.name
        size = a.size
        contentType = a.contentType
        sha256 = a.sha256
    }
}

/// Where a thread entry taken from mail came from.
package struct MailOriginBody: JSONAnswer {
    package var messageId: String
    package var from: String

    package init(_ origin: TicketEvent.MailOrigin) {
        messageId = origin.messageId
        from = origin.from
    }
}

/// The reaction a note of the automations records (docs/automations.md).
package struct AutomationBody: JSONAnswer {
    package var rule: String
    package var due: Timestamp
    package var target: String?

    package init(_ record: AutomationRecord) {
        rule = record.rule.rawValue
        due = record.due
        target = record.target?.rawValue
    }
}

/// One message or note of a ticket's thread.
package struct ThreadEntryBody: JSONAnswer {
    package var version: Int64
    package var at: Timestamp
    package var kind: String
    package var author: ActorBody
    package var body: String
    package var attachments: [AttachmentBody]
    /// A mailed message's quoted history (below its new text); absent when none.
    package var quoted: String?
    /// The mail the entry was taken from; absent for entries written otherwise.
    package var email: MailOriginBody?
    /// On a note of the automations: the reaction it records; absent otherwise.
    package var automation: AutomationBody?

    package init(_ entry: Ticket.ThreadEntry) {
        version = Int64(entry.version)
        at = entry.at
        kind = entry.kind.rawValue
        author = ActorBody(entry.author)
        body = entry.body
        attachments = entry.attachments.map(AttachmentBody.init)
        quoted = entry.quoted
        email = entry.email.map(MailOriginBody.init)
        automation = entry.automation.map(AutomationBody.init)
    }

    /// `ticket`'s thread, without its notes when `messagesOnly`.
    package static func thread(of ticket: Ticket, messagesOnly: Bool) -> [ThreadEntryBody] {
        ticket.thread.filter { !messagesOnly || $0.kind == .message }.map(ThreadEntryBody.init)
    }
}

/// The ticket without its thread (SPEC §8), evaluated at an instant: the states of a history
/// and the entries of the ticket list.
package struct TicketSummaryBody: JSONAnswer {
    package var id: String
    package var version: Int64
    package var status: String
    package var priority: String
    package var team: String
    @NullWhenAbsent package var assignee: String?
    package var customer: String
    package var subject: String
    package var channel: String
    package var product: String
    @NullWhenAbsent package var context: String?
    package var tags: [String]
    package var openedAt: Timestamp
    package var openedBy: ActorBody
    @NullWhenAbsent package var mergedInto: String?
    @NullWhenAbsent package var waitingSince: Timestamp?
    @NullWhenAbsent package var nextDue: Timestamp?
    @NullWhenAbsent package var nextDueTarget: String?
    package var breached: Bool
    package var evaluatedAt: Timestamp

    /// `ticket` with its service state at `evaluation`.
    package init(_ ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels) {
        let service = ticket.serviceState(at: evaluation, levels: levels)
        self.init(
            ticket, waitingSince: service.waitingSince, nextDue: service.nextDue, nextDueTarget: service.nextDueTarget,
            breached: service.breached, at: evaluation)
    }

    /// A ticket of the projection's list, evaluated at `evaluation`.
    package init(_ t: TicketSummary, at evaluation: Timestamp) {
        self.init(t, waitingSince: t.waitingSince, nextDue: t.nextDue, nextDueTarget: t.nextDueTarget, breached: t.breached, at: evaluation)
    }

    private init(
        _ t: some TicketSummarySource, waitingSince: Timestamp?, nextDue: Timestamp?, nextDueTarget: SLAMetric?,
        breached: Bool, at evaluation: Timestamp
    ) {
        id = t.id
        version = Int64(t.version)
        status = t.status.rawValue
        priority = t.priority.rawValue
        team = t.team
        assignee = t.assignee
        customer = t.customer
        subject = t.subject
        channel = t.channel.rawValue
        product = t.product
        context = t.context
        tags = t.tags
        openedAt = t.openedAt
        openedBy = ActorBody(t.openedBy)
        mergedInto = t.mergedInto
        self.waitingSince = waitingSince
        self.nextDue = nextDue
        self.nextDueTarget = nextDueTarget?.rawValue
        self.breached = breached
        evaluatedAt = evaluation
    }
}

/// What the domain's ticket and the projection's list row both hold of a ticket summary: the
/// one mapping of ``TicketSummaryBody`` reads either.
private protocol TicketSummarySource {
    var id: String { get }
    var version: UInt64 { get }
    var status: TicketStatus { get }
    var priority: Priority { get }
    var team: String { get }
    var assignee: String? { get }
    var customer: String { get }
    var subject: String { get }
    var channel: Channel { get }
    var product: String { get }
    var context: String? { get }
    var tags: [String] { get }
    var openedAt: Timestamp { get }
    var openedBy: SupportActor { get }
    var mergedInto: String? { get }
}

extension Ticket: TicketSummarySource {}
extension TicketSummary: TicketSummarySource {}

/// The whole ticket (SPEC §8): its summary and its thread, without notes for a customer.
package struct TicketBody: JSONAnswer {
    package var summary: TicketSummaryBody
    package var thread: [ThreadEntryBody]

    package init(_ ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels, viewer: Principal) {
        summary = TicketSummaryBody(ticket, at: evaluation, levels: levels)
        thread = ThreadEntryBody.thread(of: ticket, messagesOnly: Self.hidesNotes(from: viewer))
    }

    /// Whether `viewer` sees the thread without its internal notes (customers never get notes).
    package static func hidesNotes(from viewer: Principal) -> Bool { viewer.role == .customer }

    private enum Member: String, CodingKey { case thread }

    package func encode(to encoder: any Encoder) throws {
        // The summary's members and `thread`, in one object.
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: Member.self)
        try container.encode(thread, forKey: .thread)
    }

    /// The canonical JSON of the whole ticket cut around the thread's value:
    /// `head + thread.canonicalJSON + tail` is the whole body. The thread is the part that
    /// grows with the ticket; what is around it is small.
    package static func aroundThread(_ ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels) -> (head: [UInt8], tail: [UInt8]) {
        do {
            return try CanonicalJSONEncoder().encode(TicketSummaryBody(ticket, at: evaluation, levels: levels), cutAtMember: "thread")
        } catch {
            // Unreachable: the summary is an object, and no member of it throws (see JSONAnswer).
            preconditionFailure("a ticket summary failed to encode: \(error)")
        }
    }
}
