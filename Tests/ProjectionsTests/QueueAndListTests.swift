import EventLog
import SupportDomain
import Testing

@testable import Projections

/// SPEC §5 queues, agent queues, workloads and the ticket list.
@Suite("Queues, workloads and the ticket list")
struct QueueAndListTests {
    /// Every priority has a 1 h calendar first reply; only urgent tickets have a resolution target
    /// (2 h calendar), so tickets opened by an agent at normal or low priority have no next due.
    static let tiePolicy = """
        {"targets": {
          "urgent": {"firstReply": {"seconds": 3600, "clock": "calendar"}, "nextReply": {"seconds": 3600, "clock": "calendar"},
                     "resolution": {"seconds": 7200, "clock": "calendar"}},
          "normal": {"firstReply": {"seconds": 3600, "clock": "calendar"}, "resolution": null},
          "low": {"firstReply": {"seconds": 3600, "clock": "calendar"}, "resolution": null}}}
        """

    private func tieLog() -> TestLog {
        var log = TestLog()
        log.open("T-i", by: P.alice, at: "2026-03-02T06:00:00Z", priority: "low")  // no due, waiting 06:00
        log.open("T-f", by: P.alice, at: "2026-03-02T07:00:00Z", priority: "normal")  // no due, waiting 07:00
        log.open("T-e", by: P.alice, at: "2026-03-02T08:00:00Z", priority: "normal")  // no due, waiting 08:00
        log.open("T-h", at: "2026-03-02T08:00:00Z")  // resolution due 10:00
        log.open("T-p", at: "2026-03-02T08:00:00Z")
        log.message("T-p", by: P.alice, at: "2026-03-02T08:10:00Z")
        log.status("T-p", "pending", at: "2026-03-02T08:10:00Z")  // not awaiting an agent
        log.message("T-h", by: P.alice, at: "2026-03-02T08:30:00Z")  // waiting since 08:30
        log.open("T-c", at: "2026-03-02T08:30:00Z")  // first reply due 09:30
        log.open("T-d", at: "2026-03-02T09:00:00Z")  // due 10:00, waiting 09:00
        log.open("T-a", at: "2026-03-02T09:00:00Z")  // the same as T-d
        log.open("T-b", at: "2026-03-02T09:00:00Z", priority: "low")  // due 10:00, low
        return log
    }

