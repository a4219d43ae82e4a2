/// The LMDB environment of a data directory and its named databases (store format 2).
///
/// - `events`: seq (8 bytes BE) -> ``EventRecord``
/// - `streamNumbers`: SHA-256(stream id) -> the stream's number (8 bytes BE), handed out 1, 2, 3…
///   in order of the streams' first events
/// - `streamIndex`: stream number + version (8 bytes BE each) -> seq (8 bytes BE)
/// - `idempotency`: SHA-256(key) -> first result (``IdempotencyRecord``)
/// - `meta`: `format`, `envelope.streamField`, `head` (seq + hash)
///
/// Store format 1 indexed streams by SHA-256(stream id) + version in a `streams` database, which
/// scattered each commit's index writes over the whole index; a writable open migrates it
/// (``LogMigration``). Logs written before projection checkpoints moved out (to
/// ``LMDBCheckpointStore``) may also hold a `checkpoints` database; a writable open drops it.
struct LogStorage: Sendable {
    static let formatVersion: UInt32 = 2

    let environment: LMDBEnvironment
    let events: LMDBDatabase
    let streamNumbers: LMDBDatabase
    let streamIndex: LMDBDatabase
    let idempotency: LMDBDatabase
    let meta: LMDBDatabase
    /// The store format this open migrated the directory from, or nil.
    private(set) var migratedFrom: UInt32?

    /// Opens the environment; with `pin`, holds its last commit (``LMDBEnvironment/pinLastCommit()``)
    /// before anything is written.
    init(directory: String, mapSize: Int, readOnly: Bool, sync: LMDBEnvironment.SyncMode, pin: Bool = false) throws {
        environment = try LMDBEnvironment(
            directory: directory, mapSize: mapSize, maxDatabases: 8,
            readOnly: readOnly, sync: sync)
        if pin { try environment.pinLastCommit() }
        let create = !readOnly
        events = try environment.openDatabase(named: "events", create: create)
        idempotency = try environment.openDatabase(named: "idempotency", create: create)
        meta = try environment.openDatabase(named: "meta", create: create)
        if readOnly, try Self.storedFormat(environment, meta) == LogMigration.streamDigestFormat {
            throw EventLogError.incompatibleStore(
                "the log is in store format \(LogMigration.streamDigestFormat); open it once for writing (supportd, or `support-replay migrate --data-dir <dir>`) to migrate it to format \(Self.formatVersion)"
            )
        }
        streamNumbers = try environment.openDatabase(named: "streamNumbers", create: create)
        streamIndex = try environment.openDatabase(named: "streamIndex", create: create)
        if !readOnly {
            try environment.dropDatabase(named: Self.retiredCheckpoints)
            migratedFrom = try LogMigration.migrateIfNeeded(self)
        }
    }

    /// The store format written in `meta`, or nil for a new log.
    static func storedFormat(_ environment: LMDBEnvironment, _ meta: LMDBDatabase) throws -> UInt32? {
        try environment.withReadTransaction { txn in try storedFormat(txn, meta) }
    }

    static func storedFormat(_ txn: LMDBTransaction, _ meta: LMDBDatabase) throws -> UInt32? {
        guard let format = try txn.get(meta, key: StorageKeys.metaFormat) else { return nil }
        var reader = ByteReader(format)
        guard format.count == 4, let version = try? reader.bigEndianUInt32() else {
            throw EventLogError.incompatibleStore("store format \(Array(format)) is not \(formatVersion)")
        }
        return version
    }

    /// Where projection checkpoints lived inside the log before they got their own store: a cache,
    /// dropped on open (the projection rebuilds, then checkpoints in its own store).
    static let retiredCheckpoints = "checkpoints"

    /// The `streamIndex` key of a stream's event, or nil when the stream has no number.
    func streamEntryKey(_ txn: LMDBTransaction, stream: String, version: UInt64) throws -> [UInt8]? {
        guard let number = try streamNumber(txn, stream) else { return nil }
        return StorageKeys.streamEntry(number: number, version: version)
    }

