import EventLog
import Foundation
import SupportService
import Testing

@testable import SupportDomain

/// The automations (issue 14) driven by a manual clock over a real log: a scripted week of
/// tickets through warning, breach, escalation, shift end and auto-close, each reaction checked
/// at its instant; then the same week with a restart (and a rebuild) between every two steps,
/// which must write the very same log.
@Suite("Automations: a scripted week")
struct AutomationTests {
    typealias S = AutomationScenario

    /// The plain run (no restart), shared by the tests that read one ticket's reactions in it.
    static let plain = Task { try await S.play(.never) }

    // MARK: SLA warnings

    @Test func theWarningFiresOnceAtDueMinusTheLeadOnACalendarClock() async throws {
        let run = try await Self.plain.value
        // T-1 (urgent, first reply 1 h on the calendar clock, opened 09:00Z): due 10:00Z, warned 09:30Z.
        #expect(run.reactions("T-1").first == S.warning("2026-03-02T09:30:00Z", .firstReply, due: "2026-03-02T10:00:00Z"))
        #expect(run.fired("2026-03-02T09:29:59.999Z") == [0], "not a millisecond before due - lead")
        #expect(run.fired("2026-03-02T09:30:00Z") == [1, 0], "once at due - lead, not again in the same instant")
        #expect(run.reactions("T-1").filter { $0.hasPrefix("sla.warning") && $0.contains("firstReply") }.count == 1)
    }

    @Test func theWarningFiresOnceAtDueMinusTheLeadInBusinessTime() async throws {
        let run = try await Self.plain.value
        // T-2 (high, first reply 4 business hours, opened Monday 10:00 in Paris): due 14:00 Paris
        // (13:00Z), warned 30 business minutes before.
        #expect(run.reactions("T-2").first == S.warning("2026-03-02T12:30:00Z", .firstReply, due: "2026-03-02T13:00:00Z"))
        #expect(run.fired("2026-03-02T12:29:59.999Z") == [0])
        // T-3's next reply (normal, 16 business hours from Monday 18:00 Paris): due Wednesday
        // 12:00 Paris, so warned at 11:30 Paris, across a night and a whole business day.
        #expect(run.reactions("T-3").first == S.warning("2026-03-04T10:30:00Z", .nextReply, due: "2026-03-04T11:00:00Z"))
        #expect(run.fired("2026-03-04T10:29:59.999Z") == [0])
        #expect(run.fired("2026-03-04T10:30:00Z") == [1])
    }

    @Test func warningsAreSystemEventsThatChangeNothingElse() async throws {
        let run = try await Self.plain.value
        let warnings = run.events.filter { $0.type == "sla.warning" }
        #expect(warnings.count == 6)
        for w in warnings {
            #expect(w.actor == "system/automations", "\(w)")
        }
        // A warning leaves the folded ticket as it was, but for its version and last instant.
        for w in warnings {
            let stream = run.events.filter { $0.stream == w.stream && $0.version <= w.version }
            let before = try #require(try Ticket.fold(stream.dropLast().map(\.recorded)))
            let after = try #require(try Ticket.fold(stream.map(\.recorded)))
            #expect(after.status == before.status && after.priority == before.priority && after.team == before.team)
            #expect(after.assignee == before.assignee && after.thread == before.thread && after.runningTurn == before.runningTurn)
        }
    }

    // MARK: Breaches

