import Foundation
import Testing

@testable import EventLog

/// The write-ahead segment (`segment.wal`): what a restart does with the frames of a writer that
/// did not close. A writer killed between its segment flush and LMDB's flush is staged here by
/// putting back copies of the two files taken at that moment.
@Suite("Write-ahead segment")
struct WriteAheadSegmentTests {
    let segmentFile = WriteAheadSegment.fileName

    /// A writable store whose writer never ends a segment epoch on its own while the test runs
    /// (the staged crashes need every frame since the open in the segment).
    private func openWriter(_ dir: TemporaryDirectory) throws -> EventStore {
        var config = EventLogConfiguration(directory: dir.path, envelope: EnvelopeFormat(streamField: "ticket"), mapSize: 1 << 30)
        config.idleCheckpointMilliseconds = 24 * 3_600_000
        return try EventStore(config)
    }

    private func copy(_ dir: TemporaryDirectory, _ name: String, to target: String) throws {
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: dir.path + "/" + name, toPath: target)
    }

    private func putBack(_ source: String, into dir: TemporaryDirectory, as name: String) throws {
        try? FileManager.default.removeItem(atPath: dir.path + "/" + name)
        try FileManager.default.copyItem(atPath: source, toPath: dir.path + "/" + name)
    }

    /// A log whose LMDB file holds events 1-3 while its segment holds the frames of events 4-8
    /// (one frame each): the state a writer leaves when it dies after acknowledging 4-8 and before
    /// LMDB flushed them. Returns every acknowledged event. `aside` keeps the copies.
    private func interruptedLog(_ dir: TemporaryDirectory, aside: TemporaryDirectory) async throws -> [RecordedEvent] {
        var acknowledged: [RecordedEvent] = []
        do {
            let store = try openStore(dir)
            for n in 1...3 { acknowledged += try await store.append(AppendRequest(stream: "T-\(n % 2)", events: [sampleEvent(n)])).events }
            store.close()
        }
        try copy(dir, "data.mdb", to: aside.path + "/data.mdb")
        do {
            let store = try openWriter(dir)
            for n in 4...8 {
                acknowledged += try await store.append(
                    AppendRequest(
                        stream: "T-\(n % 2)", events: [sampleEvent(n)], idempotency: IdempotencyKey(key: "k-\(n)", fingerprint: [UInt8(n)]))
                ).events
            }
            try copy(dir, segmentFile, to: aside.path + "/" + segmentFile)
            store.close()
        }
        try putBack(aside.path + "/data.mdb", into: dir, as: "data.mdb")
        try putBack(aside.path + "/" + segmentFile, into: dir, as: segmentFile)
        return acknowledged
    }

    private func frameOffset(_ k: Int) -> Int { WriteAheadSegment.firstFrame + k * WriteAheadSegment.alignment }

    private func patch(_ dir: TemporaryDirectory, at offset: Int, _ bytes: [UInt8]) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: dir.path + "/" + segmentFile))
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    @Test func framesBeyondTheLogAreReplayedOnOpenAndNothingAcknowledgedIsLost() async throws {
        let dir = TemporaryDirectory()
        let aside = TemporaryDirectory()
        let acknowledged = try await interruptedLog(dir, aside: aside)
        do {
            let behind = try openStore(dir, readOnly: true)
            #expect(try behind.head.seq == 3, "the LMDB file alone holds 1-3")
        }
        let store = try openStore(dir)
        #expect(try store.head == LogHead(seq: 8, hash: acknowledged[7].hash))
        #expect(try store.events(after: 0, limit: 100) == acknowledged)
        let report = try store.verify()
        #expect(report.isIntact, "\(String(describing: report.failure))")
        #expect(report.segmentPending == 0)
        // The replayed idempotency records answer a retry with the first result.
        let retry = try await store.append(
            AppendRequest(stream: "T-0", events: [sampleEvent(4)], idempotency: IdempotencyKey(key: "k-4", fingerprint: [4])))
        #expect(retry.replayed && retry.events == [acknowledged[3]])
        let next = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(9)]))
        #expect(next.events[0].seq == 9 && next.events[0].version == 5)
        store.close()
        #expect(try WriteAheadSegment.contents(ofDirectory: dir.path)?.frames.isEmpty == true, "a clean close leaves no frame")
    }

    @Test func aReplayInterruptedAfterItsCommitIsNotAppliedTwice() async throws {
        let dir = TemporaryDirectory()
        let aside = TemporaryDirectory()
        let acknowledged = try await interruptedLog(dir, aside: aside)
        do { _ = try openStore(dir) }
        // The replay committed; the writer dies before the segment's new epoch: the frames are
        // all there again, now behind the log's head.
        try putBack(aside.path + "/" + segmentFile, into: dir, as: segmentFile)
        let store = try openStore(dir)
        #expect(try store.events(after: 0, limit: 100) == acknowledged)
        #expect(try store.verify().isIntact)
    }

    @Test func afterAMachineRestartTheLogGoesBackToItsLastFlushAndReplaysTheFrames() async throws {
        let dir = TemporaryDirectory()
        let aside = TemporaryDirectory()
        var acknowledged: [RecordedEvent] = []
        do {
            let store = try openWriter(dir)
            for n in 1...6 { acknowledged += try await store.append(AppendRequest(stream: "T-\(n % 3)", events: [sampleEvent(n)])).events }
            try copy(dir, segmentFile, to: aside.path + "/" + segmentFile)
            store.close()
        }
        // The LMDB file holds all six (flushed at close), but the segment says the machine restarted
        // while its epoch was open: LMDB's meta pages go back to the epoch's start (where the
        // epoch's frames begin), and the frames bring it forward again.
        try putBack(aside.path + "/" + segmentFile, into: dir, as: segmentFile)
        let file = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/" + segmentFile))
        let contents = file.withUnsafeBytes { WriteAheadSegment.parse($0) }
        #expect(contents.frames.count == 6)
        var header = try #require(contents.header)
        header.bootID = Array("another-boot".utf8)
        try patch(dir, at: Int(header.epoch % 2) * WriteAheadSegment.headerSlotSize, WriteAheadSegment.encodeHeader(header))
        #expect(throws: EventLogError.self, "a reader cannot tell what LMDB holds") { _ = try openStore(dir, readOnly: true) }
        let reopened = try openStore(dir)
        #expect(try reopened.events(after: 0, limit: 100) == acknowledged)
        #expect(try reopened.verify().isIntact)
    }

    @Test func aTornFrameAndEverythingAfterItAreIgnored() async throws {
        let dir = TemporaryDirectory()
        let aside = TemporaryDirectory()
        let acknowledged = try await interruptedLog(dir, aside: aside)
        // The frame of event 7 (the fourth) is cut short by a crash: event 7 and 8 were never
        // acknowledged then (a flush covers every frame written before it).
        try patch(dir, at: frameOffset(3) + 100, [UInt8](repeating: 0, count: 64))
        let store = try openStore(dir)
        #expect(try store.head == LogHead(seq: 6, hash: acknowledged[5].hash))
        #expect(try store.verify().isIntact)
    }

    @Test func aSegmentRecordThatDoesNotChainOntoTheLogIsRefusedAndNotApplied() async throws {
        let dir = TemporaryDirectory()
        let aside = TemporaryDirectory()
        _ = try await interruptedLog(dir, aside: aside)
        let file = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/" + segmentFile))
        var frame = try #require(file.withUnsafeBytes { WriteAheadSegment.parse($0) }.frames.first)
        // An altered event, re-framed with a valid checksum: its hash no longer matches.
        frame.records[0][frame.records[0].count - 3] ^= 0x01
        try patch(dir, at: frameOffset(0), WriteAheadSegment.encode(frame))
        let report = try openStore(dir, readOnly: true).verify()
        #expect(report.failure?.kind == .segment && report.failure?.seq == 4, "\(String(describing: report.failure))")
        do {
            _ = try openStore(dir)
            Issue.record("a tampered segment was applied")
        } catch let error as EventLogError {
            guard case .corruptRecord(let seq, let reason) = error else { throw error }
            #expect(seq == 4 && reason.contains("write-ahead segment"), "\(reason)")
        }
        #expect(try openStore(dir, readOnly: true).head.seq == 3, "nothing was applied")
    }

    @Test func aSegmentThatDoesNotContinueTheLogIsRefused() async throws {
        let dir = TemporaryDirectory()
        let aside = TemporaryDirectory()
        _ = try await interruptedLog(dir, aside: aside)
        // The log loses event 3 behind the segment's back: the frames begin at 4, after a gap.
        try withRawLog(dir) { storage, txn in
            let events = try LMDBSnapshot(storage: storage, txn: txn, visibleThrough: .max).events(after: 0, limit: 10)
            try StorageKeys.seq(3).withUnsafeBytes { _ = try txn.delete(storage.events, key: $0) }
            if let key = try storage.streamEntryKey(txn, stream: events[2].stream, version: events[2].version) {
                try key.withUnsafeBytes { _ = try txn.delete(storage.streamIndex, key: $0) }
            }
            try txn.put(storage.meta, key: StorageKeys.metaHead, value: StorageKeys.headValue(LogHead(seq: 2, hash: events[1].hash)))
        }
        #expect(throws: EventLogError.self) { _ = try openStore(dir) }
    }

    @Test func verifyCountsTheFramesAReadOnlyOpenSeesBeyondTheLog() async throws {
        let dir = TemporaryDirectory()
        let aside = TemporaryDirectory()
        _ = try await interruptedLog(dir, aside: aside)
        let reader = try openStore(dir, readOnly: true)
        let report = try reader.verify()
        #expect(report.isIntact && report.head.seq == 3 && report.segmentPending == 5, "\(report)")
    }

    @Test func aFrameRoundTripsAndADamagedOneDoesNotParse() throws {
        let frame = WriteAheadSegment.Frame(
            epoch: 7, firstSeq: 41, records: [[1, 2, 3], Array(repeating: 9, count: 5000)], idempotency: [([4, 5], [6])])
        var file = [UInt8](repeating: 0, count: WriteAheadSegment.firstFrame)
        file += WriteAheadSegment.encodeHeader(WriteAheadSegment.Header(epoch: 7, bootID: [], metaPages: [1, 2]))
        file.replaceSubrange(
            WriteAheadSegment.headerSlotSize..<(WriteAheadSegment.headerSlotSize + file.count - WriteAheadSegment.firstFrame),
            with: file[WriteAheadSegment.firstFrame...])
        file.removeLast(file.count - WriteAheadSegment.firstFrame)
        file += WriteAheadSegment.encode(frame)
        #expect(file.count % WriteAheadSegment.alignment == 0)
        let parsed = file.withUnsafeBytes { WriteAheadSegment.parse($0) }
        #expect(parsed.epoch == 7 && parsed.frames == [frame])
        file[WriteAheadSegment.firstFrame + 40] ^= 0xFF
        #expect(file.withUnsafeBytes { WriteAheadSegment.parse($0) }.frames.isEmpty)
    }

    @Test func aSegmentSetNotToGrowRefusesTheFrameAfterItsSizeEvenInALargerFile() throws {
        let dir = TemporaryDirectory()
        let size = WriteAheadSegment.firstFrame + 4 * WriteAheadSegment.alignment
        let record = [UInt8](repeating: 7, count: 100)  // one 4096-byte frame
        do {
            let segment = try WriteAheadSegment(directory: dir.path, initialSize: size, grownSize: size)
            for n in 1...4 { #expect(try segment.write(firstSeq: UInt64(n), records: [record], idempotency: [])) }
            #expect(try segment.write(firstSeq: 5, records: [record], idempotency: []) == false)
            #expect(segment.size == size)
        }
        try FileManager.default.removeItem(atPath: dir.path + "/" + segmentFile)
        _ = try WriteAheadSegment(directory: dir.path, initialSize: 2 * size, grownSize: 2 * size)
        let segment = try WriteAheadSegment(directory: dir.path, initialSize: size, grownSize: size)
        for n in 1...4 { #expect(try segment.write(firstSeq: UInt64(n), records: [record], idempotency: [])) }
        #expect(try segment.write(firstSeq: 5, records: [record], idempotency: []) == false)
        #expect(segment.size == 2 * size)
    }
}
