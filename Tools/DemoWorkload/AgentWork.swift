/// An agent working a ticket: taking it over, merging a duplicate, noting, re-prioritising,
/// tagging, escalating, waiting for a third party, answering and solving.
extension WorkloadSimulator {
    /// What an agent's reply does to the ticket.
    private enum ReplyOutcome { case keepOpen, askCustomer, solve }

    /// Reply outcomes (keep open, ask the customer, solve) by stage.
    private static let firstOutcomes = WeightedChoice([25, 50, 25])
    private static let answerOutcomes = WeightedChoice([15, 30, 55])
    private static let laterOutcomes = WeightedChoice([10, 30, 60])

    mutating func agentWork(_ ticket: inout LiveTicket, _ stage: AgentStage, at time: Int64) -> Plan? {
        let agent = takeOver(&ticket, at: time)
        let actor = agentActor(agent)
        let language: Language = ticket.language == .french ? .french : .english

        if let reference = ticket.duplicateOf {
            ticket.duplicateOf = nil
            if let target = liveTicket(reference), target.status != .closed {
                if random.chance(0.4) { addNote(&ticket, at: time, by: actor, Phrases.duplicateNote) }
                if random.chance(0.3) { changeTags(&ticket, adding: [.duplicate], at: time, by: actor) }
                merge(&ticket, into: target, at: time, by: random.chance(0.85) ? actor : random.element(of: roster.managers))
                return nil
            }
        }
        if stage == .firstResponse, ticket.openedByCustomer, ticket.channel == .email, random.chance(0.006) {
            addNote(&ticket, at: time, by: actor, Phrases.spamNote)
            changeTags(&ticket, adding: [.spam], at: time, by: actor)
            changeStatus(&ticket, to: .closed, at: time, by: actor)
            return nil
        }
        if ticket.customerConfirmed {
            ticket.customerConfirmed = false
            if random.chance(0.5) {
                postAgentMessage(&ticket, at: time, by: agent, Phrases.confirmationThanks.pick(language, &random),
                                 status: .solved)
            } else {
                changeStatus(&ticket, to: .solved, at: time, by: actor)
            }
            return planAfterSolved(&ticket, at: time)
        }
        if stage == .firstResponse, random.chance(0.03) {
            return transfer(&ticket, at: time, by: agent)
        }

        addSideActions(&ticket, stage, at: time, by: agent)

        let topic = ticket.topic
        let canDeepen = stage == .firstResponse || stage == .afterCustomer || stage == .followUp || stage == .duringCall
        if let escalation = topic.escalation, !ticket.escalated, canDeepen, random.chance(0.14) {
            if random.chance(0.6) {
                postAgentMessage(&ticket, at: time, by: agent, Phrases.escalating.pick(language, &random))
            }
            escalate(&ticket, to: escalation.team, reason: escalation.reason, at: time, by: actor)
            if random.chance(0.4) { changeTags(&ticket, adding: [.escalated], at: time, by: actor) }
            if random.chance(0.35) { assign(&ticket, to: nil, at: time, by: actor) }
            if escalation.team == .abuse, random.chance(0.3) {
                addNote(&ticket, at: time, by: roster.admin, "Account flagged for abuse review; services kept online.")
            }
            return planAgentWork(&ticket, .afterEscalation, after: time)
        }
        if let thirdParty = topic.thirdParty, !ticket.wentOnHold, canDeepen || stage == .afterEscalation,
           random.chance(0.3) {
            let party = thirdParty.pick(language, &random)
            postAgentMessage(&ticket, at: time, by: agent,
                             Phrases.waitingThirdParty.pick(language, &random).filled("t", with: party),
                             status: .onHold)
            ticket.wentOnHold = true
            if random.chance(0.4) { changeTags(&ticket, adding: [.waitingThirdParty], at: time, by: actor) }
            let answered = time + ResponseTimes.thirdParty.sample(&random)
            if random.chance(0.15) {
                ticket.plannedStage = .afterThirdParty
                ticket.plannedAgentWork = answered
                return Plan(action: .customerMessage(.nudge), time: time + (answered - time) / 2)
            }
            let workTime = ticket.priority == .urgent
                ? answered : BusinessHours.adding(random.int64(in: 0...45 * Millis.minute), to: answered)
            return Plan(action: .agentWork(.afterThirdParty), time: workTime)
        }
        return reply(&ticket, stage, at: time, by: agent)
    }

    /// The agent who acts at `time`: the assignee when at work in the ticket's team, otherwise a
    /// colleague on duty (or on call) who takes the ticket over.
    private mutating func takeOver(_ ticket: inout LiveTicket, at time: Int64) -> Int {
        if let assignee = ticket.assignee, roster.agents[assignee].team == ticket.team || roster.members(of: ticket.team).contains(assignee) {
            let local = ParisTime.local(time)
            if roster.isOnDuty(assignee, at: local)
                || (!BusinessHours.isOpen(at: time) && roster.onCall(ticket.team, at: time) == assignee) {
                return assignee
            }
        }
        let agent = roster.responder(ticket.team, at: time, &random)
        guard ticket.assignee != agent else { return agent }
        let handover = ticket.assignee != nil
        let roll = random.below(100)
        let actor = roll < 75 ? agentActor(agent) : (roll < 90 ? random.element(of: roster.managers) : roster.router)
        assign(&ticket, to: agent, at: time, by: actor)
        if handover, random.chance(0.1) { changeTags(&ticket, adding: [.handover], at: time, by: actor) }
        return agent
    }

