import ArgumentParser
import DemoWorkload
import Dispatch
import EventLog
import Foundation
import Logging
import Projections
import SupportDomain
import SupportService

/// Benchmarks of the projections over large logs written by the demo generator. Not a test:
/// figures go into docs/benchmarks.md with the machine and the command.
@main
struct ProjectionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projection-bench",
        abstract: "Write a large generated log, then time a full rebuild of the projections and the metric queries.",
        subcommands: [Generate.self, Rebuild.self, CheckpointTiming.self, AsOfTiming.self, WhatIfTiming.self])
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// CPU time of the calling thread, in seconds.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// CPU time of the whole process (every thread), in seconds.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Anonymous resident memory of this process in bytes (the mapped LMDB file is file-backed, not
/// anonymous, so it is not counted).
func anonymousMemory() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("RssAnon:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append N generated events straight to a new log (deferred flushes, then one sync).")
    @Option var dataDir: String
    @Option var events = 10_000_000
    @Option var seed: UInt64 = 7

    func run() async throws {
        let store = try EventStore(
            EventLogConfiguration(
                directory: dataDir, envelope: EnvelopeFormat(streamField: "ticket"),
                durability: .deferred(flushIntervalMilliseconds: 5000)))
        // About ten events per ticket; days scaled so arrivals keep a realistic rhythm.
        let tickets = max(1, events / 10)
        let days = max(21, tickets / 70)
        let now = Timestamp.now().milliseconds
        let start = Timestamp(milliseconds: now - Int64(days + 30) * 86_400_000)
        let workload = DemoWorkload(.init(seed: seed, start: start, tickets: tickets, days: days))
        var versions: [String: UInt64] = [:]
        var batch: [AppendRequest] = []
        var appended = 0
        let begin = ContinuousClock.now
        for event in workload {
            guard appended + batch.count < events, event.at.milliseconds <= now else { break }
            let v = versions[event.ticket, default: 0]
            versions[event.ticket] = v + 1
            batch.append(AppendRequest(stream: event.ticket, events: [event.proposed], expectedVersion: .exactly(v)))
            if batch.count == 5000 {
                for r in await store.append(contentsOf: batch) { _ = try r.get() }
                appended += batch.count
                batch.removeAll(keepingCapacity: true)
            }
        }
        for r in await store.append(contentsOf: batch) { _ = try r.get() }
        appended += batch.count
        store.close()
        print(
            String(
                format: "generated %d events over %d tickets in %.1f s (%.0f events/s)", appended, versions.count,
                seconds(since: begin), Double(appended) / seconds(since: begin)))
    }
}

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: """
            Time a full rebuild of every projection, peak anonymous memory, and the metric queries; with \
            --walk, first a walk of the stored records (no decoding) and a decoded scan of the same log.
            """)
    @Option var dataDir: String
    @Flag(help: "Also time a walk of the stored records and a decoded scan, as peers.") var walk = false
    @Flag(help: "Instead of the rebuild, time the fold of decoded events (RecordedEvent, JSON values), as before issue 11.")
    var decoded = false

    func run() async throws {
        let store = try EventStore(
            EventLogConfiguration(directory: dataDir, envelope: EnvelopeFormat(streamField: "ticket"), readOnly: true))
        let levels = try ServiceLevels(policy: .default)
        let head = try store.head.seq
        if walk {
            // The stored records in batches of 4,096, one read transaction each, as the rebuild reads them.
            var begin = ContinuousClock.now
            var after: UInt64 = 0, bytes = 0, count = 0
            while true {
                var n = 0
                try store.read { snapshot in
                    try snapshot.forEachRecord(after: after) { seq, record in
                        bytes += record.count
                        after = seq
                        n += 1
                        return n < 4096
                    }
                }
                count += n
                if n == 0 { break }
            }
            let walkSeconds = seconds(since: begin)
            print(
                String(
                    format: "record walk: %d events in %.2f s = %.0f events/s (%.0f MB/s)", count, walkSeconds,
                    Double(count) / walkSeconds, Double(bytes) / walkSeconds / 1e6))
            begin = ContinuousClock.now
            after = 0
            count = 0
            while true {
                let batch = try store.events(after: after, limit: 4096)
                guard let last = batch.last else { break }
                count += batch.count
                after = last.seq
            }
            let scanSeconds = seconds(since: begin)
            print(
                String(
                    format: "decoded scan: %d events in %.2f s = %.0f events/s", count, scanSeconds, Double(count) / scanSeconds))
        }
        let baseline = anonymousMemory()
        // Sample the anonymous memory while the rebuild runs.
        let peak = PeakSampler()
        let sampler = Thread { peak.run() }
        sampler.start()
        let begin = ContinuousClock.now
        let threadStart = threadCPUSeconds(), processStart = processCPUSeconds()
        let projection =
            decoded
            ? try decodedFold(store: store, levels: levels)
            : try ProjectionRunner.fold(store: store, levels: levels, upTo: nil, logger: Logger(label: "bench"))
        let rebuildSeconds = seconds(since: begin)
        let foldCPU = threadCPUSeconds() - threadStart, processCPU = processCPUSeconds() - processStart
        peak.stop()
        print(
            String(
                format: "%@: %d events in %.2f s = %.0f events/s; %d tickets",
                decoded ? "fold of decoded events" : "rebuild", head, rebuildSeconds,
                Double(head) / rebuildSeconds, projection.ticketCount))
        print(
            String(
                format: "  CPU: folding thread %.2f s = %.0f events/s; process %.2f s (both threads)", foldCPU,
                Double(head) / foldCPU, processCPU))
        print(
            String(
                format: "anonymous memory: peak %.0f MB (%.0f MB before the rebuild, %.0f MB after)",
                Double(max(peak.peak, anonymousMemory())) / 1e6, Double(baseline) / 1e6, Double(anonymousMemory()) / 1e6))
        let now = Timestamp.now()
        for (name, groupBy) in [("none", GroupBy.none), ("team", .team), ("agent", .agent)] {
            var t = ContinuousClock.now
            _ = projection.responseTimes(at: now, window: .unbounded, groupBy: groupBy, clock: .business)
            let rt = seconds(since: t)
            t = ContinuousClock.now
            _ = projection.satisfaction(window: .unbounded, bucket: .week, groupBy: groupBy)
            let sat = seconds(since: t)
            print(String(format: "groupBy=%@: response-times (business) %.1f ms, satisfaction (week) %.1f ms", name, rt * 1000, sat * 1000))
        }
        let t = ContinuousClock.now
        let queues = projection.queues(at: now)
        print(String(format: "queues summary: %.2f ms (%d teams)", seconds(since: t) * 1000, queues.count))
    }
}

