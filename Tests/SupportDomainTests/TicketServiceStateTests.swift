import EventLog
import Testing

@testable import SupportDomain

/// SPEC §4 customer turns and §5 waiting since / next due / breached, under the default policy (§6).
@Suite("Ticket service state")
struct TicketServiceStateTests {
    typealias F = TicketFixture

    private let levels: ServiceLevels

    init() throws {
        levels = try ServiceLevels(policy: .default)
    }

    private func state(_ log: TicketTestLog, at: String) throws -> TicketServiceState {
        try log.ticket().serviceState(at: try F.instant(at), levels: levels)
    }

    private func expected(waitingSince: String?, nextDue: String?, target: SLAMetric?, breached: Bool) throws -> TicketServiceState {
        TicketServiceState(
            waitingSince: try waitingSince.map(F.instant), nextDue: try nextDue.map(F.instant),
            nextDueTarget: target, breached: breached)
    }

    // MARK: Urgent, calendar clock (Monday 2026-03-02)

    @Test func aCustomerOpenedUrgentTicketIsDueForAFirstReplyAfterOneCalendarHour() throws {
        let log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        #expect(
            try state(log, at: "2026-03-02T09:00:00Z")
                == expected(waitingSince: "2026-03-02T09:00:00Z", nextDue: "2026-03-02T10:00:00Z", target: .firstReply, breached: false))
        #expect(try state(log, at: "2026-03-02T09:59:59.999Z").breached == false)
        // Breached means the duration exceeds the target: exactly one hour is not a breach.
        #expect(try state(log, at: "2026-03-02T10:00:00.000Z").breached == false)
        #expect(
            try state(log, at: "2026-03-02T10:00:00.001Z")
                == expected(waitingSince: "2026-03-02T09:00:00Z", nextDue: "2026-03-02T10:00:00Z", target: .firstReply, breached: true))
    }

    @Test func theRunningTurnsDueInstantsComeFromThePolicyTargets() throws {
        let log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        let ticket = try log.ticket()
        let first = try #require(levels.target(.firstReply, priority: .urgent))
        let resolution = try #require(levels.target(.resolution, priority: .urgent))
        #expect(first.seconds == 3600 && first.clock == .calendar)
        #expect(resolution.seconds == 8 * 3600 && resolution.clock == .calendar)
        #expect(levels.due(start: ticket.openedAt, target: resolution) == (try F.instant("2026-03-02T17:00:00Z")))
    }

    @Test func anAgentReplyEndsTheTurnAndTheResolutionBecomesNextDue() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        // Waiting since: no running turn, so the instant the reply moved it from new to open.
        #expect(
            try state(log, at: "2026-03-02T10:30:00Z")
                == expected(waitingSince: "2026-03-02T09:30:00Z", nextDue: "2026-03-02T17:00:00Z", target: .resolution, breached: false))
        #expect(try state(log, at: "2026-03-02T17:00:00Z").breached == false)
        #expect(try state(log, at: "2026-03-02T17:00:00.001Z").breached == true)
    }

    @Test func aCustomerMessageAfterAReplyStartsANextReplyTurn() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        try log.append("message.posted", #"{"body":"still broken"}"#, by: F.carol, at: "2026-03-02T10:00:00Z")
        #expect(
            try state(log, at: "2026-03-02T10:00:00Z")
                == expected(waitingSince: "2026-03-02T10:00:00Z", nextDue: "2026-03-02T12:00:00Z", target: .nextReply, breached: false))
        #expect(try state(log, at: "2026-03-02T12:00:00Z").breached == false)
        #expect(try state(log, at: "2026-03-02T12:00:00.001Z").breached == true)
    }

    @Test func aSolveCancelsTheRunningTurn() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        try log.append("message.posted", #"{"body":"still broken"}"#, by: F.carol, at: "2026-03-02T10:00:00Z")
        try log.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T11:00:00Z")
        #expect(try log.ticket().runningTurn == nil)
        // Solved is not awaiting an agent, and neither the turn nor the resolution runs: no breach ever.
        for at in ["2026-03-02T11:00:00Z", "2026-03-02T12:00:00.001Z", "2026-03-05T00:00:00Z"] {
            #expect(try state(log, at: at) == expected(waitingSince: nil, nextDue: nil, target: nil, breached: false), "\(at)")
        }
    }

    @Test func aSolveBeforeTheFirstReplyCancelsItWithoutABreach() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        #expect(try state(log, at: "2026-03-02T12:00:00Z") == expected(waitingSince: nil, nextDue: nil, target: nil, breached: false))
    }

    @Test(arguments: ["closed", "merged"])
    func closingOrMergingStopsEveryInterval(how: String) throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        if how == "merged" {
            try log.append("ticket.merged", #"{"into":"T-9"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        } else {
            try log.append("status.changed", #"{"status":"closed"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        }
        #expect(try state(log, at: "2026-03-03T00:00:00Z") == expected(waitingSince: nil, nextDue: nil, target: nil, breached: false))
    }

    // MARK: Tickets not opened by a customer

    @Test func aTicketOpenedByAnAgentHasNoTurnUntilTheCustomersFirstMessage() throws {
        var log = TicketTestLog()
        try log.append("ticket.opened", F.openingData(priority: "urgent"), by: F.alice, at: "2026-03-02T09:00:00Z")
        #expect(
            try state(log, at: "2026-03-02T11:00:00Z")
                == expected(waitingSince: "2026-03-02T09:00:00Z", nextDue: "2026-03-02T17:00:00Z", target: .resolution, breached: false))
        try log.append("message.posted", #"{"body":"here is what happened"}"#, by: F.carol, at: "2026-03-02T11:30:00Z")
        #expect(try log.ticket().runningTurn?.isFirstReply == true)
        #expect(
            try state(log, at: "2026-03-02T11:30:00Z")
                == expected(waitingSince: "2026-03-02T11:30:00Z", nextDue: "2026-03-02T12:30:00Z", target: .firstReply, breached: false))
        #expect(try state(log, at: "2026-03-02T12:30:00.001Z").breached == true)
    }

    @Test func anAgentOpenedTicketsFirstCustomerTurnIsAFirstReplyEvenAfterAgentMessages() throws {
        var log = TicketTestLog()
        try log.append("ticket.opened", F.openingData(priority: "urgent"), by: F.robot, at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"we noticed an outage"}"#, by: F.alice, at: "2026-03-02T09:05:00Z")
        try log.append("message.posted", #"{"body":"thanks, what now?"}"#, by: F.carol, at: "2026-03-02T09:20:00Z")
        #expect(
            try state(log, at: "2026-03-02T09:20:00Z")
                == expected(waitingSince: "2026-03-02T09:20:00Z", nextDue: "2026-03-02T10:20:00Z", target: .firstReply, breached: false))
    }

    // MARK: Cancelled turns and first replies

    @Test func aTurnAfterACancelledOneIsStillAFirstReplyWhenNoTurnEndedWithAnAgentMessage() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("message.posted", #"{"body":"not solved!"}"#, by: F.carol, at: "2026-03-02T09:20:00Z")
        let ticket = try log.ticket()
        #expect(ticket.status == .open)
        #expect(ticket.runningTurn == Ticket.RunningTurn(start: try F.instant("2026-03-02T09:20:00Z"), isFirstReply: true))
        #expect(
            try state(log, at: "2026-03-02T09:20:00Z")
                == expected(waitingSince: "2026-03-02T09:20:00Z", nextDue: "2026-03-02T10:20:00Z", target: .firstReply, breached: false))
    }

    @Test func anAgentMessageWithNoRunningTurnDoesNotMakeLaterTurnsNextReplies() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("message.posted", #"{"body":"closing note"}"#, by: F.alice, at: "2026-03-02T09:15:00Z")
        try log.append("message.posted", #"{"body":"not solved!"}"#, by: F.carol, at: "2026-03-02T09:20:00Z")
        #expect(try state(log, at: "2026-03-02T09:20:00Z").nextDueTarget == .firstReply)
        #expect(try state(log, at: "2026-03-02T09:20:00Z").nextDue == (try F.instant("2026-03-02T10:20:00Z")))
    }

    @Test func aTurnAfterACancelledOneIsANextReplyOnceATurnEndedWithAnAgentMessage() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"fixed"}"#, by: F.alice, at: "2026-03-02T09:05:00Z")
        try log.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("message.posted", #"{"body":"not fixed"}"#, by: F.carol, at: "2026-03-02T09:20:00Z")
        #expect(
            try state(log, at: "2026-03-02T09:20:00Z")
                == expected(waitingSince: "2026-03-02T09:20:00Z", nextDue: "2026-03-02T11:20:00Z", target: .nextReply, breached: false))
    }

    @Test func aReopenedTicketsResolutionRunsAgainFromItsOpening() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"fixed"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("status.changed", #"{"status":"solved"}"#, by: F.alice, at: "2026-03-02T09:20:00Z")
        try log.append("message.posted", #"{"body":"broken again"}"#, by: F.carol, at: "2026-03-02T16:30:00Z")
        // Next reply due 18:30; resolution (from 09:00) due 17:00 comes first.
        #expect(
            try state(log, at: "2026-03-02T16:30:00Z")
                == expected(waitingSince: "2026-03-02T16:30:00Z", nextDue: "2026-03-02T17:00:00Z", target: .resolution, breached: false))
        #expect(try state(log, at: "2026-03-02T17:00:00.001Z").breached == true)
    }

    // MARK: Waiting since

    @Test func waitingSinceIsTheRunningTurnsStartEvenAfterLeavingAndReenteringOpen() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("status.changed", #"{"status":"on_hold"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        // On hold is not awaiting an agent, but the SLA clock never pauses.
        #expect(
            try state(log, at: "2026-03-02T09:15:00Z")
                == expected(waitingSince: nil, nextDue: "2026-03-02T10:00:00Z", target: .firstReply, breached: false))
        #expect(try state(log, at: "2026-03-02T10:00:00.001Z").breached == true)
        try log.append("status.changed", #"{"status":"open"}"#, by: F.alice, at: "2026-03-02T09:20:00Z")
        #expect(
            try state(log, at: "2026-03-02T09:30:00Z")
                == expected(waitingSince: "2026-03-02T09:00:00Z", nextDue: "2026-03-02T10:00:00Z", target: .firstReply, breached: false))
    }

    @Test func waitingSinceWithoutARunningTurnIsTheLastInstantTheTicketEnteredNewOrOpen() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"try this"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        try log.append("status.changed", #"{"status":"pending"}"#, by: F.alice, at: "2026-03-02T09:10:00Z")
        #expect(
            try state(log, at: "2026-03-02T09:30:00Z")
                == expected(waitingSince: nil, nextDue: "2026-03-02T17:00:00Z", target: .resolution, breached: false))
        try log.append("status.changed", #"{"status":"open"}"#, by: F.mona, at: "2026-03-02T09:40:00Z")
        #expect(
            try state(log, at: "2026-03-02T09:45:00Z")
                == expected(waitingSince: "2026-03-02T09:40:00Z", nextDue: "2026-03-02T17:00:00Z", target: .resolution, breached: false))
    }

    @Test func aFollowUpCustomerMessageDoesNotMoveWaitingSince() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"hello?"}"#, by: F.carol, at: "2026-03-02T09:40:00Z")
        #expect(
            try state(log, at: "2026-03-02T09:45:00Z")
                == expected(waitingSince: "2026-03-02T09:00:00Z", nextDue: "2026-03-02T10:00:00Z", target: .firstReply, breached: false))
    }

    // MARK: Business clock (Paris, CET = UTC+1 in early March 2026)

    @Test func aNormalTicketOpenedFridayEveningIsDueSaturdayAfternoon() throws {
        // Fri 2026-03-06 17:00 Paris. First reply 8 business hours: Fri 17-19 (2 h) + Sat 09-15 (6 h).
        let log = try TicketTestLog.opened(by: F.carol, priority: "normal", at: "2026-03-06T16:00:00Z")
        #expect(
            try state(log, at: "2026-03-06T16:00:00Z")
                == expected(waitingSince: "2026-03-06T16:00:00Z", nextDue: "2026-03-07T14:00:00Z", target: .firstReply, breached: false))
        // Friday night and Saturday morning before opening are not business time.
        #expect(try state(log, at: "2026-03-07T07:59:00Z").breached == false)
        #expect(try state(log, at: "2026-03-07T13:59:59.999Z").breached == false)
        #expect(try state(log, at: "2026-03-07T14:00:00Z").breached == false)
        #expect(try state(log, at: "2026-03-07T14:00:00.001Z").breached == true)
        #expect(try state(log, at: "2026-03-08T12:00:00Z").breached == true)
    }

    @Test func aNormalTicketsResolutionIsFortyBusinessHours() throws {
        // Fri 17-19 (2) + Sat 09-17 (8) + Mon 08-19 (11) + Tue 08-19 (11) + Wed 08-16 (8) = 40 h:
        // Wed 2026-03-11 16:00 Paris = 15:00Z.
        var log = try TicketTestLog.opened(by: F.carol, priority: "normal", at: "2026-03-06T16:00:00Z")
        try log.append("message.posted", #"{"body":"looking"}"#, by: F.alice, at: "2026-03-06T16:30:00Z")
        #expect(
            try state(log, at: "2026-03-09T12:00:00Z")
                == expected(waitingSince: "2026-03-06T16:30:00Z", nextDue: "2026-03-11T15:00:00Z", target: .resolution, breached: false))
        #expect(try state(log, at: "2026-03-11T15:00:00Z").breached == false)
        #expect(try state(log, at: "2026-03-11T15:00:00.001Z").breached == true)
    }

    @Test func aNormalNextReplyIsSixteenBusinessHours() throws {
        // Customer writes Mon 2026-03-09 18:00 Paris (17:00Z): Mon 18-19 (1) + Tue 08-19 (11) + Wed 08-12 (4) = 16 h
        // → Wed 2026-03-11 12:00 Paris = 11:00Z; the resolution (Wed 15:00Z) comes later.
        var log = try TicketTestLog.opened(by: F.carol, priority: "normal", at: "2026-03-06T16:00:00Z")
        try log.append("message.posted", #"{"body":"looking"}"#, by: F.alice, at: "2026-03-06T16:30:00Z")
        try log.append("message.posted", #"{"body":"any news?"}"#, by: F.carol, at: "2026-03-09T17:00:00Z")
        #expect(
            try state(log, at: "2026-03-09T17:00:00Z")
                == expected(waitingSince: "2026-03-09T17:00:00Z", nextDue: "2026-03-11T11:00:00Z", target: .nextReply, breached: false))
    }

    @Test func aBusinessDueAcrossTheSpringDaylightSavingChangeUsesLocalWindows() throws {
        // Sat 2026-03-28 16:00 CET (15:00Z), high: Sat 16-17 (1 h), Sunday closed (clocks go forward),
        // Mon 2026-03-30 08-11 CEST (3 h) → 11:00 CEST = 09:00Z.
        let log = try TicketTestLog.opened(by: F.carol, priority: "high", at: "2026-03-28T15:00:00Z")
        #expect(
            try state(log, at: "2026-03-28T15:00:00Z")
                == expected(waitingSince: "2026-03-28T15:00:00Z", nextDue: "2026-03-30T09:00:00Z", target: .firstReply, breached: false))
        #expect(try state(log, at: "2026-03-30T09:00:00Z").breached == false)
        #expect(try state(log, at: "2026-03-30T09:00:00.001Z").breached == true)
    }

    // MARK: Priority changes

    @Test func aPriorityChangeRetargetsTheRunningIntervals() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        #expect(
            try state(log, at: "2026-03-02T10:30:00Z")
                == expected(waitingSince: "2026-03-02T09:00:00Z", nextDue: "2026-03-02T10:00:00Z", target: .firstReply, breached: true))
        try log.append("priority.changed", #"{"priority":"low"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        // Low: 24 business hours from Mon 10:00 Paris: Mon 10-19 (9) + Tue 08-19 (11) + Wed 08-12 (4)
        // → Wed 2026-03-04 12:00 Paris = 11:00Z.
        #expect(
            try state(log, at: "2026-03-02T10:30:00Z")
                == expected(waitingSince: "2026-03-02T09:00:00Z", nextDue: "2026-03-04T11:00:00Z", target: .firstReply, breached: false))
    }

    @Test func raisingThePriorityBringsTheDueInstantForward() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "low", at: "2026-03-02T09:00:00Z")
        #expect(try state(log, at: "2026-03-02T09:30:00Z").nextDue == (try F.instant("2026-03-04T11:00:00Z")))
        try log.append("priority.changed", #"{"priority":"urgent"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        #expect(
            try state(log, at: "2026-03-02T09:30:00Z")
                == expected(waitingSince: "2026-03-02T09:00:00Z", nextDue: "2026-03-02T10:00:00Z", target: .firstReply, breached: false))
        #expect(try state(log, at: "2026-03-02T10:00:00.001Z").breached == true)
    }

    @Test func aHighTicketUsesFourBusinessHours() throws {
        // Mon 2026-03-02 18:00 Paris (17:00Z): Mon 18-19 (1) + Tue 08-11 (3) → Tue 11:00 Paris = 10:00Z.
        let log = try TicketTestLog.opened(by: F.carol, priority: "high", at: "2026-03-02T17:00:00Z")
        #expect(
            try state(log, at: "2026-03-02T17:00:00Z")
                == expected(waitingSince: "2026-03-02T17:00:00Z", nextDue: "2026-03-03T10:00:00Z", target: .firstReply, breached: false))
    }

    // MARK: Ties

    @Test func aTieBetweenReplyAndResolutionDueNamesTheReplyTarget() throws {
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        // Next reply due 15:00 + 2 h = 17:00, resolution due 09:00 + 8 h = 17:00.
        try log.append("message.posted", #"{"body":"still down"}"#, by: F.carol, at: "2026-03-02T15:00:00Z")
        #expect(
            try state(log, at: "2026-03-02T15:00:00Z")
                == expected(waitingSince: "2026-03-02T15:00:00Z", nextDue: "2026-03-02T17:00:00Z", target: .nextReply, breached: false))
    }

    @Test func aTieBetweenAFirstReplyAndTheResolutionNamesTheReplyTarget() throws {
        // An agent-opened urgent ticket: the customer's first message at 16:00 is due 17:00, as is the resolution.
        var log = TicketTestLog()
        try log.append("ticket.opened", F.openingData(priority: "urgent"), by: F.alice, at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"hello"}"#, by: F.carol, at: "2026-03-02T16:00:00Z")
        #expect(
            try state(log, at: "2026-03-02T16:00:00Z")
                == expected(waitingSince: "2026-03-02T16:00:00Z", nextDue: "2026-03-02T17:00:00Z", target: .firstReply, breached: false))
    }

    @Test func breachedIsAnyRunningIntervalNotOnlyTheNextDueOne() throws {
        // Resolution (09:00 + 8 h = 17:00) breached at 17:30 while the next reply turn (17:10 + 2 h) is not.
        var log = try TicketTestLog.opened(by: F.carol, priority: "urgent", at: "2026-03-02T09:00:00Z")
        try log.append("message.posted", #"{"body":"on it"}"#, by: F.alice, at: "2026-03-02T09:30:00Z")
        try log.append("message.posted", #"{"body":"still down"}"#, by: F.carol, at: "2026-03-02T17:10:00Z")
        #expect(
            try state(log, at: "2026-03-02T17:30:00Z")
                == expected(waitingSince: "2026-03-02T17:10:00Z", nextDue: "2026-03-02T17:00:00Z", target: .resolution, breached: true))
    }
}
