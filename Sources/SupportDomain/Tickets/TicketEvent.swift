import EventLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The facts of a ticket's life (SPEC §2.2), each named in the past tense, with their texts as
/// `String`s: what commands decide, imports read and the ticket cache applies.
public typealias TicketEvent = TicketEventOf<String>

/// How a decoded event holds its texts: as `String`s (`TicketEvent`), or borrowed from a stored
/// record (`StoredText`: what a rebuild of the projections folds, with no string made per event).
/// One decoder (``TicketEventOf/init(kind:data:)``) reads both.
public protocol EventText {
    /// A list of identifiers (`tags.changed`).
    associatedtype List
    /// A message's attachments.
    associatedtype Attachments: AttachmentList<Self>
    /// Nil when the text is a valid identifier, otherwise why not (``Identifier/problem(with:)``).
    var identifierProblem: String? { get }
    /// Equality by code points, with no normalisation (``Identifier/same(_:_:)``).
    func same(as other: Self) -> Bool
    /// The text as a `String` (for messages, and what a read model keeps).
    var string: String { get }
    /// The first text of `a` that is also in `b` (by code points).
    static func firstShared(_ a: List, _ b: List) -> Self?
    /// Whether the text is 64 lowercase hex digits (an attachment's `sha256`).
    var isLowercaseHexDigest: Bool { get }
    /// Nil when the text may stand in a mail header (an address, a Message-ID), otherwise why not.
    var mailTextProblem: String? { get }
}

/// The one check of a mail text, by its UTF-8 bytes: not empty, at most 998 bytes (a mail line's
/// limit, RFC 5322 §2.1.1), no control characters.
func mailTextProblem(utf8 bytes: some Collection<UInt8>) -> String? {
    if bytes.isEmpty { return "must not be empty" }
    if bytes.count > 998 { return "is longer than 998 bytes" }
    if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "must not contain control characters" }
    return nil
}

/// Collects a message's attachments as the decoder reads them.
public protocol AttachmentList<Text> {
    associatedtype Text
    init()
    mutating func append(name: Text, size: Int64, contentType: Text, sha256: Text)
}