    /// The number of `stream`, or nil when it never had an event.
    func streamNumber(_ txn: LMDBTransaction, _ stream: String) throws -> UInt64? {
        try streamNumber(txn, digest: StorageKeys.streamDigest(stream))
    }

    func streamNumber(_ txn: LMDBTransaction, digest: [UInt8]) throws -> UInt64? {
        guard let value = try txn.get(streamNumbers, key: digest) else { return nil }
        guard let number = StorageKeys.decodeStreamNumber(value) else {
            throw EventLogError.corruptRecord(seq: 0, reason: "a damaged stream number")
        }
        return number
    }
}

/// A consistent view of the LMDB log inside one transaction (what a ``LogSnapshot`` of an
/// ``EventStore`` reads through).
///
/// Through ``EventStore/read(_:)`` of a writable store it shows the log up to the durable head
/// only: LMDB makes a commit visible before its flush, and an event a power loss could still
/// undo must not be seen (its seq and hash could later name another event). An append's
/// precondition, inside the writer, sees every committed event.
struct LMDBSnapshot {
    let storage: LogStorage
    let txn: LMDBTransaction
    /// The last seq this snapshot shows (`UInt64.max`: everything the transaction holds).
    let visibleThrough: UInt64
    /// Inside the writer: the chain head of its transaction so far, which includes the appends
    /// of the batch before the current one (the stored head is written once, at the batch's end).
    var writerHead: LogHead?

    /// The last event's seq and hash, as stored with every commit (``EventStore/verify(expectedHead:progress:)``
    /// checks that it matches the last event), or the durable head when that is behind it.
    func head() throws -> LogHead {
        if let writerHead { return writerHead }
        guard let stored = try txn.get(storage.meta, key: StorageKeys.metaHead) else { return .empty }
        guard let head = StorageKeys.decodeHead(stored) else {
            throw EventLogError.corruptRecord(seq: 0, reason: "the stored head is damaged")
        }
        guard head.seq > visibleThrough else { return head }
        guard visibleThrough > 0 else { return .empty }
        guard let raw = try rawRecord(seq: visibleThrough) else {
            throw EventLogError.corruptRecord(seq: visibleThrough, reason: "the durable head's event is missing")
        }
        return LogHead(seq: visibleThrough, hash: try EventRecord(stored: raw, seq: visibleThrough).hash)
    }

    /// The event at `seq`, or nil.
    func event(seq: UInt64) throws -> RecordedEvent? {
        guard seq <= visibleThrough else { return nil }
        let key = StorageKeys.seq(seq)
        guard let value = try txn.get(storage.events, key: key) else { return nil }
        return try EventRecord.recordedEvent(stored: value, seq: seq)
    }

