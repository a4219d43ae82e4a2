import Testing

@testable import EventLog

@Suite("Verification catches tampering")
struct TamperTests {
    /// A closed log of ten events over three streams; returns the events.
    func makeLog(_ dir: TemporaryDirectory) async throws -> [RecordedEvent] {
        let store = try openStore(dir)
        for k in 1...10 {
            _ = try await store.append(AppendRequest(stream: "T-\(k % 3)", events: [sampleEvent(k)]))
        }
        let events = try store.events(after: 0, limit: 100)
        #expect(try store.verify().isIntact)
        store.close()
        return events
    }

    func rawValue(_ storage: LogStorage, _ txn: LMDBTransaction, seq: UInt64) throws -> [UInt8] {
        let key = StorageKeys.seq(seq)
        return Array(try key.withUnsafeBytes { try txn.get(storage.events, key: $0) } ?? UnsafeRawBufferPointer(start: nil, count: 0))
    }

    func put(_ storage: LogStorage, _ txn: LMDBTransaction, seq: UInt64, _ value: [UInt8]) throws {
        let key = StorageKeys.seq(seq)
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(storage.events, key: k, value: $0) } }
    }

    func verify(_ dir: TemporaryDirectory, expectedHead: LogHead? = nil) throws -> VerificationReport {
        let store = try openStore(dir)
        defer { store.close() }
        return try store.verify(expectedHead: expectedHead)
    }

    @Test(arguments: [20, 60, 100, 140])
    func flippingOneByteOfAnEventNamesItsSeq(offset: Int) async throws {
        let dir = TemporaryDirectory()
        _ = try await makeLog(dir)
        try withRawLog(dir) { storage, txn in
            var value = try rawValue(storage, txn, seq: 6)
            value[min(offset, value.count - 1)] ^= 0x01
            try put(storage, txn, seq: 6, value)
        }
        let report = try verify(dir)
        #expect(report.failure?.seq == 6, "\(String(describing: report.failure))")
        #expect(report.isIntact == false)
    }

    @Test func deletingAnEventIsASeqGap() async throws {
        let dir = TemporaryDirectory()
        _ = try await makeLog(dir)
        try withRawLog(dir) { storage, txn in
            try StorageKeys.seq(5).withUnsafeBytes { _ = try txn.delete(storage.events, key: $0) }
        }
        let report = try verify(dir)
        #expect(report.failure?.kind == .seqGap)
        #expect(report.failure?.seq == 5)
    }

    @Test func swappingTwoEventsIsCaughtAtTheFirst() async throws {
        let dir = TemporaryDirectory()
        _ = try await makeLog(dir)
        try withRawLog(dir) { storage, txn in
            let a = try rawValue(storage, txn, seq: 4), b = try rawValue(storage, txn, seq: 7)
            try put(storage, txn, seq: 4, b)
            try put(storage, txn, seq: 7, a)
        }
        let report = try verify(dir)
        #expect(report.failure?.seq == 4)
        #expect(report.failure?.kind == .seqMismatch)
    }

    @Test func aRemovedStreamIndexEntryIsCaught() async throws {
        let dir = TemporaryDirectory()
        let events = try await makeLog(dir)
        try withRawLog(dir) { storage, txn in
            let key = try #require(try storage.streamEntryKey(txn, stream: events[2].stream, version: events[2].version))
            try key.withUnsafeBytes { _ = try txn.delete(storage.streamIndex, key: $0) }
        }
        let report = try verify(dir)
        #expect(report.failure?.kind == .streamIndex)
        #expect(report.failure?.seq == 3)
    }

    /// Cuts the log back to `seq` consistently (events, index entries and stored head), as an
    /// attacker covering their tracks would.
    func truncate(_ dir: TemporaryDirectory, to seq: UInt64, events: [RecordedEvent]) throws {
        try withRawLog(dir) { storage, txn in
            for e in events where e.seq > seq {
                try StorageKeys.seq(e.seq).withUnsafeBytes { _ = try txn.delete(storage.events, key: $0) }
                if let key = try storage.streamEntryKey(txn, stream: e.stream, version: e.version) {
                    try key.withUnsafeBytes { _ = try txn.delete(storage.streamIndex, key: $0) }
                }
            }
            // A stream that began after the cut loses its number too (once its entries are gone).
            for e in events where e.seq > seq && e.version == 1 {
                _ = try txn.delete(storage.streamNumbers, key: StorageKeys.streamDigest(e.stream))
            }
            try txn.put(
                storage.meta, key: StorageKeys.metaHead,
                value: StorageKeys.headValue(LogHead(seq: seq, hash: events[Int(seq) - 1].hash)))
        }
    }

    @Test func aTruncatedLogIsCaughtAgainstANotedHead() async throws {
        let dir = TemporaryDirectory()
        let events = try await makeLog(dir)
        let noted = LogHead(seq: 10, hash: events[9].hash)
        try truncate(dir, to: 7, events: events)
        #expect(try verify(dir).isIntact, "a consistent truncation passes on its own")
        let report = try verify(dir, expectedHead: noted)
        #expect(report.failure?.kind == .expectedHead)
        #expect(try verify(dir, expectedHead: LogHead(seq: 7, hash: events[6].hash)).isIntact)
    }

    @Test func aRechainedSuffixIsCaughtAgainstANotedHead() async throws {
        let dir = TemporaryDirectory()
        let events = try await makeLog(dir)
        let noted = LogHead(seq: 9, hash: events[8].hash)
        try truncate(dir, to: 7, events: events)
        do {
            let store = try openStore(dir)
            for k in 8...10 {
                _ = try await store.append(AppendRequest(stream: "T-\(k % 3)", events: [sampleEvent(k + 1000)]))
            }
            store.close()
        }
        #expect(try verify(dir).isIntact, "a re-chained log is internally consistent")
        let report = try verify(dir, expectedHead: noted)
        #expect(report.failure?.kind == .expectedHead)
        #expect(report.failure?.seq == 9)
        #expect(try verify(dir, expectedHead: LogHead(seq: 7, hash: events[6].hash)).isIntact)
    }

    @Test func aStoredHeadThatIsNotTheLastEventIsCaught() async throws {
        let dir = TemporaryDirectory()
        let events = try await makeLog(dir)
        try withRawLog(dir) { storage, txn in
            try txn.put(
                storage.meta, key: StorageKeys.metaHead,
                value: StorageKeys.headValue(LogHead(seq: 9, hash: events[8].hash)))
        }
        #expect(try verify(dir).failure?.kind == .storedHead)
    }
}
