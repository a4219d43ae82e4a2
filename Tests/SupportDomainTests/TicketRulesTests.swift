import EventLog
import Testing

@testable import SupportDomain

/// SPEC §2.2 rules column and the paragraphs after the table: what a ticket accepts (409 otherwise).
@Suite("Ticket rules")
struct TicketRulesTests {
    typealias F = TicketFixture

    private func decide(
        _ event: TicketEvent, by actor: SupportActor, on ticket: Ticket, at: String,
        status: TicketStatus? = nil
    ) throws -> [TicketEvent] {
        try TicketRules.decide(TicketCommand(event: event, actor: actor, status: status), on: ticket, at: try F.instant(at))
    }

    private func refusal(
        _ event: TicketEvent, by actor: SupportActor, on ticket: Ticket, at: String,
        status: TicketStatus? = nil
    ) throws -> DomainError.Kind? {
        let instant = try F.instant(at)
        let command = TicketCommand(event: event, actor: actor, status: status)
        return F.refusalKind { try TicketRules.decide(command, on: ticket, at: instant) }
    }

    /// carol's urgent ticket opened 09:00Z, answered by alice at 09:10Z (version 2), then `more`.
    private func answeredTicket(_ more: (inout TicketTestLog) throws -> Void = { _ in }) throws -> Ticket {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try more(&log)
        return try log.ticket()
    }

    // MARK: Closed tickets

