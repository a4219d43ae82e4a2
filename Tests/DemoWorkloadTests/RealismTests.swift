import EventLog
import Testing

@testable import DemoWorkload

@Suite("Demo workload: realism")
struct RealismTests {
    @Test("A default run has every kind of event, channel, priority, actor and final status")
    func realisticMix() {
        var checker = RuleChecker()
        var types: [String: Int] = [:]
        var channels: Set<String> = []
        var priorities: Set<String> = []
        var actorKinds: Set<String> = []
        var unassignments = 0, teamMoves = 0, contexts = 0, attachments = 0, cyrillic = 0, explicitReplies = 0
        var revisions = 0
        var ratedReplies: Set<String> = []
        for event in DemoWorkload() {
            checker.check(event)
            types[event.type, default: 0] += 1
            actorKinds.insert(event.actor.kind)
            let data = event.data
            if data["attachments"] != nil { attachments += 1 }
            switch event.type {
            case "ticket.opened":
                channels.insert(data["channel"]?.stringValue ?? "")
                priorities.insert(data["priority"]?.stringValue ?? "")
                if data["context"] != nil { contexts += 1 }
                let subject = data["subject"]?.stringValue ?? ""
                if subject.unicodeScalars.contains(where: { (0x400...0x4FF).contains($0.value) }) { cyrillic += 1 }
            case "ticket.assigned":
                if data["agent"]?.isNull == true { unassignments += 1 }
                if data["team"] != nil { teamMoves += 1 }
            case "satisfaction.rated":
                if let reply = data["reply"]?.intValue {
                    explicitReplies += 1
                    if !ratedReplies.insert("\(event.ticket)#\(reply)").inserted { revisions += 1 }
                }
            default:
                break
            }
        }
        #expect(checker.problems.isEmpty, "\(checker.problems.joined(separator: "\n"))")
        let allTypes: Set<String> = [
            "ticket.opened", "message.posted", "note.added", "ticket.assigned",
            "priority.changed", "status.changed", "ticket.escalated", "tags.changed",
            "ticket.merged", "satisfaction.rated",
        ]
        #expect(Set(types.keys) == allTypes)
        #expect(types["ticket.opened"] == 1500)
        #expect(checker.count > 10_000)
        #expect(channels == RuleChecker.channels)
        #expect(priorities == RuleChecker.priorities)
        #expect(actorKinds == RuleChecker.actorKinds)
        let finals = checker.finalStatuses
        for status in ["new", "open", "pending", "solved", "closed"] {
            #expect(finals[status, default: 0] > 0, "no ticket ends \(status): \(finals)")
        }
        #expect(unassignments > 0 && teamMoves > 0 && contexts > 0 && attachments > 0)
        #expect(cyrillic > 0 && explicitReplies > 0 && revisions > 0)
    }

    @Test("Tickets arrive mostly on weekdays in the day; agents answer in business hours unless urgent")
    func rhythm() {
        var arrivals = 0, daytimeWeekdayArrivals = 0
        var replies = 0, repliesOutOfHours = 0
        var urgent: Set<String> = []
        for event in DemoWorkload() {
            let local = DeskClock.paris.local(event.at.milliseconds)
            if event.type == "ticket.opened" {
                arrivals += 1
                let hour = local.millisOfDay / Millis.hour
                if local.weekday < 5, (8..<19).contains(hour) { daytimeWeekdayArrivals += 1 }
                if event.data["priority"]?.stringValue == "urgent" { urgent.insert(event.ticket) }
            }
            if event.type == "priority.changed", event.data["priority"]?.stringValue == "urgent" {
                urgent.insert(event.ticket)
            }
            if event.type == "message.posted", event.actor.kind == "agent", !urgent.contains(event.ticket) {
                replies += 1
                if !DeskClock.paris.isOpen(at: event.at.milliseconds) { repliesOutOfHours += 1 }
            }
        }
        #expect(daytimeWeekdayArrivals * 100 > arrivals * 60, "\(daytimeWeekdayArrivals) of \(arrivals)")
        #expect(repliesOutOfHours * 100 < replies * 2, "\(repliesOutOfHours) of \(replies)")
    }

    @Test("Paris time follows the EU summer-time switches of 2026")
    func parisTime() throws {
        func instant(_ text: String) throws -> Int64 { try #require(Timestamp(rfc3339: text)).milliseconds }
        #expect(DeskClock.paris.utcOffset(at: try instant("2026-03-29T00:59:59.999Z")) == Millis.hour)
        #expect(DeskClock.paris.utcOffset(at: try instant("2026-03-29T01:00:00Z")) == 2 * Millis.hour)
        #expect(DeskClock.paris.utcOffset(at: try instant("2026-10-25T00:59:59.999Z")) == 2 * Millis.hour)
        #expect(DeskClock.paris.utcOffset(at: try instant("2026-10-25T01:00:00Z")) == Millis.hour)
        let monday = DeskClock.paris.local(try instant("2026-03-30T06:30:00Z"))
        #expect(monday.weekday == 0 && monday.millisOfDay == 8 * Millis.hour + 30 * Millis.minute)
        #expect(DeskClock.paris.instant(day: monday.day, millisOfDay: 8 * Millis.hour) == (try instant("2026-03-30T06:00:00Z")))
        // Friday 18:00 CET + 3 business hours: 1 h on Friday, 2 h on Saturday from 09:00.
        let friday = try instant("2026-03-20T17:00:00Z")
        #expect(DeskClock.paris.adding(3 * Millis.hour, to: friday) == (try instant("2026-03-21T10:00:00Z")))
        // Saturday 16:00 CET + 2 business hours: 1 h on Saturday, then Monday 09:00 CEST.
        let saturday = try instant("2026-03-28T15:00:00Z")
        #expect(DeskClock.paris.adding(2 * Millis.hour, to: saturday) == (try instant("2026-03-30T07:00:00Z")))
        // A count that ends exactly at a closing carries over to the next opening; from outside
        // opening hours even nothing counts from the next opening.
        #expect(DeskClock.paris.adding(Millis.hour, to: friday) == (try instant("2026-03-21T08:00:00Z")))
        #expect(DeskClock.paris.adding(0, to: try instant("2026-03-22T11:00:00Z")) == (try instant("2026-03-23T07:00:00Z")))
        #expect(DeskClock.paris.isOpen(at: try instant("2026-03-23T07:00:00Z")))
        #expect(!DeskClock.paris.isOpen(at: try instant("2026-03-23T17:59:59.999Z") + 1))
    }
}
