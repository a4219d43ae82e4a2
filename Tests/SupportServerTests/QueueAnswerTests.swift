import EventLog
import Foundation
import Hummingbird
import SupportDomain
import SupportService
import Testing

@testable import Projections
@testable import SupportServer

@Suite("Queue answers written straight to bytes")
struct QueueAnswerTests {
    func entry(_ n: Int) -> QueueEntry {
        let names = ["T-\(n)", "é\u{301}-\(n)", "quote\"back\\slash\n\(n)", "😀\u{FB33}\(n)", "\u{1}ctl"]
        return QueueEntry(
            id: names[n % names.count], subject: "Sujet n°\(n) « urgent » \t", customer: "c-\(n)",
            priority: Priority.allCases[n % 4], status: n % 2 == 0 ? .new : .open,
            assignee: n % 3 == 0 ? nil : "agent-\(n % 5)", channel: Channel.allCases[n % 5],
            waitingSince: n % 7 == 0 ? nil : Timestamp(milliseconds: 1_772_000_000_000 + Int64(n) * 1_234),
            nextDue: n % 4 == 0 ? nil : Timestamp(milliseconds: 1_772_100_000_000 - Int64(n) * 999),
            nextDueTarget: n % 4 == 0 ? nil : SLAMetric.allCases[n % 3], breached: n % 5 == 0)
    }

    /// An entry as a JSON value, written independently of the direct writer: the oracle.
    func referenceEntry(_ e: QueueEntry) -> JSONValue {
        func text(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            "id": .string(e.id), "subject": .string(e.subject), "customer": .string(e.customer),
            "priority": .string(e.priority.rawValue), "status": .string(e.status.rawValue), "assignee": text(e.assignee),
            "channel": .string(e.channel.rawValue), "waitingSince": text(e.waitingSince?.rfc3339), "nextDue": text(e.nextDue?.rfc3339),
            "nextDueTarget": text(e.nextDueTarget?.rawValue), "breached": .bool(e.breached),
        ])
    }

    @Test(arguments: [0, 1, 7, 50])
    func theDirectWriterGivesTheCanonicalBytes(count: Int) async throws {
        let entries = (0..<count).map(entry)
        let at = Timestamp(milliseconds: 1_772_345_678_901)
        for owner in [("team", "hosting"), ("agent", "léa\"x")] {
            let collected = QueueAnswer.body(owner: owner, entries: entries, at: at)
            let reference = CanonicalJSON.encode(
                .object([
                    owner.0: .string(owner.1), "evaluatedAt": .string(at.rfc3339), "entries": .array(entries.map(referenceEntry)),
                ]))
            #expect(collected == reference)
            #expect((try? JSONParser.parse(collected)) != nil)
        }
    }
}
