import Foundation
import Logging
import Projections
import SupportDomain
import Testing

@testable import EventLog

@Suite("The projection runner: checkpoints, resume and rebuild")
struct ProjectionRunnerTests {
    func open(_ dir: TemporaryDirectory) throws -> EventStore {
        try EventStore(EventLogConfiguration(directory: dir.path, envelope: EnvelopeFormat(streamField: "ticket")))
    }

    /// A few tickets with replies, a solve and a rating, appended through the log.
    func appendTickets(_ store: any EventStoring, from first: Int, count: Int) async throws {
        let t0: Int64 = 1_772_445_600_000  // 2026-03-02T10:00:00Z
        for n in first..<(first + count) {
            let id = "T-\(n)", at = t0 + Int64(n) * 60_000
            func e(_ type: String, _ offset: Int64, _ kind: String, _ actor: String, _ data: JSONValue) -> ProposedEvent {
                ProposedEvent(type: type, at: Timestamp(milliseconds: at + offset), actor: EventActor(kind: kind, id: actor), data: data)
            }
            _ = try await store.append(
                AppendRequest(
                    stream: id,
                    events: [
                        e(
                            "ticket.opened", 0, "customer", "c-\(n)",
                            .object([
                                "customer": .string("c-\(n)"), "subject": .string("s"),
                                "body": .string("b"), "channel": .string("email"), "product": .string(n % 2 == 0 ? "hosting" : "vps"),
                                "priority": .string(["low", "normal", "high", "urgent"][n % 4]),
                            ])),
                        e("message.posted", 600_000, "agent", "amelie", .object(["body": .string("reply")])),
                        e("status.changed", 700_000, "agent", "amelie", .object(["status": .string(n % 3 == 0 ? "solved" : "pending")])),
                        e("satisfaction.rated", 800_000, "customer", "c-\(n)", .object(["score": .int(Int64(n % 5 + 1))])),
                    ], expectedVersion: .noStream))
        }
    }

    func answers(_ runner: ProjectionRunner) -> [String] {
        let at = Timestamp(milliseconds: 1_772_600_000_000)
        return runner.read { p in
            [
                String(describing: p.queues(at: at)), String(describing: p.workloads(window: .unbounded)),
                String(describing: p.responseTimes(at: at, window: .unbounded, groupBy: .team, clock: .business)),
                String(describing: p.satisfaction(window: .unbounded, bucket: .week, groupBy: .agent)),
            ]
        }
    }

    @Test func aRestartResumesFromTheCheckpointWithoutReplayingTheLog() async throws {
        let dir = TemporaryDirectory()
        let levels = try ServiceLevels(policy: .default)
        var before: [String] = []
        do {
            let store = try open(dir)
            try await appendTickets(store, from: 1, count: 20)
            let runner = try ProjectionRunner(store: store, levels: levels)
            #expect(runner.resumedFrom == nil, "nothing to resume from the first time")
            await runner.saveCheckpoint()
            before = answers(runner)
            store.close()
        }
        let store = try open(dir)
        defer { store.close() }
        let resumed = try ProjectionRunner(store: store, levels: levels)
        #expect(resumed.resumedFrom == 80)
        #expect(answers(resumed) == before)
        // Events after the checkpoint are applied on top, and equal a rebuild.
        try await appendTickets(store, from: 21, count: 5)
        await resumed.waitUntilApplied(try store.head.seq)
        let rebuilt = try ProjectionRunner(store: store, levels: levels, rebuild: true)
        #expect(rebuilt.resumedFrom == nil)
        #expect(answers(resumed) == answers(rebuilt))
    }