extension String: EventText {
    /// Identifiers as `String`s.
    public typealias List = [String]
    /// Attachments as the domain's ``Attachment`` values.
    public typealias Attachments = [Attachment]
    @inlinable public var identifierProblem: String? { Identifier.problem(with: self) }
    @inlinable public func same(as other: String) -> Bool { Identifier.same(self, other) }
    @inlinable public var string: String { self }
    public static func firstShared(_ a: [String], _ b: [String]) -> String? {
        a.first { x in b.contains { Identifier.same($0, x) } }
    }
    public var mailTextProblem: String? { SupportDomain.mailTextProblem(utf8: utf8) }
    public var isLowercaseHexDigest: Bool {
        utf8.count == 64 && utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

extension [Attachment]: AttachmentList {
    public mutating func append(name: String, size: Int64, contentType: String, sha256: String) {
        append(Attachment(name: name, size: size, contentType: contentType, sha256: sha256))
    }
}

extension TicketEventOf: Equatable where Text: Equatable, Text.List: Equatable, Text.Attachments: Equatable {}
extension TicketEventOf: Sendable where Text: Sendable, Text.List: Sendable, Text.Attachments: Sendable {}
extension TicketEventOf.Opened: Equatable where Text: Equatable, Text.Attachments: Equatable {}
extension TicketEventOf.Opened: Sendable where Text: Sendable, Text.Attachments: Sendable {}
extension TicketEventOf.MessagePosted: Equatable where Text: Equatable, Text.Attachments: Equatable {}
extension TicketEventOf.MessagePosted: Sendable where Text: Sendable, Text.Attachments: Sendable {}
extension TicketEventOf.NoteAdded: Equatable where Text: Equatable {}
extension TicketEventOf.NoteAdded: Sendable where Text: Sendable {}
extension TicketEventOf.Assigned: Equatable where Text: Equatable {}
extension TicketEventOf.Assigned: Sendable where Text: Sendable {}
extension TicketEventOf.Escalated: Equatable where Text: Equatable {}
extension TicketEventOf.Escalated: Sendable where Text: Sendable {}
extension TicketEventOf.TagsChanged: Equatable where Text.List: Equatable {}
extension TicketEventOf.TagsChanged: Sendable where Text.List: Sendable {}
extension TicketEventOf.SatisfactionRated: Equatable where Text: Equatable {}
extension TicketEventOf.SatisfactionRated: Sendable where Text: Sendable {}
extension TicketEventOf.MailOrigin: Equatable where Text: Equatable {}
extension TicketEventOf.MailOrigin: Sendable where Text: Sendable {}
extension TicketEventOf.Delivered: Equatable where Text: Equatable {}
extension TicketEventOf.Delivered: Sendable where Text: Sendable {}
extension TicketEventOf.DeliveryFailed: Equatable where Text: Equatable {}
extension TicketEventOf.DeliveryFailed: Sendable where Text: Sendable {}

/// The facts of a ticket's life (SPEC §2.2), each named in the past tense; `TicketEvent` is the
/// form with `String`s.
public enum TicketEventOf<Text: EventText> {
    /// Boxed: the opening is the one large payload, and every event the fold decodes is moved
    /// by value a few times; unboxed, each move would copy the opening's size.
    indirect case opened(Opened)
    case messagePosted(MessagePosted)
    case noteAdded(NoteAdded)
    case assigned(Assigned)
    case priorityChanged(Priority)
    case statusChanged(TicketStatus)
    case escalated(Escalated)
    case tagsChanged(TagsChanged)
    case merged(into: Text)
    case satisfactionRated(SatisfactionRated)
    /// An agent's reply went out by mail (`message.delivered`, by `system`).
    case delivered(Delivered)
    /// An agent's reply could not be sent by mail (`message.delivery_failed`, by `system`).
    case deliveryFailed(DeliveryFailed)
    /// A running SLA interval came within the policy's lead time of its due instant
    /// (`sla.warning`, by `system`): a warning that changes nothing else.
    case slaWarning(SLAWarning)

    /// The event type names of the log.
    public typealias Kind = TicketEventKind

    /// The data of `ticket.opened`.
    public struct Opened {
        /// The customer the ticket is for.
        public var customer: Text
        /// The subject.
        public var subject: Text
        /// The first message.
        public var body: Text
        /// The channel the ticket came in by.
        public var channel: Channel
        /// The product the ticket is about.
        public var product: Text
        /// The initial priority.
        public var priority: Priority
        /// Free-form context, if sent.
        public var context: Text?
        /// The first message's attachments, if sent.
        public var attachments: Text.Attachments?
        /// The quoted history below the new text of a mailed message, if any.
        public var quoted: Text?
        /// The mail the ticket was opened from, if it came by mail.
        public var email: MailOrigin?

        /// The data of an opening; optional members absent unless given.
        public init(
            customer: Text, subject: Text, body: Text, channel: Channel, product: Text,
            priority: Priority, context: Text? = nil, attachments: Text.Attachments? = nil,
            quoted: Text? = nil, email: MailOrigin? = nil
        ) {
            self.customer = customer; self.subject = subject; self.body = body; self.channel = channel
            self.product = product; self.priority = priority; self.context = context; self.attachments = attachments
            self.quoted = quoted; self.email = email
        }
    }

    /// Where a message taken from mail came from (the `email` member of its data): the mail's
    /// Message-ID, by which a reply finds its ticket and a retried delivery is taken once, and
    /// the sender's address.
    public struct MailOrigin {
        /// The Message-ID, with its angle brackets.
        public var messageId: Text
        /// The sender's address.
        public var from: Text
        /// The origin of the mail `messageId` sent by `from`.
        public init(messageId: Text, from: Text) { self.messageId = messageId; self.from = from }
    }

    /// The data of `message.delivered`: the agent message at version `reply` was accepted by
    /// the mail relay for `to`, as the mail `messageId`.
    public struct Delivered {
        /// The version of the delivered agent message.
        public var reply: UInt64
        /// The recipient's address.
        public var to: Text
        /// The Message-ID the mail was sent with.
        public var messageId: Text
        /// The delivery of the message at `reply` to `to` as `messageId`.
        public init(reply: UInt64, to: Text, messageId: Text) { self.reply = reply; self.to = to; self.messageId = messageId }
    }

    /// The data of `message.delivery_failed`: the agent message at version `reply` could not be
    /// sent to `to`; `permanent` when no retry will follow.
    public struct DeliveryFailed {
        /// The version of the agent message.
        public var reply: UInt64
        /// The recipient's address.
        public var to: Text
        /// What the relay (or the connection) answered.
        public var reason: Text
        /// Whether the outbox gave up on this message.
        public var permanent: Bool
        /// The failure to send the message at `reply` to `to`, for `reason`.
        public init(reply: UInt64, to: Text, reason: Text, permanent: Bool) {
            self.reply = reply; self.to = to; self.reason = reason; self.permanent = permanent
        }
    }

    /// The data of `sla.warning`: the running interval of `target` is due at `due`.
    public struct SLAWarning: Sendable, Equatable {
        /// The target whose interval the warning is about.
        public var target: SLAMetric
        /// The interval's due instant when the warning was decided.
        public var due: Timestamp
        /// A warning that the running `target` interval is due at `due`.
        public init(target: SLAMetric, due: Timestamp) { self.target = target; self.due = due }
    }

    /// The data of `message.posted`: a public message.
    public struct MessagePosted {
        /// The message's text.
        public var body: Text
        /// The message's attachments, if sent.
        public var attachments: Text.Attachments?
        /// The quoted history below the new text of a mailed message, if any.
        public var quoted: Text?
        /// The mail the message was taken from, if it came by mail.
        public var email: MailOrigin?
        /// A message of `body` with `attachments`, if any, taken from the mail `email` with its
        /// `quoted` history, if any.
        public init(body: Text, attachments: Text.Attachments? = nil, quoted: Text? = nil, email: MailOrigin? = nil) {
            self.body = body; self.attachments = attachments; self.quoted = quoted; self.email = email
        }
    }

    /// The data of `note.added`: an internal note.
    public struct NoteAdded {
        /// The note's text.
        public var body: Text
        /// The mail the note records (a bounce), if any.
        public var email: MailOrigin?
        /// The automatic reaction the note records (written by `system` only), if any.
        public var automation: AutomationRecord?
        /// A note of `body`, recording the mail `email` or the reaction `automation`, if any.
        public init(body: Text, email: MailOrigin? = nil, automation: AutomationRecord? = nil) {
            self.body = body; self.email = email; self.automation = automation
        }
    }

    /// The data of `ticket.assigned`.
    public struct Assigned {
        /// nil: unassigned.
        public var agent: Text?
        /// The team the ticket moves to, if sent.
        public var team: Text?
        /// An assignment to `agent` (nil: unassigned), and to `team` when given.
        public init(agent: Text?, team: Text? = nil) { self.agent = agent; self.team = team }
    }

    /// The data of `ticket.escalated`.
    public struct Escalated {
        /// The team the ticket is escalated to.
        public var team: Text
        /// Why.
        public var reason: Text
        /// An escalation to `team` for `reason`.
        public init(team: Text, reason: Text) { self.team = team; self.reason = reason }
    }

    /// The data of `tags.changed`.
    public struct TagsChanged {
        /// Absent when not sent (the log stores data as sent: no default is filled in).
        public var added: Text.List?
        /// The tags removed; absent when not sent.
        public var removed: Text.List?
        /// A change adding `added` and removing `removed`.
        public init(added: Text.List? = nil, removed: Text.List? = nil) { self.added = added; self.removed = removed }
    }

    /// The data of `satisfaction.rated`.
    public struct SatisfactionRated {
        /// The score, 1 to 5.
        public var score: Int
        /// The customer's comment, if any.
        public var comment: Text?
        /// The version of the rated agent message; absent means the latest.
        public var reply: UInt64?
        /// A rating of `score`, with `comment`, of the agent message at version `reply` (nil: the latest).
        public init(score: Int, comment: Text? = nil, reply: UInt64? = nil) {
            self.score = score; self.comment = comment; self.reply = reply
        }
    }

    /// The event's type in the log.
    public var kind: Kind {
        switch self {
        case .opened: .opened
        case .messagePosted: .messagePosted
        case .noteAdded: .noteAdded
        case .assigned: .assigned
        case .priorityChanged: .priorityChanged
        case .statusChanged: .statusChanged
        case .escalated: .escalated
        case .tagsChanged: .tagsChanged
        case .merged: .merged
        case .satisfactionRated: .satisfactionRated
        case .delivered: .delivered
        case .deliveryFailed: .deliveryFailed
        case .slaWarning: .slaWarning
        }
    }

}

extension TicketEventOf where Text == String {
    /// The event's `data` as the log stores it: as sent, minus optional members that were null.
    public var data: JSONValue {
        var o: [String: JSONValue] = [:]
        switch self {
        case .opened(let e):
            o = [
                "customer": .string(e.customer), "subject": .string(e.subject), "body": .string(e.body),
                "channel": .string(e.channel.rawValue), "product": .string(e.product),
                "priority": .string(e.priority.rawValue),
            ]
            if let c = e.context { o["context"] = .string(c) }
            if let a = e.attachments { o["attachments"] = .array(a.map(\.json)) }
            if let q = e.quoted { o["quoted"] = .string(q) }
            if let m = e.email { o["email"] = m.json }
        case .messagePosted(let e):
            o = ["body": .string(e.body)]
            if let a = e.attachments { o["attachments"] = .array(a.map(\.json)) }
            if let q = e.quoted { o["quoted"] = .string(q) }
            if let m = e.email { o["email"] = m.json }
        case .noteAdded(let e):
            o = ["body": .string(e.body)]
            if let m = e.email { o["email"] = m.json }
            if let a = e.automation { o["automation"] = a.json }
        case .assigned(let e):
            o = ["agent": e.agent.map(JSONValue.string) ?? .null]
            if let t = e.team { o["team"] = .string(t) }
        case .priorityChanged(let p):
            o = ["priority": .string(p.rawValue)]
        case .statusChanged(let s):
            o = ["status": .string(s.rawValue)]
        case .escalated(let e):
            o = ["team": .string(e.team), "reason": .string(e.reason)]
        case .tagsChanged(let e):
            if let a = e.added { o["added"] = .array(a.map(JSONValue.string)) }
            if let r = e.removed { o["removed"] = .array(r.map(JSONValue.string)) }
        case .merged(let into):
            o = ["into": .string(into)]
        case .satisfactionRated(let e):
            o = ["score": .int(Int64(e.score))]
            if let c = e.comment { o["comment"] = .string(c) }
            if let r = e.reply { o["reply"] = .int(Int64(r)) }
        case .delivered(let e):
            o = ["reply": .int(Int64(e.reply)), "to": .string(e.to), "messageId": .string(e.messageId)]
        case .deliveryFailed(let e):
            o = ["reply": .int(Int64(e.reply)), "to": .string(e.to), "reason": .string(e.reason), "permanent": .bool(e.permanent)]
        case .slaWarning(let w):
            o = ["target": .string(w.target.rawValue), "due": .string(w.due.rfc3339)]
        }
        return .object(o)
    }

    /// Reads an event's `data` strictly (SPEC §2.2): unknown members, wrong types, bad enums and
    /// invalid identifiers are 400.
    public init(kind: Kind, data: JSONValue) throws(DomainError) {
        self = try FieldReader<[String: JSONValue]>.read(data, what: "the event's data") { r throws(DomainError) in try Self.read(kind, &r)
        }
    }

    /// Reads a stored event; a type the domain does not know is a 400.
    public init(type: String, data: JSONValue) throws(DomainError) {
        guard let kind = Kind.named(type) else {
            let allowed = Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badRequest("unknown event type \"\(type)\" (one of \(allowed))")
        }
        try self.init(kind: kind, data: data)
    }
}

extension TicketEventOf where Text == StoredText {
    /// Reads a stored record's event in place, by the same rules as ``TicketEvent/init(type:data:)``
    /// (the same decoder). A refusal here may be worded otherwise, and a record whose `data` is not
    /// in the form the log writes (members in order, ASCII names) is refused: decode the record
    /// (`StoredEventView.recordedEvent()`) to learn the exact answer.
    package init(type: StoredText, data: UnsafeRawBufferPointer) throws(DomainError) {
        guard let kind = Kind.named(type) else { throw .badRequest("unknown event type \"\(type.string)\"") }
        self = try FieldReader<BinaryJSON.Object>.read(BinaryJSON.Value(data, at: 0), what: "the event's data") { r throws(DomainError) in
            try Self.read(kind, &r)
        }
    }
}

extension TicketEventOf {
    /// The one decoder of an event's `data` (SPEC §2.2), whatever holds its texts.
    private static func read<Object: FieldObject>(_ kind: Kind, _ r: inout FieldReader<Object>) throws(DomainError) -> Self
    where Object.Value.Text == Text {
        switch kind {
        case .opened:
            let e = Opened(
                customer: try r.requiredIdentifier("customer"), subject: try r.requiredString("subject"),
                body: try r.requiredString("body"), channel: try r.requiredEnumeration("channel", Channel.self),
                product: try r.requiredIdentifier("product"),
                priority: try r.requiredEnumeration("priority", Priority.self),
                context: try r.string("context"), attachments: try r.attachments("attachments"),
                quoted: try r.string("quoted"), email: try r.mailOrigin("email"))
            return .opened(e)
        case .messagePosted:
            return .messagePosted(
                MessagePosted(
                    body: try r.requiredString("body"), attachments: try r.attachments("attachments"),
                    quoted: try r.string("quoted"), email: try r.mailOrigin("email")))
        case .noteAdded:
            return .noteAdded(
                NoteAdded(
                    body: try r.requiredString("body"), email: try r.mailOrigin("email"), automation: try r.automationRecord("automation")))
        case .assigned:
            guard r.isPresent("agent") else { throw .badRequest("\"agent\" is required (null unassigns)") }
            return .assigned(Assigned(agent: try r.identifier("agent"), team: try r.identifier("team")))
        case .priorityChanged:
            return .priorityChanged(try r.requiredEnumeration("priority", Priority.self))
        case .statusChanged:
            guard let s = try r.enumeration("status", SettableStatus.self) else { throw .badRequest("\"status\" is required") }
            return .statusChanged(s.status)
        case .escalated:
            return .escalated(Escalated(team: try r.requiredIdentifier("team"), reason: try r.requiredString("reason")))
        case .tagsChanged:
            let added = try r.identifierArray("added"), removed = try r.identifierArray("removed")
            if let added, let removed, let both = Text.firstShared(added, removed) {
                throw .badRequest("tag \"\(both.string)\" is both added and removed")
            }
            return .tagsChanged(TagsChanged(added: added, removed: removed))
        case .merged:
            return .merged(into: try r.requiredIdentifier("into"))
        case .satisfactionRated:
            guard let score = try r.integer("score") else { throw .badRequest("\"score\" is required") }
            guard (1...5).contains(score) else { throw .badRequest("\"score\" must be an integer from 1 to 5") }
            let reply = try r.integer("reply")
            if let reply, reply < 1 { throw .badRequest("\"reply\" must be a version (an integer >= 1)") }
            return .satisfactionRated(
                SatisfactionRated(
                    score: Int(score), comment: try r.string("comment"),
                    reply: reply.map { UInt64($0) }))
        case .delivered:
            let reply = try r.requiredVersion("reply")
            return .delivered(Delivered(reply: reply, to: try r.requiredMailText("to"), messageId: try r.requiredMailText("messageId")))
        case .deliveryFailed:
            let reply = try r.requiredVersion("reply")
            let to = try r.requiredMailText("to"), reason = try r.requiredString("reason")
            guard let permanent = try r.boolean("permanent") else { throw .badRequest("\"permanent\" is required") }
            return .deliveryFailed(DeliveryFailed(reply: reply, to: to, reason: reason, permanent: permanent))
        case .slaWarning:
            return .slaWarning(SLAWarning(target: try r.requiredEnumeration("target", SLAMetric.self), due: try r.requiredInstant("due")))
        }
    }

}

/// The event type names of the log (``TicketEventOf/Kind``).
public enum TicketEventKind: String, Sendable, CaseIterable {
    case opened = "ticket.opened"
    case messagePosted = "message.posted"
    case noteAdded = "note.added"
    case assigned = "ticket.assigned"
    case priorityChanged = "priority.changed"
    case statusChanged = "status.changed"
    case escalated = "ticket.escalated"
    case tagsChanged = "tags.changed"
    case merged = "ticket.merged"
    case satisfactionRated = "satisfaction.rated"
    case delivered = "message.delivered"
    case deliveryFailed = "message.delivery_failed"
    case slaWarning = "sla.warning"

    /// Every kind, built once (`allCases` builds an array on each call).
    private static let all = allCases

    /// The kind named `type`, compared by code points (what `init(rawValue:)` answers for
    /// these ASCII names). Lengths are compared first, so most kinds are ruled out without
    /// reading a byte: the fold reads every event's type.
    static func named(_ type: String) -> TicketEventKind? {
        for kind in all where Identifier.same(kind.rawValue, type) { return kind }
        return nil
    }

    /// Every kind's name in UTF-8, built once.
    private static let utf8Names: [(kind: TicketEventKind, utf8: [UInt8])] = all.map { ($0, Array($0.rawValue.utf8)) }

    /// The kind named by a stored record's type: by bytes, since the names are ASCII (a text of
    /// other bytes names none, whether or not it is valid UTF-8).
    static func named(_ type: StoredText) -> TicketEventKind? {
        let bytes = type.bytes
        for entry in utf8Names where entry.utf8.count == bytes.count {
            if entry.utf8.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) { return entry.kind }
        }
        return nil
    }
}

/// The statuses a `status.changed` may set (every one but `new`).
package enum SettableStatus: String, CaseIterable, Sendable {
    case open, pending
    case onHold = "on_hold"
    case solved, closed

    /// The status itself.
    package var status: TicketStatus { TicketStatus(rawValue: rawValue) ?? .open }
}

extension TicketEventOf.MailOrigin where Text == String {
    var json: JSONValue { .object(["messageId": .string(messageId), "from": .string(from)]) }
}
