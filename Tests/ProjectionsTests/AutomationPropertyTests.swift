import EventLog
import Foundation
import SupportDomain
import SupportService
import Synchronization
import Testing

@testable import Projections

/// The oracle-level properties with the automations on (issue 14): random logs (``RandomLog``)
/// replayed through a backend on a real log whose automations run as a manual clock steps
/// through time. On the resulting log (a) the projection following the log answers what the
/// plain recomputation (``Reference``) computes, (b) rebuilding it from seq 1 answers the same,
/// (c) `asOf` answers include the automations' events and equal the recomputation at that
/// instant, and (d) each running interval had at most one warning per target and at most one
/// breach reaction, each at or after its instant.
@Suite("Projection properties with automations on")
struct AutomationPropertyTests {
    static let start = Timestamp(rfc3339: "2026-03-20T06:00:00Z")!

    /// Every automation on, over the teams and agents of ``RandomLog``.
    static let policies = [
        """
        {"automations": {
          "slaWarning": {"leadSeconds": 3600},
          "escalation": {"teams": {"hosting": "vps", "vps": "email", "domains": "hosting"}, "raisePriority": true},
          "shifts": {
            "hosting": [
              {"name": "day", "agents": ["alice", "bob"],
               "schedule": {"mon": ["07:00-15:00"], "tue": ["07:00-15:00"], "wed": ["07:00-15:00"], "thu": ["07:00-15:00"], "fri": ["07:00-15:00"]}},
              {"name": "late", "agents": ["chloe", "bob"],
               "schedule": {"mon": ["15:00-23:00"], "tue": ["15:00-23:00"], "wed": ["15:00-23:00"], "thu": ["15:00-23:00"], "fri": ["15:00-23:00"]}}],
            "domains": [{"name": "all", "agents": ["\\u00c9mile", "alice"], "schedule": {"mon": ["09:00-17:00"], "wed": ["09:00-17:00"], "sat": ["10:00-12:00"]}}]},
          "autoClose": {"businessDays": 2}}}
        """,
        """
        {"holidays": ["2026-03-25", "2026-04-06"], "capacity": 2,
         "targets": {"low": {"nextReply": null}, "high": {"firstReply": {"seconds": 1800, "clock": "calendar"}}},
         "automations": {
          "slaWarning": {"leadSeconds": 7200},
          "escalation": {"teams": {"email": "hosting", "vps": "\\u00dcberweisung"}},
          "shifts": {"email": [{"name": "all", "agents": ["alice", "bob", "chloe"], "schedule": {"tue": ["10:00-18:00"], "thu": ["00:00-24:00"], "fri": ["00:00-06:00"]}}]},
          "autoClose": {"businessDays": 1}}}
        """,
    ]

    struct Case: CustomTestStringConvertible, Sendable {
        var seed: UInt64
        var policy: Int
        var testDescription: String { "seed \(seed), policy \(policy)" }
    }

    // One case per run: each replays a few weeks step by step (minutes of CPU), and the whole
    // suite runs in parallel on two cores. Seed 21 with policy 0 passed too when this was written.
    static let cases = [Case(seed: 22, policy: 1)]

