import EventLog
import Foundation
import Logging
import SupportDomain
import Testing

@testable import Projections

/// Point-in-time answers from the snapshots of a ``PointInTimeIndex`` against full folds of the
/// log up to the same instant (SPEC §3): on random logs with back-dated events and an imported
/// older log appended after newer events, at random instants, exactly at event instants, before
/// the first event and after the last, the projections are equal (checkpoint bytes) and so is every
/// view's answer; after events are appended, and after a restart from a checkpoint (answers are
/// full folds until the background fold has rebuilt the snapshots, then from the snapshots).
@Suite("Point-in-time answers from snapshots")
struct PointInTimeTests {
    static let start = Timestamp(rfc3339: "2026-03-20T06:00:00Z")!
    /// Many snapshots on a small log, thinned a few times.
    static let options = PointInTimeIndex.Options(spacing: 40, capacity: 6, markEvery: 16)

    /// The events of a random log as appends, its tickets renamed with `prefix` (an imported log).
    static func requests(_ events: [RecordedEvent], prefix: String = "") -> [AppendRequest] {
        events.map { e in
            var data = e.data
            if !prefix.isEmpty, case .object(var fields) = data, case .string(let into)? = fields["into"] {
                fields["into"] = .string(prefix + into)
                data = .object(fields)
            }
            return AppendRequest(
                stream: prefix + e.stream, events: [ProposedEvent(type: e.type, at: e.at, actor: e.actor, data: data)],
                expectedVersion: .exactly(e.version - 1))
        }
    }

    static func append(_ requests: [AppendRequest], to store: any EventStoring) async throws {
        for result in await store.append(contentsOf: requests) { _ = try result.get() }
    }

    /// Every view's answer at `at`, as text.
    static func answers(_ p: borrowing SupportProjection, at: Timestamp) -> [String] {
        var out = [
            "\(p.queues(at: at))", "\(p.workloads(window: .unbounded))",
            "\(p.responseTimes(at: at, window: .unbounded, groupBy: .team, clock: .business))",
            "\(p.responseTimes(at: at, window: .unbounded, groupBy: .agent, clock: .calendar))",
            "\(p.satisfaction(window: .unbounded, bucket: .week, groupBy: .agent))",
            "\((try? p.tickets(matching: TicketFilter(), at: at, limit: 1000)).map { "\($0)" } ?? "refused")",
            "\((try? p.tickets(matching: TicketFilter(customer: "c2"), at: at, limit: 3)).map { "\($0)" } ?? "refused")",
        ]
        for team in RandomLog.teams { out.append("\(p.teamQueue(team, at: at))") }
        for agent in RandomLog.agents { out.append("\(p.agentQueue(agent, at: at))") }
        return out
    }

    /// Instants: before the first event, every event's `at` and a millisecond either side of
    /// some, random ones over the span, after the last.
    static func instants(_ events: [RecordedEvent], seed: UInt64, count: Int) -> [Timestamp] {
        var random = SeededRandom(seed: seed)
        let ats = events.map(\.at.milliseconds)
        let low = ats.min()!, high = ats.max()!
        var out = [low - 1, high, high + 86_400_000]
        for _ in 0..<count {
            let at = ats[Int.random(in: 0..<ats.count, using: &random)]
            out += [at, at + Int64.random(in: -1...1, using: &random), Int64.random(in: low...high, using: &random)]
        }
        return out.map { Timestamp(milliseconds: $0) }
    }

    /// How the answers were planned: from the snapshots, and of those, starting from a snapshot
    /// (not from seq 1) and reading back-dated events after the bound.
    struct Plans {
        var fromSnapshots = 0
        var fromASnapshot = 0
        var withBackdated = 0
    }

