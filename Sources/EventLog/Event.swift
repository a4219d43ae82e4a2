/// Who caused an event: a kind (`customer`, `agent`, …) and an identifier.
///
/// The log treats both as opaque strings; the domain decides which kinds exist.
public struct EventActor: Hashable, Sendable {
    /// What kind of actor (`customer`, `agent`, `system`…).
    public var kind: String
    /// The actor's identifier within its kind.
    public var id: String

    /// An actor of `kind` named `id`.
    public init(kind: String, id: String) {
        self.kind = kind
        self.id = id
    }
}

/// An event that a caller asks the log to append; the log assigns the rest of the envelope.
public struct ProposedEvent: Sendable, Equatable {
    /// The event type, e.g. `message.posted`.
    public var type: String
    /// When it happened. `nil` lets the writer take its clock when it appends, raised to the
    /// stream's last `at` when the clock is behind.
    public var at: Timestamp?
    /// Who caused it.
    public var actor: EventActor
    /// The event's own fields, a JSON value.
    public var data: JSONValue

    /// `data` in the log's stored binary form (``BinaryJSON``), when the caller already has it
    /// (an import reads it back from its spool): the writer stores it as it is instead of
    /// encoding `data` again. It must be what ``BinaryJSON`` encodes `data` to.
    package var binaryData: [UInt8]?

    /// An event to append; `at` nil takes the writer's clock.
    public init(type: String, at: Timestamp? = nil, actor: EventActor, data: JSONValue) {
        self.type = type
        self.at = at
        self.actor = actor
        self.data = data
    }

    /// An event whose `data` comes with its stored binary form (see ``binaryData``).
    package init(type: String, at: Timestamp?, actor: EventActor, data: JSONValue, binaryData: [UInt8]) {
        self.init(type: type, at: at, actor: actor, data: data)
        self.binaryData = binaryData
    }

    /// Events are equal when their type, `at`, actor and data are (the binary form is only a
    /// shortcut to the same data).
    public static func == (a: ProposedEvent, b: ProposedEvent) -> Bool {
        a.type == b.type && a.at == b.at && a.actor == b.actor && a.data == b.data
    }
}

/// An event as stored in the log: its full envelope, chained to its predecessor.
public struct RecordedEvent: Sendable, Equatable {
    /// Global position, 1-based and gap-free.
    public var seq: UInt64
    /// The stream (for the support domain, the ticket id).
    public var stream: String
    /// Position in the stream, 1-based and gap-free.
    public var version: UInt64
    /// The event type, e.g. `message.posted`.
    public var type: String
    /// When it happened (never before the stream's previous event).
    public var at: Timestamp
    /// When the log appended it (the writer's clock).
    public var recorded: Timestamp
    /// Who caused it.
    public var actor: EventActor
    /// The event's own fields.
    public var data: JSONValue
    /// The previous event's hash (``EventHash/zero`` for seq 1).
    public var prev: EventHash
    /// SHA-256 of `prev` in hex followed by the canonical JSON of the envelope.
    public var hash: EventHash

    /// An event with its whole envelope (as read back, or parsed from an export line).
    public init(
        seq: UInt64, stream: String, version: UInt64, type: String, at: Timestamp, recorded: Timestamp,
        actor: EventActor, data: JSONValue, prev: EventHash, hash: EventHash
    ) {
        self.seq = seq
        self.stream = stream
        self.version = version
        self.type = type
        self.at = at
        self.recorded = recorded
        self.actor = actor
        self.data = data
        self.prev = prev
        self.hash = hash
    }
}

/// The position and hash of the last event: what an auditor notes to detect truncation later.
public struct LogHead: Hashable, Sendable, CustomStringConvertible {
    /// 0 for an empty log.
    public var seq: UInt64
    /// ``EventHash/zero`` for an empty log.
    public var hash: EventHash

    /// The head at `seq`, whose event hashes to `hash`.
    public init(seq: UInt64, hash: EventHash) {
        self.seq = seq
        self.hash = hash
    }

    /// The head of an empty log.
    public static let empty = LogHead(seq: 0, hash: .zero)

    /// `SEQ:HASH`, the form `verify --expect-head` takes.
    public var description: String { "\(seq):\(hash.hex)" }

    /// Parses `SEQ:HASH`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = UInt64(parts[0]), let hash = EventHash(hex: parts[1]) else { return nil }
        self.init(seq: seq, hash: hash)
    }
}
