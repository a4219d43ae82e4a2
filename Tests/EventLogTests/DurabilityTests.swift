import Foundation
import Synchronization
import Testing

@testable import EventLog

/// Whether `work`, run on its own thread, ends within a generous bound that only guards against
/// a hang (a regression fails the test instead of hanging the suite).
func endsInTime(_ work: @escaping @Sendable () -> Void) async -> Bool {
    final class Done: Sendable { let flag = Atomic<Bool>(false) }
    let done = Done()
    Thread {
        work(); done.flag.store(true, ordering: .releasing)
    }.start()
    for _ in 0..<6000 {
        if done.flag.load(ordering: .acquiring) { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return false
}

/// Waits (bounded) until `condition` holds.
func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<6000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return false
}

private func append(_ store: EventStore, _ request: AppendRequest) -> Task<Result<AppendResult, EventLogError>, Never> {
    Task {
        do throws(EventLogError) { return .success(try await store.append(request)) } catch { return .failure(error) }
    }
}

/// A log in a fresh directory whose flushes a `FlushSwitch` drives, holding one durable event (seq 1, stream T-1).
private func storeWithOneDurableEvent() async throws -> (TemporaryDirectory, FlushSwitch, EventStore, AppendResult) {
    let dir = TemporaryDirectory()
    let flushes = FlushSwitch()
    let store = try openStore(dir, faults: flushes.faults)
    let durable = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
    return (dir, flushes, store, durable)
}

private func isFlushFailure(_ result: Result<AppendResult, EventLogError>) -> Bool {
    if case .failure(.flushFailed) = result { return true }
    return false
}

@Suite("Closing the log")
struct ClosingTests {
    @Test func aCloseThatRacesQueuedWritesStillEndsInEveryRound() async throws {
        for round in 0..<100 {
            let dir = TemporaryDirectory()
            let store = try openStore(dir)
            let appends = (0...(round % 3 == 0 ? 1 : 0)).map { n in
                append(store, AppendRequest(stream: "T-\(n)", events: [sampleEvent(n)]))
            }
            // The close comes right behind the first queued write, often before the writer takes it.
            let ended = await endsInTime {
                while store.statistics.queued == 0 && store.statistics.commits == 0 {}
                store.close()
            }
            try #require(ended, "round \(round): close() never returned (the writer slept past close)")
            // Every queued append was answered: appended (and readable) or refused as closed.
            let head = try store.head.seq
            for task in appends {
                switch await task.value {
                case .success(let result): #expect(result.lastSeq <= head && result.lastSeq > 0)
                case .failure(.closed): break
                case .failure(let error): Issue.record("round \(round): \(error)")
                }
            }
            #expect(try store.events(after: 0, limit: 100).count == Int(head))
        }
    }

    @Test func aCloseThatArrivesWithTheLastQueuedWriteStillEnds() async throws {
        let dir = TemporaryDirectory()
        let flushes = FlushSwitch()
        let store = try openStore(dir, faults: flushes.faults)
        flushes.hold([.commit])
        let first = append(store, AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
        try #require(await flushes.waitUntilHeld())
        // The writer is held right before it commits the first append; a second one queues behind
        // it, and the close comes before the writer takes it.
        let second = append(store, AppendRequest(stream: "T-2", events: [sampleEvent(2)]))
        try #require(await eventually { store.statistics.queued == 1 })
        let closing = Task { await endsInTime { store.close() } }
        // close() marks the log closing at once, then waits for the writer; give it that moment.
        try await Task.sleep(for: .milliseconds(100))
        flushes.release()
        #expect(await closing.value, "close() never returned (the writer slept past close)")
        #expect(try await first.value.get().lastSeq == 1)
        #expect(try await second.value.get().lastSeq == 2)
        #expect(try store.head.seq == 2)
    }
}

@Suite("Readers see the durable head")
struct DurableHeadTests {
    @Test func aCommittedEventIsNotReadUntilTheFlushThatAcknowledgesIt() async throws {
        let (dir, flushes, store, durable) = try await storeWithOneDurableEvent()
        defer { withExtendedLifetime(dir) {} }
        flushes.hold([.segment])
        // Both requests in one submission, so they share one commit whatever the machine's load;
        // the flush of its segment frame, which would acknowledge it, is held.
        let both = Task {
            await store.append(contentsOf: [
                AppendRequest(
                    stream: "T-1", events: [sampleEvent(2), sampleEvent(3)],
                    idempotency: IdempotencyKey(key: "k", fingerprint: [7])),
                AppendRequest(stream: "T-2", events: [sampleEvent(4)]),
            ])
        }
        try #require(await flushes.waitUntilHeld())
        // Committed (LMDB shows it to a raw reader) but not yet flushed: no reader of the store sees it.
        let subscriber = Task { () -> [UInt64] in
            var seen: [UInt64] = []
            for try await event in store.subscribe(after: 0) {
                seen.append(event.seq)
                if seen.count == 3 { break }
            }
            return seen
        }
        let durableWait = Task { await store.waitUntilDurable(3) }
        #expect(try store.events(after: 0, limit: 10) == durable.events)
        #expect(try store.events(inStream: "T-1") == durable.events)
        #expect(try store.events(inStream: "T-1", fromVersion: 2).isEmpty)
        #expect(try store.events(inStream: "T-2").isEmpty)
        #expect(try store.head == LogHead(seq: 1, hash: durable.events[0].hash))
        try store.read { snapshot in
            #expect(try snapshot.head() == LogHead(seq: 1, hash: durable.events[0].hash))
            #expect(try snapshot.version(of: "T-1") == 1)
            #expect(try snapshot.version(of: "T-2") == 0)
            #expect(try snapshot.event(seq: 2) == nil)
            var walked: [UInt64] = []
            try snapshot.forEachEvent(after: 0) {
                walked.append($0.seq); return true
            }
            #expect(walked == [1])
            // The idempotency record is there, naming the seq to wait for before answering with it.
            let record = try #require(try snapshot.idempotencyRecord(key: "k"))
            #expect(record.lastSeq >= 3)
        }
        #expect(await store.waitUntilDurable(1))
        flushes.release()
        let results = await both.value
        let appended = try results[0].get()
        #expect(appended.events.map(\.seq).allSatisfy { $0 >= 2 })
        _ = try results[1].get()
        #expect(await durableWait.value)
        #expect(try await subscriber.value == [1, 2, 3])
        #expect(try store.events(after: 0, limit: 10).map(\.seq) == [1, 2, 3, 4])
        #expect(try store.read { try $0.version(of: "T-1") } == 3)
    }

    /// The command path decides on the durable state and appends with an expected version; a
    /// write that won the race is durable (and readable) by the time the loser hears of it, so a
    /// re-decision always sees it and never loops on a stale version.
    @Test func aLostRaceIsAnsweredOnlyOnceTheWinnerIsReadable() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(0)]))
        let stale = await withTaskGroup(of: Int.self) { group in
            for n in 0..<32 {
                group.addTask {
                    var stale = 0
                    for attempt in 0..<64 {
                        let seen = (try? store.read { try $0.version(of: "T-1") }) ?? 0
                        do throws(EventLogError) {
                            _ = try await store.append(
                                AppendRequest(
                                    stream: "T-1", events: [sampleEvent(n * 100 + attempt)],
                                    expectedVersion: .exactly(seen)))
                            return stale
                        } catch .wrongExpectedVersion(_, _, let actual) {
                            if ((try? store.read { try $0.version(of: "T-1") }) ?? 0) < actual { stale += 1 }
                        } catch {
                            return stale + 1_000
                        }
                    }
                    return stale + 1_000
                }
            }
            return await group.reduce(0, +)
        }
        #expect(stale == 0)
        #expect(try store.read { try $0.version(of: "T-1") } == 33)
    }
}