    @Test(arguments: cases)
    func theProjectionsStillAnswerTheReferenceWithAutomationsOn(_ c: Case) async throws {
        let policy = try Policy.parse(jsonData: Data(Self.policies[c.policy].utf8))
        let levels = try ServiceLevels(policy: policy)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = SteppedClock(Self.start)
        let replayed = try await Self.replay(
            RandomLog(seed: c.seed, steps: 300, start: Self.start).events, into: directory.path, policy: policy, clock: clock)
        let events = replayed.events
        let evaluation = clock.now
        let byAutomations = events.filter { $0.actor == ReactionPlanner.actor.eventActor }
        #expect(replayed.kept > 150, "most random events still apply")
        #expect(byAutomations.contains { $0.type == "sla.warning" })
        #expect(byAutomations.contains { $0.type == "ticket.escalated" })
        #expect(byAutomations.contains { $0.type == "status.changed" })
        #expect(byAutomations.contains { $0.type == "ticket.assigned" })

        var rng = SeededRandom(seed: c.seed &* 31)
        let first = events.map(\.at.milliseconds).min()!, last = events.map(\.at.milliseconds).max()!
        let property = PropertyTests()

        // (a) The projection that followed the log against the recomputation on the whole log.
        let live = replayed.live
        try property.compare(
            live, try Reference(events: events, levels: levels, evaluation: evaluation), at: evaluation, rng: &rng, first: first, last: last
        )

        // (b) Rebuilt from seq 1, by a fold and by a backend told to rebuild: the same answers.
        var folded = SupportProjection(levels: levels)
        try folded.apply(contentsOf: events)
        let rebuiltBackend = try SupportBackend(dataDirectory: directory.path, policy: policy, rebuildProjections: true, clock: clock.read)
        let rebuilt = rebuiltBackend.projections.read { p in copy p }
        for offset: Int64 in [0, 3_600_000, 4 * 86_400_000] {
            let at = Timestamp(milliseconds: evaluation.milliseconds + offset)
            let answers = property.answers(live, at: at)
            #expect(property.answers(folded, at: at) == answers, "a fold from seq 1 at \(at)")
            #expect(property.answers(rebuilt, at: at) == answers, "a rebuilt backend at \(at)")
        }

        // (c) asOf answers: the automations' events up to the instant count like any other.
        var instants = (0..<3).map { _ in Timestamp(milliseconds: Int64.random(in: first...last, using: &rng)) }
        instants += byAutomations.shuffled(using: &rng).prefix(3).map(\.at)  // exactly at a reaction
        for instant in instants {
            let prefix = events.filter { $0.at <= instant }
            let asOf = try rebuiltBackend.projections.asOf(instant)
            try property.compare(
                asOf, try Reference(events: prefix, levels: levels, evaluation: instant), at: instant, rng: &rng, first: first, last: last)
            for ticket in Set(prefix.filter { $0.actor == ReactionPlanner.actor.eventActor }.map(\.stream)) {
                let version = prefix.filter { $0.stream == ticket }.count
                #expect(asOf.ticket(ticket, at: instant)?.version == UInt64(version), "\(ticket) as of \(instant)")
            }
        }
        rebuiltBackend.close()

        // (d) Once per running interval, never early.
        try Self.checkOncePerInterval(events, levels: levels)
    }

    // MARK: The replay

    /// A clock the test moves.
    final class SteppedClock: Sendable {
        private let state: Mutex<Timestamp>
        init(_ start: Timestamp) { state = Mutex(start) }
        var now: Timestamp { state.withLock { $0 } }
        var read: @Sendable () -> Timestamp { { [self] in self.now } }
        func set(_ t: Timestamp) { state.withLock { $0 = t } }
    }

    struct Replayed {
        var events: [RecordedEvent]
        var live: SupportProjection
        var kept: Int
    }

    /// Replays `generated` in log order through a backend over `directory`: before each event the
    /// clock moves on to its `at` (when later) in rounds of at most 30 minutes and at each instant a reaction falls due, the automations
    /// running at each; the event is then imported at its `at`, raised to its ticket's last `at`
    /// (a reaction may have come later), or left out when the ticket no longer accepts it (a
    /// reaction changed it). Then three more days of rounds.
    static func replay(_ generated: [RecordedEvent], into directory: String, policy: Policy, clock: SteppedClock) async throws -> Replayed {
        // Flushed behind the commits: the properties are about what is decided, not about power loss.
        let backend = try SupportBackend(
            dataDirectory: directory, policy: policy, durability: .deferred(flushIntervalMilliseconds: 50), clock: clock.read)
        let projector = Task { await backend.projections.run() }
        do {
            let runner = try #require(backend.makeAutomations())
            let importer = LogImporter(backend: backend)
            let round: Int64 = 30 * 60_000
            // A round at least every 30 minutes, and one exactly at each instant a reaction falls due.
            func advance(to target: Timestamp) async {
                while clock.now < target {
                    let next = min(
                        clock.now.milliseconds + round, target.milliseconds,
                        max(runner.nextDue?.milliseconds ?? .max, clock.now.milliseconds + 1))
                    clock.set(Timestamp(milliseconds: next))
                    await runner.step()
                }
            }
            var kept = 0
            for event in generated {
                await advance(to: event.at)
                let lastAt = try backend.commands.load(event.stream)?.lastAt
                let at = max(event.at, lastAt ?? event.at)
                do {
                    _ = try await importer.run([
                        ImportLine(ticket: event.stream, type: event.type, at: at, actor: event.actor, data: event.data)
                    ])
                    kept += 1
                } catch {
                    // Refused: the ticket moved on (closed, escalated, its status already the one asked).
                }
            }
            await advance(to: Timestamp(milliseconds: clock.now.milliseconds + 3 * 86_400_000))
            await backend.projections.waitUntilApplied(try backend.store.head.seq)
            let live = backend.projections.read { p in copy p }
            let events = try backend.store.events(after: 0, limit: 1_000_000)
            projector.cancel()
            backend.close()
            await projector.value
            return Replayed(events: events, live: live, kept: kept)
        } catch {
            projector.cancel()
            backend.close()
            await projector.value
            throw error
        }
    }

