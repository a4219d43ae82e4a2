import Foundation

/// A stream's configuration (the fields this package uses; the server's defaults for the others).
package struct StreamConfig: Sendable, Codable, Equatable {
    /// Where the stream keeps its messages.
    package enum Storage: String, Sendable, Codable { case file, memory }
    /// What a full stream does with a new message.
    package enum Discard: String, Sendable, Codable { case old, new }

    /// The stream's name.
    package var name: String
    /// The subjects it stores.
    package var subjects: [String]
    /// How many servers hold it (1 or 3 here).
    package var replicas: Int
    /// File or memory storage.
    package var storage: Storage
    /// Messages older than this are removed; nil keeps them.
    package var maxAge: Duration?
    /// How many messages each subject keeps; nil for no limit.
    package var maxMessagesPerSubject: Int?
    /// The window of `Nats-Msg-Id` de-duplication; nil for the server's (2 minutes, or maxAge when shorter).
    package var duplicateWindow: Duration?
    /// Whether every replica answers direct gets.
    package var allowDirect: Bool
    /// Whether deleting messages through the API is refused.
    package var denyDelete: Bool
    /// Whether `Nats-Rollup` headers are allowed.
    package var allowRollup: Bool
    /// What happens at a limit.
    package var discard: Discard

    /// A configuration; only the name and the subjects are required.
    package init(
        name: String, subjects: [String], replicas: Int = 1, storage: Storage = .file, maxAge: Duration? = nil,
        maxMessagesPerSubject: Int? = nil, duplicateWindow: Duration? = nil, allowDirect: Bool = false, denyDelete: Bool = false,
        allowRollup: Bool = false, discard: Discard = .old
    ) {
        self.name = name
        self.subjects = subjects
        self.replicas = replicas
        self.storage = storage
        self.maxAge = maxAge
        self.maxMessagesPerSubject = maxMessagesPerSubject
        self.duplicateWindow = duplicateWindow
        self.allowDirect = allowDirect
        self.denyDelete = denyDelete
        self.allowRollup = allowRollup
        self.discard = discard
    }

    enum CodingKeys: String, CodingKey {
        case name, subjects, storage, discard, retention
        case replicas = "num_replicas"
        case maxAge = "max_age"
        case maxMessagesPerSubject = "max_msgs_per_subject"
        case duplicateWindow = "duplicate_window"
        case allowDirect = "allow_direct"
        case denyDelete = "deny_delete"
        case allowRollup = "allow_rollup_hdrs"
        case maxConsumers = "max_consumers"
        case maxMessages = "max_msgs"
        case maxBytes = "max_bytes"
        case maxMessageSize = "max_msg_size"
    }

    /// Reads the server's JSON (durations in nanoseconds; 0 and -1 mean "no limit").
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        subjects = try container.decodeIfPresent([String].self, forKey: .subjects) ?? []
        replicas = try container.decodeIfPresent(Int.self, forKey: .replicas) ?? 1
        storage = try container.decodeIfPresent(Storage.self, forKey: .storage) ?? .file
        let age = try container.decodeIfPresent(Int64.self, forKey: .maxAge) ?? 0
        maxAge = age > 0 ? .nanoseconds(age) : nil
        let perSubject = try container.decodeIfPresent(Int.self, forKey: .maxMessagesPerSubject) ?? -1
        maxMessagesPerSubject = perSubject > 0 ? perSubject : nil
        let window = try container.decodeIfPresent(Int64.self, forKey: .duplicateWindow) ?? 0
        duplicateWindow = window > 0 ? .nanoseconds(window) : nil
        allowDirect = try container.decodeIfPresent(Bool.self, forKey: .allowDirect) ?? false
        denyDelete = try container.decodeIfPresent(Bool.self, forKey: .denyDelete) ?? false
        allowRollup = try container.decodeIfPresent(Bool.self, forKey: .allowRollup) ?? false
        discard = try container.decodeIfPresent(Discard.self, forKey: .discard) ?? .old
    }

    /// Writes the server's JSON.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(subjects, forKey: .subjects)
        try container.encode("limits", forKey: .retention)
        try container.encode(replicas, forKey: .replicas)
        try container.encode(storage, forKey: .storage)
        try container.encode(maxAge.map(nanoseconds) ?? 0, forKey: .maxAge)
        try container.encode(maxMessagesPerSubject ?? -1, forKey: .maxMessagesPerSubject)
        if let duplicateWindow { try container.encode(nanoseconds(duplicateWindow), forKey: .duplicateWindow) }
        try container.encode(allowDirect, forKey: .allowDirect)
        try container.encode(denyDelete, forKey: .denyDelete)
        try container.encode(allowRollup, forKey: .allowRollup)
        try container.encode(discard, forKey: .discard)
        try container.encode(-1, forKey: .maxConsumers)
        try container.encode(-1, forKey: .maxMessages)
        try container.encode(-1, forKey: .maxBytes)
        try container.encode(-1, forKey: .maxMessageSize)
    }

    /// True when an existing stream's configuration is what `self` asks for (the fields this type has;
    /// the duplicate window only when `self` sets one).
    func isSatisfied(by existing: StreamConfig) -> Bool {
        var wanted = self
        if wanted.duplicateWindow == nil { wanted.duplicateWindow = existing.duplicateWindow }
        return wanted == existing
    }
}

