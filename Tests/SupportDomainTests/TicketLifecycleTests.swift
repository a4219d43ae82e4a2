import EventLog
import Testing

@testable import SupportDomain

/// The one transition function of status and customer turns (SPEC §2.2, §4) and what it reports
/// to the read models.
@Suite("Ticket lifecycle")
struct TicketLifecycleTests {
    typealias Lifecycle = TicketLifecycle
    let t0 = Timestamp(milliseconds: 1_772_000_000_000)

    private func at(_ minutes: Int64) -> Timestamp { Timestamp(milliseconds: t0.milliseconds + minutes * 60_000) }
    private let message = TicketEvent.messagePosted(.init(body: "b"))

    @Test func aCustomerOpeningStartsTheFirstTurnAnyOtherOpeningDoesNot() {
        let byCustomer = Lifecycle(openedAt: t0, by: .customer)
        #expect(byCustomer.status == .new && byCustomer.statusSince == t0 && byCustomer.lastEnteredAwaitingAgent == t0)
        #expect(byCustomer.runningTurn == .init(start: t0, isFirstReply: true))
        for opener in [ActorKind.agent, .manager, .admin, .system] {
            #expect(Lifecycle(openedAt: t0, by: opener).runningTurn == nil, "\(opener)")
        }
    }

    @Test func anAgentMessageOpensANewTicketAndReportsTheTurnItEnds() {
        var lifecycle = Lifecycle(openedAt: t0, by: .customer)
        let transition = lifecycle.apply(message, at: at(5), actor: .agent)
        #expect(
            transition
                == .init(
                    left: .init(status: .new, since: t0), startedTurn: false,
                    endedTurn: .init(start: t0, isFirstReply: true), reachedResolution: false))
        #expect(lifecycle.status == .open && lifecycle.statusSince == at(5) && lifecycle.lastEnteredAwaitingAgent == at(5))
        #expect(lifecycle.runningTurn == nil && lifecycle.hasAnsweredTurn)
        // No turn runs: a second agent message ends nothing and leaves no status.
        #expect(lifecycle.apply(message, at: at(6), actor: .agent) == .init())
    }

    @Test(arguments: [TicketStatus.pending, .onHold, .solved])
    func aCustomerMessageReopensAndStartsANextReplyTurn(status: TicketStatus) {
        var lifecycle = Lifecycle(openedAt: t0, by: .customer)
        lifecycle.apply(message, at: at(1), actor: .agent)
        lifecycle.apply(.statusChanged(status), at: at(2), actor: .agent)
        let transition = lifecycle.apply(message, at: at(3), actor: .customer)
        #expect(
            transition
                == .init(
                    left: .init(status: status, since: at(2)), startedTurn: true, endedTurn: nil,
                    reachedResolution: false))
        #expect(lifecycle.status == .open)
        #expect(lifecycle.runningTurn == .init(start: at(3), isFirstReply: false))
        #expect(lifecycle.waitingSince == at(3))
    }

    @Test func aCustomerMessageOnAnOpenTicketWithARunningTurnChangesNothing() {
        var lifecycle = Lifecycle(openedAt: t0, by: .customer)
        #expect(lifecycle.apply(message, at: at(1), actor: .customer) == .init())
        #expect(lifecycle.runningTurn == .init(start: t0, isFirstReply: true))
    }

    @Test func solvingCancelsTheTurnAndReachesTheResolutionClosingAfterDoesNotAgain() {
        var lifecycle = Lifecycle(openedAt: t0, by: .customer)
        let solved = lifecycle.apply(.statusChanged(.solved), at: at(4), actor: .agent)
        #expect(solved == .init(left: .init(status: .new, since: t0), startedTurn: false, endedTurn: nil, reachedResolution: true))
        #expect(lifecycle.runningTurn == nil && !lifecycle.hasAnsweredTurn)
        let closed = lifecycle.apply(.statusChanged(.closed), at: at(5), actor: .agent)
        #expect(closed.left == .init(status: .solved, since: at(4)) && !closed.reachedResolution)
    }

    @Test func aMergeClosesAndReachesTheResolution() {
        var lifecycle = Lifecycle(openedAt: t0, by: .customer)
        let merged = lifecycle.apply(.merged(into: "T-2"), at: at(1), actor: .agent)
        #expect(merged.reachedResolution && lifecycle.status == .closed && lifecycle.runningTurn == nil)
    }

    @Test func eventsThatMoveNeitherStatusNorTurnsChangeNothing() {
        let events: [TicketEvent] = [
            .noteAdded(.init(body: "n")), .assigned(.init(agent: "alice")), .priorityChanged(.high),
            .escalated(.init(team: "t", reason: "r")), .tagsChanged(.init(added: ["x"])),
            .satisfactionRated(.init(score: 5)),
        ]
        for event in events {
            var lifecycle = Lifecycle(openedAt: t0, by: .customer)
            let before = lifecycle
            #expect(lifecycle.apply(event, at: at(1), actor: .agent) == .init(), "\(event.kind)")
            #expect(lifecycle == before, "\(event.kind)")
        }
    }
}
