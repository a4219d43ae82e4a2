/// One atomic append: events for one stream, with the checks that must hold for it to go ahead.
public struct AppendRequest: Sendable {
    /// Checked by the writer inside the write transaction against the current log, after the
    /// expected version; throwing refuses the append (``EventLogError/rejected(_:)``).
    /// The second argument is the `at` the first event will carry. The snapshot is valid only
    /// during the call.
    public typealias Precondition = @Sendable (LogSnapshot, Timestamp) throws -> Void

    /// Chooses the append inside the write transaction, from the log as it stands at that moment
    /// (including the commits of the same batch before it): the stream, events and expected
    /// version it returns replace the request's; nil appends nothing. For decisions that must
    /// not race other writers at all, such as taking the first free item of a queue. Throwing
    /// refuses the append (``EventLogError/rejected(_:)``). The snapshot is valid only during the
    /// call, and the call runs on the writer thread: keep it quick.
    public typealias Decision = @Sendable (LogSnapshot, Timestamp) throws -> DecidedAppend?

    /// The stream the events go to (for the support domain, the ticket id).
    public var stream: String
    /// The events, appended in order with consecutive seqs and versions.
    public var events: [ProposedEvent]
    /// The version the stream must be at for the append to go ahead.
    public var expectedVersion: ExpectedVersion
    /// Makes a retry answer with the first result (``EventStore`` only; see ``IdempotencyKey``).
    public var idempotency: IdempotencyKey?
    /// Checked inside the write, after the expected version (see ``Precondition``).
    public var precondition: Precondition?
    /// When set, decides the stream, events and expected version in the write transaction.
    public var decision: Decision?

    /// An append of `events` to `stream`.
    public init(
        stream: String, events: [ProposedEvent], expectedVersion: ExpectedVersion = .any,
        idempotency: IdempotencyKey? = nil, precondition: Precondition? = nil
    ) {
        self.stream = stream
        self.events = events
        self.expectedVersion = expectedVersion
        self.idempotency = idempotency
        self.precondition = precondition
        self.decision = nil
    }

    /// An append decided by the writer, inside the write transaction (see ``Decision``).
    public init(decidedBy decision: @escaping Decision) {
        self.init(stream: "", events: [])
        self.decision = decision
    }
}

/// What a ``AppendRequest/Decision`` chose to append.
public struct DecidedAppend: Sendable {
    /// The stream the events go to.
    public var stream: String
    /// The events to append.
    public var events: [ProposedEvent]
    /// The version the stream must be at.
    public var expectedVersion: ExpectedVersion

    /// What to append, as the decision chose it.
    public init(stream: String, events: [ProposedEvent], expectedVersion: ExpectedVersion) {
        self.stream = stream
        self.events = events
        self.expectedVersion = expectedVersion
    }
}

/// Makes a retried append return its first result instead of appending again.
///
/// The key is stored with the append, atomically, and kept forever. A retry whose
/// `fingerprint` differs is refused with ``EventLogError/idempotencyKeyReused(key:)``.
public struct IdempotencyKey: Sendable {
    /// The key, already scoped by the caller (e.g. to the actor).
    public var key: String
    /// Identifies the request the key was first used for (e.g. a hash of method, path and body).
    public var fingerprint: [UInt8]
    /// Builds the bytes to hand back to a retry (e.g. the HTTP answer), from the first result.
    /// Runs on the writer thread inside the transaction: keep it quick.
    public var response: (@Sendable (AppendResult) -> [UInt8])?

    /// A key, what it identifies, and how to build the answer a retry gets.
    public init(key: String, fingerprint: [UInt8] = [], response: (@Sendable (AppendResult) -> [UInt8])? = nil) {
        self.key = key
        self.fingerprint = fingerprint
        self.response = response
    }
}

/// What an append did.
public struct AppendResult: Sendable, Equatable {
    /// The stream appended to (as decided, for a decided append; empty when nothing was appended).
    public var stream: String
    /// The events appended, in order (on a replay: the events the first append wrote).
    public var events: [RecordedEvent]
    /// True when this is the answer to a retried idempotency key: nothing was appended now.
    public var replayed: Bool
    /// The bytes ``IdempotencyKey/response`` produced for the first append, if any.
    public var response: [UInt8]?

    /// A result as a store reports it.
    public init(stream: String, events: [RecordedEvent], replayed: Bool, response: [UInt8]?) {
        self.stream = stream
        self.events = events
        self.replayed = replayed
        self.response = response
    }

    /// The seq of the last event appended.
    public var lastSeq: UInt64 { events.last?.seq ?? 0 }
    /// The stream's version after the append.
    public var lastVersion: UInt64 { events.last?.version ?? 0 }
}
