import CLMDB
import Foundation
import Synchronization
import Testing

@testable import EventLog

/// What only the LMDB store does (the shared contract is in EventStoreContractTests).
@Suite("The LMDB event store: idempotency, reopening, the map, stored formats")
struct EventStoreTests {
    @Test func anIdempotentRetryReturnsTheFirstAnswerAndAppendsNothing() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        func request(_ body: Int, fingerprint: [UInt8]) -> AppendRequest {
            AppendRequest(
                stream: "T-1", events: [sampleEvent(body)],
                idempotency: IdempotencyKey(
                    key: "agent/alice/k1", fingerprint: fingerprint,
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
                    try? await store.append(
                        AppendRequest(
                            stream: "T-2", events: [sampleEvent(9)],
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
                let r = try await store.append(
                    AppendRequest(
                        stream: "T-\(k % 3)", events: [sampleEvent(k)],
                        idempotency: IdempotencyKey(key: "key-\(k)")))
                head = LogHead(seq: r.lastSeq, hash: r.events[0].hash)
            }
            store.close()
        }
        let store = try openStore(dir)
        #expect(try store.head == head)
        #expect(try store.events(after: 0, limit: 100).count == 20)
        let retry = try await store.append(
            AppendRequest(
                stream: "T-1", events: [sampleEvent(7)],
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
                ProposedEvent(
                    type: "message.posted", actor: EventActor(kind: "agent", id: "a"),
                    data: .object(["body": .string(body), "n": .int(Int64(k * 20 + n))]))
            }
            _ = try await store.append(AppendRequest(stream: "T-\(k)", events: events))
        }
        #expect(try store.head.seq == 800)
        #expect(try store.verify().isIntact)
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
