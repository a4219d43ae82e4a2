import CLMDB
import Testing

@testable import EventLog

@Suite("A log in an older store format is migrated")
struct LogMigrationTests {
    /// Streams with ids that only byte comparison tells apart, written interleaved.
    static let streams = ["T-1", "T-é", "T-e\u{301}", "T-2", String(repeating: "x", count: 512)]

    /// A closed log of 30 events over ``streams``; returns its events.
    func makeLog(_ dir: TemporaryDirectory) async throws -> [RecordedEvent] {
        let store = try openStore(dir)
        for k in 0..<30 {
            let stream = Self.streams[(k * 7 + k / 5) % Self.streams.count]
            let result = try await store.append(AppendRequest(stream: stream, events: [sampleEvent(k)]))
            #expect(!result.events.isEmpty)
        }
        let events = try store.events(after: 0, limit: 100)
        store.close()
        return events
    }

    /// Rewrites the stream index as store format 1 wrote it: `streams`, keyed by SHA-256(stream
    /// id) + version (big-endian) -> seq, with no stream numbers, and `format` 1.
    func writeAsFormatOne(_ dir: TemporaryDirectory) throws {
        let storage = try LogStorage(directory: dir.path, mapSize: 1 << 30, readOnly: false, sync: .full)
        let streams = try storage.environment.openDatabase(named: "streams", create: true)
        try storage.environment.withTransaction(readOnly: false) { txn in
            try txn.withCursor(storage.events) { cursor in
                var entry = try cursor.first()
                while let (key, value) = entry {
                    let record = try EventRecord(decoding: value)
                    var indexKey = StorageKeys.streamDigest(record.stream)
                    indexKey.appendBigEndian(record.version)
                    try txn.put(streams, key: indexKey, value: Array(key))
                    entry = try cursor.next()
                }
            }
            try txn.dropDatabase(named: "streamNumbers")
            try txn.dropDatabase(named: "streamIndex")
            var format: [UInt8] = []
            format.appendBigEndian(UInt32(1))
            try txn.put(storage.meta, key: StorageKeys.metaFormat, value: format)
        }
    }

    @Test func aReadOnlyOpenRefusesTheOldFormatAndSaysHowToMigrate() async throws {
        let dir = TemporaryDirectory()
        _ = try await makeLog(dir)
        try writeAsFormatOne(dir)
        do {
            _ = try openStore(dir, readOnly: true)
            Issue.record("a format-1 log opened read-only")
        } catch {
            guard let error = error as? EventLogError, case .incompatibleStore(let detail) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(detail.contains("store format 1"))
            #expect(detail.contains("support-replay migrate"))
        }
    }

    @Test func aWritableOpenMigratesAndTheLogVerifiesWithTheSameHeadAndStreams() async throws {
        let dir = TemporaryDirectory()
        let events = try await makeLog(dir)
        try writeAsFormatOne(dir)

        do {
            let store = try openStore(dir)
            #expect(store.migratedFromFormat == 1)
            let report = try store.verify()
            #expect(report.isIntact, "\(String(describing: report.failure))")
            #expect(report.head == LogHead(seq: events.last!.seq, hash: events.last!.hash))
            #expect(try store.events(after: 0, limit: 100) == events)
            for stream in Self.streams {
                let expected = events.filter { Array($0.stream.utf8) == Array(stream.utf8) }
                let indexed = try store.read { try $0.events(inStream: stream) }
                let version = try store.read { try $0.version(of: stream) }
                #expect(indexed == expected)
                #expect(version == UInt64(expected.count))
            }
            // Appends go on where the streams were, and a new stream gets the next number.
            let next = try await store.append(
                AppendRequest(
                    stream: "T-1", events: [sampleEvent(99)], expectedVersion: .exactly(UInt64(events.filter { $0.stream == "T-1" }.count)))
            )
            #expect(next.events.first?.version == UInt64(events.filter { $0.stream == "T-1" }.count + 1))
            _ = try await store.append(AppendRequest(stream: "T-new", events: [sampleEvent(100)], expectedVersion: .noStream))
            #expect(try store.verify().isIntact)
            store.close()
        }

        let reopened = try openStore(dir)
        #expect(reopened.migratedFromFormat == nil)
        #expect(try reopened.verify().isIntact)
        reopened.close()
    }

    @Test func streamsAreNumberedInOrderOfTheirFirstEvent() async throws {
        let dir = TemporaryDirectory()
        let events = try await makeLog(dir)
        var firstSeen: [[UInt8]] = []
        for e in events where !firstSeen.contains(Array(e.stream.utf8)) { firstSeen.append(Array(e.stream.utf8)) }
        let storage = try LogStorage(directory: dir.path, mapSize: 1 << 30, readOnly: true, sync: .full)
        let numbers = try storage.environment.withReadTransaction { txn in
            try firstSeen.map { try storage.streamNumber(txn, String(decoding: $0, as: UTF8.self)) }
        }
        #expect(numbers == firstSeen.indices.map { UInt64($0 + 1) })
    }

    @Test func swappedStreamNumbersAreCaughtByVerify() async throws {
        let dir = TemporaryDirectory()
        _ = try await makeLog(dir)
        try withRawLog(dir) { storage, txn in
            let a = StorageKeys.streamDigest(Self.streams[0]), b = StorageKeys.streamDigest(Self.streams[1])
            let numberA = try #require(try storage.streamNumber(txn, digest: a))
            let numberB = try #require(try storage.streamNumber(txn, digest: b))
            try txn.put(storage.streamNumbers, key: a, value: StorageKeys.streamNumber(numberB))
            try txn.put(storage.streamNumbers, key: b, value: StorageKeys.streamNumber(numberA))
        }
        let store = try openStore(dir)
        defer { store.close() }
        #expect(try store.verify().failure?.kind == .streamIndex)
    }
}
