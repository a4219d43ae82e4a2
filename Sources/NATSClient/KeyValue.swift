/// A JetStream key-value bucket: the stream `KV_<bucket>` on the subjects `$KV.<bucket>.>`, one
/// subject per key; a key's revision is the sequence of its last message.
package struct KeyValue: Sendable {
    /// The JetStream it goes through.
    package let js: JetStream
    /// The bucket's name.
    package let bucket: String

    /// The bucket's stream.
    package var streamName: String { "KV_\(bucket)" }

    /// Creates the bucket (an existing one with the same settings is fine): max_age = `ttl` (a key not
    /// written for that long reads as absent), max_msgs_per_subject = `history`, rollups allowed, deletes
    /// through the API refused, direct gets allowed, discard new.
    package static func create(
        _ js: JetStream, bucket: String, ttl: Duration?, replicas: Int, history: Int = 1
    ) async throws(JetStreamError) -> KeyValue {
        guard !bucket.isEmpty, bucket.utf8.allSatisfy(isBucketCharacter) else {
            throw .transport(.protocolError("invalid bucket name \(bucket.debugDescription)"))
        }
        let window: Duration? = ttl.map { Swift.min($0, .seconds(120)) }
        let config = StreamConfig(
            name: "KV_\(bucket)", subjects: ["$KV.\(bucket).>"], replicas: replicas, storage: .file, maxAge: ttl,
            maxMessagesPerSubject: Swift.max(history, 1), duplicateWindow: window, allowDirect: true, denyDelete: true, allowRollup: true,
            discard: .new)
        _ = try await js.addStream(config)
        return KeyValue(js: js, bucket: bucket)
    }

    /// The bucket over `js`, without creating it.
    package init(js: JetStream, bucket: String) {
        self.js = js
        self.bucket = bucket
    }

    /// The key's value and revision; nil when it is absent, deleted or expired.
    package func get(_ key: String) async throws(JetStreamError) -> KeyValueEntry? {
        guard let message = try await js.lastMessage(stream: streamName, subject: try subject(key)) else { return nil }
        if Self.isDeleteMarker(message) { return nil }
        return KeyValueEntry(key: key, value: message.payload, revision: message.sequence)
    }

    /// Writes the key when it is absent (or deleted); returns the revision. Throws an error with
    /// ``JetStreamError/isKeyExists`` when it is present.
    package func create(_ key: String, value: [UInt8]) async throws(JetStreamError) -> UInt64 {
        do {
            return try await update(key, value: value, expectedRevision: 0)
        } catch {
            guard error.isWrongLastSequence, let last = try await js.lastMessage(stream: streamName, subject: try subject(key)),
                Self.isDeleteMarker(last)
            else { throw error }
            return try await update(key, value: value, expectedRevision: last.sequence)
        }
    }

    /// Writes the key when its revision is `expectedRevision` (0: absent); returns the new revision.
    /// Throws an error with ``JetStreamError/isWrongLastSequence`` when the revision is another.
    package func update(_ key: String, value: [UInt8], expectedRevision: UInt64) async throws(JetStreamError) -> UInt64 {
        try await js.publish(try subject(key), payload: value, expectedLastSubjectSequence: expectedRevision).sequence
    }

    /// Writes the key whatever its revision; returns the new revision.
    package func put(_ key: String, value: [UInt8]) async throws(JetStreamError) -> UInt64 {
        try await js.publish(try subject(key), payload: value).sequence
    }

    /// Deletes the key (a delete marker: `get` answers nil, `create` may write it again).
    package func delete(_ key: String) async throws(JetStreamError) {
        var headers = NATSHeaders()
        headers["KV-Operation"] = "DEL"
        _ = try await js.publish(try subject(key), payload: [], headers: headers)
    }

    private func subject(_ key: String) throws(JetStreamError) -> String {
        let valid =
            !key.isEmpty && !key.hasPrefix(".") && !key.hasSuffix(".") && !key.contains("..")
            && key.utf8.allSatisfy {
                isBucketCharacter($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "=")
            }
        guard valid else { throw .transport(.protocolError("invalid key \(key.debugDescription)")) }
        return "$KV.\(bucket).\(key)"
    }

    private static func isDeleteMarker(_ message: StoredMessage) -> Bool {
        guard let operation = message.headers?["KV-Operation"] else { return false }
        return operation == "DEL" || operation == "PURGE"
    }
}

/// One key's value and revision.
package struct KeyValueEntry: Sendable, Equatable {
    /// The key.
    package var key: String
    /// Its value.
    package var value: [UInt8]
    /// The stream sequence that wrote it.
    package var revision: UInt64

    /// An entry from its parts.
    package init(key: String, value: [UInt8], revision: UInt64) {
        self.key = key
        self.value = value
        self.revision = revision
    }
}

/// Letters, digits, `-` and `_`.
private func isBucketCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "_"):
        true
    default: false
    }
}
