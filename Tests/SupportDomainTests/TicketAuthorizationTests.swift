import EventLog
import Testing

@testable import SupportDomain

/// SPEC §2.2 "who" column and §7 "Who may".
@Suite("Ticket authorization")
struct TicketAuthorizationTests {
    typealias F = TicketFixture

    /// The actor kinds §2.2 lets write each event type.
    static let who: [TicketEvent.Kind: Set<ActorKind>] = [
        .opened: [.customer, .agent, .manager, .admin, .system],
        .messagePosted: [.customer, .agent],
        .noteAdded: [.agent, .manager, .admin, .system],
        .assigned: [.agent, .manager, .admin, .system],
        .priorityChanged: [.agent, .manager, .admin, .system],
        .statusChanged: [.agent, .manager, .admin, .system],
        .escalated: [.agent, .manager, .admin, .system],
        .tagsChanged: [.agent, .manager, .admin, .system],
        .merged: [.agent, .manager, .admin],
        .satisfactionRated: [.customer],
        // Issue 12: the mail outbox records what became of a reply.
        .delivered: [.system],
        .deliveryFailed: [.system],
        // Issue 14: the automations warn before a breach.
        .slaWarning: [.system],
    ]

    /// A valid event of each type, for carol's ticket.
    static func sample(_ kind: TicketEvent.Kind) -> TicketEvent {
        switch kind {
        case .opened: .opened(.init(customer: "carol", subject: "s", body: "b", channel: .web, product: "p", priority: .low))
        case .messagePosted: .messagePosted(.init(body: "b"))
        case .noteAdded: .noteAdded(.init(body: "n"))
        case .assigned: .assigned(.init(agent: "bob"))
        case .priorityChanged: .priorityChanged(.high)
        case .statusChanged: .statusChanged(.pending)
        case .escalated: .escalated(.init(team: "tier2", reason: "r"))
        case .tagsChanged: .tagsChanged(.init(added: ["vip"]))
        case .merged: .merged(into: "T-2")
        case .satisfactionRated: .satisfactionRated(.init(score: 5))
        case .delivered: .delivered(.init(reply: 2, to: "carol@example.test", messageId: "<m@desk.test>"))
        case .deliveryFailed: .deliveryFailed(.init(reply: 2, to: "carol@example.test", reason: "550 no such user", permanent: true))
        case .slaWarning: .slaWarning(.init(target: .resolution, due: Timestamp(rfc3339: "2026-03-04T09:00:00Z")!))
        }
    }

    /// carol's open ticket with one agent message (version 2), so that a rating has something to rate.
    static func carolsTicket() throws -> Ticket {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        return try log.ticket()
    }

    @Test func theWhoTableCoversEveryEventTypeAndActorKind() {
        #expect(Set(Self.who.keys) == Set(TicketEvent.Kind.allCases))
        #expect(ActorKind.allCases.count == 5)
    }

    @Test(arguments: TicketEvent.Kind.allCases, ActorKind.allCases)
    func mayWriteFollowsTheWhoColumn(kind: TicketEvent.Kind, actor: ActorKind) {
        #expect(TicketRules.mayWrite(kind, as: actor) == Self.who[kind]!.contains(actor))
    }

    @Test(arguments: TicketEvent.Kind.allCases, ActorKind.allCases)
    func authorizeFollowsTheWhoColumnOnTheCustomersOwnTicket(kind: TicketEvent.Kind, actor: ActorKind) throws {
        let command = TicketCommand(event: Self.sample(kind), actor: F.actor(actor))
        let ticket: Ticket? = kind == .opened ? nil : try Self.carolsTicket()
        let refused = F.refusalKind { try TicketRules.authorize(command, on: ticket) }
        #expect(refused == (Self.who[kind]!.contains(actor) ? nil : .forbidden))
    }