/// The rebuild as it was before issue 11: a reading thread decodes batches of 4,096 events to
/// `RecordedEvent`s (JSON values, strings), one batch ahead of the fold, which applies each with
/// ``SupportProjection/apply(_:)``.
func decodedFold(store: EventStore, levels: ServiceLevels) throws -> SupportProjection {
    final class Hand: @unchecked Sendable {
        let lock = NSLock()
        var batches: [Result<[RecordedEvent], any Error>] = []
        let free = DispatchSemaphore(value: 2), filled = DispatchSemaphore(value: 0)
        func put(_ batch: Result<[RecordedEvent], any Error>) {
            free.wait()
            lock.withLock { batches.append(batch) }
            filled.signal()
        }
        func take() -> Result<[RecordedEvent], any Error> {
            filled.wait()
            defer { free.signal() }
            return lock.withLock { batches.removeFirst() }
        }
    }
    let hand = Hand()
    let reader = Thread {
        var after: UInt64 = 0
        while true {
            do {
                let batch = try store.events(after: after, limit: 4096)
                hand.put(.success(batch))
                guard let last = batch.last else { return }
                after = last.seq
            } catch {
                hand.put(.failure(error))
                return
            }
        }
    }
    reader.start()
    var projection = SupportProjection(levels: levels)
    while true {
        let batch = try hand.take().get()
        if batch.isEmpty { return projection }
        for event in batch { try? projection.apply(event) }
    }
}

