import EventLog
import Testing

@testable import SupportDomain

/// SPEC §2.2 effects, §7 thread and tags, folded from hand-built streams.
@Suite("Ticket fold")
struct TicketFoldTests {
    typealias F = TicketFixture

    @Test func anEmptyStreamFoldsToNothing() throws {
        #expect(try Ticket.fold([RecordedEvent]()) == nil)
    }

    @Test func openingGivesVersionOneInStatusNewWithTeamEqualToProduct() throws {
        var log = TicketTestLog("T-42")
        try log.append(
            "ticket.opened",
            #"{"customer":"carol","subject":"Mail bounces","body":"Since 9am","channel":"phone","product":"email","priority":"high","context":"/panel/mail"}"#,
            by: F.carol, at: "2026-03-02T09:00:00Z")
        let t = try log.ticket()
        #expect(t.id == "T-42")
        #expect(t.version == 1)
        #expect(t.status == .new)
        #expect(t.priority == .high)
        #expect(t.team == "email")
        #expect(t.product == "email")
        #expect(t.assignee == nil)
        #expect(t.customer == "carol")
        #expect(t.subject == "Mail bounces")
        #expect(t.channel == .phone)
        #expect(t.context == "/panel/mail")
        #expect(t.tags.isEmpty)
        #expect(t.openedAt == (try F.instant("2026-03-02T09:00:00Z")))
        #expect(t.lastAt == t.openedAt)
        #expect(t.openedBy == F.carol)
        #expect(t.mergedInto == nil)
        #expect(t.agentMessageVersions.isEmpty)
    }

