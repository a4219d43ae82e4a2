import EventLog

/// An event of the ``StreamName/webhooks`` stream: an endpoint registered or removed by an admin.
public enum WebhookEvent: Sendable, Equatable {
    /// `webhook.registered {"id", "url", "events", "notes", "secret"}`.
    case registered(WebhookRegistration)
    /// `webhook.removed {"id"}`.
    case removed(id: String)

    /// The event types of the stream.
    public enum Kind: String, Sendable, CaseIterable {
        case registered = "webhook.registered"
        case removed = "webhook.removed"
    }

    public var kind: Kind {
        switch self {
        case .registered: .registered
        case .removed: .removed
        }
    }

    /// The event's `data`, as it is written to the log.
    public var data: JSONValue {
        switch self {
        case .registered(let r):
            .object([
                "id": .string(r.id), "url": .string(r.url), "events": .array(r.events.map { .string($0) }),
                "notes": .bool(r.notes), "secret": .string(r.secret),
            ])
        case .removed(let id):
            .object(["id": .string(id)])
        }
    }

    /// Reads an event of the stream strictly: a known type, every member known and valid (400 otherwise).
    public init(type: String, data: JSONValue) throws(DomainError) {
        guard let kind = Kind(rawValue: type) else {
            throw .badRequest("unknown event type \"\(type)\" on \(StreamName.webhooks) (one of webhook.registered, webhook.removed)")
        }
        guard let members = data.objectValue else { throw .badRequest("the event's data must be a JSON object") }
        switch kind {
        case .registered:
            try WebhookRules.onlyMembers(members, ["id", "url", "events", "notes", "secret"])
            guard let id = members["id"]?.stringValue else { throw .badRequest("\"id\" must be a string") }
            guard let url = members["url"]?.stringValue else { throw .badRequest("\"url\" must be a string") }
            guard let list = members["events"]?.arrayValue else { throw .badRequest("\"events\" must be an array of strings") }
            guard case .bool(let notes)? = members["notes"] else { throw .badRequest("\"notes\" must be true or false") }
            guard let secret = members["secret"]?.stringValue, !secret.isEmpty else {
                throw .badRequest("\"secret\" must be a non-empty string (the sealed secret)")
            }
            try WebhookRules.checkID(id)
            try WebhookRules.checkURL(url)
            let events = try WebhookRules.eventTypes(list)
            self = .registered(WebhookRegistration(id: id, url: url, events: events, notes: notes, secret: secret))
        case .removed:
            try WebhookRules.onlyMembers(members, ["id"])
            guard let id = members["id"]?.stringValue else { throw .badRequest("\"id\" must be a string") }
            try WebhookRules.checkID(id)
            self = .removed(id: id)
        }
    }
}

/// One endpoint as registered: where to, which event types, whether notes go there, and its
/// secret sealed (never the secret itself).
public struct WebhookRegistration: Sendable, Equatable {
    /// `W-<n>`.
    public var id: String
    /// An http or https URL without userinfo.
    public var url: String
    /// Ticket event types, or `["*"]` for every type.
    public var events: [String]
    /// Whether `note.added` events (internal notes) are delivered.
    public var notes: Bool
    /// The secret, sealed under the data directory's webhook key.
    public var secret: String

    public init(id: String, url: String, events: [String], notes: Bool, secret: String) {
        self.id = id
        self.url = url
        self.events = events
        self.notes = notes
        self.secret = secret
    }

    /// Whether an event of type `type` is delivered to this endpoint: one of its types (or `*`),
    /// and `note.added` only when it asked for notes.
    public func wants(_ type: String) -> Bool {
        if type == TicketEventKind.noteAdded.rawValue, !notes { return false }
        return events.contains("*") || events.contains(type)
    }
}

/// The rules of the webhook registrations.
public enum WebhookRules {
    /// The `<n>` of `W-<n>` (n >= 1, no leading zero), nil otherwise.
    public static func number(of id: String) -> UInt64? {
        guard id.hasPrefix("W-"), let n = UInt64(id.dropFirst(2)), n > 0, "W-\(n)" == id else { return nil }
        return n
    }

    static func checkID(_ id: String) throws(DomainError) {
        guard number(of: id) != nil else { throw .badRequest("\"id\" must be W-<n>, not \"\(id)\"") }
    }

    /// The longest URL taken.
    public static let maximumURLLength = 2048

    /// Nil when `url` is an http or https URL with a host and no userinfo, else why not.
    public static func problem(withURL url: String) -> String? {
        guard url.utf8.count <= maximumURLLength else { return "the url must be at most \(maximumURLLength) bytes" }
        guard let parts = URLParts(url) else { return "\"\(url)\" is not an http or https URL" }
        if parts.hasUserinfo { return "the url must not carry a user or password" }
        if parts.host.isEmpty { return "the url has no host" }
        return nil
    }

    static func checkURL(_ url: String) throws(DomainError) {
        if let problem = problem(withURL: url) { throw .badRequest(problem) }
    }

