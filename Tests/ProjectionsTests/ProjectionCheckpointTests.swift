import EventLog
import Foundation
import SupportDomain
import Testing

@testable import Projections

/// Checkpoints of the projection state: a restored projection answers every query like the one
/// that wrote it, and folding the rest of the log into it equals folding the whole log; other
/// policies, other format versions and damaged bytes are refused, never trapped on.
@Suite("Projection checkpoints")
struct ProjectionCheckpointTests {
    typealias Case = PropertyTests.Case

    static let cases = PropertyTests.cases

    static func fold(_ events: some Collection<RecordedEvent>, _ levels: ServiceLevels) throws -> SupportProjection {
        var projection = SupportProjection(levels: levels)
        try projection.apply(contentsOf: Array(events))
        return projection
    }

    // MARK: Round trips

    @Test(arguments: cases)
    func restoredProjectionAnswersLikeTheOriginalAndResumes(_ c: Case) throws {
        let levels = try P.levels(PropertyTests.policies[c.policy])
        let events = RandomLog(seed: c.seed, steps: 1200, start: PropertyTests.start).events
        let whole = try Self.fold(events, levels)
        let wholeBytes = whole.checkpoint()
        var rng = SeededRandom(seed: c.seed &* 31337)
        for cut in [0, 1, events.count / 3, Int.random(in: 1..<events.count, using: &rng), events.count] {
            let original = try Self.fold(events.prefix(cut), levels)
            let bytes = original.checkpoint()
            let restored = try SupportProjection(checkpoint: bytes, levels: levels)

            // The stored state, the rebuilt indexes, and the bytes again.
            expectSameState(restored, original)
            #expect(restored.checkpoint() == bytes)
            let header = try ProjectionCheckpointHeader(bytes)
            #expect(
                header.formatVersion == SupportProjection.formatVersion && header.appliedSeq == UInt64(cut)
                    && header.policyHash == levels.policy.hash)

            // (a) Every query, at instants around the cut and later.
            let instants = Self.instants(events, cut: cut, rng: &rng)
            for at in instants {
                #expect(
                    Self.answers(restored, at: at, events: events) == Self.answers(original, at: at, events: events),
                    "answers after \(cut) events at \(at)")
            }