struct CheckpointTiming: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Fold a log, then time the projection checkpoint's encode and decode (best of 3).")
    @Option var dataDir: String

    func run() async throws {
        let store = try EventStore(
            EventLogConfiguration(directory: dataDir, envelope: EnvelopeFormat(streamField: "ticket"), readOnly: true))
        let levels = try ServiceLevels(policy: .default)
        let events = try store.head.seq
        let projection = try ProjectionRunner.fold(store: store, levels: levels, upTo: nil, logger: Logger(label: "bench"))
        store.close()
        var bytes: [UInt8] = []
        var encode = Double.infinity, decode = Double.infinity
        for _ in 0..<3 {
            bytes = []
            let begin = ContinuousClock.now
            bytes = projection.checkpoint()
            encode = min(encode, seconds(since: begin))
        }
        var restored = SupportProjection(levels: levels)
        for _ in 0..<3 {
            restored = SupportProjection(levels: levels)
            let begin = ContinuousClock.now
            restored = try SupportProjection(checkpoint: bytes, levels: levels)
            decode = min(decode, seconds(since: begin))
        }
        // The restored projection writes the same bytes: the timing measured a faithful round trip.
        guard restored.checkpoint() == bytes else { throw ValidationError("the restored projection's checkpoint differs") }
        let mb = Double(bytes.count) / 1e6
        print(
            String(
                format: "checkpoint: %d events, %d tickets: %d bytes = %.1f bytes/event", events, projection.ticketCount,
                bytes.count, Double(bytes.count) / Double(max(events, 1))))
        print(String(format: "encode %.3f s = %.0f MB/s; decode %.3f s = %.0f MB/s (best of 3)", encode, mb / encode, decode, mb / decode))
    }
}