    /// Up to `limit` events with seq > `after`, in order.
    func events(after: UInt64, limit: Int) throws -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        try forEachEvent(after: after) { event in
            out.append(event)
            return out.count < limit
        }
        return out
    }

    /// Calls `body` for each event with seq > `after`, in order, until it returns false.
    func forEachEvent(after: UInt64, _ body: (RecordedEvent) throws -> Bool) throws {
        try forEachRecord(after: after) { seq, value in
            try body(try EventRecord.recordedEvent(stored: value, seq: seq))
        }
    }

    /// Calls `body` with each stored record with seq > `after` (its key's seq and its bytes), in
    /// order, until it returns false.
    func forEachRecord(after: UInt64, _ body: (UInt64, UnsafeRawBufferPointer) throws -> Bool) throws {
        guard after < UInt64.max else { return }
        let start = StorageKeys.seq(after + 1)
        try txn.withCursor(storage.events) { cursor in
            var entry = try cursor.seek(atLeast: start)
            while let (key, value) = entry {
                let seq = StorageKeys.decodeSeq(key) ?? 0
                guard seq <= visibleThrough else { return }
                guard try body(seq, value) else { return }
                entry = try cursor.next()
            }
        }
    }

    /// What an idempotency key was first used for: the request's fingerprint, the stored answer
    /// and the last seq that request appended; nil when the key is unused.
    ///
    /// The record is stored in the commit of its events and seen as soon as that commit is,
    /// which may be before it is durable: answer with it only once `lastSeq` is durable
    /// (``EventStore/waitUntilDurable(_:)``).
    func idempotencyRecord(
        key: String
    ) throws
        -> (fingerprint: [UInt8], stream: String, response: [UInt8]?, lastSeq: UInt64)?
    {
        let k = StorageKeys.idempotency(key)
        guard let stored = try txn.get(storage.idempotency, key: k) else { return nil }
        guard let record = IdempotencyRecord(decoding: stored), record.key == key else {
            throw EventLogError.corruptRecord(seq: 0, reason: "unreadable idempotency record")
        }
        return (record.fingerprint, record.stream, record.response, record.lastSeq)
    }

    /// The stream's last version (0 when it has no event).
    func version(of stream: String) throws -> UInt64 {
        guard let number = try storage.streamNumber(txn, stream) else { return 0 }
        return try lastEntry(number: number)?.version ?? 0
    }

    /// The stream's events from `fromVersion` through `throughVersion`, in order.
    func events(inStream stream: String, fromVersion: UInt64 = 1, throughVersion: UInt64 = .max) throws -> [RecordedEvent] {
        guard let number = try storage.streamNumber(txn, stream) else { return [] }
        let start = StorageKeys.streamEntry(number: number, version: max(1, fromVersion))
        var seqs: [UInt64] = []
        try txn.withCursor(storage.streamIndex) { cursor in
            var entry = try cursor.seek(atLeast: start)
            while let (key, value) = entry, let indexed = StorageKeys.decodeStreamEntry(key), indexed.number == number,
                indexed.version <= throughVersion
            {
                guard let seq = StorageKeys.decodeSeq(value) else {
                    throw EventLogError.corruptRecord(seq: 0, reason: "bad stream index entry for \(stream)")
                }
                // A stream's seqs grow with its versions: the rest lies beyond the durable head.
                guard seq <= visibleThrough else { return }
                seqs.append(seq)
                entry = try cursor.next()
            }
        }
        return try seqs.map { seq in
            guard let event = try event(seq: seq) else {
                throw EventLogError.corruptRecord(seq: seq, reason: "indexed for stream \(stream) but missing")
            }
            return event
        }
    }

    /// The last version and the `at` of the last event of the stream numbered `number`, or nil
    /// when it has no event this snapshot shows.
    func tail(number: UInt64) throws -> (version: UInt64, at: Timestamp)? {
        guard let last = try lastEntry(number: number) else { return nil }
        let at = try rawRecord(seq: last.seq).flatMap(EventRecord.at(in:)) ?? Timestamp(milliseconds: .min)
        return (last.version, at)
    }

    /// The last index entry of a stream this snapshot shows: its version and the seq of that event.
    func lastEntry(number: UInt64) throws -> (version: UInt64, seq: UInt64)? {
        let probe = StorageKeys.streamEntry(number: number, version: .max)
        return try txn.withCursor(storage.streamIndex) { cursor in
            let after = try cursor.seek(atLeast: probe)
            var candidate = after == nil ? try cursor.last() : try cursor.previous()
            while let (key, value) = candidate, let indexed = StorageKeys.decodeStreamEntry(key), indexed.number == number,
                let seq = StorageKeys.decodeSeq(value)
            {
                if seq <= visibleThrough { return (indexed.version, seq) }
                // Committed but not yet durable (at most the last batch or two): step back.
                candidate = try cursor.previous()
            }
            return nil
        }
    }

    /// The stored bytes of the event at `seq`, valid while the transaction lives (whether or not
    /// the snapshot shows it: for the writer and ``head()``).
    func rawRecord(seq: UInt64) throws -> UnsafeRawBufferPointer? {
        try txn.get(storage.events, key: StorageKeys.seq(seq))
    }

}
