import EventLog
import Foundation
import SupportDomain
import Testing

@testable import Projections

/// Throughput and memory of the fold on a synthetic in-memory log. Off by default (speed is never
/// asserted by tests); run it in release:
///
/// ```sh
/// PROJECTIONS_BENCH=10000000 PROJECTIONS_BENCH_ACTIVE=20000 swift test -c release -Xswiftc -enable-testing \
///     --scratch-path .build-projections --filter ProjectionBenchmark
/// ```
///
/// `PROJECTIONS_BENCH` events are generated in chunks (generation is not timed) and applied with
/// `apply(contentsOf:)`; the fold's time is the thread's CPU time, so other processes on the
/// machine do not count. `PROJECTIONS_BENCH_ACTIVE` tickets are open at any time (default 20,000).
/// With `PROJECTIONS_BENCH_RECORDS=1` each chunk is also encoded to the log's stored records (not
/// timed) and folded a second time, into a second projection, from the records read in place
/// (`apply(storedRecord:seq:)`, what a rebuild does): the two folds side by side, and their
/// projections checked equal at the end.
@Suite("Projection benchmark")
struct ProjectionBenchmark {
    static let eventCount = Int(ProcessInfo.processInfo.environment["PROJECTIONS_BENCH"] ?? "") ?? 0
    static let active = Int(ProcessInfo.processInfo.environment["PROJECTIONS_BENCH_ACTIVE"] ?? "") ?? 20_000
    static let records = ProcessInfo.processInfo.environment["PROJECTIONS_BENCH_RECORDS"] == "1"

    static func cpuSeconds(_ body: () throws -> Void) rethrows -> Double {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        try body()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    }

    @Test(.enabled(if: eventCount > 0))
    func foldThroughputAndMemory() throws {
        let levels = try ServiceLevels(policy: .default)
        let baseline = Self.heapInUse()
        var projection = SupportProjection(levels: levels)
        var generator = SyntheticLog(seed: 42, active: Self.active)
        var inPlace = SupportProjection(levels: levels)
        var applied = 0
        var seconds = 0.0, recordSeconds = 0.0
        while applied < Self.eventCount {
            let chunk = generator.next(min(200_000, Self.eventCount - applied))
            seconds += try Self.cpuSeconds { try projection.apply(contentsOf: chunk) }
            if Self.records {
                let batch = StoredRecordBatch()
                for event in chunk { event.storedRecord.withUnsafeBytes { batch.append(seq: event.seq, record: $0) } }
                recordSeconds += try Self.cpuSeconds {
                    try batch.forEach { seq, record in
                        if let refusal = try inPlace.apply(storedRecord: record, seq: seq) { throw refusal }
                    }
                }
            }
            applied += chunk.count
        }
        let heap = Self.heapInUse() - baseline
        if Self.records {
            #expect(inPlace.checkpoint() == projection.checkpoint())
            print(
                """
                fold of stored records read in place: \(applied) events in CPU \(String(format: "%.2f", recordSeconds)) s = \
                \(Int(Double(applied) / recordSeconds)) events/s (\(String(format: "%.2f", seconds / recordSeconds))x the fold of decoded events)
                """)
        }
        let at = Timestamp(milliseconds: generator.now)
        // Queue reads as the HTTP layer makes them: limit 50 on the deepest team.
        let team = projection.queues(at: at).max { $0.depth < $1.depth }!
        let reads = 20_000
        let readClock = ContinuousClock.now
        var total = 0
        for _ in 0..<reads { total += projection.teamQueue(team.team, at: at, limit: 50).count }
        let readElapsed = ContinuousClock.now - readClock
        let readSeconds = Double(readElapsed.components.seconds) + Double(readElapsed.components.attoseconds) / 1e18
        let metricsClock = ContinuousClock.now
        let groups = projection.responseTimes(at: at, window: .unbounded, groupBy: .agent, clock: .business)
        let metricsElapsed = ContinuousClock.now - metricsClock
        print(
            """
            fold: \(applied) events in CPU \(String(format: "%.2f", seconds)) s = \(Int(Double(applied) / seconds)) events/s; \
            \(projection.ticketCount) tickets; resident +\(heap / 1_048_576) MiB = \(heap / applied) bytes/event
            queue reads: \(reads) x limit 50 on \(team.team) (depth \(team.depth)) in \(String(format: "%.3f", readSeconds)) s = \
            \(Int(Double(reads) / readSeconds)) reads/s (\(total / reads) entries each)
            responseTimes by agent (\(groups.count) groups): \(metricsElapsed)
            """)
    }

