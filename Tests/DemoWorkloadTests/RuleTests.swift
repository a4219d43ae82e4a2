import EventLog
import Testing

@testable import DemoWorkload

@Suite("Demo workload: rules")
struct RuleTests {
    @Test("Every event is valid under the rules, in the order given", arguments: [UInt64(1), 2024])
    func followsTheRules(seed: UInt64) {
        var checker = RuleChecker()
        for event in DemoWorkload(.init(seed: seed, tickets: 3000)).prefix(20_000) {
            checker.check(event)
        }
        #expect(checker.count == 20_000)
        #expect(checker.problems.isEmpty, "\(checker.problems.joined(separator: "\n"))")
    }

    @Test(
        "Odd configurations stay valid",
        arguments: [
            DemoWorkload.Configuration(seed: 5, tickets: 2000, days: 2, agents: 1, customers: 1),
            DemoWorkload.Configuration(seed: 6, tickets: 1500, days: 1, agents: 3, customers: 40),
            DemoWorkload.Configuration(seed: 7, tickets: 800, days: 60, agents: 40, customers: 5000),
        ])
    func oddConfigurations(configuration: DemoWorkload.Configuration) {
        var checker = RuleChecker()
        var opened = 0
        for event in DemoWorkload(configuration) {
            checker.check(event)
            if event.type == "ticket.opened" { opened += 1 }
        }
        #expect(opened == configuration.tickets)
        #expect(checker.problems.isEmpty, "\(checker.problems.joined(separator: "\n"))")
    }

    @Test("No tickets, no events")
    func empty() {
        #expect(Array(DemoWorkload(.init(tickets: 0))).isEmpty)
    }

    @Test("The checker itself catches broken sequences")
    func checkerCatchesViolations() {
        let customer = EventActor(kind: "customer", id: "c-1")
        let agent = EventActor(kind: "agent", id: "amelie")
        func event(
            _ ticket: String, _ type: String, _ at: Int64, _ actor: EventActor,
            _ data: [String: JSONValue]
        ) -> DemoEvent {
            DemoEvent(ticket: ticket, type: type, at: Timestamp(milliseconds: at), actor: actor, data: .object(data))
        }
        let opening: [String: JSONValue] = [
            "customer": .string("c-1"), "subject": .string("s"), "body": .string("b"), "channel": .string("email"),
            "product": .string("vps"), "priority": .string("normal"),
        ]
        let broken: [[DemoEvent]] = [
            [
                event("T-1", "ticket.opened", 0, customer, opening),
                event("T-1", "satisfaction.rated", 1, customer, ["score": .int(5)]),
            ],
            [
                event("T-1", "ticket.opened", 0, customer, opening),
                event("T-1", "status.changed", 1, agent, ["status": .string("open")]),
                event("T-1", "status.changed", 2, agent, ["status": .string("open")]),
            ],
            [
                event("T-1", "ticket.opened", 0, customer, opening),
                event("T-1", "status.changed", 1, agent, ["status": .string("closed")]),
                event("T-1", "note.added", 2, agent, ["body": .string("late")]),
            ],
            [
                event("T-1", "ticket.opened", 0, customer, opening),
                event("T-2", "ticket.opened", 1, customer, opening),
                event("T-1", "ticket.merged", 2, agent, ["into": .string("T-2")]),
                event("T-2", "ticket.merged", 3, agent, ["into": .string("T-1")]),
            ],
            [
                event("T-1", "ticket.opened", 5, customer, opening),
                event("T-1", "note.added", 4, agent, ["body": .string("back in time")]),
            ],
            [
                event("T-1", "ticket.opened", 0, customer, opening),
                event("T-1", "message.posted", 1, EventActor(kind: "customer", id: "c-2"), ["body": .string("hi")]),
            ],
            [
                event("T-1", "ticket.opened", 0, customer, opening),
                event("T-1", "tags.changed", 1, agent, ["added": .array([.string("x")]), "removed": .array([.string("x")])]),
            ],
            [
                event("T-1", "ticket.opened", 0, customer, opening),
                event("T-1", "message.posted", 1, agent, ["body": .string("hi")]),
                event("T-1", "satisfaction.rated", 2, customer, ["score": .int(4), "reply": .int(1)]),
            ],
        ]
        for sequence in broken {
            var checker = RuleChecker()
            for event in sequence { checker.check(event) }
            #expect(!checker.problems.isEmpty, "accepted: \(sequence.map(\.type))")
        }
    }
}
