import EventLog
import Testing
@testable import DemoWorkload

@Suite("Demo workload")
struct DemoWorkloadTests {
    @Test("The same seed gives the same events, another seed other events")
    func reproducible() {
        let small = DemoWorkload.Configuration(seed: 42, tickets: 300)
        let first = Array(DemoWorkload(small))
        let second = Array(DemoWorkload(small))
        #expect(!first.isEmpty)
        #expect(first == second)
        var other = small
        other.seed = 43
        #expect(Array(DemoWorkload(other)) != first)
    }

    @Test("Every event is valid under the rules, in the order given", arguments: [UInt64(1), 2024])
    func followsTheRules(seed: UInt64) {
        var checker = RuleChecker()
        for event in DemoWorkload(.init(seed: seed, tickets: 3000)).prefix(20_000) {
            checker.check(event)
        }
        #expect(checker.count == 20_000)
        #expect(checker.problems.isEmpty, "\(checker.problems.joined(separator: "\n"))")
    }

    @Test("A default run has a realistic mix")
    func realisticMix() {
        var checker = RuleChecker()
        var types: [String: Int] = [:]
        var channels: Set<String> = []
        var priorities: Set<String> = []
        var actorKinds: Set<String> = []
        var unassigned = 0, movedTeams = 0, contexts = 0, attachments = 0, cyrillic = 0, explicitReplies = 0
        var revisedRatings = 0
        var ratedReplies: Set<String> = []
        for event in DemoWorkload() {
            checker.check(event)
            types[event.type, default: 0] += 1
            actorKinds.insert(event.actor.kind)
            let data = event.data
            switch event.type {
            case "ticket.opened":
                channels.insert(data["channel"]?.stringValue ?? "")
                priorities.insert(data["priority"]?.stringValue ?? "")
                if data["context"] != nil { contexts += 1 }
                if data["subject"]?.stringValue?.unicodeScalars.contains(where: { (0x400...0x4FF).contains($0.value) }) == true {
                    cyrillic += 1
                }
            case "ticket.assigned":
                if data["agent"]?.isNull == true { unassigned += 1 }
                if data["team"] != nil { movedTeams += 1 }
            case "satisfaction.rated":
                if data["reply"] != nil { explicitReplies += 1 }
                let key = "\(event.ticket)#\(data["reply"]?.intValue ?? 0)"
                if let reply = data["reply"]?.intValue, !ratedReplies.insert("\(event.ticket)#\(reply)").inserted {
                    revisedRatings += 1
                }
                _ = key
            default: break
            }
            if data["attachments"] != nil { attachments += 1 }
        }
        #expect(checker.problems.isEmpty, "\(checker.problems.joined(separator: "\n"))")
        let allTypes: Set<String> = ["ticket.opened", "message.posted", "note.added", "ticket.assigned", "priority.changed",
                                     "status.changed", "ticket.escalated", "tags.changed", "ticket.merged",
                                     "satisfaction.rated"]
        #expect(Set(types.keys) == allTypes)
        #expect(types["ticket.opened"] == 1500)
        #expect(channels == RuleChecker.channels)
        #expect(priorities == RuleChecker.priorities)
        #expect(actorKinds == RuleChecker.actorKinds)
        let finals = checker.finalStatuses
        for status in ["new", "open", "pending", "solved", "closed"] {
            #expect(finals[status, default: 0] > 0, "no ticket ends \(status): \(finals)")
        }
        #expect(unassigned > 0)
        #expect(movedTeams > 0)
        #expect(contexts > 0)
        #expect(attachments > 0)
        #expect(cyrillic > 0)
        #expect(explicitReplies > 0)
        #expect(revisedRatings > 0)
        print("events \(checker.count) types \(types.sorted { $0.key < $1.key }) finals \(finals)")
    }
}
