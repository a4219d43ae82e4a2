import Foundation
import Testing

@testable import EventLog

/// The checkpoint stores every contract test runs against.
enum CheckpointStoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case lmdb, memory

    var testDescription: String { rawValue }

    func open(_ dir: TemporaryDirectory) throws -> any CheckpointStore {
        switch self {
        case .lmdb: try LMDBCheckpointStore(dataDirectory: dir.path)
        case .memory: InMemoryCheckpointStore()
        }
    }
}

/// A log of `count` events in memory.
func memoryLog(count: Int, stream: String = "T-1") async throws -> InMemoryEventStore {
    let log = InMemoryEventStore(envelope: EnvelopeFormat(streamField: "ticket"))
    for n in 0..<count { _ = try await log.append(AppendRequest(stream: stream, events: [sampleEvent(n)])) }
    return log
}

@Suite("The checkpoint store contract (LMDB and in memory)")
struct CheckpointStoreContractTests {
    @Test(arguments: CheckpointStoreKind.allCases)
    func aCheckpointIsStoredAndReplacedByTheNextUnderItsName(_ kind: CheckpointStoreKind) async throws {
        let dir = TemporaryDirectory()
        let checkpoints = try kind.open(dir)
        let log = try await memoryLog(count: 3)
        #expect(try checkpoints.checkpoint(name: "queues", of: log) == nil)
        try checkpoints.save(name: "queues", state: [1, 2, 3], appliedSeq: 1, of: log)
        try checkpoints.save(name: "queues", state: [4, 5], appliedSeq: 3, of: log)
        try checkpoints.save(name: "metrics", state: [], appliedSeq: 0, of: log)
        let queues = try #require(try checkpoints.checkpoint(name: "queues", of: log))
        #expect(queues.applied == (try log.head))
        #expect(queues.state == [4, 5])
        #expect(try checkpoints.checkpoint(name: "metrics", of: log) == StoredCheckpoint(applied: .empty, state: []))
    }

    @Test(arguments: CheckpointStoreKind.allCases)
    func aCheckpointBeyondTheDurableHeadIsRefusedAndStoresNothing(_ kind: CheckpointStoreKind) async throws {
        let dir = TemporaryDirectory()
        let checkpoints = try kind.open(dir)
        let log = try await memoryLog(count: 2)
        #expect(throws: EventLogError.self) { try checkpoints.save(name: "p", state: [1], appliedSeq: 3, of: log) }
        #expect(try checkpoints.load(name: "p") == nil)
    }

    /// A checkpoint names the event it reaches: after a lost tail (a shorter log) or on another
    /// log with the same seqs, it is not offered.
    @Test(arguments: CheckpointStoreKind.allCases)
    func aCheckpointIsOfferedOnlyForTheLogThatHoldsItsEvent(_ kind: CheckpointStoreKind) async throws {
        let dir = TemporaryDirectory()
        let checkpoints = try kind.open(dir)
        let log = try await memoryLog(count: 3)
        try checkpoints.save(name: "p", state: [7], appliedSeq: 3, of: log)
        #expect(try checkpoints.checkpoint(name: "p", of: log)?.state == [7])
        #expect(try checkpoints.checkpoint(name: "p", of: try await memoryLog(count: 2)) == nil)
        #expect(try checkpoints.checkpoint(name: "p", of: try await memoryLog(count: 3, stream: "T-2")) == nil)
        #expect(try checkpoints.load(name: "p")?.state == [7], "still stored: a cache the runner replaces")
    }
}

@Suite("The LMDB checkpoint store")
struct LMDBCheckpointStoreTests {
    /// A closed log of two events with the checkpoint `p` (state [9]) at seq 2.
    func closedLogWithCheckpoint() async throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1), sampleEvent(2)]))
        try LMDBCheckpointStore(dataDirectory: dir.path).save(name: "p", state: [9], appliedSeq: 2, of: store)
        store.close()
        return dir
    }

    @Test func aCheckpointSurvivesReopeningInAnOwnerOnlyDirectoryApartFromTheLog() async throws {
        let dir = TemporaryDirectory()
        do {
            let store = try openStore(dir)
            _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
            try LMDBCheckpointStore(dataDirectory: dir.path).save(name: "queues", state: [4, 5], appliedSeq: 1, of: store)
            store.close()
        }
        let store = try openStore(dir)
        let checkpoints = try LMDBCheckpointStore(dataDirectory: dir.path, readOnly: true)
        #expect(try checkpoints.checkpoint(name: "queues", of: store)?.state == [4, 5])
        let attributes = try FileManager.default.attributesOfItem(atPath: LMDBCheckpointStore.directory(ofDataDirectory: dir.path))
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        #expect(try store.verify().isIntact, "checkpoints are not events")
    }

    @Test func aDataDirectoryWithoutCheckpointsReadsAsEmptyReadOnly() throws {
        let dir = TemporaryDirectory()
        #expect(try LMDBCheckpointStore(dataDirectory: dir.path, readOnly: true).load(name: "p") == nil)
        #expect(!FileManager.default.fileExists(atPath: LMDBCheckpointStore.directory(ofDataDirectory: dir.path)))
        #expect(throws: EventLogError.self) {
            try LMDBCheckpointStore(dataDirectory: dir.path, readOnly: true).store(StoredCheckpoint(applied: .empty, state: []), name: "p")
        }
    }

    @Test func toolsReadTheCheckpointThroughTheStore() async throws {
        let dir = try await closedLogWithCheckpoint()
        let reader = try openStore(dir, readOnly: true)
        #expect(try reader.checkpoint(name: "p")?.seq == 2)
        #expect(try reader.checkpoint(name: "p")?.state == [9])
        #expect(try reader.checkpoint(name: "other") == nil)
    }

    /// A log cut back below a checkpoint (a consistent truncation, an older backup) has no
    /// checkpoint for tools to check: the projections will rebuild.
    @Test func toolsSeeNoCheckpointBeyondTheLog() async throws {
        let dir = try await closedLogWithCheckpoint()
        try withRawLog(dir) { storage, txn in
            _ = try txn.delete(storage.events, key: StorageKeys.seq(2))
            if let key = try storage.streamEntryKey(txn, stream: "T-1", version: 2) { _ = try txn.delete(storage.streamIndex, key: key) }
        }
        #expect(try openStore(dir, readOnly: true).checkpoint(name: "p") == nil)
    }

    /// Before checkpoints had their own store they lived in a `checkpoints` database of the log:
    /// a writable open drops it (a cache), and the log stays intact.
    @Test func aCheckpointInTheLogsOldPlaceIsDroppedOnOpen() async throws {
        let dir = TemporaryDirectory()
        do {
            let store = try openStore(dir)
            _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
            store.close()
        }
        do {
            let raw = try LMDBEnvironment(directory: dir.path, mapSize: 1 << 30, maxDatabases: 8, readOnly: false, sync: .full)
            let old = try raw.openDatabase(named: LogStorage.retiredCheckpoints, create: true)
            try raw.withTransaction(readOnly: false) { txn in
                try txn.put(old, key: Array("support-projection".utf8), value: [0, 0, 0, 0, 0, 0, 0, 1, 42])
            }
        }
        let store = try openStore(dir)
        #expect(try store.checkpoint(name: "support-projection") == nil)
        #expect(try store.verify().isIntact)
        store.close()
        let raw = try LMDBEnvironment(directory: dir.path, mapSize: 1 << 30, maxDatabases: 8, readOnly: true, sync: .full)
        #expect(throws: LMDBError.notFound) {
            try raw.openDatabase(named: LogStorage.retiredCheckpoints, create: false)
        }
    }
}