    /// A misrouted ticket moves to the right product team, assigned to one of its agents.
    private mutating func transfer(_ ticket: inout LiveTicket, at time: Int64, by agent: Int) -> Plan {
        let others = Team.products.filter { $0 != ticket.team }
        let team = others.isEmpty ? ticket.team : random.element(of: others)
        let colleague = roster.responder(team, at: time, &random)
        addNote(&ticket, at: time, by: agentActor(agent), "Wrong queue, moving to \(team.id).")
        assign(&ticket, to: colleague, team: team, at: time, by: agentActor(agent))
        return planAgentWork(&ticket, .afterTransfer, after: time)
    }

    /// Internal notes, priority and tag changes that come with working a ticket.
    private mutating func addSideActions(_ ticket: inout LiveTicket, _ stage: AgentStage, at time: Int64, by agent: Int) {
        let actor = agentActor(agent)
        if stage == .duringCall, random.chance(0.6) {
            addNote(&ticket, at: time, by: actor, random.element(of: Phrases.phoneNote))
        } else if stage == .afterThirdParty, random.chance(0.7) {
            let party = ticket.topic.thirdParty?.pick(.english, &random) ?? "the third party"
            addNote(&ticket, at: time, by: actor, random.element(of: Phrases.thirdPartyReply).filled("t", with: party))
        } else if stage == .afterEscalation, random.chance(0.5) {
            addNote(&ticket, at: time, by: actor, random.element(of: Phrases.escalationNote))
        } else if random.chance(0.22) {
            addNote(&ticket, at: time, by: actor, random.element(of: Phrases.investigation))
        }
        if random.chance(0.04) {
            let raised: Priority
            switch ticket.priority {
            case .urgent: raised = .high
            case .low: raised = .normal
            case .normal: raised = random.chance(0.8) ? .high : .low
            case .high: raised = random.chance(0.3) ? .urgent : .normal
            }
            changePriority(&ticket, to: raised, at: time, by: random.chance(0.7) ? actor : random.element(of: roster.managers))
        }
        if stage == .afterThirdParty {
            changeTags(&ticket, removing: [.waitingThirdParty], at: time, by: actor)
        } else if random.chance(0.07) {
            let added = random.element(of: Tag.workflow)
            let removable = Tag.workflow.filter { ticket.tags & $0.bit != 0 && $0 != added }
            let removed = removable.isEmpty || random.chance(0.5) ? [] : [random.element(of: removable)]
            changeTags(&ticket, adding: [added], removing: removed, at: time,
                       by: random.chance(0.95) ? actor : roster.admin)
        }
    }

    /// The public answer and what it does to the status, then the ticket's next step.
    private mutating func reply(_ ticket: inout LiveTicket, _ stage: AgentStage, at time: Int64, by agent: Int) -> Plan {
        let language: Language = ticket.language == .french ? .french : .english
        var outcome: ReplyOutcome
        switch stage {
        case .duringCall: outcome = random.chance(0.45) ? .solve : .askCustomer
        case .firstResponse: outcome = [.keepOpen, .askCustomer, .solve][Self.firstOutcomes.pick(&random)]
        case .afterCustomer: outcome = [.keepOpen, .askCustomer, .solve][Self.answerOutcomes.pick(&random)]
        case .followUp, .afterThirdParty, .afterEscalation, .afterTransfer:
            outcome = [.keepOpen, .askCustomer, .solve][Self.laterOutcomes.pick(&random)]
        }
        if ticket.agentMessages >= 6 { outcome = .solve }
        if ticket.channel == .phone, stage == .duringCall, outcome == .solve {
            postAgentMessage(&ticket, at: time, by: agent, Phrases.callSummary.pick(language, &random), status: .solved)
            return planAfterSolved(&ticket, at: time)
        }
        switch outcome {
        case .keepOpen:
            let text = ticket.agentMessages == 0 ? Phrases.acknowledge : Phrases.progress
            postAgentMessage(&ticket, at: time, by: agent, text.pick(language, &random), status: .open)
            return planAgentWork(&ticket, .followUp, after: time)
        case .askCustomer:
            postAgentMessage(&ticket, at: time, by: agent, Phrases.askInformation.pick(language, &random),
                             status: .pending)
            return planAfterPending(&ticket, at: time)
        case .solve:
            var body = Phrases.solution.pick(language, &random)
            if stage == .afterThirdParty, let party = ticket.topic.thirdParty?.pick(language, &random) {
                body = Phrases.thirdPartyDone.pick(language, &random).filled("t", with: party)
            }
            postAgentMessage(&ticket, at: time, by: agent, body, status: .solved,
                             attachment: ticket.team == .billing && random.chance(0.3))
            return planAfterSolved(&ticket, at: time)
        }
    }
}
