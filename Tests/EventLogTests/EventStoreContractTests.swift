import Foundation
import Testing

@testable import EventLog

/// The stores every contract test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case lmdb, memory

    var testDescription: String { rawValue }

    /// A fresh, empty store of this kind (with the directory that must outlive it, for LMDB).
    func open(clock: ManualClock = ManualClock()) throws -> StoreUnderTest {
        switch self {
        case .lmdb:
            let dir = TemporaryDirectory()
            return StoreUnderTest(store: try openStore(dir, clock: clock), directory: dir)
        case .memory:
            return StoreUnderTest(
                store: InMemoryEventStore(
                    envelope: EnvelopeFormat(streamField: "ticket"),
                    clock: { clock.read() }), directory: nil)
        }
    }
}

/// A store and what keeps it alive.
final class StoreUnderTest: Sendable {
    let store: any EventStoring
    let directory: TemporaryDirectory?
    init(store: any EventStoring, directory: TemporaryDirectory?) {
        self.store = store
        self.directory = directory
    }
    deinit { store.close() }
}

@Suite("The event store contract (LMDB and in memory)")
struct EventStoreContractTests {
    @Test(arguments: StoreKind.allCases)
    func appendAssignsSeqVersionRecordedAndChainsHashes(_ kind: StoreKind) async throws {
        let clock = ManualClock()
        let sut = try kind.open(clock: clock)
        let store = sut.store
        #expect(try store.head == .empty)
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
        #expect(try store.events(after: 1, limit: 1) == [first.events[1]])
        #expect(try store.events(inStream: "T-1") == first.events)
        #expect(try store.events(inStream: "T-1", fromVersion: 2) == [first.events[1]])
        #expect(try store.version(of: "T-1") == 2)
        #expect(try store.read { try $0.version(of: "T-9") } == 0)
        #expect(try store.read { try $0.event(seq: 2) } == first.events[1])
        #expect(try store.read { try $0.event(seq: 4) } == nil)
        let format = EnvelopeFormat(streamField: "ticket")
        #expect(stored.allSatisfy { format.computeHash(of: $0) == $0.hash })
    }

    @Test(arguments: StoreKind.allCases)
    func replayingTheVectorsThroughTheLogReproducesEveryHash(_ kind: StoreKind) async throws {
        let data = try Data(contentsOf: fixturesFolder().appendingPathComponent("vectors/hash-chain.ndjson"))
        let format = EnvelopeFormat(streamField: "ticket")
        let vectors = try data.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }.map { try format.parseLine(Array($0)) }
        let clock = ManualClock()
        let sut = try kind.open(clock: clock)
        for v in vectors {
            clock.set(v.recorded)
            let result = try await sut.store.append(
                AppendRequest(
                    stream: v.stream, events: [ProposedEvent(type: v.type, at: v.at, actor: v.actor, data: v.data)],
                    expectedVersion: .exactly(v.version - 1)))
            #expect(result.events == [v])
        }
        #expect(try sut.store.events(after: 0, limit: vectors.count + 1) == vectors)
        if let lmdb = sut.store as? EventStore { #expect(try lmdb.verify().isIntact) }
    }

