import Foundation

/// The append-only event log of one data directory.
///
/// Appends go through one writer thread with group commit (see ``append(_:)``); reads run in
/// short read-only transactions on the caller's thread and never block the writer. A data
/// directory is held by one writing process at a time; read-only stores (for tools) may be
/// opened beside it.
public final class EventStore: EventStoring {
    /// The configuration the store was opened with.
    public let configuration: EventLogConfiguration
    /// How envelopes are written as JSON (fixed when the log was created).
    public var envelope: EnvelopeFormat { configuration.envelope }
    let storage: LogStorage
    /// The older store format this open migrated the data directory from (see
    /// ``EventLogError/incompatibleStore(_:)``), or nil when it was current.
    package var migratedFromFormat: UInt32? { storage.migratedFrom }
    private let writer: LogWriter?
    private let headWatch: HeadWatch
    private let lock: DataDirectoryLock?

    /// Opens (creating when needed) the log in `configuration.directory`.
    public init(_ configuration: EventLogConfiguration) throws(EventLogError) {
        self.configuration = configuration
        let directory = configuration.directory
        var lock: DataDirectoryLock?
        if !configuration.readOnly {
            try OwnerOnlyDirectory.prepare(directory)
            lock = try DataDirectoryLock(directory: directory)
        }
        // Durable mode: commits are made durable by the write-ahead segment, LMDB is flushed when
        // a segment epoch ends; deferred mode: LMDB is flushed every interval.
        var sync = LMDBEnvironment.SyncMode.none
        if configuration.readOnly { sync = .full }  // sync flags mean nothing to a reader; LMDB refuses them with MDB_RDONLY
        let pendingFrames = try Self.restoreIfNeeded(configuration)
        do {
            storage = try LogStorage(
                directory: directory, mapSize: configuration.mapSize,
                readOnly: configuration.readOnly, sync: sync, pin: !configuration.readOnly)
        } catch let error as EventLogError {
            throw error
        } catch {
            throw .storage("cannot open the log in \(directory): \(error)")
        }
        var head = try Self.checkFormat(storage, configuration)
        var segment: WriteAheadSegment?
        if !configuration.readOnly {
            (head, segment) = try Self.replaySegment(storage, configuration, head: head, pendingFrames: pendingFrames)
        }
        self.lock = lock
        let watch = HeadWatch(head: head)
        headWatch = watch
        if configuration.readOnly {
            writer = nil
        } else {
            writer = LogWriter(storage: storage, configuration: configuration, head: head, headWatch: watch, segment: segment)
        }
    }

    /// Before LMDB is opened: when the segment holds frames (the writer did not close) and the
    /// machine restarted since their epoch began, LMDB's unflushed commits may be half on disk, so
    /// its meta pages are put back to the flushed commit the epoch began at (whose pages nothing
    /// overwrote: see ``LMDBEnvironment/pinLastCommit()``); the frames then bring it forward. A
    /// read-only open refuses such a directory. Returns whether the segment holds frames.
    private static func restoreIfNeeded(_ configuration: EventLogConfiguration) throws(EventLogError) -> Bool {
        guard let contents = try WriteAheadSegment.contents(ofDirectory: configuration.directory), !contents.frames.isEmpty else {
            return false
        }
        guard let header = contents.header, header.bootID.isEmpty || header.bootID != WriteAheadSegment.currentBootID() else {
            return true
        }
        if configuration.readOnly {
            throw .storage(
                "the log in \(configuration.directory) was being written when the machine restarted; open it for writing once (supportd, or `support-replay migrate --data-dir`) to recover it from its write-ahead segment"
            )
        }
        do {
            try LMDBEnvironment.restoreMetaPages(header.metaPages, directory: configuration.directory)
        } catch {
            throw .storage("cannot bring the log in \(configuration.directory) back to its last flushed commit: \(error)")
        }
        return true
    }

