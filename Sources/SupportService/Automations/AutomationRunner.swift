import Crypto
import EventLog
import Logging
import ServiceLifecycle
import SupportDomain
import Synchronization

/// Runs the policy's automations (issue 14): a process manager that follows the log and, when a
/// ticket's reaction falls due on the server clock, appends it to the log as `system`.
///
/// What is owed is decided by ``ReactionPlanner`` from the folded ticket alone, and the ticket
/// records every reaction it had (``Ticket/reactions``, or the reaction's effect itself: an
/// unassigned or closed ticket owes no hand-off or closing). So the log, not this runner, says
/// what happened: after a restart, a crash or the loss of the checkpoint nothing fires twice,
/// and a reaction that fell due while the server was down fires as soon as it runs again, with
/// its own `at` and the instant it was due in its data. Each append expects the version the
/// reaction was decided on: a ticket that changed meanwhile (the agent replied) is decided
/// again, and a reaction whose condition no longer holds appends nothing.
///
/// The checkpoint (the seq read and the next due instant of each ticket that owes a reaction)
/// spares a scan of the whole log at each start; it is tied to the automations and targets it
/// was computed under, and a start under others reads the log again from seq 1.
package final class AutomationRunner: Sendable {
    private struct State {
        var through: UInt64 = 0
        /// The next due instant (ms) of each ticket owing a reaction.
        var schedule: [String: Int64] = [:]
        var started = false
        var dirty = false
        var lastSave: Int64 = 0
    }

    /// The checkpoint's name in the data directory's checkpoint store.
    static let checkpointName = "automations"

    let store: EventStore
    let commands: TicketCommands
    let planner: ReactionPlanner
    let checkpoints: any CheckpointStore
    let clock: @Sendable () -> Timestamp
    let logger: Logger
    /// What the checkpoint was computed under: the policy's hash and its automations.
    let fingerprint: String
    private let state = Mutex(State())
    private let reacted = Atomic<Int>(0)
    let counters: AutomationCounters

    package init(
        store: EventStore, commands: TicketCommands, levels: ServiceLevels, checkpoints: any CheckpointStore,
        clock: @escaping @Sendable () -> Timestamp, counters: AutomationCounters = AutomationCounters(),
        logger: Logger = Logger(label: "automations")
    ) {
        self.counters = counters
        self.store = store
        self.commands = commands
        self.planner = ReactionPlanner(levels: levels)
        self.checkpoints = checkpoints
        self.clock = clock
        self.logger = logger
        let policy = levels.policy
        let digest = SHA256.hash(data: Array(policy.hash.utf8) + CanonicalJSON.encode(policy.automations.json))
        fingerprint = digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// How many reactions this runner appended (for `GET /metrics` and tests).
    package var reactions: Int { reacted.load(ordering: .relaxed) }
    /// How far into the log the runner has read.
    package var through: UInt64 { state.withLock { $0.through } }
    /// The earliest instant at which a ticket owes a reaction; nil when none does.
    package var nextDue: Timestamp? { state.withLock { $0.schedule.values.min().map(Timestamp.init(milliseconds:)) } }

    /// Follows the log until cancelled, waking when a reaction falls due or the log grows.
    package func run() async {
        while !Task.isCancelled {
            let busy = await step() > 0 || state.withLock { $0.through } < ((try? store.head.seq) ?? 0)
            if !busy {
                let wait = nextDue.map { max(0, min($0.milliseconds - clock().milliseconds, 1000)) } ?? 1000
                try? await Task.sleep(for: .milliseconds(max(wait, 20)))
            }
        }
        saveCheckpoint(force: true)
    }

    /// One round: reads the log after the checkpoint (from seq 1 when there is none), then fires
    /// every reaction due at the clock. Returns how many reactions it appended.
    @discardableResult
    package func step() async -> Int {
        start()
        // Batch by batch, letting other work run in between: the first start reads the whole log.
        while follow() { await Task.yield() }
        let fired = await fireDue()
        saveCheckpoint(force: false)
        return fired
    }

    // MARK: Following the log

    private func start() {
        guard !state.withLock({ $0.started }) else { return }
        var restored = State(started: true)
        do {
            if let checkpoint = try checkpoints.checkpoint(name: Self.checkpointName, of: store),
                let (fingerprint, schedule) = Self.decode(checkpoint.state), fingerprint == self.fingerprint
            {
                restored.through = checkpoint.applied.seq
                restored.schedule = schedule
            } else {
                logger.info("the automations read the log from seq 1 (no checkpoint, or one made under other automations)")
            }
        } catch {
            logger.error("the automations cannot read their checkpoint: \(error)")
        }
        state.withLock { $0 = restored }
    }

    /// Plans again the tickets of the events after `through`; true when there were some.
    private func follow() -> Bool {
        let after = state.withLock { $0.through }
        let events: [RecordedEvent]
        do { events = try store.events(after: after, limit: 256) } catch {
            logger.error("the automations cannot read the log: \(error)")
            return false
        }
        guard let last = events.last else { return false }
        var tickets: [String] = []
        var seen = Set<String>()
        for event in events where !event.stream.hasPrefix("$") && seen.insert(event.stream).inserted {
            tickets.append(event.stream)
        }
        var planned: [(String, Int64?)] = []
        for id in tickets { planned.append((id, plan(id))) }
        state.withLock { s in
            for (id, due) in planned { s.schedule[id] = due }
            s.through = last.seq
            s.dirty = true
        }
        return true
    }

    /// The next due instant of a ticket's reactions; nil when it owes none (or cannot be read).
    private func plan(_ id: String) -> Int64? {
        guard let ticket = try? commands.load(id) else { return nil }
        return planner.reactions(of: ticket).first?.due.milliseconds
    }

    // MARK: Firing

    private func fireDue() async -> Int {
        let now = clock().milliseconds
        let due = state.withLock { s in s.schedule.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
        }
        var fired = 0
        for id in due where !Task.isCancelled {
            fired += await fire(id, now: now)
        }
        return fired
    }

    /// Appends the reactions `id` owes at `now`, earliest first, each decided on the ticket as
    /// it then is; then plans the ticket again.
    private func fire(_ id: String, now: Int64) async -> Int {
        var fired = 0
        var next: Int64?
        for _ in 0..<16 {
            let ticket: Ticket
            do {
                guard let loaded = try commands.load(id) else { break }
                ticket = loaded
            } catch {
                logger.error("the automations cannot read \(id): \(error.detail)")
                next = now + 5_000
                break
            }
            let owed = planner.reactions(of: ticket)
            guard let reaction = owed.first, reaction.due.milliseconds <= now else {
                next = owed.first?.due.milliseconds
                break
            }
            let events = planner.events(for: reaction, on: ticket)
            do {
                switch try await commands.react(events, on: ticket, by: ReactionPlanner.actor) {
                case .appended:
                    fired += 1
                    reacted.add(1, ordering: .relaxed)
                    counters.record(reaction.kind)
                    logger.info("\(id): \(events.map(\.kind.rawValue).joined(separator: ", ")) (due at \(reaction.due))")
                case .changed:
                    continue
                }
            } catch {
                // Refused by the rules, or the log is unavailable: try again a little later.
                logger.error("the automations could not react on \(id): \(error.detail)")
                next = now + 5_000
                break
            }
        }
        state.withLock { s in
            s.schedule[id] = next
            s.dirty = true
        }
        return fired
    }

    // MARK: The checkpoint

    private func saveCheckpoint(force: Bool) {
        let now = clock().milliseconds
        let snapshot: (UInt64, [String: Int64])? = state.withLock { s in
            guard s.started, s.dirty, force || now - s.lastSave >= 1_000 || now < s.lastSave else { return nil }
            return (s.through, s.schedule)
        }
        guard let (through, schedule) = snapshot else { return }
        do {
            try checkpoints.save(name: Self.checkpointName, state: encode(schedule), appliedSeq: through, of: store)
            state.withLock { s in
                s.lastSave = now
                if s.through == through { s.dirty = false }
            }
        } catch {
            // Beyond the durable head for now: the next round saves it.
            logger.debug("the automations checkpoint was not saved: \(error)")
        }
    }

    private func encode(_ schedule: [String: Int64]) -> [UInt8] {
        CanonicalJSON.encode(.object(["fingerprint": .string(fingerprint), "schedule": .object(schedule.mapValues(JSONValue.int))]))
    }

    static func decode(_ bytes: [UInt8]) -> (String, [String: Int64])? {
        guard let value = try? JSONParser.parse(bytes), let fingerprint = value["fingerprint"]?.stringValue,
            case .object(let entries)? = value["schedule"]
        else { return nil }
        var schedule: [String: Int64] = [:]
        for (id, due) in entries {
            guard let ms = due.intValue else { return nil }
            schedule[id] = ms
        }
        return (fingerprint, schedule)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension SupportBackend {
    /// The runner of the policy's automations, following this log with its checkpoint in
    /// ``checkpoints``; nil when the policy turns no automation on. Run it with
    /// ``AutomationService``.
    package func makeAutomations() -> AutomationRunner? {
        guard levels.policy.automations.isOn else { return nil }
        return AutomationRunner(
            store: store, commands: commands, levels: levels, checkpoints: checkpoints, clock: clock, counters: automationCounters)
    }
}

/// Runs the automations while the server runs (stopped with the other services at shutdown).
package struct AutomationService: Service {
    let runner: AutomationRunner
    package init(runner: AutomationRunner) { self.runner = runner }

    package func run() async throws {
        await cancelWhenGracefulShutdown { await runner.run() }
    }
}

/// What the automations appended since the server started, by reaction, for `GET /metrics`.
package final class AutomationCounters: Sendable {
    /// The reactions' names as `/metrics` labels them, in the order of ``totals``.
    package static let names = ["sla-warning", "sla-breach", "shift-end", "auto-close"]
    private let counts = Mutex<[Int]>(Array(repeating: 0, count: AutomationCounters.names.count))

    package init() {}

    func record(_ kind: DueReaction.Kind) {
        let index =
            switch kind {
            case .warning: 0
            case .breach: 1
            case .shiftEnd: 2
            case .autoClose: 3
            }
        counts.withLock { $0[index] += 1 }
    }

    /// The totals, in the order of ``names``.
    package var totals: [Int] { counts.withLock { $0 } }
}
