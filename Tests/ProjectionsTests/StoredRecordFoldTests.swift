import EventLog
import Foundation
import Logging
import SupportDomain
import Testing

@testable import Projections

/// The fold over stored records read in place (what a rebuild does) against the fold over the same
/// records decoded to `RecordedEvent`s (what every other read gives): on random logs, valid and
/// tampered, each event has the same outcome (applied, the same refusal, or the same read error)
/// and the projections end equal, checkpoint bytes included.
@Suite("Folding stored records in place")
struct StoredRecordFoldTests {
    static let start = Timestamp(rfc3339: "2026-03-20T06:00:00Z")!

    /// The outcome of one event: applied (nil) or its refusal or read error, as text.
    private static func decodedFold(_ records: [(UInt64, [UInt8])], levels: ServiceLevels) -> (SupportProjection, [String?]) {
        var projection = SupportProjection(levels: levels)
        var outcomes: [String?] = []
        for (seq, record) in records {
            do {
                let event = try record.withUnsafeBytes { raw throws(EventLogError) in
                    try StoredEventView.recordedEvent(seq: seq, record: raw)
                }
                do {
                    try projection.apply(event)
                    outcomes.append(nil)
                } catch {
                    outcomes.append("refused: \(error)")
                }
            } catch {
                outcomes.append("unreadable: \(error)")
            }
        }
        return (projection, outcomes)
    }

    private static func inPlaceFold(_ records: [(UInt64, [UInt8])], levels: ServiceLevels) -> (SupportProjection, [String?]) {
        var projection = SupportProjection(levels: levels)
        var outcomes: [String?] = []
        for (seq, record) in records {
            do {
                let refusal = try record.withUnsafeBytes { raw throws(EventLogError) in
                    try projection.apply(storedRecord: raw, seq: seq)
                }
                outcomes.append(refusal.map { "refused: \($0)" })
            } catch {
                outcomes.append("unreadable: \(error)")
            }
        }
        return (projection, outcomes)
    }

    /// Checks both folds alike; answers the decoded fold's outcomes.
    @discardableResult
    private static func expectSameFold(_ records: [(UInt64, [UInt8])], levels: ServiceLevels) -> [String?] {
        let (decoded, decodedOutcomes) = decodedFold(records, levels: levels)
        let (inPlace, inPlaceOutcomes) = inPlaceFold(records, levels: levels)
        #expect(inPlaceOutcomes.count == decodedOutcomes.count)
        for (k, (a, b)) in zip(inPlaceOutcomes, decodedOutcomes).enumerated() where a != b {
            Issue.record("event \(k + 1): in place \(a ?? "applied"), decoded \(b ?? "applied")")
        }
        #expect(inPlace.appliedSeq == decoded.appliedSeq)
        #expect(inPlace.checkpoint() == decoded.checkpoint())
        let at = Timestamp(milliseconds: start.milliseconds + 40 * 86_400_000)
        #expect("\(inPlace.queues(at: at))" == "\(decoded.queues(at: at))")
        #expect(
            "\(inPlace.responseTimes(at: at, window: .unbounded, groupBy: .agent, clock: .business))"
                == "\(decoded.responseTimes(at: at, window: .unbounded, groupBy: .agent, clock: .business))")
        return decodedOutcomes
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func foldingValidRecordsInPlaceEqualsFoldingDecodedEvents(_ seed: UInt64) throws {
        let levels = try P.levels()
        let events = RandomLog(seed: seed, steps: 1500, start: Self.start).events
        let records = events.map { ($0.seq, $0.storedRecord) }
        Self.expectSameFold(records, levels: levels)
        // And the projection equals the one folded from the events as they were appended.
        var direct = SupportProjection(levels: levels)
        try direct.apply(contentsOf: events)
        #expect(Self.inPlaceFold(records, levels: levels).0.checkpoint() == direct.checkpoint())
    }

