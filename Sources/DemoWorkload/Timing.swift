/// How long people take: agents by priority (in business time, except for urgent tickets), and
/// customers, third parties and automations (in calendar time).
enum ResponseTimes {
    private static let m = Millis.minute
    private static let h = Millis.hour
    private static let d = Millis.day

    /// Calendar time to pick up an urgent ticket, day or night (target: 1 h).
    static let urgent = DelayDistribution([(75, 2 * m...20 * m), (20, 20 * m...50 * m), (5, 50 * m...150 * m)])
    /// Business time to answer a high-priority ticket (target: 4 h).
    static let high = DelayDistribution([(70, 5 * m...2 * h), (25, 2 * h...5 * h), (5, 5 * h...10 * h)])
    /// Business time to answer a normal ticket (target: 8 h).
    static let normal = DelayDistribution([(55, 15 * m...3 * h), (35, 3 * h...8 * h), (10, 8 * h...16 * h)])
    /// Business time to answer a low-priority ticket (target: 24 h).
    static let low = DelayDistribution([(45, 1 * h...8 * h), (40, 8 * h...24 * h), (15, 24 * h...40 * h)])
    /// An agent in a live chat.
    static let chat = DelayDistribution([(90, 1 * m...8 * m), (10, 8 * m...25 * m)])
    /// The length of a phone call before the agent writes it up.
    static let call = DelayDistribution([(100, 3 * m...15 * m)])
    /// A second-level team taking over (business time).
    static let escalation = DelayDistribution([(60, 30 * m...4 * h), (40, 4 * h...12 * h)])
    /// The new team of a misrouted ticket taking it over (business time).
    static let transfer = DelayDistribution([(100, 10 * m...90 * m)])
    /// A customer answering a question.
    static let customer = DelayDistribution([
        (25, 3 * m...30 * m), (35, 30 * m...4 * h), (25, 4 * h...24 * h),
        (15, 1 * d...4 * d),
    ])
    /// A customer in a live chat.
    static let chatCustomer = DelayDistribution([(100, 1 * m...6 * m)])
    /// A registrar, datacenter or mail provider getting back to the desk.
    static let thirdParty = DelayDistribution([(40, 2 * h...10 * h), (40, 10 * h...2 * d), (20, 2 * d...5 * d)])
    /// A customer rating a reply after the ticket is solved.
    static let rating = DelayDistribution([(50, 5 * m...3 * h), (35, 3 * h...24 * h), (15, 1 * d...3 * d)])
    /// A customer finding the solved problem back.
    static let reopening = DelayDistribution([(100, 1 * h...3 * d)])
    /// The automation closing a solved ticket: four days, at its next hourly run.
    static let closing = DelayDistribution([(100, 4 * d...4 * d + 2 * h)])
    /// The automation solving a ticket left pending without an answer.
    static let abandonment = DelayDistribution([(100, 5 * d...5 * d + 2 * h)])
    /// An agent reminding a silent customer (business time).
    static let reminder = DelayDistribution([(100, 20 * h...24 * h)])
    /// A customer revising a rating after the ticket closed.
    static let revision = DelayDistribution([(100, 1 * d...10 * d)])
}

extension WorkloadSimulator {
    /// When an agent gets to `ticket` for `stage`, counted from `time`.
    mutating func agentTime(for ticket: LiveTicket, _ stage: AgentStage, after time: Int64) -> Int64 {
        if ticket.priority == .urgent {
            return time + ResponseTimes.urgent.sample(&random)
        }
        switch stage {
        case .duringCall:
            return time + ResponseTimes.call.sample(&random)
        case .afterTransfer:
            return DeskClock.paris.adding(ResponseTimes.transfer.sample(&random), to: time)
        case .afterEscalation:
            return DeskClock.paris.adding(ResponseTimes.escalation.sample(&random), to: time)
        case .firstResponse, .afterCustomer, .followUp, .afterThirdParty:
            if ticket.channel == .chat, stage != .followUp, DeskClock.paris.isOpen(at: time) {
                return time + ResponseTimes.chat.sample(&random)
            }
            let delay: Int64
            switch ticket.priority {
            case .high: delay = ResponseTimes.high.sample(&random)
            case .normal, .urgent: delay = ResponseTimes.normal.sample(&random)
            case .low: delay = ResponseTimes.low.sample(&random)
            }
            return DeskClock.paris.adding(stage == .afterThirdParty ? delay / 4 : delay, to: time)
        }
    }

    /// When the customer of `ticket` writes back, counted from `time`: chat customers at once,
    /// others after a while, rarely between midnight and 07:00.
    mutating func customerTime(for ticket: LiveTicket, after time: Int64) -> Int64 {
        if ticket.channel == .chat, DeskClock.paris.isOpen(at: time) {
            return time + ResponseTimes.chatCustomer.sample(&random)
        }
        let candidate = time + ResponseTimes.customer.sample(&random)
        let local = DeskClock.paris.local(candidate)
        guard local.millisOfDay < 7 * Millis.hour, random.chance(0.85) else { return candidate }
        let morning = random.int64(in: 7 * Millis.hour...10 * Millis.hour)
        return DeskClock.paris.instant(day: local.day, millisOfDay: morning)
    }
}