    /// Before anything is served: writes the write-ahead segment's frames beyond the log's head
    /// into the log (checked like ``verify(expectedHead:progress:)`` checks the log), flushes LMDB,
    /// and begins a new segment epoch (dropping the frames, noting LMDB's flushed state). Returns
    /// the head and, in durable mode, the segment to write to.
    private static func replaySegment(
        _ storage: LogStorage, _ configuration: EventLogConfiguration, head: LogHead, pendingFrames: Bool
    ) throws(EventLogError) -> (LogHead, WriteAheadSegment?) {
        let durable = configuration.durability == .durable
        do {
            guard durable || pendingFrames else {
                // Deferred mode without a segment to replay: flush what the open wrote and hold nothing.
                try storage.environment.sync(force: true)
                storage.environment.unpin()
                return (head, nil)
            }
            let segment = try WriteAheadSegment(
                directory: configuration.directory, initialSize: configuration.segmentSize, grownSize: configuration.segmentGrownSize)
            let frames = try LogStorage.framesBeyond(head, in: try segment.contents)
            let replayed = try storage.replay(frames, onto: head, envelope: configuration.envelope)
            try storage.environment.sync(force: true)
            try segment.beginEpoch(metaPages: try storage.environment.metaPages())
            if durable {
                try storage.environment.pinLastCommit()
            } else {
                storage.environment.unpin()
            }
            return (replayed, durable ? segment : nil)
        } catch let error as EventLogError {
            throw error
        } catch {
            throw .storage("replaying the write-ahead segment of \(configuration.directory) failed: \(error)")
        }
    }