@Suite("Storage faults")
struct StorageFaultTests {
    @Test func aFailedCommitFlushFailsTheCommitAndEveryLaterAppendWhileReadsGoOn() async throws {
        let (dir, flushes, store, durable) = try await storeWithOneDurableEvent()
        defer { withExtendedLifetime(dir) {} }
        flushes.fail([.commit, .sync])
        let failed = await append(store, AppendRequest(stream: "T-1", events: [sampleEvent(2)])).value
        #expect(isFlushFailure(failed), "\(failed)")
        // A retried flush would succeed now; the log must not trust it.
        flushes.fail([])
        let later = await append(store, AppendRequest(stream: "T-2", events: [sampleEvent(3)])).value
        #expect(isFlushFailure(later), "\(later)")
        // A checkpoint cannot claim the event whose flush failed; it may claim the durable one.
        let checkpoints = InMemoryCheckpointStore()
        #expect(throws: EventLogError.self) {
            try checkpoints.save(name: "projection", state: [2], appliedSeq: 2, of: store)
        }
        try checkpoints.save(name: "projection", state: [1], appliedSeq: 1, of: store)
        #expect(try checkpoints.checkpoint(name: "projection", of: store)?.applied == store.head)
        #expect(try store.events(after: 0, limit: 10) == durable.events)
        #expect(try store.events(inStream: "T-1") == durable.events)
        #expect(try store.read { try $0.version(of: "T-1") } == 1)
        #expect(try store.head.seq == 1)
        #expect(await store.waitUntilDurable(1))
        #expect(await store.waitUntilDurable(2) == false)
    }

    /// fsyncgate: after a failed fdatasync Linux may report the next one as a success although
    /// the dirty pages were dropped. A commit whose flush failed is never acknowledged later.
    @Test func aCommitWhoseFlushFailedIsNeverAcknowledgedByALaterFlush() async throws {
        let (dir, flushes, store, durable) = try await storeWithOneDurableEvent()
        defer { withExtendedLifetime(dir) {} }
        flushes.fail([.segment], times: 1)
        let failed = await append(store, AppendRequest(stream: "T-1", events: [sampleEvent(2)])).value
        #expect(isFlushFailure(failed), "\(failed)")
        for n in 3...5 {
            let later = await append(store, AppendRequest(stream: "T-1", events: [sampleEvent(n)])).value
            #expect(isFlushFailure(later), "\(later)")
        }
        // The failed commit is in LMDB's pages, but no reader of the store ever sees it.
        #expect(try store.events(after: 0, limit: 10) == durable.events)
        #expect(try store.read { try $0.version(of: "T-1") } == 1)
        #expect(try store.head == LogHead(seq: 1, hash: durable.events[0].hash))
        store.close()
    }

    @Test func aFailedFlushFailsThePipelinedCommitItCoveredAndTheQueue() async throws {
        let (dir, flushes, store, durable) = try await storeWithOneDurableEvent()
        defer { withExtendedLifetime(dir) {} }
        // Hold the commit of the second append until a third is queued; then every flush fails:
        // the third's commit flush (which also covers the second's meta page) and any later one.
        flushes.hold([.commit])
        let second = append(store, AppendRequest(stream: "T-1", events: [sampleEvent(2)]))
        try #require(await flushes.waitUntilHeld())
        let third = append(store, AppendRequest(stream: "T-2", events: [sampleEvent(3)]))
        try #require(await eventually { store.statistics.queued == 1 })
        flushes.fail([.commit, .sync])
        flushes.release()
        #expect(isFlushFailure(await second.value))
        #expect(isFlushFailure(await third.value))
        #expect(try store.events(after: 0, limit: 10) == durable.events)
        #expect(try store.head.seq == 1)
    }

    @Test func aRestartAfterAFailedFlushOpensAnIntactLogThatAcceptsWrites() async throws {
        let dir = TemporaryDirectory()
        do {
            let flushes = FlushSwitch()
            let store = try openStore(dir, faults: flushes.faults)
            _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
            flushes.fail([.segment])
            #expect(isFlushFailure(await append(store, AppendRequest(stream: "T-1", events: [sampleEvent(2)])).value))
            store.close()
        }
        let reopened = try openStore(dir)
        #expect(try reopened.verify().isIntact)
        let next = try await reopened.append(AppendRequest(stream: "T-1", events: [sampleEvent(3)]))
        #expect(next.lastSeq == (try reopened.head.seq))
    }
}

