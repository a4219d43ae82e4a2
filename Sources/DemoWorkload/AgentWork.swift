/// An agent working a ticket: merging a duplicate, closing spam, acknowledging a customer's
/// confirmation, or going deeper (escalation, third party) before answering.
extension WorkloadSimulator {
    /// What an agent's reply does to the ticket.
    private enum ReplyOutcome { case keepOpen, askCustomer, solve }

    /// Reply outcomes (keep open, ask the customer, solve) by stage.
    private static let firstOutcomes = WeightedChoice([25, 50, 25])
    private static let answerOutcomes = WeightedChoice([15, 30, 55])
    private static let laterOutcomes = WeightedChoice([10, 30, 60])

    mutating func agentWork(_ ticket: inout LiveTicket, _ stage: AgentStage, at time: Int64) -> Plan? {
        let agent = takeOver(&ticket, at: time)
        if let reference = ticket.duplicateOf {
            ticket.duplicateOf = nil
            if let original = liveTicket(reference), original.status != .closed {
                mergeDuplicate(&ticket, into: original, at: time, by: agent)
                return nil
            }
        }
        if stage == .firstResponse, ticket.openedByCustomer, ticket.channel == .email, random.chance(0.006) {
            closeAsSpam(&ticket, at: time, by: agent)
            return nil
        }
        if ticket.customerConfirmed {
            ticket.customerConfirmed = false
            if random.chance(0.5) {
                postAgentMessage(
                    &ticket, at: time, by: agent,
                    Phrases.confirmationThanks.pick(ticket.replyLanguage, &random), status: .solved)
            } else {
                changeStatus(&ticket, to: .solved, at: time, by: agentActor(agent))
            }
            return planAfterSolved(&ticket, at: time)
        }
        if stage == .firstResponse, random.chance(0.03) {
            return transfer(&ticket, at: time, by: agent)
        }
        addSideActions(&ticket, stage, at: time, by: agent)
        let investigating =
            stage == .firstResponse || stage == .afterCustomer || stage == .followUp
            || stage == .duringCall
        if investigating, let plan = escalateIfNeeded(&ticket, at: time, by: agent) {
            return plan
        }
        if investigating || stage == .afterEscalation, let plan = waitForThirdPartyIfNeeded(&ticket, at: time, by: agent) {
            return plan
        }
        return reply(&ticket, stage, at: time, by: agent)
    }

    private mutating func mergeDuplicate(
        _ ticket: inout LiveTicket, into original: LiveTicket, at time: Int64,
        by agent: Int
    ) {
        let actor = agentActor(agent)
        if random.chance(0.4) { addNote(&ticket, at: time, by: actor, Phrases.duplicateNote) }
        if random.chance(0.3) { changeTags(&ticket, adding: [.duplicate], at: time, by: actor) }
        merge(&ticket, into: original, at: time, by: random.chance(0.85) ? actor : random.element(of: roster.managers))
    }

    private mutating func closeAsSpam(_ ticket: inout LiveTicket, at time: Int64, by agent: Int) {
        let actor = agentActor(agent)
        addNote(&ticket, at: time, by: actor, Phrases.spamNote)
        changeTags(&ticket, adding: [.spam], at: time, by: actor)
        changeStatus(&ticket, to: .closed, at: time, by: actor)
    }

    /// The public answer and what it does to the status, then the ticket's next step.
    private mutating func reply(_ ticket: inout LiveTicket, _ stage: AgentStage, at time: Int64, by agent: Int) -> Plan {
        let language = ticket.replyLanguage
        let outcomes: [ReplyOutcome] = [.keepOpen, .askCustomer, .solve]
        var outcome: ReplyOutcome
        switch stage {
        case .duringCall: outcome = random.chance(0.45) ? .solve : .askCustomer
        case .firstResponse: outcome = outcomes[Self.firstOutcomes.pick(&random)]
        case .afterCustomer: outcome = outcomes[Self.answerOutcomes.pick(&random)]
        case .followUp, .afterThirdParty, .afterEscalation, .afterTransfer:
            outcome = outcomes[Self.laterOutcomes.pick(&random)]
        }
        if ticket.agentMessages >= 6 { outcome = .solve }
        switch outcome {
        case .keepOpen:
            let text = ticket.agentMessages == 0 ? Phrases.acknowledge : Phrases.progress
            postAgentMessage(&ticket, at: time, by: agent, text.pick(language, &random), status: .open)
            return planAgentWork(&ticket, .followUp, after: time)
        case .askCustomer:
            postAgentMessage(
                &ticket, at: time, by: agent, Phrases.askInformation.pick(language, &random),
                status: .pending)
            return planAfterPending(&ticket, at: time)
        case .solve:
            let body: String
            if stage == .duringCall {
                body = Phrases.callSummary.pick(language, &random)
            } else if stage == .afterThirdParty, let party = ticket.topic.thirdParty?.pick(language, &random) {
                body = Phrases.thirdPartyDone.pick(language, &random).filled("t", with: party)
            } else {
                body = Phrases.solution.pick(language, &random)
            }
            postAgentMessage(
                &ticket, at: time, by: agent, body, status: .solved,
                attachment: ticket.team == .billing && random.chance(0.3))
            return planAfterSolved(&ticket, at: time)
        }
    }
}