/// What a stream holds and where it lives.
package struct StreamInfo: Sendable, Equatable {
    /// The stream's messages.
    package struct State: Sendable, Equatable {
        /// How many messages it holds.
        package var messages: UInt64
        /// The first sequence it holds (the next one when it is empty).
        package var firstSequence: UInt64
        /// The last sequence it stored (0 when it never stored anything).
        package var lastSequence: UInt64
    }

    /// One replica other than the leader.
    package struct Replica: Sendable, Equatable {
        /// The server's name.
        package var name: String
        /// Whether it is up to date.
        package var current: Bool
        /// How many operations it is behind, when known.
        package var lag: UInt64?
    }

    /// Where a replicated stream lives.
    package struct ClusterInfo: Sendable, Equatable {
        /// The server leading the stream, nil while there is none.
        package var leader: String?
        /// The other replicas.
        package var replicas: [Replica]
    }

    /// The stream's configuration as the server holds it.
    package var config: StreamConfig
    /// Its messages.
    package var state: State
    /// Its replicas (nil outside a cluster).
    package var cluster: ClusterInfo?
}

/// JetStream's acknowledgement of a stored message.
package struct PubAck: Sendable, Equatable {
    /// The stream that stored it.
    package var stream: String
    /// Its sequence in the stream.
    package var sequence: UInt64
    /// True when the stream had it already (same `Nats-Msg-Id` within the duplicate window): not stored again.
    package var duplicate: Bool

    /// An acknowledgement from its parts.
    package init(stream: String, sequence: UInt64, duplicate: Bool) {
        self.stream = stream
        self.sequence = sequence
        self.duplicate = duplicate
    }
}

/// A message as a stream stored it.
package struct StoredMessage: Sendable, Equatable {
    /// The subject it was published to.
    package var subject: String
    /// Its sequence in the stream.
    package var sequence: UInt64
    /// Its headers (nil when it had none).
    package var headers: NATSHeaders?
    /// Its payload.
    package var payload: [UInt8]
    /// When the stream stored it (RFC 3339), when the server said.
    package var time: String?

    /// A stored message from its parts.
    package init(subject: String, sequence: UInt64, headers: NATSHeaders?, payload: [UInt8], time: String?) {
        self.subject = subject
        self.sequence = sequence
        self.headers = headers
        self.payload = payload
        self.time = time
    }
}

/// One message of ``JetStream/publishAll(_:timeout:)``.
package struct JetStreamPublication: Sendable {
    /// Where it goes.
    package var subject: String
    /// Its payload.
    package var payload: [UInt8]
    /// Headers besides the ones below.
    package var headers: NATSHeaders?
    /// `Nats-Msg-Id`: the stream stores one message per id within its duplicate window.
    package var messageID: String?
    /// `Nats-Expected-Last-Sequence`: refused (10071) unless the stream's last sequence is this.
    package var expectedLastSequence: UInt64?
    /// `Nats-Expected-Last-Subject-Sequence`: refused (10071) unless the subject's last sequence is this (0: none).
    package var expectedLastSubjectSequence: UInt64?

    /// A publication from its parts.
    package init(
        subject: String, payload: [UInt8], headers: NATSHeaders? = nil, messageID: String? = nil, expectedLastSequence: UInt64? = nil,
        expectedLastSubjectSequence: UInt64? = nil
    ) {
        self.subject = subject
        self.payload = payload
        self.headers = headers
        self.messageID = messageID
        self.expectedLastSequence = expectedLastSequence
        self.expectedLastSubjectSequence = expectedLastSubjectSequence
    }

    /// The headers sent: the given ones and the JetStream ones; nil when there is none.
    var allHeaders: NATSHeaders? {
        var all = headers ?? NATSHeaders()
        if let messageID { all["Nats-Msg-Id"] = messageID }
        if let expectedLastSequence { all["Nats-Expected-Last-Sequence"] = String(expectedLastSequence) }
        if let expectedLastSubjectSequence { all["Nats-Expected-Last-Subject-Sequence"] = String(expectedLastSubjectSequence) }
        return all.isEmpty ? nil : all
    }
}

/// A duration in whole nanoseconds (saturating), as the JetStream API writes durations.
func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    return overflow ? (seconds < 0 ? Int64.min : Int64.max) : whole &+ attoseconds / 1_000_000_000
}
