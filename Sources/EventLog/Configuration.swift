/// How the log is opened.
public struct EventLogConfiguration: Sendable {
    /// The data directory (created when missing, unless read-only).
    public var directory: String
    /// How envelopes are written as JSON; fixed when the log is created.
    public var envelope: EnvelopeFormat
    /// When an append counts as done.
    public var durability: Durability
    /// Open without the writer, for tools reading beside a running server.
    public var readOnly: Bool
    /// The initial LMDB map size in bytes. The file is sparse, so a large map costs nothing;
    /// when it fills anyway, the writer doubles it and retries the batch.
    public var mapSize: Int
    /// The clock the writer reads for `recorded` (and for `at` when an event leaves it open).
    public var clock: @Sendable () -> Timestamp
    /// At most this many append requests are committed in one transaction.
    public var maximumBatch: Int
    /// The replicated log a cluster's leader writes through before it commits (see
    /// ``LogReplicator``); nil for a single node, whose log is its own.
    public var replicator: (any LogReplicator)?
    /// Faults injected into the writer's flushes (tests only; none by default).
    package var faults = StorageFaults()
    /// How long the writer waits, idle with frames in the write-ahead segment, before it flushes
    /// LMDB and begins a new segment epoch (durable mode; tests that stage a crash set it longer
    /// than they run).
    package var idleCheckpointMilliseconds = 1000
    /// The size in bytes the write-ahead segment is made on creation (durable mode).
    package var segmentSize = WriteAheadSegment.initialSize
    /// The size it grows to (doubling) when full before a full segment ends the epoch (LMDB's
    /// flush) instead; equal to ``segmentSize``, it never grows. An epoch's frames end here even
    /// in a file made larger by an earlier setting.
    package var segmentGrownSize = WriteAheadSegment.grownSize

    /// A configuration for the data directory `directory`. The defaults: durable appends, the
    /// `stream` field, a 64 GiB map, batches of at most 8,192 requests and the system clock.
    public init(
        directory: String,
        envelope: EnvelopeFormat = EnvelopeFormat(streamField: "stream"),
        durability: Durability = .durable,
        readOnly: Bool = false,
        mapSize: Int = 64 << 30,
        maximumBatch: Int = 8192,
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) {
        self.directory = directory
        self.envelope = envelope
        self.durability = durability
        self.readOnly = readOnly
        self.mapSize = mapSize
        self.maximumBatch = maximumBatch
        self.clock = clock
    }
}

/// When an append is acknowledged.
public enum Durability: Sendable, Equatable {
    /// After the commit holding it is flushed to disk: its group's frame in the write-ahead
    /// segment (`segment.wal`, one `fdatasync` per group; LMDB itself is flushed behind it, see
    /// docs/architecture.md, "Durability"). The default, and the only mode in which an
    /// acknowledged event survives a power loss.
    case durable
    /// After the commit, without waiting for the flush (`MDB_NOSYNC`); the writer flushes at
    /// most `flushInterval` milliseconds later and on close. A process crash loses nothing;
    /// an OS crash or power loss may lose the last interval. An explicit opt-in for bulk loads.
    case deferred(flushIntervalMilliseconds: Int)
}