    @Test(arguments: StoreKind.allCases)
    func expectedVersionMismatchIsAConflictAndAppendsNothing(_ kind: StoreKind) async throws {
        let sut = try kind.open()
        let store = sut.store
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
        #expect(try store.head.seq == 1)
        let ok = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(2)], expectedVersion: .exactly(1)))
        #expect(ok.events[0].version == 2)
        #expect(try store.head.seq == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func timeNeverGoesBackwardsWithinAStream(_ kind: StoreKind) async throws {
        let clock = ManualClock(Timestamp(milliseconds: 10_000))
        let sut = try kind.open(clock: clock)
        let store = sut.store
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

    @Test(arguments: StoreKind.allCases)
    func aRefusingPreconditionAppendsNothingAndSeesTheLog(_ kind: StoreKind) async throws {
        struct TargetClosed: Error {}
        let sut = try kind.open()
        let store = sut.store
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

    @Test(arguments: StoreKind.allCases)
    func aDecisionChoosesTheAppendFromTheLogIncludingEarlierAppendsOfItsBatch(_ kind: StoreKind) async throws {
        struct Refused: Error {}
        let sut = try kind.open()
        let store = sut.store
        _ = try await store.append(AppendRequest(stream: "Q", events: [sampleEvent(1)]))
        // Takes the next free number: the count of events so far, as the snapshot shows it.
        let takeNext = AppendRequest(decidedBy: { snapshot, _ in
            let taken = try snapshot.head().seq
            return DecidedAppend(stream: "N-\(taken)", events: [sampleEvent(Int(taken))], expectedVersion: .noStream)
        })
        let nothing = AppendRequest(decidedBy: { _, _ in nil })
        let refusing = AppendRequest(decidedBy: { _, _ in throw Refused() })
        let invalid = AppendRequest(decidedBy: { _, _ in DecidedAppend(stream: "", events: [sampleEvent(0)], expectedVersion: .any) })
        let results = await store.append(contentsOf: [takeNext, nothing, takeNext, refusing, invalid])
        #expect(try results[0].get().events.map(\.stream) == ["N-1"])
        #expect(try results[1].get().events.isEmpty)
        #expect(try results[2].get().events.map(\.stream) == ["N-2"])
        if case .failure(.rejected(let inner)) = results[3] { #expect(inner is Refused) } else { Issue.record("\(results[3])") }
        if case .failure(.invalidRequest) = results[4] {} else { Issue.record("\(results[4])") }
        #expect(try store.head.seq == 3)
        #expect(try store.events(after: 0, limit: 10).map(\.stream) == ["Q", "N-1", "N-2"])
    }

    @Test(arguments: StoreKind.allCases)
    func invalidRequestsAreRefusedAndTheOthersAnsweredInOrder(_ kind: StoreKind) async throws {
        let sut = try kind.open()
        let results = await sut.store.append(contentsOf: [
            AppendRequest(stream: "", events: [sampleEvent(1)]),
            AppendRequest(stream: "T-1", events: []),
            AppendRequest(stream: "T-1", events: [sampleEvent(1)]),
            AppendRequest(stream: String(repeating: "x", count: 4097), events: [sampleEvent(1)]),
        ])
        #expect(results.count == 4)
        if case .failure(.invalidRequest) = results[0] {} else { Issue.record("\(results[0])") }
        if case .failure(.invalidRequest) = results[1] {} else { Issue.record("\(results[1])") }
        #expect((try? results[2].get())?.lastSeq == 1)
        if case .failure(.invalidRequest) = results[3] {} else { Issue.record("\(results[3])") }
        #expect(try sut.store.head.seq == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func aStreamReadsInVersionOrderWhateverItsInterleavingInTheLog(_ kind: StoreKind) async throws {
        let sut = try kind.open()
        let store = sut.store
        for k in 0..<12 {
            _ = try await store.append(AppendRequest(stream: "T-\(k % 3)", events: [sampleEvent(k)]))
        }
        for s in 0..<3 {
            let events = try store.events(inStream: "T-\(s)")
            #expect(events.map(\.version) == [1, 2, 3, 4])
            #expect(events.map(\.seq) == [1, 4, 7, 10].map { UInt64($0 + s) })
        }
        let middle = try store.read { try $0.events(inStream: "T-1", fromVersion: 2, throughVersion: 3) }
        #expect(middle.map(\.seq) == [5, 8])
        #expect(try store.read { try $0.events(inStream: "T-1", fromVersion: 5) }.isEmpty)
        var walked: [UInt64] = []
        try store.read {
            try $0.forEachEvent(after: 9) {
                walked.append($0.seq); return true
            }
        }
        #expect(walked == [10, 11, 12])
    }

    /// Ids are compared by their UTF-8 bytes: two canonically equivalent spellings (which Swift's
    /// `String ==` calls equal) are two streams.
    @Test(arguments: StoreKind.allCases)
    func canonicallyEquivalentStreamIdsAreDifferentStreams(_ kind: StoreKind) async throws {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed, "the premise: Swift calls them equal")
        let sut = try kind.open()
        let store = sut.store
        _ = try await store.append(AppendRequest(stream: composed, events: [sampleEvent(1)], expectedVersion: .noStream))
        let second = try await store.append(AppendRequest(stream: decomposed, events: [sampleEvent(2)], expectedVersion: .noStream))
        #expect(second.events[0].version == 1)
        #expect(try store.version(of: composed) == 1)
        #expect(try store.version(of: decomposed) == 1)
        #expect(try store.events(inStream: decomposed).map(\.seq) == [2])
        #expect(try store.events(inStream: decomposed)[0].stream.utf8.elementsEqual(decomposed.utf8))
    }

    @Test(arguments: StoreKind.allCases)
    func aSubscriptionYieldsCommittedEventsInOrderAndWaitsForNewOnes(_ kind: StoreKind) async throws {
        let sut = try kind.open()
        let store = sut.store
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

    @Test(arguments: StoreKind.allCases)
    func waitersAreWokenByAnAppendAndReleasedByClose(_ kind: StoreKind) async throws {
        let sut = try kind.open()
        let store = sut.store
        #expect(await store.waitUntilDurable(0))
        let woken = Task { await store.waitForEvents(after: 0) }
        let durable = Task { await store.waitUntilDurable(1) }
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)]))
        #expect(await woken.value)
        #expect(await durable.value)
        #expect(await store.waitForEvents(after: 0), "at once when the event is there")
        let released = Task { await store.waitForEvents(after: 1) }
        store.close()
        #expect(await released.value == false)
        await #expect(throws: EventLogError.self) {
            try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(2)]))
        }
        #expect(try store.head.seq == 1)
    }
}