    /// Checks the runner's answers at every instant against full folds.
    @discardableResult
    static func expectSameAnswers(
        _ runner: ProjectionRunner, at instants: [Timestamp], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Plans {
        var plans = Plans()
        for at in instants {
            if let plan = try runner.snapshotPlan(at: at) {
                plans.fromSnapshots += 1
                if plan.start != nil { plans.fromASnapshot += 1 }
                if !plan.backdated.isEmpty { plans.withBackdated += 1 }
            }
            let answer = try runner.asOf(at)
            let full = try runner.fullFold(upTo: at)
            #expect(answer.checkpoint() == full.checkpoint(), "projection at \(at)", sourceLocation: sourceLocation)
            #expect(answers(answer, at: at) == answers(full, at: at), "answers at \(at)", sourceLocation: sourceLocation)
        }
        return plans
    }

    static func waitForSnapshots(_ runner: ProjectionRunner) async {
        while !(runner.pointInTime?.isCaughtUp ?? true) { await Task.yield() }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func answersFromSnapshotsEqualFullFoldsOnRandomLogsWithBackDatedAndImportedEvents(_ seed: UInt64) async throws {
        let levels = try P.levels()
        let store = InMemoryEventStore(envelope: EnvelopeFormat(streamField: "ticket"))
        let recent = RandomLog(seed: seed, steps: 700, start: Self.start).events
        // An older log imported after the newer one: every one of its events is back-dated.
        let imported = RandomLog(seed: seed + 100, steps: 150, start: Timestamp(milliseconds: Self.start.milliseconds - 40 * 86_400_000))
            .events
        try await Self.append(Self.requests(recent), to: store)
        try await Self.append(Self.requests(imported, prefix: "OLD-"), to: store)
        let runner = try ProjectionRunner(
            store: store, checkpoints: InMemoryCheckpointStore(), levels: levels, pointInTime: Self.options)
        let figures = try #require(runner.pointInTime?.figures)
        #expect(figures.snapshots > 1)
        #expect(figures.backdated >= imported.count)
        #expect(figures.covered == UInt64(recent.count + imported.count))
        let all = try store.events(after: 0, limit: .max)
        let plans = try Self.expectSameAnswers(runner, at: Self.instants(all, seed: seed, count: 25))
        #expect(plans.fromSnapshots == 3 * 25 + 3 && plans.fromASnapshot > 0 && plans.withBackdated > 0)

        // Events appended after the snapshots, some back-dated before the newest snapshot.
        let more = RandomLog(seed: seed + 200, steps: 200, start: Timestamp(milliseconds: Self.start.milliseconds + 2 * 86_400_000)).events
        try await Self.append(Self.requests(more, prefix: "NEW-"), to: store)
        await runner.waitUntilApplied(try store.head.seq)
        #expect(runner.pointInTime?.figures.covered == (try store.head.seq))
        try Self.expectSameAnswers(runner, at: Self.instants(try store.events(after: 0, limit: .max), seed: seed + 1, count: 25))
    }

    @Test func answersEqualFullFoldsBeforeAndAfterTheSnapshotsAreRebuiltOnARestart() async throws {
        let levels = try P.levels()
        let store = InMemoryEventStore(envelope: EnvelopeFormat(streamField: "ticket"))
        let checkpoints = InMemoryCheckpointStore()
        let events = RandomLog(seed: 9, steps: 600, start: Self.start).events
        try await Self.append(Self.requests(events), to: store)
        let first = try ProjectionRunner(store: store, checkpoints: checkpoints, levels: levels, pointInTime: Self.options)
        await first.saveCheckpoint()
        let older = RandomLog(seed: 19, steps: 100, start: Timestamp(milliseconds: Self.start.milliseconds - 9 * 86_400_000)).events
        try await Self.append(Self.requests(older, prefix: "OLD-"), to: store)

        // Resumed from the checkpoint: the snapshots are rebuilt in the background.
        let runner = try ProjectionRunner(store: store, checkpoints: checkpoints, levels: levels, pointInTime: Self.options)
        #expect(runner.resumedFrom == UInt64(events.count))
        let all = try store.events(after: 0, limit: .max)
        let instants = Self.instants(all, seed: 9, count: 15)
        // Whatever the background fold has reached, each answer is right.
        try Self.expectSameAnswers(runner, at: Array(instants.prefix(6)))
        await Self.waitForSnapshots(runner)
        #expect(runner.pointInTime?.figures.covered == (try store.head.seq))
        #expect(try Self.expectSameAnswers(runner, at: instants).fromSnapshots == instants.count)
        // The live projection feeds the index from there.
        let more = RandomLog(seed: 29, steps: 100, start: Timestamp(milliseconds: Self.start.milliseconds + 86_400_000)).events
        try await Self.append(Self.requests(more, prefix: "NEW-"), to: store)
        await runner.waitUntilApplied(try store.head.seq)
        #expect(runner.pointInTime?.figures.covered == (try store.head.seq))
        try Self.expectSameAnswers(runner, at: Self.instants(try store.events(after: 0, limit: .max), seed: 10, count: 15))
    }

    @Test func aLogOfMoreBackDatedEventsThanTheIndexKeepsIsAnsweredByFullFolds() async throws {
        let levels = try P.levels()
        let store = InMemoryEventStore(envelope: EnvelopeFormat(streamField: "ticket"))
        try await Self.append(Self.requests(RandomLog(seed: 4, steps: 300, start: Self.start).events), to: store)
        let older = RandomLog(seed: 5, steps: 200, start: Timestamp(milliseconds: Self.start.milliseconds - 30 * 86_400_000)).events
        try await Self.append(Self.requests(older, prefix: "OLD-"), to: store)
        let runner = try ProjectionRunner(
            store: store, checkpoints: InMemoryCheckpointStore(), levels: levels,
            pointInTime: PointInTimeIndex.Options(spacing: 40, capacity: 6, backdatedLimit: 50, markEvery: 16))
        #expect(runner.pointInTime?.figures.overflowed == true)
        let instants = Self.instants(try store.events(after: 0, limit: .max), seed: 4, count: 8)
        #expect(try Self.expectSameAnswers(runner, at: instants).fromSnapshots == 0)
    }

    @Test func copiesOfAProjectionShareTheirChunksAndNameTables() throws {
        let levels = try P.levels()
        var projection = SupportProjection(levels: levels)
        for e in RandomLog(seed: 3, steps: 3000, start: Self.start).events { try? projection.apply(e) }
        let snapshot = projection
        // One more ticket: the copy keeps its chunks but for the one written.
        try projection.apply(
            RecordedEvent(
                seq: projection.appliedSeq + 1, stream: "T-new", version: 1, type: "ticket.opened", at: Self.start,
                recorded: Self.start, actor: EventActor(kind: "customer", id: "c1"), data: P.json(P.opening(customer: "c1")),
                prev: .zero, hash: .zero))
        #expect(projection.tickets.count == snapshot.tickets.count + 1)
        #expect(projection.tickets.sharedChunks(with: snapshot.tickets) >= snapshot.tickets.chunks.count - 1)
        #expect(snapshot.ticketKeys.index(of: "T-new") == nil && projection.ticketKeys.index(of: "T-new") != nil)
    }
}