            // (b) Incremental after restore == rebuild: the rest of the log, in batches.
            var resumed = restored
            var index = cut
            while index < events.count {
                let end = min(events.count, index + Int.random(in: 1...300, using: &rng))
                try resumed.apply(contentsOf: events[index..<end])
                index = end
            }
            expectSameState(resumed, whole)
            #expect(resumed.checkpoint() == wholeBytes)
            let last = Timestamp(milliseconds: events.map(\.at.milliseconds).max()! + 3_600_000)
            #expect(Self.answers(resumed, at: last, events: events) == Self.answers(whole, at: last, events: events))
        }
    }

    @Test
    func emptyProjectionRoundTrips() throws {
        let levels = try P.levels()
        let empty = SupportProjection(levels: levels)
        let bytes = empty.checkpoint()
        let restored = try SupportProjection(checkpoint: bytes, levels: levels)
        expectSameState(restored, empty)
        #expect(restored.checkpoint() == bytes)
        #expect(restored.appliedSeq == 0)
    }

    /// decode(encode(p)) is p, for random logs of random lengths under both policies: the same
    /// state, the same bytes again, and the same answer to every query.
    @Test
    func everyRandomProjectionRoundTrips() throws {
        var rng = SeededRandom(seed: 10_010)
        for seed in UInt64(100)..<132 {
            let levels = try P.levels(PropertyTests.policies[Int(seed % 2)])
            let events = RandomLog(seed: seed, steps: Int.random(in: 1...600, using: &rng), start: PropertyTests.start).events
            let cut = Int.random(in: 0...events.count, using: &rng)
            let original = try Self.fold(events.prefix(cut), levels)
            let bytes = original.checkpoint()
            let restored = try SupportProjection(checkpoint: bytes, levels: levels)
            expectSameState(restored, original)
            #expect(restored.checkpoint() == bytes, "seed \(seed)")
            guard !events.isEmpty else { continue }
            let at = Self.instants(events, cut: cut, rng: &rng)[Int.random(in: 0...1, using: &rng)]
            #expect(
                Self.answers(restored, at: at, events: events) == Self.answers(original, at: at, events: events),
                "seed \(seed), \(cut) events, at \(at)")
        }
    }

    @Test
    func handBuiltLogWithEveryKindOfValueRoundTrips() throws {
        let levels = try P.levels()
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z", subject: "Caf\u{E9} \u{1F600}")
        log.open("T-2", by: P.alice, at: "2026-03-02T09:05:00Z", customer: "dave", priority: "low", product: "vps", channel: "chat")
        log.open("Te\u{301}-3", by: P.robot, at: "2026-03-02T08:00:00Z", customer: "\u{C9}lise")  // back-dated, combining accent
        log.message("T-1", by: P.alice, at: "2026-03-02T09:10:00Z")
        log.assign("T-1", "alice", team: "\u{DC}berweisung", at: "2026-03-02T09:11:00Z")
        log.add("T-1", "tags.changed", #"{"added":["vip","b\u00e9ta"]}"#, by: P.alice, at: "2026-03-02T09:12:00Z")
        log.message("T-1", by: P.carol, at: "2026-03-02T09:20:00Z")
        log.message("T-1", by: P.bob, at: "2026-03-02T11:20:00Z")
        log.status("T-1", "solved", at: "2026-03-02T11:21:00Z")
        log.rate("T-1", 5, at: "2026-03-02T12:00:00Z")
        log.rate("T-1", 2, reply: 2, at: "2026-03-02T12:01:00Z")
        log.assign("T-2", "bob", at: "2026-03-02T09:30:00Z")
        log.status("T-2", "on_hold", by: P.bob, at: "2026-03-02T09:31:00Z")
        log.add("Te\u{301}-3", "ticket.merged", #"{"into":"T-1"}"#, by: P.alice, at: "2026-03-02T10:00:00Z")
        let original = try log.projection(levels)
        let bytes = original.checkpoint()
        let restored = try SupportProjection(checkpoint: bytes, levels: levels)
        expectSameState(restored, original)
        #expect(restored.checkpoint() == bytes)
        let at = P.t("2026-03-03T12:00:00Z")
        #expect(Self.answers(restored, at: at, events: log.events) == Self.answers(original, at: at, events: log.events))
        #expect(restored.ticket("Te\u{301}-3", at: at)?.mergedInto == "T-1")
        #expect(restored.ticket("T\u{E9}-3", at: at) == nil)  // ids stay code points, not normalised
        #expect(restored.ticket("T-1", at: at)?.subject.unicodeScalars.map(\.value) == [67, 97, 102, 233, 32, 0x1F600])
    }

    // MARK: Refusals

    @Test
    func checkpointUnderAnotherPolicyIsRefused() throws {
        let levels = try P.levels(PropertyTests.policies[0])
        let other = try P.levels(PropertyTests.policies[1])
        let events = RandomLog(seed: 9, steps: 300, start: PropertyTests.start).events
        let bytes = try Self.fold(events, levels).checkpoint()
        #expect(throws: ProjectionCheckpointError.policyMismatch(found: levels.policy.hash, expected: other.policy.hash)) {
            _ = try SupportProjection(checkpoint: bytes, levels: other)
        }
        // The same policy parsed again is the same policy.
        let again = try P.levels(PropertyTests.policies[0])
        #expect(try SupportProjection(checkpoint: bytes, levels: again).appliedSeq == UInt64(events.count))
    }

    @Test
    func checkpointOfAnotherFormatVersionIsRefused() throws {
        let levels = try P.levels()
        let events = RandomLog(seed: 10, steps: 300, start: PropertyTests.start).events
        let bytes = try Self.fold(events, levels).checkpoint()
        for version in [SupportProjection.formatVersion + 1, SupportProjection.formatVersion - 1, 0, .max] {
            var changed = bytes
            withUnsafeBytes(of: version.littleEndian) { changed.replaceSubrange(4..<8, with: $0) }
            changed.withUnsafeMutableBytes { ProjectionCheckpoint.seal($0) }  // even with a valid checksum
            #expect(throws: ProjectionCheckpointError.unknownFormatVersion(found: version, expected: SupportProjection.formatVersion)) {
                _ = try SupportProjection(checkpoint: changed, levels: levels)
            }
            #expect(try ProjectionCheckpointHeader(changed).formatVersion == version)
        }
    }

    @Test
    func damagedBytesAreRefusedWithoutTrapping() throws {
        let levels = try P.levels()
        let events = RandomLog(seed: 11, steps: 500, start: PropertyTests.start).events
        let cut = events.count * 2 / 3
        let bytes = try Self.fold(events.prefix(cut), levels).checkpoint()
        var rng = SeededRandom(seed: 2024)

        func isDamaged(_ bytes: [UInt8]) -> Bool {
            do {
                _ = try SupportProjection(checkpoint: bytes, levels: levels)
                return false
            } catch {
                if case .damaged = error { return true }
                return false
            }
        }

        // Not a checkpoint at all.
        #expect(isDamaged([]))
        #expect(isDamaged(Array("LDPC".utf8)))
        #expect(isDamaged(Array(repeating: 0, count: 100)))
        #expect(isDamaged((0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        #expect(throws: ProjectionCheckpointError.self) { _ = try ProjectionCheckpointHeader(Array(bytes.prefix(10))) }

        // Truncated: every short prefix, then prefixes of random lengths.
        var lengths = Array(0..<min(200, bytes.count))
        lengths += (0..<300).map { _ in Int.random(in: 0..<bytes.count, using: &rng) }
        for length in lengths {
            #expect(isDamaged(Array(bytes.prefix(length))), "prefix of \(length) bytes")
        }
        #expect(isDamaged(bytes + [0]))

        // Bit flips: the checksum catches them (a flip in the version is an unknown version).
        for _ in 0..<600 {
            var flipped = bytes
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                flipped[Int.random(in: 0..<flipped.count, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            }
            guard flipped != bytes else { continue }
            #expect(throws: ProjectionCheckpointError.self) { _ = try SupportProjection(checkpoint: flipped, levels: levels) }
        }

        // Damage behind a valid checksum (as if written by a buggy encoder): the structural checks
        // refuse it or it decodes into a state that queries and folds without trapping.
        let rest = Array(events[cut...])
        var decoded = 0
        for round in 0..<1500 {
            var mutated = bytes
            switch round % 4 {
            case 0:
                // Flip bits after the policy hash (the header's fields are covered above).
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    mutated[Int.random(in: 90..<mutated.count - ProjectionCheckpoint.checksumSize, using: &rng)] ^=
                        1 << UInt8.random(in: 0..<8, using: &rng)
                }
            case 1:
                // Overwrite a run with random bytes.
                let start = Int.random(in: 90..<mutated.count - ProjectionCheckpoint.checksumSize, using: &rng)
                for i in start..<min(mutated.count - ProjectionCheckpoint.checksumSize, start + Int.random(in: 1...16, using: &rng)) {
                    mutated[i] = UInt8.random(in: 0...255, using: &rng)
                }
            case 2:
                // Remove a run.
                let start = Int.random(in: 90..<mutated.count - ProjectionCheckpoint.checksumSize, using: &rng)
                mutated.removeSubrange(
                    start..<min(mutated.count - ProjectionCheckpoint.checksumSize, start + Int.random(in: 1...64, using: &rng)))
            default:
                // Insert a run.
                let start = Int.random(in: 90..<mutated.count - ProjectionCheckpoint.checksumSize, using: &rng)
                mutated.insert(
                    contentsOf: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) },
                    at: start)
            }
            mutated.withUnsafeMutableBytes { ProjectionCheckpoint.seal($0) }
            guard var restored = try? SupportProjection(checkpoint: mutated, levels: levels) else { continue }
            decoded += 1
            // A decoded state answers and folds: no trap (DomainErrors are fine).
            let at = Timestamp(milliseconds: events[cut - 1].at.milliseconds + 3_600_000)
            _ = restored.queues(at: at)
            _ = restored.workloads(window: .unbounded)
            _ = restored.responseTimes(at: at, window: .unbounded, groupBy: .agent, clock: .calendar)
            _ = restored.satisfaction(window: .unbounded, bucket: .day, groupBy: .team)
            _ = try? restored.tickets(matching: TicketFilter(), at: at, limit: 50)
            for event in rest.prefix(100) { try? restored.apply(event) }
            _ = restored.checkpoint()
        }
        // Most damage is caught by the structure; some (a changed instant) is not, and need not be.
        #expect(decoded < 1500)
    }

    // MARK: Codec pieces

    @Test
    func varintsHoldAnyValues() throws {
        let values: [Int64] = [0, 1, -1, 63, -64, 64, 1 << 40, -(1 << 40), .max, .min, .max - 1, .min + 1]
        let optionals: [Int64?] = [nil, 0, -1, 1, 1 << 60, -(1 << 60), .max, .min + 1]
        let indices: [UInt32] = [0, 1, 127, 128, .max - 1, Sentinel.none]
        var bytes: [UInt8] = []
        for value in values { bytes.appendZigZag(value) }
        for value in optionals { bytes.appendZigZag(optional: value) }
        for index in indices { bytes.appendIndex(index) }
        let back = bytes.withUnsafeBytes { raw in
            Self.readBack(raw, values: values.count, optionals: optionals.count, indices: indices.count)
        }
        #expect(back?.values == values)
        #expect(back?.optionals == optionals)
        #expect(back?.indices == indices.map { $0 == Sentinel.none ? nil : Int64($0) })
        #expect(back?.remaining == 0)
        #expect(back?.readsPastTheEnd == false)
    }

    static func readBack(
        _ raw: UnsafeRawBufferPointer, values: Int, optionals: Int, indices: Int
    )
        -> (values: [Int64], optionals: [Int64?], indices: [Int64?], remaining: Int, readsPastTheEnd: Bool)?
    {
        var reader = CheckpointReader(raw, offset: 0)
        var out: (values: [Int64], optionals: [Int64?], indices: [Int64?], remaining: Int, readsPastTheEnd: Bool) = ([], [], [], 0, false)
        do {
            for _ in 0..<values { out.values.append(try reader.int()) }
            for _ in 0..<optionals { out.optionals.append(try reader.optionalInt()) }
            for _ in 0..<indices { out.indices.append(try reader.optionalIndex()) }
        } catch {
            return nil
        }
        out.remaining = reader.remaining
        out.readsPastTheEnd = (try? reader.varint()) != nil
        return out
    }

    // MARK: Helpers

    /// Instants to evaluate at: around the last applied event, at a due instant and just after,
    /// and well after everything.
    static func instants(_ events: [RecordedEvent], cut: Int, rng: inout SeededRandom) -> [Timestamp] {
        let all = events.map(\.at.milliseconds)
        let first = all.min()!, last = all.max()!
        var out = [
            Timestamp(milliseconds: last + 5 * 86_400_000),
            Timestamp(milliseconds: Int64.random(in: first...last, using: &rng)),
        ]
        if cut > 0 { out.append(events[cut - 1].at) }
        return out
    }

    /// Every query of a projection, rendered for comparison: queues, team and agent queues (all,
    /// cut), claims, workloads, response times (every groupBy × clock × window), satisfaction
    /// (every bucket × groupBy × window), every ticket, and the ticket list paged under filters.
    static func answers(_ p: SupportProjection, at: Timestamp, events: [RecordedEvent]) -> [String] {
        let all = events.map(\.at.milliseconds)
        let first = all.min() ?? 0, last = all.max() ?? 0
        let windows = [
            TimeWindow.unbounded,
            TimeWindow(
                from: Timestamp(milliseconds: first + (last - first) / 4), to: Timestamp(milliseconds: first + (last - first) * 3 / 4)),
            TimeWindow(to: Timestamp(milliseconds: (first + last) / 2)),
            TimeWindow(from: Timestamp(milliseconds: last - 86_400_000)),
        ]
        let teams = RandomLog.teams + ["\u{DC}berweisung", "U\u{308}berweisung", "nobody"]
        let agents = RandomLog.agents + ["E\u{301}mile", "nobody"]
        var out: [String] = ["seq \(p.appliedSeq)", "count \(p.ticketCount)", "\(p.queues(at: at))"]
        for team in teams {
            out.append("\(p.teamQueue(team, at: at))")
            out.append("\(p.teamQueue(team, at: at, limit: 3))")
            out.append("\(p.firstUnassignedTicket(inTeam: team) ?? "-")")
        }
        for agent in agents {
            out.append("\(p.agentQueue(agent, at: at))")
            out.append("\(p.agentQueue(agent, at: at, limit: 2))")
        }
        for window in windows {
            out.append("\(p.workloads(window: window))")
            for groupBy in GroupBy.allCases {
                for clock in SLAClock.allCases {
                    out.append("\(p.responseTimes(at: at, window: window, groupBy: groupBy, clock: clock))")
                }
                for bucket in BucketUnit.allCases {
                    out.append("\(p.satisfaction(window: window, bucket: bucket, groupBy: groupBy))")
                }
            }
        }
        var ids = Set<String>()
        for event in events where ids.insert(event.stream).inserted {
            out.append("\(p.ticket(event.stream, at: at).map { "\($0)" } ?? "none \(event.stream)")")
        }
        let filters = [
            TicketFilter(), TicketFilter(status: .open), TicketFilter(status: .solved), TicketFilter(team: "domains"),
            TicketFilter(assignee: "bob"), TicketFilter(customer: "c2"), TicketFilter(status: .new, customer: "c3"),
            TicketFilter(tag: "vip"), TicketFilter(tag: "b\u{E9}ta"), TicketFilter(team: "nobody"),
        ]
        for filter in filters {
            for limit in [1, 7, 1000] {
                var after: String?
                var pages = 0
                repeat {
                    guard let page = try? p.tickets(matching: filter, at: at, limit: limit, after: after) else {
                        out.append("refused \(filter) \(limit) \(after ?? "-")")
                        break
                    }
                    out.append("\(page)")
                    after = page.next
                    pages += 1
                } while after != nil && pages < 40
            }
        }
        return out
    }
}