    @Test func afterClosedOnlyARatingIsAccepted() throws {
        let closed = try answeredTicket {
            try $0.append("status.changed", #"{"status":"closed"}"#, by: F.alice, at: "2026-03-02T10:00:00Z")
        }
        #expect(closed.status == .closed)
        let staff: [(TicketEvent, SupportActor)] = [
            (.messagePosted(.init(body: "b")), F.alice),
            (.messagePosted(.init(body: "b")), F.carol),
            (.noteAdded(.init(body: "n")), F.alice),
            (.assigned(.init(agent: "bob")), F.mona),
            (.priorityChanged(.low), F.alice),
            (.statusChanged(.open), F.alice),
            (.statusChanged(.solved), F.mona),
            (.escalated(.init(team: "t", reason: "r")), F.alice),
            (.tagsChanged(.init(added: ["x"])), F.robot),
            (.merged(into: "T-2"), F.root),
        ]
        for (event, actor) in staff {
            #expect(try refusal(event, by: actor, on: closed, at: "2026-03-02T11:00:00Z") == .conflict, "\(event.kind)")
        }
        let rating = TicketEvent.satisfactionRated(.init(score: 5))
        #expect(try decide(rating, by: F.carol, on: closed, at: "2026-03-02T11:00:00Z") == [rating])
    }

    @Test func aMergedTicketIsClosedAndAcceptsOnlyRatings() throws {
        let merged = try answeredTicket { try $0.append("ticket.merged", #"{"into":"T-2"}"#, by: F.alice, at: "2026-03-02T10:00:00Z") }
        #expect(try refusal(.messagePosted(.init(body: "b")), by: F.carol, on: merged, at: "2026-03-02T11:00:00Z") == .conflict)
        #expect(try refusal(.statusChanged(.open), by: F.alice, on: merged, at: "2026-03-02T11:00:00Z") == .conflict)
        let rating = TicketEvent.satisfactionRated(.init(score: 2, reply: 2))
        #expect(try decide(rating, by: F.carol, on: merged, at: "2026-03-02T11:00:00Z") == [rating])
    }

    @Test func aSolvedTicketStillAcceptsCommands() throws {
        let solved = try answeredTicket {
            try $0.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T10:00:00Z")
        }
        #expect(try decide(.messagePosted(.init(body: "b")), by: F.carol, on: solved, at: "2026-03-02T11:00:00Z").count == 1)
        #expect(try decide(.statusChanged(.closed), by: F.alice, on: solved, at: "2026-03-02T11:00:00Z") == [.statusChanged(.closed)])
    }

    // MARK: Status changes

    @Test func aStatusChangeToTheCurrentStatusIsAConflict() throws {
        let new = try TicketTestLog.opened().ticket()
        #expect(new.status == .new)
        // `new` itself can never be asked for; from new to open is a change.
        #expect(try decide(.statusChanged(.open), by: F.alice, on: new, at: "2026-03-02T10:00:00Z") == [.statusChanged(.open)])

        let sequence: [TicketStatus] = [.open, .pending, .onHold, .solved]
        for status in sequence {
            let ticket = try answeredTicket {
                if status != .open {
                    try $0.append("status.changed", #"{"status":"\#(status.rawValue)"}"#, by: F.alice, at: "2026-03-02T09:20:00Z")
                }
            }
            #expect(ticket.status == status)
            #expect(
                try refusal(.statusChanged(status), by: F.mona, on: ticket, at: "2026-03-02T10:00:00Z") == .conflict,
                "\(status)")
            for other in sequence where other != status {
                #expect(
                    try refusal(.statusChanged(other), by: F.mona, on: ticket, at: "2026-03-02T10:00:00Z") == nil,
                    "\(status) → \(other)")
            }
            #expect(try refusal(.statusChanged(.closed), by: F.robot, on: ticket, at: "2026-03-02T10:00:00Z") == nil)
        }
    }

    // MARK: Merges

    @Test func mergingIntoItselfIsAConflict() throws {
        let ticket = try answeredTicket()
        #expect(try refusal(.merged(into: "T-1"), by: F.alice, on: ticket, at: "2026-03-02T10:00:00Z") == .conflict)
        #expect(try decide(.merged(into: "T-2"), by: F.alice, on: ticket, at: "2026-03-02T10:00:00Z") == [.merged(into: "T-2")])
    }

    @Test func theMergeTargetMustExistBeOpenAndOpenedAtOrBeforeTheMerge() throws {
        let at = try F.instant("2026-03-02T10:00:00Z")
        #expect(F.refusalKind { try TicketRules.checkMergeTarget(nil, into: "T-404", at: at) } == .conflict)

        let target = try TicketTestLog.opened("T-2", at: "2026-03-02T09:30:00Z").ticket()
        #expect(F.refusalKind { try TicketRules.checkMergeTarget(target, into: "T-2", at: at) } == nil)

        let sameInstant = try TicketTestLog.opened("T-2", at: "2026-03-02T10:00:00Z").ticket()
        #expect(F.refusalKind { try TicketRules.checkMergeTarget(sameInstant, into: "T-2", at: at) } == nil)

        let later = try TicketTestLog.opened("T-2", at: "2026-03-02T10:00:00.001Z").ticket()
        #expect(F.refusalKind { try TicketRules.checkMergeTarget(later, into: "T-2", at: at) } == .conflict)

        var closedLog = try TicketTestLog.opened("T-2", at: "2026-03-02T09:00:00Z")
        try closedLog.append("status.changed", #"{"status":"closed"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        #expect(F.refusalKind { try TicketRules.checkMergeTarget(try closedLog.ticket(), into: "T-2", at: at) } == .conflict)

        var mergedLog = try TicketTestLog.opened("T-2", at: "2026-03-02T09:00:00Z")
        try mergedLog.append("ticket.merged", #"{"into":"T-3"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        #expect(F.refusalKind { try TicketRules.checkMergeTarget(try mergedLog.ticket(), into: "T-2", at: at) } == .conflict)

        // Only `closed` is refused: solved, pending and on_hold targets are fine.
        for status in ["solved", "pending", "on_hold"] {
            var log = try TicketTestLog.opened("T-2", at: "2026-03-02T09:00:00Z")
            try log.append("status.changed", #"{"status":"\#(status)"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
            #expect(F.refusalKind { try TicketRules.checkMergeTarget(try log.ticket(), into: "T-2", at: at) } == nil, "\(status)")
        }
    }

    // MARK: Ratings

    @Test func ratingWithoutAnyAgentMessageIsAConflict() throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"anyone?"}"#, by: F.carol, at: "2026-03-02T09:05:00Z")
        try log.append("note.added", #"{"body":"looking"}"#, by: F.alice, at: "2026-03-02T09:06:00Z")
        try log.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T09:07:00Z")
        let ticket = try log.ticket()
        #expect(try refusal(.satisfactionRated(.init(score: 3)), by: F.carol, on: ticket, at: "2026-03-02T10:00:00Z") == .conflict)
    }

    @Test func anAgentOpeningIsNotARateableReply() throws {
        var log = TicketTestLog("T-1")
        try log.append("ticket.opened", F.openingData(), by: F.alice, at: "2026-03-02T09:00:00Z")
        let ticket = try log.ticket()
        #expect(try refusal(.satisfactionRated(.init(score: 3)), by: F.carol, on: ticket, at: "2026-03-02T10:00:00Z") == .conflict)
        #expect(
            try refusal(.satisfactionRated(.init(score: 3, reply: 1)), by: F.carol, on: ticket, at: "2026-03-02T10:00:00Z")
                == .conflict)
    }

    @Test func ratingMustPointAtAnEarlierAgentMessage() throws {
        // v1 opening (carol), v2 agent message, v3 customer message, v4 note, v5 agent message.
        let ticket = try answeredTicket {
            try $0.append("message.posted", #"{"body":"thanks"}"#, by: F.carol, at: "2026-03-02T09:20:00Z")
            try $0.append("note.added", #"{"body":"internal"}"#, by: F.alice, at: "2026-03-02T09:21:00Z")
            try $0.append("message.posted", #"{"body":"done"}"#, by: F.bob, at: "2026-03-02T09:22:00Z")
        }
        #expect(ticket.agentMessageVersions == [2, 5])
        for reply: UInt64 in [1, 3, 4, 6, 99] {
            #expect(
                try refusal(.satisfactionRated(.init(score: 4, reply: reply)), by: F.carol, on: ticket, at: "2026-03-02T10:00:00Z")
                    == .conflict, "reply \(reply)")
        }
        for reply: UInt64 in [2, 5] {
            let rating = TicketEvent.satisfactionRated(.init(score: 4, reply: reply))
            #expect(try decide(rating, by: F.carol, on: ticket, at: "2026-03-02T10:00:00Z") == [rating])
        }
        // Without `reply` the latest is meant; the stored data stays without it.
        let latest = TicketEvent.satisfactionRated(.init(score: 4))
        let decided = try decide(latest, by: F.carol, on: ticket, at: "2026-03-02T10:00:00Z")
        #expect(decided == [latest])
        #expect(decided.first?.data["reply"] == nil)
    }

    @Test func reRatingTheSameReplyIsAccepted() throws {
        let ticket = try answeredTicket {
            try $0.append("satisfaction.rated", #"{"score":2,"reply":2}"#, by: F.carol, at: "2026-03-02T09:30:00Z")
        }
        let rating = TicketEvent.satisfactionRated(.init(score: 5, reply: 2))
        #expect(try decide(rating, by: F.carol, on: ticket, at: "2026-03-02T10:00:00Z") == [rating])
    }

    // MARK: Time

    @Test func atEarlierThanTheTicketsLastEventIsAConflict() throws {
        let ticket = try answeredTicket()
        #expect(ticket.lastAt == (try F.instant("2026-03-02T09:10:00Z")))
        #expect(try refusal(.noteAdded(.init(body: "n")), by: F.alice, on: ticket, at: "2026-03-02T09:09:59.999Z") == .conflict)
        #expect(try refusal(.noteAdded(.init(body: "n")), by: F.root, on: ticket, at: "2026-03-01T00:00:00Z") == .conflict)
        // Equal is allowed.
        #expect(try refusal(.noteAdded(.init(body: "n")), by: F.alice, on: ticket, at: "2026-03-02T09:10:00Z") == nil)
    }

    // MARK: Messages with a status

    @Test func anAgentMessageWithPendingAppendsTheMessageThenTheStatus() throws {
        let ticket = try answeredTicket()
        let message = TicketEvent.messagePosted(.init(body: "please confirm"))
        #expect(
            try decide(message, by: F.alice, on: ticket, at: "2026-03-02T10:00:00Z", status: .pending)
                == [message, .statusChanged(.pending)])
        let fresh = try TicketTestLog.opened().ticket()
        #expect(
            try decide(message, by: F.alice, on: fresh, at: "2026-03-02T10:00:00Z", status: .solved)
                == [message, .statusChanged(.solved)])
    }

    @Test func anAgentMessageWithOpenOnANewTicketIsOnlyTheMessage() throws {
        let fresh = try TicketTestLog.opened().ticket()
        #expect(fresh.status == .new)
        let message = TicketEvent.messagePosted(.init(body: "hi"))
        #expect(try decide(message, by: F.alice, on: fresh, at: "2026-03-02T10:00:00Z", status: .open) == [message])
    }

    @Test func anAgentMessageAskingForTheStatusTheTicketAlreadyHasIsOnlyTheMessage() throws {
        let pending = try answeredTicket {
            try $0.append("status.changed", #"{"status":"pending"}"#, by: F.alice, at: "2026-03-02T09:20:00Z")
        }
        let message = TicketEvent.messagePosted(.init(body: "still waiting"))
        #expect(try decide(message, by: F.alice, on: pending, at: "2026-03-02T10:00:00Z", status: .pending) == [message])
        // An agent message does not reopen a pending ticket, so asking for open appends a status change.
        #expect(
            try decide(message, by: F.alice, on: pending, at: "2026-03-02T10:00:00Z", status: .open)
                == [message, .statusChanged(.open)])
    }

    @Test func aMessageWithoutStatusIsOnlyTheMessage() throws {
        let pending = try answeredTicket {
            try $0.append("status.changed", #"{"status":"pending"}"#, by: F.alice, at: "2026-03-02T09:20:00Z")
        }
        let message = TicketEvent.messagePosted(.init(body: "here you go"))
        // A customer message reopens the ticket by itself (through the fold), not through a second event.
        #expect(try decide(message, by: F.carol, on: pending, at: "2026-03-02T10:00:00Z") == [message])
        #expect(try decide(message, by: F.alice, on: pending, at: "2026-03-02T10:00:00Z") == [message])
    }

    // MARK: Commands that change nothing

    @Test func commandsThatChangeNothingAreAccepted() throws {
        let ticket = try answeredTicket {
            try $0.append("ticket.assigned", #"{"agent":"alice","team":"dns"}"#, by: F.mona, at: "2026-03-02T09:20:00Z")
            try $0.append("tags.changed", #"{"added":["vip"]}"#, by: F.alice, at: "2026-03-02T09:21:00Z")
        }
        #expect(ticket.priority == .urgent && ticket.assignee == "alice" && ticket.team == "dns" && ticket.tags == ["vip"])
        let same: [TicketEvent] = [
            .priorityChanged(.urgent),
            .assigned(.init(agent: "alice")),
            .assigned(.init(agent: "alice", team: "dns")),
            .escalated(.init(team: "dns", reason: "again")),
            .tagsChanged(.init(added: ["vip"])),
            .tagsChanged(.init(removed: ["not-there"])),
            .tagsChanged(.init()),
        ]
        for event in same {
            #expect(try decide(event, by: F.alice, on: ticket, at: "2026-03-02T10:00:00Z") == [event], "\(event)")
        }
        let unassigned = try TicketTestLog.opened().ticket()
        #expect(
            try decide(.assigned(.init(agent: nil)), by: F.mona, on: unassigned, at: "2026-03-02T10:00:00Z")
                == [.assigned(.init(agent: nil))])
    }

    // MARK: Opening

    @Test func openingAnExistingTicketIsAConflict() throws {
        let ticket = try answeredTicket()
        #expect(
            try refusal(TicketAuthorizationTests.sample(.opened), by: F.alice, on: ticket, at: "2026-03-02T10:00:00Z")
                == .conflict)
    }

    @Test func aTicketsFirstEventMustBeAnOpening() throws {
        let command = TicketCommand(event: .noteAdded(.init(body: "n")), actor: F.alice)
        #expect(F.refusalKind { try TicketRules.decideOpening(command) } == .conflict)
    }
}
