/// The router, reminders, automatic solving and closing, and the plans that chain a ticket's
/// life from one action to the next.
extension WorkloadSimulator {
    /// The router tags a new ticket and assigns it to an agent on duty; out of hours it pages
    /// the on-call agent for an urgent ticket.
    mutating func triage(_ ticket: inout LiveTicket, at time: Int64) -> Plan? {
        var tags = ticket.topic.tags
        if ticket.customer < customers.keyAccounts { tags.append(.vip) }
        if random.chance(0.75) { changeTags(&ticket, adding: tags, at: time, by: roster.router) }
        if ticket.priority == .urgent, !DeskClock.paris.isOpen(at: time) {
            let agent = roster.onCall(ticket.team, at: time)
            addNote(
                &ticket, at: time, by: roster.router,
                Phrases.pager.filled("a", with: agentActor(agent).id))
            assign(&ticket, to: agent, at: time, by: roster.router)
        } else if random.chance(0.45), let agent = roster.onDuty(ticket.team, at: time, &random) {
            assign(&ticket, to: agent, at: time, by: roster.router)
        }
        return planAgentWork(&ticket, .firstResponse, after: time)
    }

    /// The next agent work on `ticket`; a customer kept waiting long sometimes nudges first.
    mutating func planAgentWork(_ ticket: inout LiveTicket, _ stage: AgentStage, after time: Int64) -> Plan {
        let workTime = agentTime(for: ticket, stage, after: time)
        let customerWaits = stage == .firstResponse || stage == .afterCustomer || stage == .followUp
        if customerWaits, workTime - time > 6 * Millis.hour, random.chance(0.25) {
            ticket.plannedAgentWork = workTime
            ticket.plannedStage = stage
            let wait = Double(workTime - time) * (0.3 + 0.4 * random.unit())
            return Plan(action: .customerMessage(.nudge), time: time + Int64(wait))
        }
        return Plan(action: .agentWork(stage), time: workTime)
    }

    /// After a question to the customer: usually an answer; otherwise a reminder, then the
    /// automation solves the ticket.
    mutating func planAfterPending(_ ticket: inout LiveTicket, at time: Int64) -> Plan {
        if random.chance(0.72) {
            return Plan(action: .customerMessage(.answer), time: customerTime(for: ticket, after: time))
        }
        if random.chance(0.5) {
            return Plan(
                action: .pendingReminder,
                time: DeskClock.paris.adding(ResponseTimes.reminder.sample(&random), to: time))
        }
        return Plan(action: .autoSolve, time: time + ResponseTimes.abandonment.sample(&random))
    }

    /// After a solve: sometimes the problem comes back; often the customer rates the answer;
    /// the automation closes the ticket four days later.
    mutating func planAfterSolved(_ ticket: inout LiveTicket, at time: Int64, customerSilent: Bool = false) -> Plan {
        ticket.closeAt = time + ResponseTimes.closing.sample(&random)
        if !customerSilent, random.chance(0.09) {
            let reopening = min(time + ResponseTimes.reopening.sample(&random), ticket.closeAt - Millis.hour)
            return Plan(action: .customerMessage(.reopen), time: reopening)
        }
        if ticket.agentMessages > 0, ticket.ratedReply == 0 || random.chance(0.3),
            random.chance(customerSilent ? 0.08 : 0.45)
        {
            let rating = min(time + ResponseTimes.rating.sample(&random), ticket.closeAt - Millis.minute)
            return Plan(action: .rating(revision: false), time: rating)
        }
        return Plan(action: .close, time: ticket.closeAt)
    }

    /// An agent reminds a customer who has not answered.
    mutating func pendingReminder(_ ticket: inout LiveTicket, at time: Int64) -> Plan? {
        let agent = roster.responder(ticket.team, at: time, &random)
        postAgentMessage(&ticket, at: time, by: agent, Phrases.reminder.pick(ticket.replyLanguage, &random))
        if random.chance(0.4) {
            return Plan(action: .customerMessage(.answer), time: customerTime(for: ticket, after: time))
        }
        return Plan(action: .autoSolve, time: time + 3 * Millis.day + random.int64(in: 0...Millis.hour))
    }

    /// The automation solves a ticket the customer never answered.
    mutating func autoSolve(_ ticket: inout LiveTicket, at time: Int64) -> Plan? {
        changeStatus(&ticket, to: .solved, at: time, by: roster.autoSolver)
        return planAfterSolved(&ticket, at: time, customerSilent: true)
    }

    /// The automation closes a solved ticket; a rating may still come, or be revised, later.
    mutating func close(_ ticket: inout LiveTicket, at time: Int64) -> Plan? {
        changeStatus(&ticket, to: .closed, at: time, by: roster.autoCloser)
        if ticket.ratedReply != 0, random.chance(0.15) {
            return Plan(action: .rating(revision: true), time: time + ResponseTimes.revision.sample(&random))
        }
        if ticket.ratedReply == 0, ticket.agentMessages > 0, random.chance(0.04) {
            return Plan(action: .rating(revision: false), time: time + ResponseTimes.revision.sample(&random))
        }
        return nil
    }
}