/// The stored state and the rebuilt indexes are equal (names compared by code point).
func expectSameState(_ a: SupportProjection, _ b: SupportProjection, sourceLocation: SourceLocation = #_sourceLocation) {
    func names(_ table: NameTable) -> [[UInt8]] { table.names.map { Array($0.utf8) } }
    #expect(a.appliedSeq == b.appliedSeq, sourceLocation: sourceLocation)
    #expect(names(a.ticketKeys) == names(b.ticketKeys), sourceLocation: sourceLocation)
    #expect(names(a.teams) == names(b.teams), sourceLocation: sourceLocation)
    #expect(names(a.agents) == names(b.agents), sourceLocation: sourceLocation)
    #expect(names(a.customers) == names(b.customers), sourceLocation: sourceLocation)
    #expect(names(a.tagNames) == names(b.tagNames), sourceLocation: sourceLocation)
    #expect(a.tickets == b.tickets, sourceLocation: sourceLocation)
    #expect(a.infos == b.infos, sourceLocation: sourceLocation)
    #expect(a.replies == b.replies, sourceLocation: sourceLocation)
    #expect(a.agentMessages == b.agentMessages, sourceLocation: sourceLocation)
    #expect(a.ratings == b.ratings, sourceLocation: sourceLocation)
    #expect(a.teamTicketCounts == b.teamTicketCounts, sourceLocation: sourceLocation)
    #expect(a.agentLoads == b.agentLoads, sourceLocation: sourceLocation)
    #expect(a.customerTickets == b.customerTickets, sourceLocation: sourceLocation)
    #expect(a.teamQueues.map(\.elements) == b.teamQueues.map(\.elements), sourceLocation: sourceLocation)
    #expect(a.agentQueues.map(\.elements) == b.agentQueues.map(\.elements), sourceLocation: sourceLocation)
    #expect(a.openingOrder.elements == b.openingOrder.elements, sourceLocation: sourceLocation)
    for (x, y) in zip(a.teamQueues, b.teamQueues) { #expect(x.count == y.count, sourceLocation: sourceLocation) }
}

/// Checkpoint speed and size on the synthetic log of ``ProjectionBenchmark``. Off by default; run
/// it in release:
///
/// ```sh
/// PROJECTIONS_CHECKPOINT_BENCH=10000000 swift test -c release -Xswiftc -enable-testing \
///     --scratch-path .build-projections --filter ProjectionCheckpointBenchmark
/// ```
///
/// MB/s are of checkpoint bytes (and, in brackets, of the state's resident memory) per second of
/// wall-clock time, best of three.
@Suite("Projection checkpoint benchmark")
struct ProjectionCheckpointBenchmark {
    static let eventCount = Int(ProcessInfo.processInfo.environment["PROJECTIONS_CHECKPOINT_BENCH"] ?? "") ?? 0

    @Test(.enabled(if: eventCount > 0))
    func checkpointSpeedAndSize() throws {
        let levels = try ServiceLevels(policy: .default)
        let baseline = ProjectionBenchmark.heapInUse()
        var projection = SupportProjection(levels: levels)
        var generator = SyntheticLog(seed: 42, active: ProjectionBenchmark.active)
        var applied = 0
        while applied < Self.eventCount {
            let chunk = generator.next(min(200_000, Self.eventCount - applied))
            try projection.apply(contentsOf: chunk)
            applied += chunk.count
        }
        let state = ProjectionBenchmark.heapInUse() - baseline

        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        var bytes: [UInt8] = []
        var encode = Double.infinity, decode = Double.infinity
        for _ in 0..<3 {
            bytes = []
            encode = min(encode, seconds { bytes = projection.checkpoint() })
        }
        var restored = SupportProjection(levels: levels)
        for _ in 0..<3 {
            restored = SupportProjection(levels: levels)
            decode = min(decode, try seconds { restored = try SupportProjection(checkpoint: bytes, levels: levels) })
        }
        var sum: [UInt8] = []
        let checksum = bytes.withUnsafeBytes { raw in seconds { sum = Array(ProjectionCheckpoint.checksum(raw)) } }

        #expect(restored.checkpoint() == bytes)
        let at = Timestamp(milliseconds: generator.now)
        #expect(restored.queues(at: at) == projection.queues(at: at))
        #expect(restored.workloads(window: .unbounded) == projection.workloads(window: .unbounded))
        #expect(
            restored.responseTimes(at: at, window: .unbounded, groupBy: .agent, clock: .business)
                == projection.responseTimes(at: at, window: .unbounded, groupBy: .agent, clock: .business))
        #expect(
            (try restored.tickets(matching: TicketFilter(), at: at, limit: 100))
                == (try projection.tickets(matching: TicketFilter(), at: at, limit: 100)))

        let mb = Double(bytes.count) / 1e6, stateMB = Double(state) / 1e6
        func rate(_ s: Double) -> String { String(format: "%.0f MB/s (%.0f MB/s of state)", mb / s, stateMB / s) }
        print(
            """
            checkpoint: \(applied) events, \(projection.ticketCount) tickets, \(projection.replies.count) replies, \
            \(projection.agentMessages.count) agent messages, \(projection.ratings.count) ratings
            size: \(bytes.count) bytes = \(String(format: "%.1f", Double(bytes.count) / Double(applied))) bytes/event; \
            state resident \(state / 1_048_576) MiB (\(state / applied) bytes/event)
            encode: \(String(format: "%.3f", encode)) s = \(rate(encode))
            decode: \(String(format: "%.3f", decode)) s = \(rate(decode))
            checksum alone: \(String(format: "%.3f", checksum)) s = \(String(format: "%.0f", mb / checksum)) MB/s (\(sum.prefix(8).map { String(format: "%02x", $0) }.joined()))
            """)
    }
}
