import EventLog

/// The facts of a ticket's life (SPEC §2.2), each named in the past tense.
public enum TicketEvent: Sendable, Equatable {
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
    case merged(into: String)
    case satisfactionRated(SatisfactionRated)

    /// The data of `ticket.opened`.
    public struct Opened: Sendable, Equatable {
        /// The customer the ticket is for.
        public var customer: String
        /// The subject.
        public var subject: String
        /// The first message.
        public var body: String
        /// The channel the ticket came in by.
        public var channel: Channel
        /// The product the ticket is about.
        public var product: String
        /// The initial priority.
        public var priority: Priority
        /// Free-form context, if sent.
        public var context: String?
        /// The first message's attachments, if sent.
        public var attachments: [Attachment]?

        /// The data of an opening; optional members absent unless given.
        public init(
            customer: String, subject: String, body: String, channel: Channel, product: String,
            priority: Priority, context: String? = nil, attachments: [Attachment]? = nil
        ) {
            self.customer = customer; self.subject = subject; self.body = body; self.channel = channel
            self.product = product; self.priority = priority; self.context = context; self.attachments = attachments
        }
    }

    /// The data of `message.posted`: a public message.
    public struct MessagePosted: Sendable, Equatable {
        /// The message's text.
        public var body: String
        /// The message's attachments, if sent.
        public var attachments: [Attachment]?
        /// A message of `body` with `attachments`, if any.
        public init(body: String, attachments: [Attachment]? = nil) { self.body = body; self.attachments = attachments }
    }

    /// The data of `note.added`: an internal note.
    public struct NoteAdded: Sendable, Equatable {
        /// The note's text.
        public var body: String
        /// A note of `body`.
        public init(body: String) { self.body = body }
    }

    /// The data of `ticket.assigned`.
    public struct Assigned: Sendable, Equatable {
        /// nil: unassigned.
        public var agent: String?
        /// The team the ticket moves to, if sent.
        public var team: String?
        /// An assignment to `agent` (nil: unassigned), and to `team` when given.
        public init(agent: String?, team: String? = nil) { self.agent = agent; self.team = team }
    }

    /// The data of `ticket.escalated`.
    public struct Escalated: Sendable, Equatable {
        /// The team the ticket is escalated to.
        public var team: String
        /// Why.
        public var reason: String
        /// An escalation to `team` for `reason`.
        public init(team: String, reason: String) { self.team = team; self.reason = reason }
    }

    /// The data of `tags.changed`.
    public struct TagsChanged: Sendable, Equatable {
        /// Absent when not sent (the log stores data as sent: no default is filled in).
        public var added: [String]?
        /// The tags removed; absent when not sent.
        public var removed: [String]?
        /// A change adding `added` and removing `removed`.
        public init(added: [String]? = nil, removed: [String]? = nil) { self.added = added; self.removed = removed }
    }

    /// The data of `satisfaction.rated`.
    public struct SatisfactionRated: Sendable, Equatable {
        /// The score, 1 to 5.
        public var score: Int
        /// The customer's comment, if any.
        public var comment: String?
        /// The version of the rated agent message; absent means the latest.
        public var reply: UInt64?
        /// A rating of `score`, with `comment`, of the agent message at version `reply` (nil: the latest).
        public init(score: Int, comment: String? = nil, reply: UInt64? = nil) {
            self.score = score; self.comment = comment; self.reply = reply
        }
    }

    /// The event type names of the log.
    public enum Kind: String, Sendable, CaseIterable {
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

        /// Every kind, built once (`allCases` builds an array on each call).
        private static let all = allCases

        /// The kind named `type`, compared by code points (what `init(rawValue:)` answers for
        /// these ASCII names). Lengths are compared first, so most kinds are ruled out without
        /// reading a byte: the fold reads every event's type.
        static func named(_ type: String) -> Kind? {
            for kind in all where Identifier.same(kind.rawValue, type) { return kind }
            return nil
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
        }
    }

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
        case .messagePosted(let e):
            o = ["body": .string(e.body)]
            if let a = e.attachments { o["attachments"] = .array(a.map(\.json)) }
        case .noteAdded(let e):
            o = ["body": .string(e.body)]
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
        }
        return .object(o)
    }

    /// Reads an event's `data` strictly (SPEC §2.2): unknown members, wrong types, bad enums and
    /// invalid identifiers are 400.
    public init(kind: Kind, data: JSONValue) throws(DomainError) {
        self = try FieldReader.read(data, what: "the event's data") { r throws(DomainError) in try Self.read(kind, &r) }
    }

    private static func read(_ kind: Kind, _ r: inout FieldReader) throws(DomainError) -> TicketEvent {
        switch kind {
        case .opened:
            let e = Opened(
                customer: try r.requiredIdentifier("customer"), subject: try r.requiredString("subject"),
                body: try r.requiredString("body"), channel: try r.requiredEnumeration("channel", Channel.self),
                product: try r.requiredIdentifier("product"),
                priority: try r.requiredEnumeration("priority", Priority.self),
                context: try r.string("context"), attachments: try r.attachments("attachments"))
            return .opened(e)
        case .messagePosted:
            return .messagePosted(MessagePosted(body: try r.requiredString("body"), attachments: try r.attachments("attachments")))
        case .noteAdded:
            return .noteAdded(NoteAdded(body: try r.requiredString("body")))
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
            if let both = (added ?? []).first(where: { a in (removed ?? []).contains { Identifier.same($0, a) } }) {
                throw .badRequest("tag \"\(both)\" is both added and removed")
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

/// The statuses a `status.changed` may set (every one but `new`).
enum SettableStatus: String, CaseIterable {
    case open, pending
    case onHold = "on_hold"
    case solved, closed

    var status: TicketStatus { TicketStatus(rawValue: rawValue) ?? .open }
}