/// Samples RssAnon every 50 ms on its own thread and keeps the maximum.
final class PeakSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var maximum = 0
    private var running = true

    var peak: Int { lock.withLock { maximum } }

    func run() {
        while lock.withLock({ running }) {
            let now = anonymousMemory()
            lock.withLock { maximum = max(maximum, now) }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func stop() { lock.withLock { running = false } }
}

/// Point-in-time answers from the snapshots against full folds, in the same run.
struct AsOfTiming: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "as-of",
        abstract: """
            Fold a log with point-in-time snapshots (time, memory), then answer every view as of random \
            instants from the snapshots (p50/p99), and at a few of them by a full fold too (the peer), \
            checking that both give the same projection (checkpoint bytes) and the same answers.
            """)
    @Option var dataDir: String
    @Option(help: "Random instants answered from the snapshots.") var instants = 200
    @Option(help: "Of those, how many are also answered by a full fold.") var fullFolds = 3
    @Option var seed: UInt64 = 1
    @Option(help: "Events between snapshots (at first).") var spacing: UInt64 = PointInTimeIndex.Options.default.spacing
    @Option(help: "Snapshots kept at most.") var capacity = PointInTimeIndex.Options.default.capacity

    func run() async throws {
        let store = try EventStore(
            EventLogConfiguration(directory: dataDir, envelope: EnvelopeFormat(streamField: "ticket"), readOnly: true))
        let levels = try ServiceLevels(policy: .default)
        let head = try store.head.seq
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let baseline = anonymousMemory()
        let peak = PeakSampler()
        let sampler = Thread { peak.run() }
        sampler.start()
        var begin = ContinuousClock.now
        let threadStart = threadCPUSeconds(), processStart = processCPUSeconds()
        let runner = try ProjectionRunner(
            store: store, checkpoints: InMemoryCheckpointStore(), levels: levels, rebuild: true,
            pointInTime: .init(spacing: spacing, capacity: capacity), logger: logger)
        let buildSeconds = seconds(since: begin)
        let foldCPU = threadCPUSeconds() - threadStart, processCPU = processCPUSeconds() - processStart
        peak.stop()
        let figures = runner.pointInTime!.figures
        print(
            String(
                format: "fold with snapshots: %d events in %.2f s = %.0f events/s; %d snapshots every %d events, %d back-dated events",
                head, buildSeconds, Double(head) / buildSeconds, figures.snapshots, figures.spacing, figures.backdated))
        print(
            String(
                format: "  CPU: folding thread %.2f s = %.0f events/s; process %.2f s (both threads)", foldCPU,
                Double(head) / foldCPU, processCPU))
        print(
            String(
                format: "anonymous memory: peak %.0f MB (%.0f MB before), %.0f MB after (projection and snapshots)",
                Double(max(peak.peak, anonymousMemory())) / 1e6, Double(baseline) / 1e6, Double(anonymousMemory()) / 1e6))

        _ = mallocTrim(0)
        print(String(format: "  after malloc_trim: %.0f MB anonymous", Double(anonymousMemory()) / 1e6))
        for (part, bytes) in runner.pointInTime!.ownBytes() {
            print(String(format: "  snapshots' own %@: %.1f MB", part, Double(bytes) / 1e6))
        }
        guard instants > 0 else { return }
        // The instants: uniform over the log's span and a day either side, a quarter of them exactly an event's `at`.
        var first: Timestamp?
        var last: Timestamp?
        try store.read { snapshot in
            first = try snapshot.event(seq: 1)?.at
            last = try snapshot.event(seq: head)?.at
        }
        guard let first, let last else { throw ValidationError("an empty log") }
        var random = SeededRandom(seed: seed)
        let lowest = first.milliseconds - 86_400_000, highest = last.milliseconds + 86_400_000
        var times: [Timestamp] = []
        for k in 0..<instants {
            if k % 4 == 3 {
                let seq = UInt64.random(in: 1...head, using: &random)
                let at = try store.read { try $0.event(seq: seq)?.at } ?? first
                times.append(at)
            } else {
                times.append(Timestamp(milliseconds: Int64.random(in: lowest...highest, using: &random)))
            }
        }
        let team = runner.read { $0.queues(at: last).max { $0.depth < $1.depth }?.team } ?? "none"
        let agent = runner.read { $0.workloads(window: .unbounded).first?.agent } ?? "none"
        let views: [(String, @Sendable (borrowing SupportProjection, Timestamp) throws -> AnyHashable)] = [
            ("queues", { p, at in AnyHashable(p.queues(at: at)) }),
            ("team queue (limit 50)", { p, at in AnyHashable(p.teamQueue(team, at: at, limit: 50)) }),
            ("agent queue (limit 50)", { p, at in AnyHashable(p.agentQueue(agent, at: at, limit: 50)) }),
            ("agents (workloads)", { p, _ in AnyHashable(p.workloads(window: .unbounded)) }),
            (
                "response times (business)",
                { p, at in AnyHashable(p.responseTimes(at: at, window: .unbounded, groupBy: .none, clock: .business)) }
            ),
            ("satisfaction (week)", { p, _ in AnyHashable(p.satisfaction(window: .unbounded, bucket: .week, groupBy: .none)) }),
            ("ticket list (limit 100)", { p, at in AnyHashable(try p.tickets(matching: TicketFilter(), at: at, limit: 100)) }),
        ]
        var foldTimes: [Double] = []
        var queryTimes = [[Double]](repeating: [], count: views.count)
        var fromSnapshots = 0
        for (k, at) in times.enumerated() {
            if runner.answersFromSnapshot(at: at) { fromSnapshots += 1 }
            begin = ContinuousClock.now
            let projection = try runner.asOf(at)
            foldTimes.append(seconds(since: begin))
            var answers: [AnyHashable] = []
            for (v, view) in views.enumerated() {
                begin = ContinuousClock.now
                answers.append(try view.1(projection, at))
                queryTimes[v].append(seconds(since: begin))
            }
            if k < fullFolds {
                begin = ContinuousClock.now
                let full = try runner.fullFold(upTo: at)
                let fullSeconds = seconds(since: begin)
                var same = full.checkpoint() == projection.checkpoint()
                var fullQueries: [Double] = []
                for (v, view) in views.enumerated() {
                    begin = ContinuousClock.now
                    let answer = try view.1(full, at)
                    fullQueries.append(seconds(since: begin))
                    same = same && answer == answers[v]
                }
                print(
                    String(
                        format:
                            "peer at %@: full fold %.0f ms (from the snapshots: %.1f ms); queries %@ ms; same projection and answers: %@",
                        at.description, fullSeconds * 1000, foldTimes[k] * 1000,
                        fullQueries.map { String(format: "%.1f", $0 * 1000) }.joined(separator: ", "), same ? "yes" : "NO"))
                guard same else { throw ValidationError("the answer from the snapshots differs from the full fold at \(at)") }
            }
        }
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
        print("\(instants) instants, \(fromSnapshots) answered from snapshots; milliseconds, p50 / p99 / max:")
        print(
            String(
                format: "  fold from the snapshot: %.1f / %.1f / %.1f", percentile(foldTimes, 0.5) * 1000,
                percentile(foldTimes, 0.99) * 1000, foldTimes.max()! * 1000))
        for (v, view) in views.enumerated() {
            let totals = zip(foldTimes, queryTimes[v]).map { $0 + $1 }
            print(
                String(
                    format: "  %@: query %.1f / %.1f; fold + query %.1f / %.1f / %.1f", view.0,
                    percentile(queryTimes[v], 0.5) * 1000, percentile(queryTimes[v], 0.99) * 1000,
                    percentile(totals, 0.5) * 1000, percentile(totals, 0.99) * 1000, totals.max()! * 1000))
        }
    }
}

