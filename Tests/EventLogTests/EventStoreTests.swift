import CLMDB
import Foundation
import Synchronization
import Testing
@testable import EventLog

@Suite("Appending and reading")
struct EventStoreTests {
    @Test func appendAssignsSeqVersionRecordedAndChainsHashes() async throws {
        let dir = TemporaryDirectory()
        let clock = ManualClock()
        let store = try openStore(dir, clock: clock)
        let first = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1), sampleEvent(2)]))
        clock.advance(milliseconds: 5)
        let second = try await store.append(AppendRequest(stream: "T-2", events: [sampleEvent(3)]))
        #expect(first.events.map(\.seq) == [1, 2])
        #expect(first.events.map(\.version) == [1, 2])
        #expect(second.events.map(\.seq) == [3])
        #expect(second.events[0].version == 1)
        #expect(first.events[0].prev == .zero)
        #expect(first.events[1].prev == first.events[0].hash)
        #expect(second.events[0].prev == first.events[1].hash)
        #expect(first.events.allSatisfy { $0.recorded == Timestamp(milliseconds: 1_772_000_000_000) })
        #expect(first.events[0].at == first.events[0].recorded)
        #expect(try store.head == LogHead(seq: 3, hash: second.events[0].hash))
        let stored = try store.events(after: 0, limit: 10)
        #expect(stored == first.events + second.events)
        #expect(try store.events(inStream: "T-1") == first.events)
        #expect(try store.events(inStream: "T-1", fromVersion: 2) == [first.events[1]])
        #expect(try store.read { try $0.version(of: "T-1") } == 2)
        #expect(try store.read { try $0.version(of: "T-9") } == 0)
        let format = EnvelopeFormat(streamField: "ticket")
        #expect(stored.allSatisfy { format.computeHash(of: $0) == $0.hash })
    }

    @Test func replayingTheVectorsThroughTheLogReproducesEveryHash() async throws {
        let data = try Data(contentsOf: fixturesFolder().appendingPathComponent("vectors/hash-chain.ndjson"))
        let format = EnvelopeFormat(streamField: "ticket")
        let vectors = try data.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }.map { try format.parseLine(Array($0)) }
        let dir = TemporaryDirectory()
        let clock = ManualClock()
        let store = try openStore(dir, clock: clock)
        for v in vectors {
            clock.set(v.recorded)
            let result = try await store.append(AppendRequest(
                stream: v.stream, events: [ProposedEvent(type: v.type, at: v.at, actor: v.actor, data: v.data)],
                expectedVersion: .exactly(v.version - 1)))
            #expect(result.events == [v])
        }
        #expect(try store.verify().isIntact)
    }

    @Test func expectedVersionMismatchIsAConflictAndAppendsNothing() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)], expectedVersion: .noStream))
        await #expect(throws: EventLogError.self) {
            try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(2)], expectedVersion: .noStream))
        }
        await #expect(throws: EventLogError.self) {
            try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(2)], expectedVersion: .exactly(0)))
        }
        do {
            _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(2)], expectedVersion: .exactly(5)))
            Issue.record("expected a conflict")
        } catch {
            guard case let .wrongExpectedVersion(stream, expected, actual) = error else { Issue.record("\(error)"); return }
            #expect(stream == "T-1" && expected == .exactly(5) && actual == 1)
        }
        let ok = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(2)], expectedVersion: .exactly(1)))
        #expect(ok.events[0].version == 2)
        #expect(try store.head.seq == 2)
    }

    @Test func timeNeverGoesBackwardsWithinAStream() async throws {
        let dir = TemporaryDirectory()
        let clock = ManualClock(Timestamp(milliseconds: 10_000))
        let store = try openStore(dir, clock: clock)
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1, at: Timestamp(milliseconds: 20_000))]))
        await #expect(throws: EventLogError.self) {
            try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(2, at: Timestamp(milliseconds: 19_999))]))
        }
        // An open `at` takes the clock, raised to the stream's last `at` when the clock is behind.
        let raised = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(3)]))
        #expect(raised.events[0].at == Timestamp(milliseconds: 20_000))
        #expect(raised.events[0].recorded == Timestamp(milliseconds: 10_000))
        // Other streams are not constrained by it.
        let other = try await store.append(AppendRequest(stream: "T-2", events: [sampleEvent(4, at: Timestamp(milliseconds: 1))]))
        #expect(other.events[0].at == Timestamp(milliseconds: 1))
        #expect(try store.head.seq == 3)
    }

    @Test func aRefusingPreconditionAppendsNothingAndSeesTheLog() async throws {
        struct TargetClosed: Error {}
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        _ = try await store.append(AppendRequest(stream: "T-2", events: [sampleEvent(1, type: "ticket.closed")]))
        let refused = AppendRequest(stream: "T-1", events: [sampleEvent(2)]) { snapshot, _ in
            let target = try snapshot.events(inStream: "T-2")
            if target.last?.type == "ticket.closed" { throw TargetClosed() }
        }
        do {
            _ = try await store.append(refused)
            Issue.record("expected a refusal")
        } catch {
            guard case .rejected(let inner) = error else { Issue.record("\(error)"); return }
            #expect(inner is TargetClosed)
        }
        #expect(try store.head.seq == 1)
        #expect(try store.events(inStream: "T-1").isEmpty)
    }

    @Test func anIdempotentRetryReturnsTheFirstAnswerAndAppendsNothing() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        func request(_ body: Int, fingerprint: [UInt8]) -> AppendRequest {
            AppendRequest(stream: "T-1", events: [sampleEvent(body)],
                          idempotency: IdempotencyKey(key: "agent/alice/k1", fingerprint: fingerprint,
                                                      response: { result in Array("answer \(result.lastSeq)".utf8) }))
        }
        let first = try await store.append(request(1, fingerprint: [1]))
        #expect(first.replayed == false)
        #expect(first.response == Array("answer 1".utf8))
        let retry = try await store.append(request(1, fingerprint: [1]))
        #expect(retry.replayed)
        #expect(retry.response == Array("answer 1".utf8))
        #expect(retry.events == first.events)
        await #expect(throws: EventLogError.self) { try await store.append(request(2, fingerprint: [2])) }
        #expect(try store.head.seq == 1)

        // Concurrent duplicates of one key: exactly one appends.
        let results = await withTaskGroup(of: AppendResult?.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try? await store.append(AppendRequest(stream: "T-2", events: [sampleEvent(9)],
                                                          idempotency: IdempotencyKey(key: "k2", fingerprint: [9])))
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.compactMap { $0 }.filter { !$0.replayed }.count == 1)
        #expect(try store.head.seq == 2)
    }

    @Test func reopeningKeepsEventsHeadAndIdempotencyKeys() async throws {
        let dir = TemporaryDirectory()
        var head = LogHead.empty
        do {
            let store = try openStore(dir)
            for k in 0..<20 {
                let r = try await store.append(AppendRequest(stream: "T-\(k % 3)", events: [sampleEvent(k)],
                                                             idempotency: IdempotencyKey(key: "key-\(k)")))
                head = LogHead(seq: r.lastSeq, hash: r.events[0].hash)
            }
            store.close()
        }
        let store = try openStore(dir)
        #expect(try store.head == head)
        #expect(try store.events(after: 0, limit: 100).count == 20)
        let retry = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(7)],
                                                         idempotency: IdempotencyKey(key: "key-7")))
        #expect(retry.replayed)
        #expect(retry.lastSeq == 8)
        let next = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(99)]))
        #expect(next.events[0].seq == 21)
        #expect(next.events[0].version == 8)
        #expect(next.events[0].prev == head.hash)
        #expect(try store.verify(expectedHead: head).isIntact)
    }

    @Test func aSecondWriterOnTheSameDirectoryIsRefused() throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        #expect(throws: EventLogError.self) { try openStore(dir) }
        store.close()
    }

    @Test func aFullMapGrowsInsteadOfFailing() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir, mapSize: 256 * 1024)
        let body = String(repeating: "x", count: 2000)
        for k in 0..<40 {
            let events = (0..<20).map { n in
                ProposedEvent(type: "message.posted", actor: EventActor(kind: "agent", id: "a"),
                              data: .object(["body": .string(body), "n": .int(Int64(k * 20 + n))]))
            }
            _ = try await store.append(AppendRequest(stream: "T-\(k)", events: events))
        }
        #expect(try store.head.seq == 800)
        #expect(try store.verify().isIntact)
    }

    @Test func invalidRequestsAreRefusedBeforeTheWriter() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        let results = await store.append(contentsOf: [
            AppendRequest(stream: "", events: [sampleEvent(1)]),
            AppendRequest(stream: "T-1", events: []),
            AppendRequest(stream: "T-1", events: [sampleEvent(1)]),
        ])
        #expect(results.count == 3)
        if case .failure(.invalidRequest) = results[0] {} else { Issue.record("\(results[0])") }
        if case .failure(.invalidRequest) = results[1] {} else { Issue.record("\(results[1])") }
        #expect((try? results[2].get())?.lastSeq == 1)
    }

    @Test func aSubscriptionYieldsCommittedEventsInOrderAndWaitsForNewOnes() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1), sampleEvent(2)]))
        let reader = Task {
            var seen: [UInt64] = []
            for try await event in store.subscribe(after: 1, batchSize: 2) {
                seen.append(event.seq)
                if seen.count == 5 { break }
            }
            return seen
        }
        for k in 3...6 {
            _ = try await store.append(AppendRequest(stream: "T-\(k)", events: [sampleEvent(k)]))
        }
        #expect(try await reader.value == [2, 3, 4, 5, 6])
    }

    @Test func aRecordInAnUnknownFormatIsAClearErrorNamingItsSeq() async throws {
        let dir = TemporaryDirectory()
        do {
            let store = try openStore(dir)
            _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1), sampleEvent(2)]))
            store.close()
        }
        try withRawLog(dir) { storage, txn in
            let key = StorageKeys.seq(2)
            var value = Array(try key.withUnsafeBytes { try txn.get(storage.events, key: $0) }!)
            value[0] = 9
            try key.withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(storage.events, key: k, value: $0) } }
        }
        let store = try openStore(dir)
        do {
            _ = try store.events(after: 0, limit: 10)
            Issue.record("expected an error")
        } catch {
            guard case let .unsupportedRecordFormat(seq, format) = error else { Issue.record("\(error)"); return }
            #expect(seq == 2 && format == 9)
        }
        let report = try store.verify()
        #expect(report.failure?.seq == 2)
        #expect(report.failure?.kind == .unreadable)
    }
}

@Suite("Projection checkpoints")
struct CheckpointTests {
    @Test func aCheckpointIsStoredDurablyAndReplacedByTheNext() async throws {
        let dir = TemporaryDirectory()
        do {
            let store = try openStore(dir)
            #expect(try store.checkpoint(name: "queues") == nil)
            _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
            try await store.saveCheckpoint(name: "queues", seq: 1, state: [1, 2, 3])
            try await store.saveCheckpoint(name: "queues", seq: 1, state: [4, 5])
            try await store.saveCheckpoint(name: "metrics", seq: 1, state: [])
            store.close()
        }
        let store = try openStore(dir)
        #expect(try store.checkpoint(name: "queues")?.seq == 1)
        #expect(try store.checkpoint(name: "queues")?.state == [4, 5])
        #expect(try store.checkpoint(name: "metrics")?.state == [])
        #expect(try store.verify().isIntact, "checkpoints are not events")
    }
}
