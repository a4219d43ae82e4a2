/// What customers do after opening: answer, nudge, report a problem back, rate the replies.
extension WorkloadSimulator {
    /// Scores 1 … 5 of a content customer and of one who had to chase the desk.
    private static let contentScores = WeightedChoice([4, 4, 9, 28, 55])
    private static let annoyedScores = WeightedChoice([14, 12, 20, 28, 26])

    mutating func customerMessage(_ ticket: inout LiveTicket, _ intent: CustomerIntent, at time: Int64) -> Plan? {
        let language = ticket.language
        switch intent {
        case .nudge:
            ticket.frustration += 1
            postCustomerMessage(&ticket, at: time, withEmoji(Phrases.nudge.pick(language, &random)))
            if ticket.status == .open, ticket.plannedStage == .afterThirdParty {
                // A nudge on hold reopened the ticket: an agent answers it as a new message.
                return planAgentWork(&ticket, .afterCustomer, after: time)
            }
            return Plan(action: .agentWork(ticket.plannedStage), time: max(time, ticket.plannedAgentWork))
        case .answer:
            ticket.customerConfirmed = random.chance(0.45)
            if ticket.customerConfirmed {
                postCustomerMessage(&ticket, at: time, withEmoji(Phrases.works.pick(language, &random)))
            } else if random.chance(0.6) {
                postCustomerMessage(
                    &ticket, at: time, Phrases.information.pick(language, &random),
                    attachmentCount: random.chance(0.2) ? 1 : 0)
            } else {
                ticket.frustration += 1
                postCustomerMessage(&ticket, at: time, Phrases.stillBroken.pick(language, &random))
            }
            return planAgentWork(&ticket, .afterCustomer, after: time)
        case .reopen:
            ticket.frustration += 1
            ticket.customerConfirmed = false
            postCustomerMessage(
                &ticket, at: time, Phrases.reopening.pick(language, &random),
                attachmentCount: random.chance(0.1) ? 1 : 0)
            return planAgentWork(&ticket, .afterCustomer, after: time)
        }
    }

    /// The customer rates an agent reply, or (`revision`) changes the score of the reply they
    /// rated; the ticket then goes on to its closing.
    mutating func rate(_ ticket: inout LiveTicket, revision: Bool, at time: Int64) -> Plan? {
        guard ticket.agentMessages > 0 else { return ticket.status == .solved ? Plan(action: .close, time: ticket.closeAt) : nil }
        let score: Int
        let reply: Int64?
        if revision, ticket.ratedReply != 0 {
            // Second thoughts: a score different from the first one.
            var revised = (ticket.frustration > 0 ? Self.annoyedScores : Self.contentScores).pick(&random) + 1
            if revised == ticket.ratedScore { revised = revised == 5 ? 4 : revised + 1 }
            score = revised
            reply = ticket.ratedReply
        } else {
            score = (ticket.frustration > 0 ? Self.annoyedScores : Self.contentScores).pick(&random) + 1
            let choice = random.below(100)
            if choice < 55 {
                reply = nil
                ticket.ratedReply = ticket.latestAgentMessage
            } else {
                let version = choice < 90 ? ticket.latestAgentMessage : ticket.firstAgentMessage
                reply = version
                ticket.ratedReply = version
            }
        }
        ticket.ratedScore = score
        let comment: String?
        switch score {
        case 4...5: comment = random.chance(0.3) ? withEmoji(Phrases.praise.pick(ticket.language, &random)) : nil
        case 3: comment = random.chance(0.4) ? Phrases.lukewarm.pick(ticket.language, &random) : nil
        default: comment = random.chance(0.6) ? Phrases.complaint.pick(ticket.language, &random) : nil
        }
        recordRating(&ticket, score: score, reply: reply, comment: comment, at: time)
        guard ticket.status == .solved else { return nil }
        return Plan(action: .close, time: ticket.closeAt)
    }

    /// `text`, with an emoji now and then.
    private mutating func withEmoji(_ text: String) -> String {
        random.chance(0.04) ? text + random.element(of: Phrases.emoji) : text
    }
}