    @Test func threadStartsWithTheOpeningBodyAsAMessageByTheOpener() throws {
        for opener in [F.carol, F.alice, F.robot] {
            var log = TicketTestLog()
            try log.append("ticket.opened", F.openingData(), by: opener, at: "2026-03-02T09:00:00Z")
            let t = try log.ticket()
            #expect(
                t.thread == [
                    Ticket.ThreadEntry(
                        version: 1, at: try F.instant("2026-03-02T09:00:00Z"), kind: .message,
                        author: opener, body: "My site is down", attachments: [])
                ])
        }
    }

    @Test func threadKeepsAttachmentsAndNotesHaveKindNote() throws {
        var log = TicketTestLog()
        try log.append(
            "ticket.opened",
            """
            {"customer":"carol","subject":"s","body":"see file","channel":"web","product":"vps","priority":"low",
             "attachments":[{"name":"a.png","size":10,"contentType":"image/png","sha256":"\(F.sha)"}]}
            """, by: F.carol, at: "2026-03-02T09:00:00Z")
        try log.append("note.added", #"{"body":"check the host"}"#, by: F.mona, at: "2026-03-02T09:01:00Z")
        try log.append("message.posted", #"{"body":"fixed"}"#, by: F.alice, at: "2026-03-02T09:02:00Z")
        try log.append(
            "message.posted",
            #"{"body":"logs","attachments":[{"name":"x.log","size":0,"contentType":"text/plain","sha256":"\#(F.sha)"}]}"#,
            by: F.carol, at: "2026-03-02T09:03:00Z")
        try log.append("priority.changed", #"{"priority":"high"}"#, by: F.alice, at: "2026-03-02T09:04:00Z")
        let t = try log.ticket()
        let png = Attachment(name: "a.png", size: 10, contentType: "image/png", sha256: F.sha)
        let txt = Attachment(name: "x.log", size: 0, contentType: "text/plain", sha256: F.sha)
        #expect(t.thread.map(\.version) == [1, 2, 3, 4])
        #expect(t.thread.map(\.kind) == [.message, .note, .message, .message])
        #expect(t.thread.map(\.author) == [F.carol, F.mona, F.alice, F.carol])
        #expect(t.thread.map(\.body) == ["see file", "check the host", "fixed", "logs"])
        #expect(t.thread.map(\.attachments) == [[png], [], [], [txt]])
        #expect(t.thread[1].at == (try F.instant("2026-03-02T09:01:00Z")))
        #expect(t.version == 5)
        #expect(t.lastAt == (try F.instant("2026-03-02T09:04:00Z")))
        #expect(t.agentMessageVersions == [3])
    }

    // MARK: Status transitions

    @Test(arguments: ["pending", "on_hold", "solved"])
    func aCustomerMessageReopensPendingOnHoldAndSolved(status: String) throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"answer"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("status.changed", #"{"status":"\#(status)"}"#, by: F.alice, at: "2026-03-02T09:20:00Z")
        #expect(try log.ticket().status.rawValue == status)
        try log.append("message.posted", #"{"body":"back again"}"#, by: F.carol, at: "2026-03-02T09:30:00Z")
        #expect(try log.ticket().status == .open)
    }

    @Test func aCustomerMessageLeavesNewAndOpenAsTheyAre() throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"more details"}"#, by: F.carol, at: "2026-03-02T09:05:00Z")
        #expect(try log.ticket().status == .new)
        try log.append("message.posted", #"{"body":"answer"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("message.posted", #"{"body":"thanks"}"#, by: F.carol, at: "2026-03-02T09:15:00Z")
        #expect(try log.ticket().status == .open)
    }

    @Test func anAgentMessageOnNewOpensTheTicketAndChangesNothingElse() throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("tags.changed", #"{"added":["vip"]}"#, by: F.robot, at: "2026-03-02T09:01:00Z")
        let before = try log.ticket()
        try log.append("message.posted", #"{"body":"hello"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        let after = try log.ticket()
        #expect(before.status == .new)
        #expect(after.status == .open)
        #expect(after.priority == before.priority)
        #expect(after.team == before.team)
        #expect(after.assignee == nil)  // replying does not assign
        #expect(after.tags == before.tags)
        #expect(after.mergedInto == nil)
    }

    @Test(arguments: ["pending", "on_hold", "solved"])
    func anAgentMessageDoesNotChangeOtherStatuses(status: String) throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("status.changed", #"{"status":"\#(status)"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("message.posted", #"{"body":"fyi"}"#, by: F.alice, at: "2026-03-02T09:20:00Z")
        #expect(try log.ticket().status.rawValue == status)
    }

    @Test func statusChangedSetsTheStatus() throws {
        var log = try TicketTestLog.opened()
        for (status, expected) in [
            ("open", TicketStatus.open), ("on_hold", .onHold), ("pending", .pending),
            ("solved", .solved), ("open", .open), ("closed", .closed),
        ] {
            try log.append("status.changed", #"{"status":"\#(status)"}"#, by: F.mona, at: "2026-03-02T10:00:00Z")
            #expect(try log.ticket().status == expected)
        }
    }

    @Test func aMergeClosesTheTicketAndRecordsTheTarget() throws {
        var log = try TicketTestLog.opened()
        try log.append("ticket.merged", #"{"into":"T-7"}"#, by: F.alice, at: "2026-03-02T10:00:00Z")
        let t = try log.ticket()
        #expect(t.status == .closed)
        #expect(t.mergedInto == "T-7")
        #expect(t.runningTurn == nil)
    }

    // MARK: Team and assignee

    @Test func escalationMovesTheTeamAndKeepsTheAssignee() throws {
        var log = try TicketTestLog.opened()
        try log.append("ticket.assigned", #"{"agent":"alice"}"#, by: F.mona, at: "2026-03-02T09:05:00Z")
        try log.append("ticket.escalated", #"{"team":"tier2","reason":"kernel panic"}"#, by: F.alice, at: "2026-03-02T09:06:00Z")
        let t = try log.ticket()
        #expect(t.team == "tier2")
        #expect(t.assignee == "alice")
        #expect(t.status == .new)
    }

    @Test func assigningWithATeamMovesTheTicketAndWithoutKeepsIt() throws {
        var log = try TicketTestLog.opened()
        try log.append("ticket.assigned", #"{"agent":"alice"}"#, by: F.mona, at: "2026-03-02T09:05:00Z")
        #expect(try log.ticket().team == "hosting")
        #expect(try log.ticket().assignee == "alice")
        try log.append("ticket.assigned", #"{"agent":"bob","team":"night"}"#, by: F.alice, at: "2026-03-02T09:06:00Z")
        #expect(try log.ticket().team == "night")
        #expect(try log.ticket().assignee == "bob")
        try log.append("ticket.assigned", #"{"agent":null}"#, by: F.bob, at: "2026-03-02T09:07:00Z")
        #expect(try log.ticket().team == "night")
        #expect(try log.ticket().assignee == nil)
        try log.append("ticket.assigned", #"{"agent":null,"team":"day"}"#, by: F.robot, at: "2026-03-02T09:08:00Z")
        #expect(try log.ticket().team == "day")
        #expect(try log.ticket().assignee == nil)
    }

    @Test func priorityChangedSetsThePriority() throws {
        var log = try TicketTestLog.opened(priority: "urgent")
        try log.append("priority.changed", #"{"priority":"low"}"#, by: F.alice, at: "2026-03-02T09:05:00Z")
        #expect(try log.ticket().priority == .low)
    }

    // MARK: Tags

    @Test func tagsAreSortedByCodePoint() throws {
        var log = try TicketTestLog.opened()
        try log.append("tags.changed", #"{"added":["\u00e9","a","Z","f","e\u0301","B"]}"#, by: F.alice, at: "2026-03-02T09:05:00Z")
        let t = try log.ticket()
        // "B" 0x42 < "Z" 0x5A < "a" 0x61 < "e"+U+0301 < "f" 0x66 < "é" 0xE9; Swift's `<` would put "é" forms before "f".
        #expect(F.scalars(t.tags) == F.scalars(["B", "Z", "a", "e\u{301}", "f", "\u{E9}"]))
        #expect(t.tags.count == 6)  // both forms of é are distinct tags
    }

    @Test func tagsAreASetAndRemovalsApply() throws {
        var log = try TicketTestLog.opened()
        try log.append("tags.changed", #"{"added":["vip","dns","vip"]}"#, by: F.alice, at: "2026-03-02T09:05:00Z")
        #expect(try log.ticket().tags == ["dns", "vip"])
        try log.append("tags.changed", #"{"added":["dns","mail"],"removed":["vip","absent"]}"#, by: F.alice, at: "2026-03-02T09:06:00Z")
        #expect(try log.ticket().tags == ["dns", "mail"])
        try log.append("tags.changed", #"{"removed":["e\u0301"]}"#, by: F.alice, at: "2026-03-02T09:07:00Z")
        try log.append("tags.changed", #"{"added":["\u00e9"]}"#, by: F.alice, at: "2026-03-02T09:08:00Z")
        try log.append("tags.changed", #"{"removed":["e\u0301"]}"#, by: F.alice, at: "2026-03-02T09:09:00Z")
        // Removing the decomposed form does not remove the precomposed tag.
        #expect(F.scalars(try log.ticket().tags) == F.scalars(["dns", "mail", "\u{E9}"]))
    }

    // MARK: Fold errors and equivalence

    @Test func aStreamNotStartingWithAnOpeningIsBadRequest() throws {
        var log = TicketTestLog()
        try log.append("note.added", #"{"body":"n"}"#, by: F.alice, at: "2026-03-02T09:00:00Z")
        #expect(F.refusalKind { try Ticket.fold(log.events) } == .badRequest)
    }

    @Test func anUnknownActorKindOrMalformedDataIsBadRequest() throws {
        var log = try TicketTestLog.opened()
        var events = log.events
        events.append(
            RecordedEvent(
                seq: 2, stream: "T-1", version: 2, type: "note.added",
                at: try F.instant("2026-03-02T09:01:00Z"), recorded: try F.instant("2026-03-02T09:01:00Z"),
                actor: EventActor(kind: "auditor", id: "x"), data: try F.json(#"{"body":"n"}"#),
                prev: .zero, hash: .zero))
        #expect(F.refusalKind { try Ticket.fold(events) } == .badRequest)

        try log.append("note.added", #"{"body":"n","extra":1}"#, by: F.alice, at: "2026-03-02T09:01:00Z")
        #expect(F.refusalKind { try Ticket.fold(log.events) } == .badRequest)
    }

    @Test func foldEqualsInitThenApply() throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"hi"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("status.changed", #"{"status":"pending"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        let opening = try F.event("ticket.opened", F.openingData())
        guard case .opened(let o) = opening else { Issue.record("not an opening"); return }
        var manual = Ticket(id: "T-1", opened: o, at: try F.instant("2026-03-02T09:00:00Z"), by: F.carol)
        manual.apply(.messagePosted(.init(body: "hi")), version: 2, at: try F.instant("2026-03-02T09:10:00Z"), actor: F.alice)
        manual.apply(.statusChanged(.pending), version: 3, at: try F.instant("2026-03-02T09:10:00Z"), actor: F.alice)
        #expect(try log.ticket() == manual)
        #expect(manual.status == .pending)
        #expect(manual.version == 3)
    }

    @Test func ratingsChangeNoState() throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"hi"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        let before = try log.ticket()
        try log.append("satisfaction.rated", #"{"score":5}"#, by: F.carol, at: "2026-03-02T09:20:00Z")
        let after = try log.ticket()
        #expect(after.status == before.status)
        #expect(after.thread == before.thread)
        #expect(after.version == 3)
    }

    // MARK: Customer turns (SPEC §4)

    @Test func aCustomerOpeningStartsAFirstReplyTurnAndAnAgentOpeningDoesNot() throws {
        let byCustomer = try TicketTestLog.opened(by: F.carol).ticket()
        #expect(byCustomer.runningTurn == Ticket.RunningTurn(start: try F.instant("2026-03-02T09:00:00Z"), isFirstReply: true))
        for opener in [F.alice, F.mona, F.root, F.robot] {
            var log = TicketTestLog()
            try log.append("ticket.opened", F.openingData(), by: opener, at: "2026-03-02T09:00:00Z")
            #expect(try log.ticket().runningTurn == nil, "\(opener.kind)")
        }
    }

    @Test func turnsStartAtTheFirstCustomerMessageAfterAnAgentMessageAndEndAtTheNextAgentMessage() throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"more"}"#, by: F.carol, at: "2026-03-02T09:05:00Z")
        // A second customer message does not restart the turn.
        #expect(try log.ticket().runningTurn?.start == (try F.instant("2026-03-02T09:00:00Z")))
        try log.append("note.added", #"{"body":"internal"}"#, by: F.alice, at: "2026-03-02T09:06:00Z")
        #expect(try log.ticket().runningTurn != nil)  // a note is not a reply
        try log.append("message.posted", #"{"body":"reply"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        #expect(try log.ticket().runningTurn == nil)
        #expect(try log.ticket().hasAnsweredTurn)
        try log.append("message.posted", #"{"body":"and another thing"}"#, by: F.alice, at: "2026-03-02T09:11:00Z")
        #expect(try log.ticket().runningTurn == nil)
        try log.append("message.posted", #"{"body":"ok"}"#, by: F.carol, at: "2026-03-02T09:20:00Z")
        #expect(try log.ticket().runningTurn == Ticket.RunningTurn(start: try F.instant("2026-03-02T09:20:00Z"), isFirstReply: false))
    }

    @Test(arguments: ["solved", "closed"])
    func solvingOrClosingCancelsTheRunningTurn(status: String) throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("status.changed", #"{"status":"\#(status)"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        let t = try log.ticket()
        #expect(t.runningTurn == nil)
        #expect(!t.hasAnsweredTurn)
    }

    @Test func pendingAndOnHoldDoNotCancelTheRunningTurn() throws {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("status.changed", #"{"status":"on_hold"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("status.changed", #"{"status":"pending"}"#, by: F.alice, at: "2026-03-02T09:11:00Z")
        #expect(try log.ticket().runningTurn == Ticket.RunningTurn(start: try F.instant("2026-03-02T09:00:00Z"), isFirstReply: true))
    }

    @Test func theLastInstantTheTicketEnteredNewOrOpenIsTracked() throws {
        var log = try TicketTestLog.opened(by: F.carol)
        #expect(try log.ticket().lastEnteredAwaitingAgent == (try F.instant("2026-03-02T09:00:00Z")))
        try log.append("message.posted", #"{"body":"hi"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")  // new → open
        #expect(try log.ticket().lastEnteredAwaitingAgent == (try F.instant("2026-03-02T09:10:00Z")))
        try log.append("priority.changed", #"{"priority":"low"}"#, by: F.alice, at: "2026-03-02T09:20:00Z")
        try log.append("status.changed", #"{"status":"pending"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        #expect(try log.ticket().lastEnteredAwaitingAgent == (try F.instant("2026-03-02T09:10:00Z")))
        try log.append("message.posted", #"{"body":"back"}"#, by: F.carol, at: "2026-03-02T09:40:00Z")  // pending → open
        #expect(try log.ticket().lastEnteredAwaitingAgent == (try F.instant("2026-03-02T09:40:00Z")))
    }
}
