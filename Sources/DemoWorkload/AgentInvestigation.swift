import SupportDomain

/// What comes with working a ticket before answering it: notes, priority and tag changes,
/// escalation to a second-level team, waiting for a third party.
extension WorkloadSimulator {
    /// Internal notes, priority and tag changes that come with working a ticket.
    mutating func addSideActions(_ ticket: inout LiveTicket, _ stage: AgentStage, at time: Int64, by agent: Int) {
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
            let revised: Priority
            switch ticket.priority {
            case .urgent: revised = .high
            case .low: revised = .normal
            case .normal: revised = random.chance(0.8) ? .high : .low
            case .high: revised = random.chance(0.3) ? .urgent : .normal
            }
            changePriority(&ticket, to: revised, at: time, by: random.chance(0.7) ? actor : random.element(of: roster.managers))
        }
        if stage == .afterThirdParty {
            changeTags(&ticket, removing: [.waitingThirdParty], at: time, by: actor)
        } else if random.chance(0.07) {
            let added = random.element(of: Tag.workflow)
            let removable = Tag.workflow.filter { ticket.has($0) && $0 != added }
            let removed = removable.isEmpty || random.chance(0.5) ? [] : [random.element(of: removable)]
            changeTags(
                &ticket, adding: [added], removing: removed, at: time,
                by: random.chance(0.95) ? actor : roster.admin)
        }
    }

    /// Sometimes hands the ticket to its topic's second-level team (once per ticket).
    mutating func escalateIfNeeded(_ ticket: inout LiveTicket, at time: Int64, by agent: Int) -> Plan? {
        guard let escalation = ticket.topic.escalation, !ticket.escalated, random.chance(0.14) else { return nil }
        let actor = agentActor(agent)
        if random.chance(0.6) {
            postAgentMessage(&ticket, at: time, by: agent, Phrases.escalating.pick(ticket.replyLanguage, &random))
        }
        escalate(&ticket, to: escalation.team, reason: escalation.reason, at: time, by: actor)
        if random.chance(0.4) { changeTags(&ticket, adding: [.escalated], at: time, by: actor) }
        if random.chance(0.35) { assign(&ticket, to: nil, at: time, by: actor) }
        if escalation.team == .abuse, random.chance(0.3) {
            addNote(&ticket, at: time, by: roster.admin, Phrases.abuseReview)
        }
        return planAgentWork(&ticket, .afterEscalation, after: time)
    }

    /// Sometimes puts the ticket on hold while its topic's third party (registrar, datacenter,
    /// mail provider) does its part (once per ticket).
    mutating func waitForThirdPartyIfNeeded(_ ticket: inout LiveTicket, at time: Int64, by agent: Int) -> Plan? {
        guard let thirdParty = ticket.topic.thirdParty, !ticket.wentOnHold, random.chance(0.3) else { return nil }
        let language = ticket.replyLanguage
        let party = thirdParty.pick(language, &random)
        postAgentMessage(
            &ticket, at: time, by: agent,
            Phrases.waitingThirdParty.pick(language, &random).filled("t", with: party), status: .onHold)
        ticket.wentOnHold = true
        if random.chance(0.4) { changeTags(&ticket, adding: [.waitingThirdParty], at: time, by: agentActor(agent)) }
        let answered = time + ResponseTimes.thirdParty.sample(&random)
        if random.chance(0.15) {
            // The customer loses patience first (which reopens the ticket).
            ticket.plannedStage = .afterThirdParty
            ticket.plannedAgentWork = answered
            return Plan(action: .customerMessage(.nudge), time: time + (answered - time) / 2)
        }
        let workTime =
            ticket.priority == .urgent
            ? answered : DeskClock.paris.adding(random.int64(in: 0...45 * Millis.minute), to: answered)
        return Plan(action: .agentWork(.afterThirdParty), time: workTime)
    }
}