    @Test(arguments: TicketEvent.Kind.allCases.filter { $0 != .opened }, ActorKind.allCases)
    func decideRefusesWhoMayNotWithForbiddenAndAcceptsTheOthers(kind: TicketEvent.Kind, actor: ActorKind) throws {
        let ticket = try Self.carolsTicket()
        let command = TicketCommand(event: Self.sample(kind), actor: F.actor(actor))
        let at = try F.instant("2026-03-02T10:00:00Z")
        let refused = F.refusalKind { try TicketRules.decide(command, on: ticket, at: at) }
        #expect(refused == (Self.who[kind]!.contains(actor) ? nil : .forbidden))
    }

    @Test func anAdminMayNotPostMessages() throws {
        let command = TicketCommand(event: .messagePosted(.init(body: "b")), actor: F.root)
        #expect(
            F.refusalKind { try TicketRules.decide(command, on: try Self.carolsTicket(), at: try F.instant("2026-03-02T10:00:00Z")) }
                == .forbidden)
    }

    @Test func systemMayNotMerge() throws {
        let command = TicketCommand(event: .merged(into: "T-2"), actor: F.robot)
        #expect(F.refusalKind { try TicketRules.authorize(command, on: try Self.carolsTicket()) } == .forbidden)
    }

    @Test func aCustomerOpensOnlyForThemselves() throws {
        let own = TicketCommand(event: Self.sample(.opened), actor: F.carol)
        #expect(F.refusalKind { try TicketRules.decideOpening(own) } == nil)
        #expect(try TicketRules.decideOpening(own) == [Self.sample(.opened)])
        let other = TicketCommand(event: Self.sample(.opened), actor: F.dave)
        #expect(F.refusalKind { try TicketRules.authorize(other, on: nil) } == .forbidden)
        #expect(F.refusalKind { try TicketRules.decideOpening(other) } == .forbidden)
    }

    @Test func staffOpenForAnyCustomer() throws {
        for actor in [F.alice, F.mona, F.root, F.robot] {
            let command = TicketCommand(event: Self.sample(.opened), actor: actor)
            #expect(F.refusalKind { try TicketRules.decideOpening(command) } == nil)
        }
    }

    @Test func anotherCustomerMayNotWriteOnTheTicket() throws {
        let ticket = try Self.carolsTicket()
        let at = try F.instant("2026-03-02T10:00:00Z")
        for event in [Self.sample(.messagePosted), Self.sample(.satisfactionRated)] {
            let command = TicketCommand(event: event, actor: F.dave)
            // The HTTP layer answers 404 for another customer's ticket before any 403 (SPEC §7); the
            // domain must refuse it either way.
            let refused = F.refusalKind { try TicketRules.decide(command, on: ticket, at: at) }
            #expect(refused == .forbidden || refused == .notFound, "\(event.kind)")
            #expect(F.refusalKind { try TicketRules.authorize(command, on: ticket) } != nil)
        }
    }

    @Test func customerOwnershipIsComparedByCodePoint() throws {
        var log = TicketTestLog("T-1")
        try log.append(
            "ticket.opened",
            #"{"customer":"\u00e9lise","subject":"s","body":"b","channel":"web","product":"p","priority":"low"}"#,
            by: F.alice, at: "2026-03-02T09:00:00Z")
        let ticket = try log.ticket()
        let at = try F.instant("2026-03-02T10:00:00Z")
        let precomposed = SupportActor(kind: .customer, id: "\u{E9}lise")
        let decomposed = SupportActor(kind: .customer, id: "e\u{301}lise")
        let message = TicketEvent.messagePosted(.init(body: "b"))
        #expect(F.refusalKind { try TicketRules.decide(.init(event: message, actor: precomposed), on: ticket, at: at) } == nil)
        #expect(F.refusalKind { try TicketRules.decide(.init(event: message, actor: decomposed), on: ticket, at: at) } != nil)
    }

    @Test func onlyTheTicketsCustomerMayRate() throws {
        let ticket = try Self.carolsTicket()
        let at = try F.instant("2026-03-02T10:00:00Z")
        let rating = TicketEvent.satisfactionRated(.init(score: 4, reply: 2))
        #expect(try TicketRules.decide(.init(event: rating, actor: F.carol), on: ticket, at: at) == [rating])
        for actor in [F.alice, F.bob, F.mona, F.root, F.robot] {
            #expect(
                F.refusalKind { try TicketRules.decide(.init(event: rating, actor: actor), on: ticket, at: at) } == .forbidden,
                "\(actor.kind)")
        }
    }

    @Test func forbiddenIsAnsweredBeforeRuleViolations() throws {
        // A manager posting a message on a closed ticket, back in time: 403, not 409.
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("status.changed", #"{"status":"closed"}"#, by: F.alice, at: "2026-03-02T10:00:00Z")
        let closed = try log.ticket()
        let command = TicketCommand(event: .messagePosted(.init(body: "b")), actor: F.mona)
        #expect(F.refusalKind { try TicketRules.decide(command, on: closed, at: try F.instant("2026-03-02T09:30:00Z")) } == .forbidden)
        let agentRating = TicketCommand(event: .satisfactionRated(.init(score: 3)), actor: F.alice)
        #expect(F.refusalKind { try TicketRules.decide(agentRating, on: closed, at: try F.instant("2026-03-02T11:00:00Z")) } == .forbidden)
    }
}