    /// Resident memory in bytes, after returning free heap pages to the system (glibc).
    static func heapInUse() -> Int {
        typealias Trim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// A synthetic helpdesk: many interleaved tickets, each walking a typical life — opened by the
/// customer, assigned, replies back and forth (one with a status), solved, rated, sometimes
/// reopened or closed. About ten events a ticket; `at` advances ~1.5 s per event; `active` tickets
/// are open at any time.
struct SyntheticLog {
    private var rng: SeededRandom
    private(set) var now: Int64 = 1_772_000_000_000  // 2026-02-25
    private var seq: UInt64 = 0
    private var tickets = 0
    private var active: [(id: String, customer: String, step: Int, version: UInt64)] = []
    private let agents = (0..<200).map { "agent-\($0)" }
    private let teams = ["hosting", "domains", "vps", "email", "billing"]
    private let body: JSONValue = .object(["body": .string("Bonjour, voici la réponse à votre question.")])

    private let activeTarget: Int

    init(seed: UInt64, active: Int) {
        rng = SeededRandom(seed: seed)
        activeTarget = active
    }

    mutating func next(_ count: Int) -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        out.reserveCapacity(count)
        while out.count < count {
            if active.count < activeTarget { openTicket(&out); continue }
            let k = Int.random(in: 0..<active.count, using: &rng)
            emit(k, &out)
        }
        return out
    }

    private mutating func event(_ k: Int, _ type: String, _ actor: EventActor, _ data: JSONValue, _ out: inout [RecordedEvent]) {
        seq += 1
        now += Int64.random(in: 0...3000, using: &rng)
        active[k].version += 1
        let at = Timestamp(milliseconds: now)
        out.append(
            RecordedEvent(
                seq: seq, stream: active[k].id, version: active[k].version, type: type, at: at, recorded: at,
                actor: actor, data: data, prev: .zero, hash: .zero))
    }

    private mutating func openTicket(_ out: inout [RecordedEvent]) {
        tickets += 1
        let customer = "c-\(Int.random(in: 0..<50_000, using: &rng))"
        active.append(("T-\(tickets)", customer, 0, 0))
        let data: JSONValue = .object([
            "customer": .string(customer), "subject": .string("Problème \(tickets)"), "body": .string("Mon site ne répond plus."),
            "channel": .string(Channel.allCases.randomElement(using: &rng)!.rawValue),
            "product": .string(teams.randomElement(using: &rng)!),
            "priority": .string(Priority.allCases.randomElement(using: &rng)!.rawValue),
        ])
        event(active.count - 1, "ticket.opened", EventActor(kind: "customer", id: customer), data, &out)
    }

    private mutating func emit(_ k: Int, _ out: inout [RecordedEvent]) {
        let customer = EventActor(kind: "customer", id: active[k].customer)
        let agent = EventActor(kind: "agent", id: agents.randomElement(using: &rng)!)
        let step = active[k].step
        active[k].step += 1
        switch step {
        case 0: event(k, "ticket.assigned", EventActor(kind: "manager", id: "mona"), .object(["agent": .string(agent.id)]), &out)
        case 1, 4, 7: event(k, "message.posted", agent, body, &out)
        case 2, 5: event(k, "message.posted", customer, body, &out)
        case 3: event(k, "note.added", agent, body, &out)
        case 6: event(k, "status.changed", agent, .object(["status": .string("pending")]), &out)
        case 8: event(k, "status.changed", agent, .object(["status": .string("solved")]), &out)
        case 9: event(k, "satisfaction.rated", customer, .object(["score": .int(Int64.random(in: 1...5, using: &rng))]), &out)
        default:
            if Int.random(in: 0..<4, using: &rng) == 0 {
                event(k, "message.posted", customer, body, &out)  // reopens
                active[k].step = 7
            } else {
                event(k, "status.changed", agent, .object(["status": .string("closed")]), &out)
                active.swapAt(k, active.count - 1)
                active.removeLast()
            }
        }
    }
}