    /// Checks (or, on a new log, writes) the stored format and envelope; returns the head.
    private static func checkFormat(_ storage: LogStorage, _ configuration: EventLogConfiguration) throws(EventLogError) -> LogHead {
        do {
            return try storage.environment.withTransaction(readOnly: configuration.readOnly) { txn in
                let snapshot = LMDBSnapshot(storage: storage, txn: txn, visibleThrough: .max)
                if let format = try txn.get(storage.meta, key: StorageKeys.metaFormat) {
                    var reader = ByteReader(format)
                    guard format.count == 4, (try? reader.bigEndianUInt32()) == LogStorage.formatVersion else {
                        throw EventLogError.incompatibleStore("store format \(Array(format)) is not \(LogStorage.formatVersion)")
                    }
                    let field = try txn.get(storage.meta, key: StorageKeys.metaStreamField)
                    let stored = field.map { String(decoding: $0, as: UTF8.self) } ?? ""
                    guard stored == configuration.envelope.streamField else {
                        throw EventLogError.incompatibleStore(
                            "the log's stream field is \"\(stored)\", not \"\(configuration.envelope.streamField)\"")
                    }
                } else if !configuration.readOnly {
                    var version: [UInt8] = []
                    version.appendBigEndian(LogStorage.formatVersion)
                    try txn.put(storage.meta, key: StorageKeys.metaFormat, value: version)
                    try txn.put(storage.meta, key: StorageKeys.metaStreamField, value: Array(configuration.envelope.streamField.utf8))
                }
                return try snapshot.head()
            }
        } catch let error as EventLogError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    /// Stops the writer after it has committed everything queued, and wakes every waiter.
    /// Appends after this fail with ``EventLogError/closed``.
    public func close() {
        writer?.close()
        headWatch.close()
    }

    deinit { close() }

    // MARK: Appending

    /// Appends several requests, each atomically and independently of the others (one may fail
    /// while the rest succeed), committed together; answers once all are durable.
    public func append(contentsOf requests: [AppendRequest]) async -> [Result<AppendResult, EventLogError>] {
        guard let writer else { return requests.map { _ in .failure(.readOnly) } }
        return await AppendRules.screen(requests) { await writer.submit($0) }
    }

    /// Writes a follower's events from the replicated log, in order, after the writer's last:
    /// each must continue the chain (its seq follows, its `prev` is the head's hash, its hash is
    /// its envelope's, its version follows its stream's), as ``verify(expectedHead:progress:)``
    /// checks. Answers once they are durable; the first that does not hold throws
    /// ``EventLogError/corruptRecord(seq:reason:)`` and nothing of the call is written.
    public func applyReplicated(_ events: [ReplicatedEvent]) async throws(EventLogError) {
        guard let writer else { throw .readOnly }
        guard !events.isEmpty else { return }
        if case .failure(let error) = await writer.submitReplicated(events) { throw error }
    }

    /// Up to `limit` events after `after`, as a replicated log carries them (their stored
    /// records, without idempotency entries): what a node publishes when its log is ahead of the
    /// replicated log it joins (a single node's log becoming a cluster's).
    public func replicatedEvents(after: UInt64, limit: Int) throws(EventLogError) -> [ReplicatedEvent] {
        try readLMDB { snapshot in
            var out: [ReplicatedEvent] = []
            try snapshot.forEachRecord(after: after) { seq, raw in
                let record = try EventRecord(stored: raw, seq: seq)
                out.append(ReplicatedEvent(seq: seq, hash: record.hash, record: Array(raw)))
                return out.count < limit
            }
            return out
        }
    }

    /// Counters since the store was opened.
    package struct Statistics: Sendable, Equatable {
        /// Write transactions committed (in durable mode each one segment frame; one flush covers
        /// the frames written while the previous one ran).
        package var commits: UInt64
        /// Events appended.
        package var events: UInt64
        /// Requests waiting for the writer to take them (now, not since open).
        package var queued: Int
    }

    /// Counters since the store was opened (zero for a read-only store).
    package var statistics: Statistics {
        Statistics(
            commits: writer?.commits.load(ordering: .relaxed) ?? 0,
            events: writer?.appendedEvents.load(ordering: .relaxed) ?? 0,
            queued: writer?.queuedCount ?? 0)
    }

    // MARK: Reading

    /// The last event readers see: in a writable store the durable head (the last event the
    /// writer has acknowledged, after its flush); in a read-only store the last committed event
    /// (what the disk holds, which is what a restart would see).
    public var head: LogHead {
        get throws(EventLogError) {
            if writer != nil { return headWatch.head }
            return try read { try $0.head() }
        }
    }

    /// Waits until the event at `seq` is durable (at once when it is). Returns false when the
    /// log closes, the task is cancelled or a flush fails first (then it never will be). In a
    /// read-only store it answers at once whether `seq` is committed.
    public func waitUntilDurable(_ seq: UInt64) async -> Bool {
        guard writer != nil else { return ((try? head.seq) ?? 0) >= seq }
        guard seq > 0 else { return true }
        return await headWatch.wait(beyond: seq - 1, endsOnFailure: true)
    }

    /// Runs `body` in one read-only transaction: a consistent snapshot of the log, up to the
    /// durable head in a writable store (see ``LogSnapshot``).
    ///
    /// `body` is synchronous on purpose: never hold a transaction across an `await`.
    public func read<R>(_ body: (LogSnapshot) throws -> R) throws(EventLogError) -> R {
        try readLMDB { try body(LogSnapshot($0)) }
    }

    /// ``read(_:)`` with the LMDB transaction at hand (for verification).
    func readLMDB<R>(_ body: (LMDBSnapshot) throws -> R) throws(EventLogError) -> R {
        // The durable head is read before the transaction begins, so the snapshot holds all of it.
        let visible = writer == nil ? UInt64.max : headWatch.head.seq
        do {
            return try storage.environment.withReadTransaction { txn in
                try body(LMDBSnapshot(storage: storage, txn: txn, visibleThrough: visible))
            }
        } catch {
            throw .wrapping(error)
        }
    }

    /// Waits until an event after `seq` is durable (readable). Returns false when the task is
    /// cancelled or the log closes first. In a read-only store it returns at once.
    public func waitForEvents(after seq: UInt64) async -> Bool {
        guard writer != nil else { return ((try? head.seq) ?? 0) > seq }
        return await headWatch.wait(beyond: seq)
    }

    /// Copies the log while it is in use (LMDB's hot copy); `compact` also drops free pages.
    /// The backup is owner-only like the data directory: `directory` is created (or tightened)
    /// 0700 and its `data.mdb` written 0600.
    public func backup(to directory: String, compact: Bool) throws(EventLogError) {
        try OwnerOnlyDirectory.prepare(directory)
        do {
            try storage.environment.copy(to: directory, compact: compact)
        } catch {
            throw .storage("backup to \(directory) failed: \(error)")
        }
    }
}