    /// The event types an endpoint may ask for: every ticket event type, or `*`.
    public static func isKnownEventType(_ name: String) -> Bool {
        name == "*" || TicketEventKind.allCases.contains { $0.rawValue == name }
    }

    /// Reads an `events` list: strings, each a known ticket event type or `*`, at least one, no repeats.
    public static func eventTypes(_ list: [JSONValue]) throws(DomainError) -> [String] {
        guard !list.isEmpty else { throw .badRequest("\"events\" must name at least one event type (or \"*\")") }
        var names: [String] = []
        for (k, item) in list.enumerated() {
            guard let name = item.stringValue else { throw .badRequest("\"events[\(k)]\" must be a string") }
            guard isKnownEventType(name) else {
                throw .badRequest("\"events[\(k)]\": unknown event type \"\(name)\" (a ticket event type or \"*\")")
            }
            guard !names.contains(name) else { throw .badRequest("\"events[\(k)]\": \"\(name)\" is listed twice") }
            names.append(name)
        }
        return names
    }

    static func onlyMembers(_ members: [String: JSONValue], _ known: Set<String>) throws(DomainError) {
        if let unknown = members.keys.filter({ !known.contains($0) }).sorted(by: Identifier.precedes).first {
            throw .badRequest("unknown field \"\(unknown)\"")
        }
    }
}

/// The parts of an http(s) URL the rules and the delivery need.
public struct URLParts: Sendable, Equatable {
    /// `http` or `https`.
    public var scheme: String
    /// The host, without brackets for an IPv6 literal, lowercased.
    public var host: String
    /// The port (the scheme's default when absent).
    public var port: Int
    /// Whether the authority holds a `user@` part.
    public var hasUserinfo: Bool

    /// Nil unless `url` is `http://` or `https://` followed by an authority with a valid port.
    public init?(_ url: String) {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("http://") {
            scheme = "http"
            rest = url.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            scheme = "https"
            rest = url.dropFirst(8)
        } else {
            return nil
        }
        if url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0.value > 0x7E }) { return nil }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        hasUserinfo = authority.contains("@")
        let hostPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        var hostPart = Substring(hostPort)
        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { return nil }
            let after = hostPart[hostPart.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portPart = after.dropFirst()
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        host = hostPart.lowercased()
        if let portPart {
            guard !portPart.isEmpty else {
                port = scheme == "https" ? 443 : 80
                return
            }
            guard portPart.allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(portPart), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            port = scheme == "https" ? 443 : 80
        }
    }
}

/// The endpoints registered now: the fold of the ``StreamName/webhooks`` stream.
public struct WebhookEndpoints: Sendable, Equatable {
    /// The current endpoints with the seq of their registration, in registration order.
    public private(set) var endpoints: [(registration: WebhookRegistration, seq: UInt64)] = []
    /// The highest `<n>` of any `W-<n>` ever registered (ids are never reused).
    public private(set) var highestNumber: UInt64 = 0
    /// The stream's version folded.
    public private(set) var version: UInt64 = 0

    public init() {}

    public static func == (a: WebhookEndpoints, b: WebhookEndpoints) -> Bool {
        a.version == b.version && a.highestNumber == b.highestNumber
            && a.endpoints.map(\.registration) == b.endpoints.map(\.registration) && a.endpoints.map(\.seq) == b.endpoints.map(\.seq)
    }

    /// The endpoint `id`, when registered now.
    public func endpoint(_ id: String) -> (registration: WebhookRegistration, seq: UInt64)? {
        endpoints.first { $0.registration.id == id }
    }

    /// Checks `event` against the current registrations: a new id, or the removal of a current one (409).
    public func check(_ event: WebhookEvent) throws(DomainError) {
        switch event {
        case .registered(let r):
            guard let n = WebhookRules.number(of: r.id), n > highestNumber else {
                throw .conflict("webhook \(r.id) was registered already (ids are never reused)")
            }
        case .removed(let id):
            guard endpoint(id) != nil else { throw DomainError(.notFound, "webhook \(id) not found") }
        }
    }

    /// Applies one event of the stream (checked by ``check(_:)``).
    public mutating func apply(_ event: WebhookEvent, seq: UInt64, version: UInt64) throws(DomainError) {
        try check(event)
        switch event {
        case .registered(let r):
            highestNumber = WebhookRules.number(of: r.id) ?? highestNumber
            endpoints.append((r, seq))
        case .removed(let id):
            endpoints.removeAll { $0.registration.id == id }
        }
        self.version = version
    }

    /// Applies a recorded event of the stream (decoded strictly).
    public mutating func apply(_ recorded: RecordedEvent) throws(DomainError) {
        try apply(WebhookEvent(type: recorded.type, data: recorded.data), seq: recorded.seq, version: recorded.version)
    }

    /// The fold of the stream's events.
    public static func fold(_ events: [RecordedEvent]) throws(DomainError) -> WebhookEndpoints {
        var endpoints = WebhookEndpoints()
        for event in events { try endpoints.apply(event) }
        return endpoints
    }
}