/// Issue 12: the outcomes of mailing a reply.
@Suite("Delivery outcomes")
struct DeliveryOutcomeRuleTests {
    typealias F = TicketFixture

    static func closedTicket() throws -> Ticket {
        var log = try TicketTestLog.opened(by: F.carol)
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("status.changed", #"{"status":"closed"}"#, by: F.alice, at: "2026-03-02T09:11:00Z")
        return try log.ticket()
    }

    @Test func anOutcomeIsAcceptedAfterTheTicketClosedAndChangesNothingButTheVersion() throws {
        let ticket = try Self.closedTicket()
        let delivered = TicketEvent.delivered(.init(reply: 2, to: "carol@example.test", messageId: "<ld.2.0123456789abcdef@desk.test>"))
        let at = try F.instant("2026-03-02T09:12:00Z")
        let events = try TicketRules.decide(TicketCommand(event: delivered, actor: F.robot), on: ticket, at: at)
        #expect(events == [delivered])
        var after = ticket
        after.apply(delivered, version: 4, at: at, actor: F.robot)
        #expect(after.status == .closed)
        #expect(after.lifecycle == ticket.lifecycle)
        #expect(after.thread == ticket.thread)
        #expect(after.mailMessageIDs == ["<ld.2.0123456789abcdef@desk.test>"])
    }

    @Test func anOutcomeMustNameAnAgentReplyOfTheTicket() throws {
        let ticket = try Self.closedTicket()
        let at = try F.instant("2026-03-02T09:12:00Z")
        for reply: UInt64 in [1, 3, 9] {
            let failed = TicketEvent.deliveryFailed(.init(reply: reply, to: "carol@example.test", reason: "550", permanent: true))
            #expect(F.refusalKind { try TicketRules.decide(TicketCommand(event: failed, actor: F.robot), on: ticket, at: at) } == .conflict)
        }
    }

    @Test func outcomesReadBackAsWritten() throws {
        let failed = TicketEvent.deliveryFailed(.init(reply: 2, to: "a@b.test", reason: "451 later", permanent: false))
        #expect(try TicketEvent(kind: .deliveryFailed, data: failed.data) == failed)
        #expect(failed.data["permanent"] == .bool(false))
        let bad: [String] = [
            #"{"reply": 2, "to": "a@b.test", "reason": "x"}"#, #"{"reply": 0, "to": "a@b.test", "reason": "x", "permanent": true}"#,
            #"{"reply": 2, "to": "", "reason": "x", "permanent": true}"#,
            #"{"reply": 2, "to": "a@b.test", "reason": "x", "permanent": "yes"}"#,
            #"{"reply": 2, "to": "a\nb", "reason": "x", "permanent": true}"#,
        ]
        for text in bad {
            let data = try JSONParser.parse(Array(text.utf8))
            #expect(throws: DomainError.self) { try TicketEvent(kind: .deliveryFailed, data: data) }
        }
    }
}