    @Test func aBreachEscalatesToTheEscalationTeamOnceWithItsNote() async throws {
        let run = try await Self.plain.value
        // T-1 breaches its first reply 1 ms after 10:00Z: to hosting-l2; urgent cannot go higher.
        #expect(
            Array(run.reactions("T-1").prefix(3)) == [
                S.warning("2026-03-02T09:30:00Z", .firstReply, due: "2026-03-02T10:00:00Z"),
                S.breachNote("2026-03-02T10:00:00.001Z", .firstReply, due: "2026-03-02T10:00:00.001Z"),
                S.escalated("2026-03-02T10:00:00.001Z", to: "hosting-l2", .firstReply),
            ])
        #expect(run.fired("2026-03-02T10:00:00Z") == [0], "due is not yet breached")
        #expect(run.fired("2026-03-02T10:00:00.001Z") == [1])
        #expect(run.events.filter { $0.stream == "T-1" && $0.type == "priority.changed" }.isEmpty)
    }

    @Test func aBreachAlsoRaisesThePriorityOneStep() async throws {
        let run = try await Self.plain.value
        // T-2 (high) breaches at 13:00:00.001Z; the runner runs at 13:10Z: one reaction, late.
        let t2 = run.reactions("T-2")
        #expect(
            Array(t2.prefix(4)) == [
                S.warning("2026-03-02T12:30:00Z", .firstReply, due: "2026-03-02T13:00:00Z"),
                S.breachNote("2026-03-02T13:10:00Z", .firstReply, due: "2026-03-02T13:00:00.001Z"),
                S.escalated("2026-03-02T13:10:00Z", to: "hosting-l2", .firstReply),
                S.priority("2026-03-02T13:10:00Z", .urgent),
            ])
        // Urgent now, its resolution has a target (8 calendar hours from 09:00Z): warned (late,
        // at the next round) and breached in turn, to the escalation team of hosting-l2.
        #expect(
            Array(t2.dropFirst(4)) == [
                S.warning("2026-03-02T16:45:00Z", .resolution, due: "2026-03-02T17:00:00Z"),
                S.breachNote("2026-03-02T17:00:00.001Z", .resolution, due: "2026-03-02T17:00:00.001Z"),
                S.escalated("2026-03-02T17:00:00.001Z", to: "hosting-l3", .resolution),
            ])
        // T-3 (normal) on its next reply: hosting-l2 and high.
        #expect(
            Array(run.reactions("T-3").dropFirst()) == [
                S.breachNote("2026-03-04T11:00:00.001Z", .nextReply, due: "2026-03-04T11:00:00.001Z"),
                S.escalated("2026-03-04T11:00:00.001Z", to: "hosting-l2", .nextReply),
                S.priority("2026-03-04T11:00:00.001Z", .high),
            ])
        let note = try #require(run.events.first { $0.stream == "T-2" && $0.type == "note.added" })
        #expect(note.data["body"]?.stringValue?.isEmpty == false)
    }

    @Test func aBreachWithNothingToDoAppendsNothing() async throws {
        let run = try await Self.plain.value
        // T-1's resolution breaches at 17:00:00.001Z in hosting-l3 (no escalation team), urgent.
        #expect(!run.reactions("T-1").contains { $0.contains("17:00:00.001Z") })
        #expect(run.fired("2026-03-02T17:00:00.001Z") == [1], "T-2's breach only")
    }

    // MARK: Conditions that no longer hold

    @Test func anAgentReplyBeforeTheWarningRunsMeansNoWarningAndNoBreachReaction() async throws {
        let run = try await Self.plain.value
        // T-3's first reply was due 17:00Z (warning due 16:30Z); the agent replied at 16:45Z
        // before the runner ran: no warning, no breach reaction for that interval.
        #expect(!run.reactions("T-3").contains { $0.contains("firstReply") })
        #expect(run.reactions("T-3").first?.hasPrefix("sla.warning 2026-03-04") == true)
    }

    @Test func aNewCustomerTurnGetsItsOwnWarningAndBreachReaction() async throws {
        let run = try await Self.plain.value
        // T-1: answered 10:30Z, the customer wrote again 11:00Z (next reply 2 h): warned 12:30Z,
        // breached 13:00:00.001Z (reacted at 13:10Z), to the escalation team of hosting-l2.
        #expect(
            Array(run.reactions("T-1").dropFirst(3)) == [
                S.warning("2026-03-02T12:30:00Z", .nextReply, due: "2026-03-02T13:00:00Z"),
                S.breachNote("2026-03-02T13:10:00Z", .nextReply, due: "2026-03-02T13:00:00.001Z"),
                S.escalated("2026-03-02T13:10:00Z", to: "hosting-l3", .nextReply),
                S.warning("2026-03-02T16:45:00Z", .resolution, due: "2026-03-02T17:00:00Z"),
            ])
    }

    // MARK: Shift end

    @Test func shiftEndHandsBackTheAwaitingTicketsOfTheEndingShiftsAgents() async throws {
        let run = try await Self.plain.value
        // Early shift (alice, bruno) ends Monday 14:00 Paris (13:00Z); the runner runs at 13:10Z.
        // T-4 (alice's) and T-11 (given to alice exactly at the end) go back to the queue.
        for id in ["T-4", "T-11"] {
            #expect(
                run.reactions(id) == [
                    S.shiftEndNote("2026-03-02T13:10:00Z", due: "2026-03-02T13:00:00Z"), S.unassigned("2026-03-02T13:10:00Z"),
                ],
                "\(id)")
        }
        // Late shift (carla, bruno) ends 22:00 Paris (21:00Z): bruno's T-5 (kept at 13:00Z, bruno
        // being on the late shift too) and carla's T-8 go back.
        for id in ["T-5", "T-8"] {
            #expect(
                run.reactions(id) == [
                    S.shiftEndNote("2026-03-02T21:00:00Z", due: "2026-03-02T21:00:00Z"), S.unassigned("2026-03-02T21:00:00Z"),
                ],
                "\(id)")
        }
        #expect(run.fired("2026-03-02T20:59:59.999Z") == [0])
    }

    @Test func shiftEndKeepsPendingTicketsAndTicketsAssignedAfterTheEnd() async throws {
        let run = try await Self.plain.value
        // T-6 is pending (not awaiting an agent); T-7 was given to alice at 13:05Z, after the end
        // (the runner, late, ran at 13:10Z).
        #expect(run.reactions("T-6").isEmpty)
        #expect(run.reactions("T-7").isEmpty)
        #expect(try run.ticket("T-6").assignee == "alice")
        #expect(try run.ticket("T-7").assignee == "alice")
        #expect(try run.ticket("T-5").assignee == nil)
    }

    // MARK: Auto-close

    @Test func autoCloseClosesASolvedTicketAtCloseOfBusinessOfTheNthBusinessDay() async throws {
        let run = try await Self.plain.value
        // T-9 solved Monday: Tuesday, Wednesday, Thursday; closed Thursday 19:00 Paris (18:00Z).
        #expect(
            run.reactions("T-9") == [
                S.autoCloseNote("2026-03-05T18:00:00Z", due: "2026-03-05T18:00:00Z"), S.closed("2026-03-05T18:00:00Z"),
            ])
        #expect(run.fired("2026-03-05T17:59:59.999Z") == [0])
        #expect(try run.ticket("T-9").status == .closed)
    }

    @Test func autoCloseCountsAgainFromTheLastSolveAfterTheCustomerReopened() async throws {
        let run = try await Self.plain.value
        // T-10 solved Monday, reopened by the customer Tuesday 09:00Z, solved again 09:30Z: not
        // closed Thursday, but at close of business Friday.
        #expect(
            run.reactions("T-10") == [
                S.autoCloseNote("2026-03-06T18:00:00Z", due: "2026-03-06T18:00:00Z"), S.closed("2026-03-06T18:00:00Z"),
            ])
        #expect(run.fired("2026-03-05T18:00:00Z") == [1], "T-9 only")
    }

    @Test func everyRoundAppendsWhatWasDueAndNothingElse() async throws {
        let run = try await Self.plain.value
        // Reactions: 6 warnings, 5 breaches, 4 hand-offs, 2 closings; 30 events in all.
        #expect(run.ticks.map(\.fired).reduce(0, +) == 17)
        #expect(run.events.filter { $0.actor == "system/automations" }.count == 30)
        #expect(run.ticks.last?.fired == 0)
    }

    // MARK: Restarts

    @Test func aRestartBetweenEveryTwoStepsWritesTheSameLog() async throws {
        let plain = try await Self.plain.value
        let restarted = try await S.play(.everyStep)
        #expect(restarted.events.count == plain.events.count)
        for (a, b) in zip(restarted.events, plain.events) { #expect(a.line == b.line) }
        #expect(restarted.ticks == plain.ticks)
    }

    @Test func aRebuildAtEveryRestartWritesTheSameLog() async throws {
        let plain = try await Self.plain.value
        let rebuilt = try await S.play(.everyStepWithoutCheckpoints)
        #expect(rebuilt.events.count == plain.events.count)
        for (a, b) in zip(rebuilt.events, plain.events) { #expect(a.line == b.line) }
        #expect(rebuilt.ticks == plain.ticks)
    }

    @Test(arguments: [false, true])
    func reactionsDueWhileTheDeskWasDownFireLateWithTheirOwnDue(withoutCheckpoints: Bool) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(instant("2026-03-02T09:00:00Z"))
        // Each desk lives in its own scope: the data directory's writer lock goes with the last
        // reference to its backend.
        let before = try await AutomatedDesk.session(directory.path, policy: try S.policy(), clock: clock) { desk in
            try await desk.run(.open, on: nil, by: S.customer, Bodies.open(product: "hosting", priority: "urgent"))
            try await desk.run(.open, on: nil, by: S.customer, Bodies.open(product: "hosting", priority: "low"))
            try await desk.run(.messages, on: "T-2", by: S.alice, #"{"body": "done", "status": "solved"}"#)
            return await desk.runner.step()
        }
        #expect(before == 0)
        // Down until Friday noon: T-1's warning, breach and resolution warning and breach were
        // due meanwhile, and T-2's auto-close (Thursday 18:00Z).
        clock.set(instant("2026-03-06T12:00:00Z"))
        if withoutCheckpoints { try S.removeCheckpoints(of: directory.path) }
        let (fired, events) = try await AutomatedDesk.session(directory.path, policy: try S.policy(), clock: clock) { desk in
            (await desk.runner.step(), try desk.events())
        }
        let late = "2026-03-06T12:00:00Z"
        let t1 = events.filter { $0.stream == "T-1" && $0.actor == "system/automations" }.map(\.reaction)
        #expect(
            t1 == [
                S.warning(late, .firstReply, due: "2026-03-02T10:00:00Z"),
                S.breachNote(late, .firstReply, due: "2026-03-02T10:00:00.001Z"),
                S.escalated(late, to: "hosting-l2", .firstReply),
                S.warning(late, .resolution, due: "2026-03-02T17:00:00Z"),
                S.breachNote(late, .resolution, due: "2026-03-02T17:00:00.001Z"),
                S.escalated(late, to: "hosting-l3", .resolution),
            ])
        let t2 = events.filter { $0.stream == "T-2" && $0.actor == "system/automations" }.map(\.reaction)
        #expect(t2 == [S.autoCloseNote(late, due: "2026-03-05T18:00:00Z"), S.closed(late)])
        #expect(fired == 5)
        // Once more after another restart: nothing is owed any more.
        let (again, count) = try await AutomatedDesk.session(directory.path, policy: try S.policy(), clock: clock) { desk in
            (await desk.runner.step(), try desk.events().count)
        }
        #expect(again == 0)
        #expect(count == events.count)
    }
}