/// What-if answers (`SupportBackend.whatIf`: the current figures, a fold of the log under the
/// proposed policy, its figures and the differences) against a rebuild of the projection (the
/// fold alone) in the same run, alternating.
struct WhatIfTiming: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "what-if",
        abstract: """
            Open the log as supportd does (default policy), then alternate a rebuild of the projection \
            (the peer) and a what-if with a policy overlay, live and as of the middle of the log; print \
            each time and the what-if's ratio to the rebuild of the same round.
            """)
    @Option var dataDir: String
    @Option(help: "Rounds (each: one rebuild, one live what-if, one what-if as of the log's middle).") var rounds = 3
    @Option(help: "The policy overlay (JSON, the policy file's form).")
    var overlay = """
        {"targets": {"high": {"firstReply": {"seconds": 1800, "clock": "business"}}, \
        "normal": {"resolution": {"seconds": 86400, "clock": "calendar"}}}, \
        "schedule": {"mon": ["08:00-20:00"], "tue": ["08:00-20:00"], "wed": ["08:00-20:00"], "thu": ["08:00-20:00"], \
        "fri": ["08:00-20:00"], "sat": ["10:00-16:00"]}, "holidays": ["2026-04-06", "2026-05-01"]}
        """

    func run() async throws {
        var begin = ContinuousClock.now
        let backend = try SupportBackend(dataDirectory: dataDir, durability: .deferred(flushIntervalMilliseconds: 5000))
        defer { backend.close() }
        let head = try backend.store.head.seq
        print(String(format: "opened (projection and snapshots built): %d events in %.2f s", head, seconds(since: begin)))
        var first: Timestamp?
        var last: Timestamp?
        try backend.store.read { snapshot in
            first = try snapshot.event(seq: 1)?.at
            last = try snapshot.event(seq: head)?.at
        }
        guard let first, let last else { throw ValidationError("an empty log") }
        let middle = Timestamp(milliseconds: (first.milliseconds + last.milliseconds) / 2)
        let live = WhatIfQuery(overlay: Array(overlay.utf8), groupBy: .team, clock: .business)
        var past = live
        past.asOf = middle
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        var ratios: [(live: Double, past: Double)] = []
        var withQueries: [Double] = []
        for round in 1...rounds {
            begin = ContinuousClock.now
            let rebuilt = try ProjectionRunner.fold(store: backend.store, levels: backend.levels, upTo: nil, logger: logger)
            let rebuild = seconds(since: begin)
            // The figures a server restarted with the policy would then answer: one side's queries.
            begin = ContinuousClock.now
            let at = backend.clock()
            _ = rebuilt.responseTimes(at: at, window: .unbounded, groupBy: .team, clock: .business)
            _ = rebuilt.satisfaction(window: .unbounded, bucket: .week, groupBy: .team)
            for summary in rebuilt.queues(at: at) where summary.depth > 0 { _ = rebuilt.teamQueue(summary.team, at: at) }
            let queries = seconds(since: begin)
            let tickets = rebuilt.ticketCount
            _ = consume rebuilt
            begin = ContinuousClock.now
            let now = try await backend.whatIf(live)
            let whatIf = seconds(since: begin)
            begin = ContinuousClock.now
            let body = WhatIfAnswer(now).canonicalJSON
            let encode = seconds(since: begin)
            begin = ContinuousClock.now
            let then = try await backend.whatIf(past)
            let asOf = seconds(since: begin)
            let moved = now.queues.reduce(0) { $0 + $1.changed }
            print(
                String(
                    format:
                        "round %d: rebuild %.2f s (%d tickets), + one side's queries %.2f s; what-if %.2f s = %.2fx the rebuild, %.2fx rebuild + queries (answer %d bytes, encoded in %.0f ms; %d tickets move in %d queues); what-if as of %@ %.2f s = %.2fx (%d events)",
                    round, rebuild, tickets, queries, whatIf, whatIf / rebuild, whatIf / (rebuild + queries), body.count, encode * 1000,
                    moved, now.queues.count, middle.description, asOf, asOf / rebuild, then.throughSeq))
            ratios.append((whatIf / rebuild, asOf / rebuild))
            withQueries.append(whatIf / (rebuild + queries))
        }
        let sortedLive = ratios.map(\.live).sorted(), sortedPast = ratios.map(\.past).sorted()
        print(
            String(
                format: "median ratio to the rebuild: what-if %.2fx (to rebuild + queries %.2fx), what-if as of the middle %.2fx",
                sortedLive[sortedLive.count / 2], withQueries.sorted()[withQueries.count / 2], sortedPast[sortedPast.count / 2]))
    }
}

/// glibc's `malloc_trim`: hands the free memory of malloc's arenas back to the system.
@_silgen_name("malloc_trim") func mallocTrim(_ pad: Int) -> Int32