@Suite("Owner-only files")
struct OwnerOnlyFileTests {
    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test func theDataDirectoryIs0700AndEveryFileInIt0600() async throws {
        let parent = TemporaryDirectory()
        let path = parent.path + "/data"
        let store = try EventStore(EventLogConfiguration(directory: path))
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
        #expect(try mode(path) == 0o700)
        for file in ["data.mdb", "lock.mdb", "writer.lock", "segment.wal"] {
            #expect(try mode(path + "/" + file) == 0o600, "\(file)")
        }
    }

    @Test func aLooserExistingDirectoryIsTightenedOnOpen() async throws {
        let dir = TemporaryDirectory()
        do { _ = try openStore(dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        for file in ["data.mdb", "lock.mdb", "writer.lock", "segment.wal"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.path + "/" + file)
        }
        _ = try openStore(dir)
        #expect(try mode(dir.path) == 0o700)
        for file in ["data.mdb", "lock.mdb", "writer.lock", "segment.wal"] {
            #expect(try mode(dir.path + "/" + file) == 0o600, "\(file)")
        }
    }

    @Test func aBackupIsA0700DirectoryWith0600Files() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
        for compact in [false, true] {
            let target = TemporaryDirectory()
            let path = target.path + "/backup"
            try store.backup(to: path, compact: compact)
            #expect(try mode(path) == 0o700)
            #expect(try mode(path + "/data.mdb") == 0o600)
            let copy = try EventStore(
                EventLogConfiguration(
                    directory: path, envelope: EnvelopeFormat(streamField: "ticket"),
                    readOnly: true))
            #expect(try copy.events(after: 0, limit: 10).count == 1)
        }
    }
}