    @Test func aCheckpointOfAnotherFoldVersionOrPolicyTriggersARebuild() async throws {
        let levels = try ServiceLevels(policy: .default)
        let store = InMemoryEventStore(envelope: EnvelopeFormat(streamField: "ticket"))
        let checkpoints = InMemoryCheckpointStore()
        try await appendTickets(store, from: 1, count: 10)
        let first = try ProjectionRunner(store: store, checkpoints: checkpoints, levels: levels)
        await first.saveCheckpoint()
        let expected = answers(first)
        #expect(try ProjectionRunner(store: store, checkpoints: checkpoints, levels: levels).resumedFrom == 40)
        // Another version of the fold wrote it: the version field follows the 4-byte magic.
        var stored = try #require(try checkpoints.load(name: ProjectionRunner.checkpointName))
        stored.state[4] &+= 1
        try checkpoints.store(stored, name: ProjectionRunner.checkpointName)
        let afterVersionChange = try ProjectionRunner(store: store, checkpoints: checkpoints, levels: levels)
        #expect(afterVersionChange.resumedFrom == nil)
        #expect(answers(afterVersionChange) == expected)
        // Another policy: rebuilt under the new one.
        await first.saveCheckpoint()
        let otherPolicy = try ServiceLevels(policy: Policy.parse(jsonData: Data(#"{"capacity": 3}"#.utf8)))
        let afterPolicyChange = try ProjectionRunner(store: store, checkpoints: checkpoints, levels: otherPolicy)
        #expect(afterPolicyChange.resumedFrom == nil)
        #expect(afterPolicyChange.policyHash != first.policyHash)
        #expect(afterPolicyChange.read { $0.capacity } == 3)
    }

    /// A checkpoint that claims events the log does not hold (a lost tail, another log) is not
    /// resumed from: the projection is rebuilt from the log.
    @Test func aCheckpointThatDoesNotFitTheLogTriggersARebuild() async throws {
        let levels = try ServiceLevels(policy: .default)
        let checkpoints = InMemoryCheckpointStore()
        let longer = InMemoryEventStore(envelope: EnvelopeFormat(streamField: "ticket"))
        try await appendTickets(longer, from: 1, count: 10)
        await (try ProjectionRunner(store: longer, checkpoints: checkpoints, levels: levels)).saveCheckpoint()
        let shorter = InMemoryEventStore(envelope: EnvelopeFormat(streamField: "ticket"))
        try await appendTickets(shorter, from: 1, count: 5)
        let runner = try ProjectionRunner(store: shorter, checkpoints: checkpoints, levels: levels)
        #expect(runner.resumedFrom == nil)
        #expect(runner.appliedSeq == 20)
        #expect(answers(runner) == answers(try ProjectionRunner(store: shorter, checkpoints: InMemoryCheckpointStore(), levels: levels)))
    }

    /// Data directories from before checkpoints had their own store kept them inside the log:
    /// such a checkpoint is dropped, the projection rebuilt, and the next start resumes.
    @Test func aCheckpointInTheLogsOldPlaceIsRebuiltThenResumedFromItsNewPlace() async throws {
        let dir = TemporaryDirectory()
        let levels = try ServiceLevels(policy: .default)
        var rebuilt: [String] = []
        do {
            let store = try open(dir)
            try await appendTickets(store, from: 1, count: 20)
            let state = try ProjectionRunner(store: store, checkpoints: InMemoryCheckpointStore(), levels: levels)
                .read { $0.checkpoint() }
            rebuilt = answers(try ProjectionRunner(store: store, checkpoints: InMemoryCheckpointStore(), levels: levels))
            store.close()
            // The old layout: the projection's name -> seq (8 bytes big-endian) + state, in the log.
            let raw = try LMDBEnvironment(directory: dir.path, mapSize: 1 << 30, maxDatabases: 8, readOnly: false, sync: .full)
            let old = try raw.openDatabase(named: LogStorage.retiredCheckpoints, create: true)
            var value: [UInt8] = []
            value.appendBigEndian(UInt64(80))
            value.append(contentsOf: state)
            try raw.withTransaction(readOnly: false) { txn in
                try txn.put(old, key: Array(ProjectionRunner.checkpointName.utf8), value: value)
            }
        }
        do {
            let store = try open(dir)
            let runner = try ProjectionRunner(store: store, levels: levels)
            #expect(runner.resumedFrom == nil)
            #expect(answers(runner) == rebuilt)
            await runner.saveCheckpoint()
            store.close()
        }
        let store = try open(dir)
        defer { store.close() }
        let resumed = try ProjectionRunner(store: store, levels: levels)
        #expect(resumed.resumedFrom == 80)
        #expect(answers(resumed) == rebuilt)
    }
}
