/// Who works a ticket: the assignee when at work, otherwise a colleague who takes it over (the
/// hand-offs at shift change), and moves of misrouted tickets to the right team.
extension WorkloadSimulator {
    /// The agent who acts at `time`: the assignee when on duty (or on call) for the ticket's
    /// team, otherwise a colleague on duty (or on call) to whom the ticket is reassigned.
    mutating func takeOver(_ ticket: inout LiveTicket, at time: Int64) -> Int {
        if let assignee = ticket.assignee, roster.members(of: ticket.team).contains(assignee) {
            if roster.isOnDuty(assignee, at: DeskClock.paris.local(time))
                || (!DeskClock.paris.isOpen(at: time) && roster.onCall(ticket.team, at: time) == assignee)
            {
                return assignee
            }
        }
        let agent = roster.responder(ticket.team, at: time, &random)
        guard ticket.assignee != agent else { return agent }
        let handover = ticket.assignee != nil
        let roll = random.below(100)
        let actor = roll < 75 ? agentActor(agent) : (roll < 90 ? random.element(of: roster.managers) : roster.router)
        if handover, random.chance(0.15) {
            addNote(&ticket, at: time, by: actor, random.element(of: Phrases.handover).filled("a", with: agentActor(agent).id))
        }
        assign(&ticket, to: agent, at: time, by: actor)
        if handover, random.chance(0.1) { changeTags(&ticket, adding: [.handover], at: time, by: actor) }
        return agent
    }

    /// A misrouted ticket moves to another product team, assigned to one of its agents.
    mutating func transfer(_ ticket: inout LiveTicket, at time: Int64, by agent: Int) -> Plan {
        let others = Team.products.filter { $0 != ticket.team }
        let team = others.isEmpty ? ticket.team : random.element(of: others)
        let colleague = roster.responder(team, at: time, &random)
        addNote(&ticket, at: time, by: agentActor(agent), Phrases.wrongQueue.filled("q", with: team.id))
        assign(&ticket, to: colleague, team: team, at: time, by: agentActor(agent))
        return planAgentWork(&ticket, .afterTransfer, after: time)
    }
}