    // MARK: Once per interval

    /// Walks each ticket: every warning is about a running interval, at most one per target and
    /// interval, due where the policy puts it and not decided before due - lead; every breach
    /// note is about a running, breached interval, at most one per target and interval.
    static func checkOncePerInterval(_ events: [RecordedEvent], levels: ServiceLevels) throws {
        let lead = (levels.policy.automations.slaWarning?.leadSeconds ?? 0) * 1000
        var streams: [String: [RecordedEvent]] = [:]
        for e in events { streams[e.stream, default: []].append(e) }
        var warnings = 0, breaches = 0
        for (id, stream) in streams {
            var fold = TicketFold()
            // A resolution interval runs from opening or reopening until solved or closed.
            var resolutionInterval = 0
            var warned: Set<String> = [], breached: Set<String> = []
            for e in stream {
                let before = fold.ticket
                let event = try fold.apply(e)
                guard let ticket = before, let after = fold.ticket else { continue }
                if ticket.status.isResolved, !after.status.isResolved { resolutionInterval += 1 }
                func interval(_ metric: SLAMetric) -> String {
                    metric == .resolution
                        ? "resolution \(resolutionInterval)" : "\(metric) \(ticket.runningTurn.map { "\($0.start)" } ?? "-")"
                }
                func start(_ metric: SLAMetric) -> Timestamp {
                    metric == .resolution ? ticket.openedAt : ticket.runningTurn?.start ?? ticket.openedAt
                }
                switch event {
                case .slaWarning(let w):
                    warnings += 1
                    #expect(ticket.isRunning(w.target), "\(id) v\(e.version): a warning on a stopped interval")
                    #expect(warned.insert(interval(w.target)).inserted, "\(id) v\(e.version): a second warning for \(interval(w.target))")
                    let deadline = try #require(levels.deadline(w.target, priority: ticket.priority, start: start(w.target)))
                    #expect(deadline.due == w.due, "\(id) v\(e.version): warned of \(w.due), due \(String(describing: deadline.due))")
                    let target = try #require(levels.target(w.target, priority: ticket.priority))
                    #expect(
                        levels.duration(from: e.at, to: w.due, clock: target.clock) <= lead,
                        "\(id) v\(e.version): warned too early at \(e.at)")
                case .noteAdded(let n):
                    guard let record = n.automation else { break }
                    #expect(e.actor == ReactionPlanner.actor.eventActor)
                    #expect(e.at >= record.due, "\(id) v\(e.version): \(record.rule) decided at \(e.at) before its due \(record.due)")
                    if record.rule == .slaBreach, let metric = record.target {
                        breaches += 1
                        #expect(ticket.isRunning(metric))
                        #expect(
                            breached.insert(interval(metric)).inserted,
                            "\(id) v\(e.version): a second breach reaction for \(interval(metric))")
                        let deadline = try #require(levels.deadline(metric, priority: ticket.priority, start: start(metric)))
                        #expect(deadline.breachAt == record.due && deadline.isBreached(at: e.at))
                    }
                default: break
                }
                // An interval that ended starts afresh.
                if ticket.runningTurn != after.runningTurn {
                    warned = warned.filter { $0.hasPrefix("resolution") }
                    breached = breached.filter { $0.hasPrefix("resolution") }
                }
            }
        }
        #expect(warnings > 0 && breaches > 0)
    }
}