// MARK: - The desk

/// A backend with automations over a real log in a directory: its runner, and its projections
/// following the log as `ProjectionService` makes them (commands wait for them).
struct AutomatedDesk: Sendable {
    let backend: SupportBackend
    let runner: AutomationRunner
    let projector: Task<Void, Never>

    init(directory: String, policy: Policy, clock: ManualClock) throws {
        let backend = try SupportBackend(dataDirectory: directory, policy: policy, clock: clock.read)
        let projector = Task { await backend.projections.run() }
        guard let runner = backend.makeAutomations() else {
            projector.cancel()
            backend.close()
            throw AutomationScenario.Failure("the policy enables no automation")
        }
        self.backend = backend
        self.projector = projector
        self.runner = runner
    }

    func close() async {
        projector.cancel()
        backend.close()
        await projector.value
    }

    /// Opens a desk over the log of a desk just closed. The writer lock goes with the closed log's
    /// last reference, which the projections' point-in-time index may still hold for a moment
    /// (it folds the log on a thread of its own after a start from a checkpoint): a locked
    /// directory is tried again until that thread lets go.
    static func reopen(_ directory: String, policy: Policy, clock: ManualClock) async throws -> AutomatedDesk {
        var attempts = 0
        while true {
            do {
                return try AutomatedDesk(directory: directory, policy: policy, clock: clock)
            } catch let error as EventLogError {
                guard case .dataDirectoryLocked = error, attempts < 1000 else { throw error }
                attempts += 1
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Opens a desk over `directory` (reopens it), runs `body` with it, and closes it.
    static func session<T: Sendable>(
        _ directory: String, policy: Policy, clock: ManualClock, _ body: (AutomatedDesk) async throws -> T
    ) async throws -> T {
        let desk = try await reopen(directory, policy: policy, clock: clock)
        do {
            let result = try await body(desk)
            await desk.close()
            return result
        } catch {
            await desk.close()
            throw error
        }
    }

    /// Runs one command as `actor` on ticket `id` (nil: opens one).
    @discardableResult
    func run(_ route: CommandRoute, on id: String?, by actor: SupportActor, _ body: String) async throws -> WriteReply {
        let command = try TicketCommand.parse(
            route: route, body: try JSONParser.parse(body), actor: actor, limits: backend.levels.policy.limits)
        let ticket = try id.map { id in try backend.commands.load(id) } ?? nil
        let role: Role =
            switch actor.kind {
            case .customer: .customer
            case .agent: .agent
            case .manager: .manager
            case .admin, .system: .admin
            }
        return try await backend.commands.run(
            command, on: ticket, principal: Principal(role: role, id: actor.id), idempotency: nil, expectedVersion: nil)
    }

    /// The whole log.
    func events() throws -> [LoggedEvent] { try backend.store.events(after: 0, limit: 1_000_000).map(LoggedEvent.init) }
}

/// One event of the log as the tests compare it: everything but seq, `recorded` and the hashes.
struct LoggedEvent: Sendable, CustomStringConvertible {
    let recorded: RecordedEvent
    var stream: String { recorded.stream }
    var version: UInt64 { recorded.version }
    var type: String { recorded.type }
    var data: JSONValue { recorded.data }
    var actor: String { "\(recorded.actor.kind)/\(recorded.actor.id)" }

    init(_ recorded: RecordedEvent) { self.recorded = recorded }

    /// Ticket, version, type, `at`, actor and data, canonical.
    var line: String {
        "\(stream) v\(version) \(type) \(recorded.at.rfc3339) \(actor) \(String(decoding: CanonicalJSON.encode(data), as: UTF8.self))"
    }

    /// An automation's event as ``AutomationScenario``'s expectations write it: a note's body left out.
    var reaction: String {
        var data = data
        if type == "note.added", case .object(var o) = data {
            o["body"] = nil
            data = .object(o)
        }
        return "\(type) \(recorded.at.rfc3339) \(String(decoding: CanonicalJSON.encode(data), as: UTF8.self))"
    }

    var description: String { line }
}

// MARK: - The scripted week

enum AutomationScenario {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static let customer = SupportActor(kind: .customer, id: "c-1")
    static let alice = SupportActor(kind: .agent, id: "alice")

    /// Every automation on. Only urgent tickets have a resolution target, so that what is
    /// checked stays readable; hosting escalates to hosting-l2, which escalates to hosting-l3.
    /// Shifts only on Mondays (Paris time): early 06:00-14:00 (alice, bruno), late 14:00-22:00
    /// (carla, bruno).
    static let policyJSON = """
        {"targets": {"high": {"resolution": null}, "normal": {"resolution": null}, "low": {"resolution": null}},
         "automations": {
           "slaWarning": {"leadSeconds": 1800},
           "escalation": {"teams": {"hosting": "hosting-l2", "hosting-l2": "hosting-l3"}, "raisePriority": true},
           "shifts": {"hosting": [
             {"name": "early", "agents": ["alice", "bruno"], "schedule": {"mon": ["06:00-14:00"]}},
             {"name": "late", "agents": ["carla", "bruno"], "schedule": {"mon": ["14:00-22:00"]}}]},
           "autoClose": {"businessDays": 3}}}
        """

    static func policy() throws -> Policy { try Policy.default.overlaid(withJSON: Data(policyJSON.utf8)) }

    enum Step: Sendable {
        /// Moves the clock to the instant and runs one round of the automations.
        case tick(String)
        /// Moves the clock without running the automations (they will be late).
        case advance(String)
        /// A command by the actor on the ticket (nil: opens one), with its body.
        case command(String?, CommandRoute, SupportActor, String)
    }

    /// A week from Monday 2026-03-02 09:00Z (10:00 in Paris, UTC+1), business hours Monday to
    /// Friday 08:00-19:00 and Saturday 09:00-17:00 Paris (the default policy).
    static let steps: [Step] = {
        let agent = alice, c = customer
        let reply = #"{"body": "We are on it."}"#, more = #"{"body": "Still broken."}"#
        // T-1: first reply 1 h, resolution 8 h (calendar); T-2 and T-3: first reply 4 and 8 business hours.
        var steps: [Step] = [
            .command(nil, .open, c, Bodies.open(product: "hosting", priority: "urgent")),
            .command(nil, .open, c, Bodies.open(product: "hosting", priority: "high")),
            .command(nil, .open, c, Bodies.open(product: "hosting", priority: "normal")),
        ]
        // T-4 ... T-11: low, answered at once (no SLA clock runs on them afterwards).
        steps += (4...11).map { _ in .command(nil, .open, c, Bodies.open(product: "hosting", priority: "low")) }
        steps.append(.tick("2026-03-02T09:05:00Z"))
        steps += ["T-4", "T-5", "T-7", "T-8", "T-11"].map { .command($0, .messages, agent, reply) }
        steps += [
            .command("T-6", .messages, agent, #"{"body": "Can you confirm?", "status": "pending"}"#),
            .command("T-9", .messages, agent, #"{"body": "Fixed.", "status": "solved"}"#),
            .command("T-10", .messages, agent, #"{"body": "Fixed.", "status": "solved"}"#),
            .command("T-4", .assign, agent, #"{"agent": "alice"}"#),
            .command("T-5", .assign, agent, #"{"agent": "bruno"}"#),
            .command("T-6", .assign, agent, #"{"agent": "alice"}"#),
            .tick("2026-03-02T09:29:59.999Z"),
            .tick("2026-03-02T09:30:00Z"),
            .tick("2026-03-02T09:30:00Z"),
            .tick("2026-03-02T10:00:00Z"),
            .tick("2026-03-02T10:00:00.001Z"),
            .tick("2026-03-02T10:30:00Z"),
            .command("T-1", .messages, agent, reply),
            .tick("2026-03-02T11:00:00Z"),
            .command("T-1", .messages, c, more),
            .tick("2026-03-02T12:29:59.999Z"),
            .tick("2026-03-02T12:30:00Z"),
            .advance("2026-03-02T13:00:00Z"),
            .command("T-11", .assign, agent, #"{"agent": "alice"}"#),
            .advance("2026-03-02T13:05:00Z"),
            .command("T-7", .assign, agent, #"{"agent": "alice"}"#),
            .tick("2026-03-02T13:10:00Z"),
            .tick("2026-03-02T13:30:00Z"),
            .command("T-8", .assign, agent, #"{"agent": "carla"}"#),
            .advance("2026-03-02T16:45:00Z"),
            .command("T-3", .messages, agent, reply),
            .tick("2026-03-02T16:45:00Z"),
            .tick("2026-03-02T17:00:00Z"),
            .command("T-3", .messages, c, more),
            .tick("2026-03-02T17:00:00.001Z"),
            .tick("2026-03-02T20:59:59.999Z"),
            .tick("2026-03-02T21:00:00Z"),
            // Tuesday: T-10's customer writes again, and it is solved again.
            .tick("2026-03-03T09:00:00Z"),
            .command("T-10", .messages, c, more),
            .tick("2026-03-03T09:30:00Z"),
            .command("T-10", .messages, agent, #"{"body": "Fixed again.", "status": "solved"}"#),
            // Wednesday: T-3's next reply.
            .tick("2026-03-04T10:29:59.999Z"),
            .tick("2026-03-04T10:30:00Z"),
            .tick("2026-03-04T11:00:00Z"),
            .tick("2026-03-04T11:00:00.001Z"),
            // Thursday and Friday: auto-close.
            .tick("2026-03-05T17:59:59.999Z"),
            .tick("2026-03-05T18:00:00Z"),
            .tick("2026-03-06T17:59:59.999Z"),
            .tick("2026-03-06T18:00:00Z"),
            .tick("2026-03-07T12:00:00Z"),
        ]
        return steps
    }()

    enum Restarts: Sendable { case never, everyStep, everyStepWithoutCheckpoints }

    struct Tick: Sendable, Equatable {
        var at: String
        var fired: Int
    }

    struct Run: Sendable {
        var events: [LoggedEvent]
        var ticks: [Tick]

        /// What the automations wrote on a ticket, in order.
        func reactions(_ id: String) -> [String] {
            events.filter { $0.stream == id && $0.actor == "system/automations" }.map(\.reaction)
        }

        /// How many reactions each round at this instant appended.
        func fired(_ at: String) -> [Int] { ticks.filter { $0.at == instant(at).rfc3339 }.map(\.fired) }

        /// The ticket folded from the whole log.
        func ticket(_ id: String) throws -> Ticket {
            try #require(try Ticket.fold(events.filter { $0.stream == id }.map(\.recorded)))
        }
    }

    /// Deletes every checkpoint (the automations' and the projections'): what follows them rebuilds.
    static func removeCheckpoints(of directory: String) throws {
        let path = LMDBCheckpointStore.directory(ofDataDirectory: directory)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }

    /// Plays the week over a fresh log, restarting as asked between every two steps.
    static func play(_ restarts: Restarts) async throws -> Run {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(instant("2026-03-02T09:00:00Z"))
        let policy = try policy()
        // Optional, so that a restart drops every reference to the closed backend: the data
        // directory's writer lock goes with the last one.
        var desk: AutomatedDesk? = try AutomatedDesk(directory: directory.path, policy: policy, clock: clock)
        var ticks: [Tick] = []
        do {
            for (k, step) in steps.enumerated() {
                if k > 0, restarts != .never {
                    await desk?.close()
                    desk = nil
                    if restarts == .everyStepWithoutCheckpoints { try removeCheckpoints(of: directory.path) }
                    desk = try await AutomatedDesk.reopen(directory.path, policy: policy, clock: clock)
                }
                guard let desk else { throw Failure("no desk") }
                switch step {
                case .tick(let at):
                    clock.set(instant(at))
                    ticks.append(Tick(at: instant(at).rfc3339, fired: await desk.runner.step()))
                case .advance(let at):
                    clock.set(instant(at))
                case .command(let id, let route, let actor, let body):
                    try await desk.run(route, on: id, by: actor, body)
                }
            }
            let events = try desk?.events() ?? []
            await desk?.close()
            return Run(events: events, ticks: ticks)
        } catch {
            await desk?.close()
            throw error
        }
    }

    // MARK: Expected reactions

    private static func render(_ type: String, _ at: String, _ data: [String: JSONValue]) -> String {
        "\(type) \(instant(at).rfc3339) \(String(decoding: CanonicalJSON.encode(.object(data)), as: UTF8.self))"
    }

    private static func automation(_ rule: String, due: String, target: SLAMetric? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["rule": .string(rule), "due": .string(instant(due).rfc3339)]
        if let target { o["target"] = .string(target.rawValue) }
        return .object(o)
    }

    static func warning(_ at: String, _ target: SLAMetric, due: String) -> String {
        render("sla.warning", at, ["target": .string(target.rawValue), "due": .string(instant(due).rfc3339)])
    }

    static func breachNote(_ at: String, _ target: SLAMetric, due: String) -> String {
        render("note.added", at, ["automation": automation("sla-breach", due: due, target: target)])
    }

    static func escalated(_ at: String, to team: String, _ target: SLAMetric) -> String {
        render("ticket.escalated", at, ["team": .string(team), "reason": .string("sla breach: \(target.rawValue)")])
    }

    static func priority(_ at: String, _ priority: Priority) -> String {
        render("priority.changed", at, ["priority": .string(priority.rawValue)])
    }

    static func shiftEndNote(_ at: String, due: String) -> String {
        render("note.added", at, ["automation": automation("shift-end", due: due)])
    }

    static func unassigned(_ at: String) -> String { render("ticket.assigned", at, ["agent": .null]) }

    static func autoCloseNote(_ at: String, due: String) -> String {
        render("note.added", at, ["automation": automation("auto-close", due: due)])
    }

    static func closed(_ at: String) -> String { render("status.changed", at, ["status": .string("closed")]) }
}
