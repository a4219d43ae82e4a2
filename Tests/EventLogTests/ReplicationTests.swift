import Foundation
import Synchronization
import Testing

@testable import EventLog

/// A replicated log in memory: it keeps what the leader's writer hands it, and refuses when told.
final class RecordingReplicator: LogReplicator {
    private let state = Mutex<(events: [ReplicatedEvent], refusing: Bool, keepBeforeRefusing: Int)>(([], false, 0))

    var events: [ReplicatedEvent] { state.withLock { $0.events } }

    /// Refuse from now on, after keeping `keep` more events (a group half stored).
    func refuse(keepingFirst keep: Int = 0) {
        state.withLock {
            $0.refusing = true; $0.keepBeforeRefusing = keep
        }
    }
    func accept() { state.withLock { $0.refusing = false } }

    func replicate(_ events: [ReplicatedEvent]) throws(EventLogError) {
        let refusal = state.withLock { s -> Bool in
            guard s.refusing else {
                s.events.append(contentsOf: events)
                return false
            }
            let kept = events.prefix(s.keepBeforeRefusing)
            s.events.append(contentsOf: kept)
            s.keepBeforeRefusing -= kept.count
            return true
        }
        if refusal { throw .replicationFailed("this node does not lead") }
    }
}

@Suite("Replication: a leader's log through its replicator, a follower's from the replicated events")
struct ReplicationTests {
    func openLeader(_ dir: TemporaryDirectory, _ replicator: RecordingReplicator, clock: ManualClock) throws -> EventStore {
        var config = EventLogConfiguration(directory: dir.path, envelope: EnvelopeFormat(streamField: "ticket"), mapSize: 1 << 30)
        config.clock = { clock.read() }
        config.replicator = replicator
        return try EventStore(config)
    }

    func records(_ store: EventStore) throws -> [[UInt8]] {
        try store.readLMDB { snapshot in
            var out: [[UInt8]] = []
            let head = try snapshot.head().seq
            guard head > 0 else { return out }
            for seq in 1...head {
                guard let raw = try snapshot.txn.get(snapshot.storage.events, key: StorageKeys.seq(seq)) else { break }
                out.append(Array(raw))
            }
            return out
        }
    }

    @Test func aFollowerThatAppliesTheLeadersEventsHoldsTheSameBytesAndAnswersItsIdempotencyKeys() async throws {
        let leaderDir = TemporaryDirectory(), followerDir = TemporaryDirectory()
        let replicator = RecordingReplicator()
        let clock = ManualClock()
        let leader = try openLeader(leaderDir, replicator, clock: clock)
        let follower = try openStore(followerDir)
        for n in 1...40 {
            clock.advance(milliseconds: 1000)
            _ = try await leader.append(
                AppendRequest(
                    stream: "T-\(n % 7)", events: [sampleEvent(n), sampleEvent(n + 100)],
                    idempotency: IdempotencyKey(
                        key: "agent/alice/k\(n)", fingerprint: [UInt8(n)], response: { Array("seq \($0.lastSeq)".utf8) })))
        }
        // Each event crosses the wire as its frame; the follower applies them in chunks.
        let frames = replicator.events.map { $0.encoded() }
        #expect(frames.count == 80)
        var seq: UInt64 = 1
        for chunk in stride(from: 0, to: frames.count, by: 13).map({ Array(frames[$0..<min($0 + 13, frames.count)]) }) {
            var events: [ReplicatedEvent] = []
            for frame in chunk {
                events.append(try ReplicatedEvent(decoding: frame, expectedSeq: seq))
                seq += 1
            }
            try await follower.applyReplicated(events)
        }
        #expect(try follower.head == leader.head)
        #expect(try records(follower) == records(leader))
        #expect(try follower.verify().head.seq == 80 && follower.verify().failure == nil)
        // The key's first answer came along: a retry on the follower's log answers it, appending nothing.
        let retry = try await follower.append(
            AppendRequest(
                stream: "T-3", events: [sampleEvent(3)],
                idempotency: IdempotencyKey(key: "agent/alice/k3", fingerprint: [3], response: { _ in [] })))
        #expect(retry.replayed)
        #expect(retry.response == Array("seq 6".utf8))
        #expect(try follower.head.seq == 80)
        leader.close()
        follower.close()
    }

    @Test func aRefusedGroupCommitsNothingAndTheLogGoesOnFromTheReplicatedLog() async throws {
        let leaderDir = TemporaryDirectory()
        let replicator = RecordingReplicator()
        let clock = ManualClock()
        let leader = try openLeader(leaderDir, replicator, clock: clock)
        _ = try await leader.append(AppendRequest(stream: "T-1", events: [sampleEvent(1)], expectedVersion: .any))
        // The replicated log keeps the first of the next group's two events, then refuses.
        replicator.refuse(keepingFirst: 1)
        await #expect(throws: EventLogError.self) {
            try await leader.append(AppendRequest(stream: "T-2", events: [sampleEvent(2), sampleEvent(3)], expectedVersion: .any))
        }
        #expect(try leader.head.seq == 1)
        #expect(replicator.events.count == 2)
        // Requests fail while it refuses, even those that would append nothing.
        await #expect(throws: EventLogError.self) {
            try await leader.append(AppendRequest(stream: "T-1", events: [], expectedVersion: .any))
        }
        // What the replicated log kept reaches the log as a follower's event: the chain goes on.
        try await leader.applyReplicated([replicator.events[1]])
        #expect(try leader.head.seq == 2)
        #expect(try leader.head.hash == replicator.events[1].hash)
        replicator.accept()
        let next = try await leader.append(AppendRequest(stream: "T-3", events: [sampleEvent(4)], expectedVersion: .any))
        #expect(next.lastSeq == 3)
        #expect(replicator.events.last?.seq == 3)
        #expect(try leader.verify().head.seq == 3 && leader.verify().failure == nil)
        leader.close()
    }

    @Test func aFollowerRefusesEventsThatDoNotContinueItsChain() async throws {
        let leaderDir = TemporaryDirectory(), followerDir = TemporaryDirectory()
        let replicator = RecordingReplicator()
        let leader = try openLeader(leaderDir, replicator, clock: ManualClock())
        let follower = try openStore(followerDir)
        for n in 1...3 {
            _ = try await leader.append(AppendRequest(stream: "T-1", events: [sampleEvent(n)], expectedVersion: .any))
        }
        let events = replicator.events
        // A gap, a tampered byte, a replay of what is there: each refused, nothing written.
        await #expect(throws: EventLogError.self) { try await follower.applyReplicated([events[1]]) }
        var tampered = events[0]
        tampered.record[tampered.record.count - 40] ^= 0x01
        await #expect(throws: EventLogError.self) { try await follower.applyReplicated([tampered]) }
        #expect(try follower.head.seq == 0)
        try await follower.applyReplicated([events[0], events[1]])
        await #expect(throws: EventLogError.self) { try await follower.applyReplicated([events[1]]) }
        #expect(try follower.head.seq == 2)
        // A frame that names another seq than the one expected is refused when read.
        #expect(throws: EventLogError.self) { try ReplicatedEvent(decoding: events[2].encoded(), expectedSeq: 4) }
        #expect(throws: EventLogError.self) { try ReplicatedEvent(decoding: Array(events[2].encoded().dropLast()), expectedSeq: 3) }
        leader.close()
        follower.close()
    }
}
