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

    public struct Opened: Sendable, Equatable {
        public var customer: String
        public var subject: String
        public var body: String
        public var channel: Channel
        public var product: String
        public var priority: Priority
        public var context: String?
        public var attachments: [Attachment]?

        public init(
            customer: String, subject: String, body: String, channel: Channel, product: String,
            priority: Priority, context: String? = nil, attachments: [Attachment]? = nil
        ) {
            self.customer = customer; self.subject = subject; self.body = body; self.channel = channel
            self.product = product; self.priority = priority; self.context = context; self.attachments = attachments
        }
    }

    public struct MessagePosted: Sendable, Equatable {
        public var body: String
        public var attachments: [Attachment]?
        public init(body: String, attachments: [Attachment]? = nil) { self.body = body; self.attachments = attachments }
    }

    public struct NoteAdded: Sendable, Equatable {
        public var body: String
        public init(body: String) { self.body = body }
    }

    public struct Assigned: Sendable, Equatable {
        /// nil: unassigned.
        public var agent: String?
        public var team: String?
        public init(agent: String?, team: String? = nil) { self.agent = agent; self.team = team }
    }

    public struct Escalated: Sendable, Equatable {
        public var team: String
        public var reason: String
        public init(team: String, reason: String) { self.team = team; self.reason = reason }
    }

    public struct TagsChanged: Sendable, Equatable {
        /// Absent when not sent (the log stores data as sent: no default is filled in).
        public var added: [String]?
        public var removed: [String]?
        public init(added: [String]? = nil, removed: [String]? = nil) { self.added = added; self.removed = removed }
    }

    public struct SatisfactionRated: Sendable, Equatable {
        public var score: Int
        public var comment: String?
        /// The version of the rated agent message; absent means the latest.
        public var reply: UInt64?
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
