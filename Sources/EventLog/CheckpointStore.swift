import Foundation
import Synchronization

/// A projection's stored state and how far into the log it reaches.
public struct StoredCheckpoint: Sendable, Equatable {
    /// The seq and hash of the last event the state has applied (``LogHead/empty``: none).
    public var applied: LogHead
    /// The projection's own bytes.
    public var state: [UInt8]

    /// A checkpoint of `state` that has applied the log up to `applied`.
    public init(applied: LogHead, state: [UInt8]) {
        self.applied = applied
        self.state = state
    }
}

/// Where projections keep their checkpoints: a cache beside the log, never part of it.
///
/// A checkpoint names the event it reaches (seq and hash): ``save(name:state:appliedSeq:of:)``
/// refuses a seq beyond the log's durable head, and ``checkpoint(name:of:)`` offers a checkpoint
/// only while the log still holds that very event, so a checkpoint can never claim events the
/// log does not have (after a crash of a deferred-durability log, or a restored backup).
public protocol CheckpointStore: AnyObject, Sendable {
    /// The stored checkpoint of that name, whatever log it was taken of.
    func load(name: String) throws(EventLogError) -> StoredCheckpoint?
    /// Replaces the checkpoint of that name, atomically and durably.
    func store(_ checkpoint: StoredCheckpoint, name: String) throws(EventLogError)
}

extension CheckpointStore {
    /// Stores `state` as the checkpoint `name`, reaching the event at `appliedSeq` of `log`.
    ///
    /// - Throws: ``EventLogError/invalidRequest(_:)`` when `appliedSeq` lies beyond the log's
    ///   durable head; storage errors.
    public func save(name: String, state: [UInt8], appliedSeq: UInt64, of log: any EventStoring) throws(EventLogError) {
        var applied = LogHead.empty
        if appliedSeq > 0 {
            guard let event = try log.read({ try $0.event(seq: appliedSeq) }) else {
                throw .invalidRequest("a checkpoint at seq \(appliedSeq) lies beyond the durable head of the log")
            }
            applied = LogHead(seq: event.seq, hash: event.hash)
        }
        try store(StoredCheckpoint(applied: applied, state: state), name: name)
    }

    /// The checkpoint `name` when it reaches an event `log` holds durably (same seq, same hash);
    /// nil when there is none or it does not fit the log.
    public func checkpoint(name: String, of log: any EventStoring) throws(EventLogError) -> StoredCheckpoint? {
        guard let stored = try load(name: name) else { return nil }
        guard stored.applied.seq > 0 else { return stored }
        let event = try log.read { try $0.event(seq: stored.applied.seq) }
        return event?.hash == stored.applied.hash ? stored : nil
    }
}

/// Checkpoints kept in memory, for tests and tools.
public final class InMemoryCheckpointStore: CheckpointStore {
    private let checkpoints = Mutex<[String: StoredCheckpoint]>([:])

    /// An empty store.
    public init() {}

    public func load(name: String) throws(EventLogError) -> StoredCheckpoint? {
        checkpoints.withLock { $0[name] }
    }

    public func store(_ checkpoint: StoredCheckpoint, name: String) throws(EventLogError) {
        checkpoints.withLock { $0[name] = checkpoint }
    }
}

/// Checkpoints in their own owner-only LMDB environment, `<data directory>/checkpoints/`: the
/// log's writer knows nothing of them. Each save is one transaction, flushed before it returns.
///
/// Value layout: `u8 format=1 | u64 seq | 32 hash | state` (integers little-endian).
public final class LMDBCheckpointStore: CheckpointStore {
    static let format: UInt8 = 1
    private let environment: LMDBEnvironment?
    private let database: LMDBDatabase?

    /// The checkpoint directory of a data directory.
    package static func directory(ofDataDirectory dataDirectory: String) -> String {
        dataDirectory + "/checkpoints"
    }

    /// Opens (creating when needed and not `readOnly`) the checkpoints of a data directory. Read-only,
    /// a data directory without checkpoints is an empty store.
    public init(dataDirectory: String, readOnly: Bool = false) throws(EventLogError) {
        let directory = Self.directory(ofDataDirectory: dataDirectory)
        if readOnly && !FileManager.default.fileExists(atPath: directory + "/data.mdb") {
            environment = nil
            database = nil
            return
        }
        if !readOnly { try OwnerOnlyDirectory.prepare(directory) }
        do {
            let environment = try LMDBEnvironment(
                directory: directory, mapSize: 64 << 30, maxDatabases: 1,
                readOnly: readOnly, sync: .full)
            database = try environment.openDatabase(named: "checkpoints", create: !readOnly)
            self.environment = environment
        } catch {
            throw .storage("cannot open the checkpoints in \(directory): \(error)")
        }
    }

    public func load(name: String) throws(EventLogError) -> StoredCheckpoint? {
        guard let environment, let database else { return nil }
        do {
            return try environment.withReadTransaction { txn -> StoredCheckpoint? in
                guard let value = try txn.get(database, key: Array(name.utf8)) else { return nil }
                var reader = ByteReader(value)
                guard try reader.byte() == Self.format else {
                    throw EventLogError.corruptRecord(seq: 0, reason: "checkpoint \(name) has an unknown layout")
                }
                let seq = try reader.uint64()
                let hash = EventHash(bytes: try reader.bytes(count: 32))
                let state = Array(try reader.bytes(count: value.count - reader.offset))
                return StoredCheckpoint(applied: LogHead(seq: seq, hash: hash), state: state)
            }
        } catch let error as ByteReader.Failure {
            throw .corruptRecord(seq: 0, reason: "checkpoint \(name) is truncated: \(error)")
        } catch {
            throw .wrapping(error)
        }
    }

    public func store(_ checkpoint: StoredCheckpoint, name: String) throws(EventLogError) {
        guard let environment, let database else { throw .readOnly }
        var value: [UInt8] = []
        value.reserveCapacity(1 + 8 + 32 + checkpoint.state.count)
        value.append(Self.format)
        value.appendLittleEndian(checkpoint.applied.seq)
        checkpoint.applied.hash.appendBytes(to: &value)
        value.append(contentsOf: checkpoint.state)
        while true {
            do {
                try environment.withTransaction(readOnly: false) { txn in
                    try txn.put(database, key: Array(name.utf8), value: value)
                }
                return
            } catch LMDBError.mapFull {
                do { try environment.grow(minimumSize: environment.mapSize * 2) } catch {
                    throw .storage("the checkpoints are full and could not grow: \(error)")
                }
            } catch {
                throw .storage("cannot store checkpoint \(name): \(error)")
            }
        }
    }
}

extension EventStore {
    /// The stored projection checkpoint `name` of this store's data directory, read-only, when it
    /// fits this log (``CheckpointStore/checkpoint(name:of:)``): its seq and state, or nil. For
    /// tools beside a running server (kept for `support-replay verify`, which may as well open an
    /// ``LMDBCheckpointStore`` itself); a server's own projections go through ``LMDBCheckpointStore``.
    package func checkpoint(name: String) throws(EventLogError) -> (seq: UInt64, state: [UInt8])? {
        let stored = try LMDBCheckpointStore(dataDirectory: configuration.directory, readOnly: true)
            .checkpoint(name: name, of: self)
        return stored.map { ($0.applied.seq, $0.state) }
    }
}