    @Test func queueTiesAreBrokenByPriorityThenWaitingSinceThenIdByCodePoint() throws {
        let projection = try tieLog().projection(try P.levels(Self.tiePolicy))
        let at = P.t("2026-03-02T09:45:00Z")
        let queue = projection.teamQueue("hosting", at: at)
        #expect(queue.map(\.id) == ["T-c", "T-h", "T-a", "T-d", "T-b", "T-f", "T-e", "T-i"])
        #expect(queue.map(\.breached) == [true, false, false, false, false, false, false, false])
        let h = queue[1]
        #expect(h.waitingSince == P.t("2026-03-02T08:30:00Z") && h.status == .open && h.assignee == nil)
        #expect(h.nextDue == P.t("2026-03-02T10:00:00Z") && h.nextDueTarget == .resolution)
        #expect(h.subject == "Site down" && h.customer == "carol" && h.channel == .email && h.priority == .urgent)
        #expect(queue[0].nextDueTarget == .firstReply && queue[5].nextDue == nil && queue[5].nextDueTarget == nil)
        #expect(projection.teamQueue("hosting", at: at, limit: 3).map(\.id) == ["T-c", "T-h", "T-a"])
        #expect(projection.teamQueue("nobody", at: at).isEmpty)
        #expect(
            projection.queues(at: at) == [
                QueueSummary(team: "hosting", depth: 8, breached: 1, oldestWaitingSince: P.t("2026-03-02T06:00:00Z"))
            ])
    }

    @Test func anAgentQueueSpansTeamsAndTheQueuesFollowAssignmentsAndMoves() throws {
        var log = tieLog()
        log.assign("T-b", "alice", team: "domains", at: "2026-03-02T09:10:00Z")
        log.assign("T-c", "alice", at: "2026-03-02T09:10:00Z")
        log.assign("T-p", "alice", at: "2026-03-02T09:10:00Z")  // pending: not in her queue
        let projection = try log.projection(try P.levels(Self.tiePolicy))
        let at = P.t("2026-03-02T09:45:00Z")
        #expect(projection.agentQueue("alice", at: at).map(\.id) == ["T-c", "T-b"])
        #expect(projection.agentQueue("alice", at: at).map(\.assignee) == ["alice", "alice"])
        #expect(projection.agentQueue("bob", at: at).isEmpty)
        #expect(projection.teamQueue("hosting", at: at).map(\.id) == ["T-c", "T-h", "T-a", "T-d", "T-f", "T-e", "T-i"])
        #expect(projection.teamQueue("domains", at: at).map(\.id) == ["T-b"])
        #expect(projection.queues(at: at).map(\.team) == ["domains", "hosting"])
        #expect(projection.queues(at: at).map(\.depth) == [1, 7])
        #expect(projection.firstUnassignedTicket(inTeam: "hosting") == "T-h")
        let alice = try #require(projection.workloads(window: .unbounded).first)
        #expect(alice.agent == "alice" && alice.assigned == AssignedCounts(newOpen: 2, pending: 1, onHold: 0))

        // Replying moves T-c behind the others (its next due becomes the resolution, 10:30).
        log.message("T-c", by: P.alice, at: "2026-03-02T09:50:00Z")
        log.status("T-h", "solved", at: "2026-03-02T09:50:00Z")  // leaves the queue
        let later = try log.projection(try P.levels(Self.tiePolicy))
        #expect(later.teamQueue("hosting", at: P.t("2026-03-02T09:50:00Z")).map(\.id) == ["T-a", "T-d", "T-c", "T-f", "T-e", "T-i"])
        // A queue with no ticket awaiting an agent still lists its team while some ticket is in it.
        var emptied = TestLog()
        emptied.open("T-1", at: "2026-03-02T09:00:00Z")
        emptied.status("T-1", "solved", at: "2026-03-02T09:10:00Z")
        #expect(
            try emptied.projection(try P.levels()).queues(at: P.t("2026-03-02T10:00:00Z"))
                == [QueueSummary(team: "hosting", depth: 0, breached: 0, oldestWaitingSince: nil)])
    }

    @Test func workloadsCountAssignedTicketsByStatusAndFlagOverload() throws {
        let levels = try P.levels(#"{"capacity": 1}"#)
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.open("T-2", at: "2026-03-02T09:00:00Z")
        log.open("T-3", at: "2026-03-02T09:00:00Z")
        log.open("T-4", at: "2026-03-02T09:00:00Z")
        log.assign("T-1", "alice", at: "2026-03-02T09:01:00Z")
        log.assign("T-2", "alice", at: "2026-03-02T09:01:00Z")
        log.assign("T-3", "bob", at: "2026-03-02T09:01:00Z")
        log.status("T-3", "pending", by: P.bob, at: "2026-03-02T09:02:00Z")
        log.assign("T-4", "chloe", at: "2026-03-02T09:01:00Z")
        log.status("T-4", "on_hold", at: "2026-03-02T09:02:00Z")
        log.assign("T-4", nil, at: "2026-03-02T09:03:00Z")  // unassigned again
        log.add("T-4", "note.added", #"{"body":"x"}"#, by: SupportActor(kind: .agent, id: "dan"), at: "2026-03-02T09:04:00Z")
        let workloads = try log.projection(levels).workloads(window: .unbounded)
        #expect(workloads.map(\.agent) == ["alice", "bob", "chloe", "dan"])
        #expect(workloads.map(\.assigned) == [AssignedCounts(newOpen: 2), AssignedCounts(pending: 1), AssignedCounts(), AssignedCounts()])
        #expect(workloads.map(\.overloaded) == [true, false, false, false])
        #expect(workloads[0].satisfaction == RatingSummary(count: 0, mean: nil, csat: nil))
    }

    // MARK: Ticket list

    private func listLog() -> TestLog {
        var log = TestLog()
        log.open("T-1", at: "2026-03-02T09:00:00Z")
        log.open("T-2", by: P.dave, at: "2026-03-02T10:00:00Z", customer: "dave", product: "domains")
        log.open("T-3", at: "2026-03-02T10:00:00Z")
        log.open("T-10", at: "2026-03-02T10:00:00Z")
        log.open("T-0", at: "2026-03-02T08:00:00Z")  // appended last, opened first
        log.status("T-1", "solved", at: "2026-03-02T11:00:00Z")
        log.add("T-10", "ticket.escalated", #"{"team":"domains","reason":"dns"}"#, by: P.mona, at: "2026-03-02T11:00:00Z")
        log.assign("T-3", "alice", at: "2026-03-02T11:00:00Z")
        log.add("T-0", "tags.changed", #"{"added":["vip","b","a","Z","é"]}"#, by: P.alice, at: "2026-03-02T11:00:00Z")
        log.add("T-0", "tags.changed", #"{"removed":["b"]}"#, by: P.alice, at: "2026-03-02T11:01:00Z")
        return log
    }

    @Test func theTicketListIsOrderedByOpeningDescendingThenIdDescendingAndPages() throws {
        let projection = try listLog().projection(try P.levels())
        let at = P.t("2026-03-02T12:00:00Z")
        let all = try projection.tickets(matching: TicketFilter(), at: at, limit: 100)
        #expect(all.tickets.map(\.id) == ["T-3", "T-2", "T-10", "T-1", "T-0"])
        #expect(all.next == nil)
        let first = try projection.tickets(matching: TicketFilter(), at: at, limit: 2)
        #expect(first.tickets.map(\.id) == ["T-3", "T-2"] && first.next == "T-2")
        let second = try projection.tickets(matching: TicketFilter(), at: at, limit: 2, after: "T-2")
        #expect(second.tickets.map(\.id) == ["T-10", "T-1"] && second.next == "T-1")
        let third = try projection.tickets(matching: TicketFilter(), at: at, limit: 2, after: "T-1")
        #expect(third.tickets.map(\.id) == ["T-0"] && third.next == nil)
        let exact = try projection.tickets(matching: TicketFilter(), at: at, limit: 5)
        #expect(exact.next == nil)
    }

    @Test func theTicketListFiltersByStatusTeamAssigneeCustomerAndTag() throws {
        let projection = try listLog().projection(try P.levels())
        let at = P.t("2026-03-02T12:00:00Z")
        func ids(_ filter: TicketFilter, limit: Int = 100, after: String? = nil) throws -> [String] {
            try projection.tickets(matching: filter, at: at, limit: limit, after: after).tickets.map(\.id)
        }
        #expect(try ids(TicketFilter(status: .solved)) == ["T-1"])
        #expect(try ids(TicketFilter(status: .new)) == ["T-3", "T-2", "T-10", "T-0"])
        #expect(try ids(TicketFilter(team: "domains")) == ["T-2", "T-10"])
        #expect(try ids(TicketFilter(assignee: "alice")) == ["T-3"])
        #expect(try ids(TicketFilter(customer: "carol")) == ["T-3", "T-10", "T-1", "T-0"])
        #expect(try ids(TicketFilter(customer: "carol"), limit: 2, after: "T-10") == ["T-1", "T-0"])
        #expect(try projection.tickets(matching: TicketFilter(customer: "carol"), at: at, limit: 2).next == "T-10")
        #expect(try ids(TicketFilter(status: .new, customer: "carol")) == ["T-3", "T-10", "T-0"])
        #expect(try ids(TicketFilter(tag: "vip")) == ["T-0"])
        #expect(try ids(TicketFilter(tag: "b")).isEmpty)
        #expect(try ids(TicketFilter(customer: "nobody")).isEmpty)
        #expect(try ids(TicketFilter(team: "nowhere", customer: "carol")).isEmpty)
        // `after` must be in the filtered list.
        for (filter, after) in [(TicketFilter(customer: "carol"), "T-2"), (TicketFilter(), "T-404"), (TicketFilter(tag: "vip"), "T-1")] {
            #expect(throws: DomainError.self) { try projection.tickets(matching: filter, at: at, limit: 10, after: after) }
        }
        #expect(throws: DomainError.self) { try projection.tickets(matching: TicketFilter(), at: at, limit: 0) }
        let tagged = try #require(projection.ticket("T-0", at: at))
        #expect(tagged.tags == ["Z", "a", "vip", "é"])
        #expect(tagged.openedBy == P.carol && tagged.version == 3 && tagged.product == "hosting" && tagged.context == nil)
        #expect(projection.ticket("T-10", at: at)?.team == "domains")
        #expect(projection.ticket("T-404", at: at) == nil)
    }

    @Test func identifiersCompareByCodePointWithoutNormalisation() throws {
        // "é" precomposed and decomposed are two different tickets, customers and teams.
        let precomposed = "caf\u{E9}", decomposed = "cafe\u{301}"
        var log = TestLog()
        log.open(precomposed, at: "2026-03-02T09:00:00Z", customer: precomposed, product: precomposed)
        log.open(decomposed, at: "2026-03-02T09:00:00Z", customer: decomposed, product: decomposed)
        let projection = try log.projection(try P.levels())
        let at = P.t("2026-03-02T09:30:00Z")
        #expect(projection.ticketCount == 2)
        // Code point order: "cafe\u{301}" < "caf\u{E9}" ('e' 0x65 < 'é' 0xE9).
        #expect(
            projection.queues(at: at).map { Array($0.team.unicodeScalars) }
                == [Array(decomposed.unicodeScalars), Array(precomposed.unicodeScalars)])
        let list = try projection.tickets(matching: TicketFilter(customer: decomposed), at: at, limit: 10)
        #expect(list.tickets.map { Array($0.id.unicodeScalars) } == [Array(decomposed.unicodeScalars)])
    }
}