    /// Data the decoder refuses, in each way it can: every refusal, and its text, is the same.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func refusalsInPlaceAreTheDecodedFoldsRefusals(_ seed: UInt64) throws {
        let levels = try P.levels()
        var rng = SeededRandom(seed: seed)
        let events = RandomLog(seed: seed, steps: 800, start: Self.start).events
        var records: [(UInt64, [UInt8])] = []
        for var event in events {
            if Int.random(in: 0..<6, using: &rng) == 0, case .object(var members) = event.data {
                switch Int.random(in: 0..<14, using: &rng) {
                case 0: members["zzz"] = .int(1)
                case 1: members["Body"] = .string("x")
                case 2: if let key = members.keys.sorted().first { members[key] = .int(3) }
                case 3: if let key = members.keys.sorted().last { members.removeValue(forKey: key) }
                case 4: event.actor.kind = "robot"
                case 5: event.type = "ticket.reopened"
                case 6: event.stream = "T-unknown"
                case 7: event.version += 1
                case 8: if members["score"] != nil { members["score"] = .double(4.5) } else { members["priority"] = .string("urgent ") }
                case 9: if members["status"] != nil { members["status"] = .string("new") } else { members["channel"] = .string("fax") }
                case 10: members["attachments"] = .array([.object(["name": .string("a"), "size": .int(-1)])])
                case 11: members["customer"] = .string(String(repeating: "\u{E9}", count: 129))
                case 12: members["tags"] = .array([.string("")])
                default: members["\u{212A}ey"] = .null  // a name the in-place reading leaves to the decoded path
                }
                event.data = .object(members)
            }
            records.append((event.seq, event.storedRecord))
        }
        let outcomes = Self.expectSameFold(records, levels: levels)
        #expect(outcomes.contains { $0?.hasPrefix("refused") ?? false }, "the log holds refused events")
    }

    /// Records damaged byte by byte (texts made invalid UTF-8, data bytes changed, records cut):
    /// the same outcome for each, down to the read error of a record no read can decode.
    @Test(arguments: [21, 22, 23, 24] as [UInt64])
    func damagedRecordsInPlaceAreReadAsTheDecodedFoldReadsThem(_ seed: UInt64) throws {
        let levels = try P.levels()
        var rng = SeededRandom(seed: seed)
        let events = RandomLog(seed: seed, steps: 800, start: Self.start).events
        var records: [(UInt64, [UInt8])] = []
        for event in events {
            var record = event.storedRecord
            if Int.random(in: 0..<5, using: &rng) == 0 {
                let header = 1 + 8 + 8 + 8 + 8 + 32 + 32
                switch Int.random(in: 0..<4, using: &rng) {
                case 0:
                    // A byte of the stream, type, actor or data made 0xFF, 0xC3 or 0x80.
                    let k = Int.random(in: (header + 2)..<record.count, using: &rng)
                    record[k] = [0xFF, 0xC3, 0x80].randomElement(using: &rng)!
                case 1:
                    let k = Int.random(in: header..<record.count, using: &rng)
                    record[k] = UInt8.random(in: 0...255, using: &rng)
                case 2:
                    record.removeLast(Int.random(in: 1...min(8, record.count), using: &rng))
                default:
                    // The data's members written twice (names repeated, as a hand-made record could).
                    var offset = header
                    for _ in 0..<4 { offset += 2 + Int(record[offset]) + Int(record[offset + 1]) << 8 }
                    if record[offset] == 7, record[offset + 1] < 64 {
                        let members = Array(record[(offset + 2)...])
                        record[offset + 1] *= 2
                        record.append(contentsOf: members)
                    }
                }
            }
            records.append((event.seq, record))
        }
        let outcomes = Self.expectSameFold(records, levels: levels)
        #expect(outcomes.contains { $0?.hasPrefix("unreadable") ?? false }, "the log holds undecodable records")
        #expect(outcomes.contains { $0 == nil }, "the log holds applied events")
    }

    /// A rebuild through the runner (an LMDB log read in batches of stored records) equals the
    /// fold of the decoded events.
    @Test
    func aRebuildFromAnLMDBLogEqualsTheFoldOfItsEvents() async throws {
        let levels = try P.levels()
        let directory = TemporaryDirectory()
        let store = try EventStore(EventLogConfiguration(directory: directory.path, envelope: EnvelopeFormat(streamField: "ticket")))
        let events = RandomLog(seed: 5, steps: 1200, start: Self.start).events
        for event in events {
            let request = AppendRequest(
                stream: event.stream,
                events: [ProposedEvent(type: event.type, at: event.at, actor: event.actor, data: event.data)])
            _ = try await store.append(request)
        }
        let stored = try store.events(after: 0, limit: events.count)
        var expected = SupportProjection(levels: levels)
        try expected.apply(contentsOf: stored)
        let rebuilt = try ProjectionRunner.fold(store: store, levels: levels, upTo: nil, logger: Logger(label: "test"))
        #expect(rebuilt.checkpoint() == expected.checkpoint())
        let instant = stored[stored.count / 2].at
        var prefix = SupportProjection(levels: levels)
        try prefix.apply(contentsOf: stored.filter { $0.at <= instant })
        let asOf = try ProjectionRunner.fold(store: store, levels: levels, upTo: instant, logger: Logger(label: "test"))
        #expect(asOf.checkpoint() == prefix.checkpoint())
        store.close()
    }
}
