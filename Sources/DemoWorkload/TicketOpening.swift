import EventLog
import SupportDomain

/// How new tickets are spread over channels, products, topics and priorities.
enum OpeningMix {
    /// email, web, phone, chat, api (``Channel`` order).
    static let channels = WeightedChoice([45, 28, 9, 12, 6])
    /// domains, hosting, vps, email (``Team/products`` order).
    static let products = WeightedChoice([25, 35, 18, 22])
    /// The indices into ``Topic/catalog`` of each product's topics, and their weights.
    static let topicsByProduct: [(indices: [Int], choice: WeightedChoice)] = Team.products.map { product in
        let indices = Topic.catalog.indices.filter {
            Topic.catalog[$0].product == product && Topic.catalog[$0].weight > 0
        }
        return (indices, WeightedChoice(indices.map { Topic.catalog[$0].weight }))
    }

    /// low, normal, high, urgent for a topic of the given urgency (0 … 8).
    static func priorities(urgency: Int) -> [Int] { [12, 64, 14 + 2 * urgency, 3 * urgency / 2] }
    static let prioritiesByUrgency = (0...8).map { WeightedChoice(priorities(urgency: $0)) }

    /// How often an opening carries attachments, and how many.
    static let attachmentCounts = WeightedChoice([88, 9, 3])
}

extension WorkloadSimulator {
    /// Opens the next ticket at `time`: usually by a customer, by the agent who took the call
    /// for phone tickets, by the monitoring for some API tickets.
    mutating func openTicket(at time: Int64) {
        opened += 1
        let number = opened
        let customer = customers.pick(&random)
        let language = customers.languages[customer]
        let staffed = DeskClock.paris.isOpen(at: time)

        // A customer without an answer sometimes writes again, by another channel.
        var original: LiveTicket?
        if let reference = latestTicketOf[customer], let earlier = liveTicket(reference),
            earlier.status != .closed, time - earlier.openedAt < 2 * Millis.day, random.chance(0.12)
        {
            original = earlier
        }

        var channel = Channel.allCases[OpeningMix.channels.pick(&random)]
        if channel.needsStaff && !staffed { channel = .email }
        if let original, channel == original.channel || channel == .phone || channel == .api {
            channel = original.channel == .email ? .web : .email
        }
        let monitored = original == nil && channel == .api && random.chance(0.35)

        let topicIndex: Int
        if let original {
            topicIndex = original.topicIndex
        } else if monitored {
            topicIndex = Topic.monitoringAlertIndex
        } else {
            let product = OpeningMix.topicsByProduct[OpeningMix.products.pick(&random)]
            topicIndex = product.indices[product.choice.pick(&random)]
        }
        let topic = Topic.catalog[topicIndex]

        let priority: Priority
        if let original {
            priority = original.priority
        } else if monitored {
            priority = random.chance(0.4) ? .urgent : .high
        } else {
            let choice = OpeningMix.prioritiesByUrgency[min(8, max(0, topic.urgency))]
            priority = Priority.allCases[choice.pick(&random)]
        }

        let opener: SupportActor
        var callTaker: Int?
        if channel == .phone {
            let agent = roster.responder(topic.product, at: time, &random)
            callTaker = agent
            opener = agentActor(agent)
        } else if monitored {
            opener = roster.monitoring
        } else {
            opener = customers.actors[customer]
        }

        let domain = customers.domains[customer]
        let host = customers.hosts[customer]
        var subject = topic.subject.pick(language, &random).filled(domain: domain, host: host)
        if original != nil {
            subject = "Re: " + subject
        } else if priority == .urgent, !monitored, random.chance(0.4) {
            subject = (language == .french ? "URGENT : " : "URGENT: ") + subject
        }
        let body: String
        if callTaker != nil {
            body = Phrases.callOpening.pick(language == .french ? .french : .english, &random)
        } else if monitored {
            body = topic.body.pick(language, &random).filled(domain: domain, host: host)
        } else {
            var text = Phrases.greeting.pick(language, &random) + "\n\n"
            if original != nil { text += Phrases.duplicateBody.pick(language, &random) }
            text += topic.body.pick(language, &random).filled(domain: domain, host: host)
            text += "\n\n" + Phrases.signOff.pick(language, &random)
            if random.chance(0.03) { text += random.element(of: Phrases.emoji) }
            body = text
        }

        var openingAttachments: [Attachment]?
        if callTaker == nil, !monitored {
            let count = OpeningMix.attachmentCounts.pick(&random)
            if count > 0 { openingAttachments = attachments(count: count) }
        }
        let opening = TicketEvent.Opened(
            customer: customers.actors[customer].id, subject: subject, body: body,
            channel: channel, product: topic.product.id, priority: priority,
            context: channel == .web ? topic.panelPath : nil,
            attachments: openingAttachments)

        let slot = takeSlot()
        var ticket = LiveTicket(
            slot: slot, number: number, customer: customer, language: language,
            topicIndex: topicIndex, openedByCustomer: callTaker == nil && !monitored,
            duplicateOf: original.map { TicketReference(slot: $0.slot, number: $0.number) },
            team: topic.product,
            state: Ticket(id: "T-\(number)", opened: opening, at: Timestamp(milliseconds: time), by: opener))
        emit(.opened(opening), of: ticket, at: time, by: opener)
        if original == nil { latestTicketOf[customer] = TicketReference(slot: slot, number: number) }

        if let callTaker {
            assign(&ticket, to: callTaker, at: time, by: agentActor(callTaker))
            admit(ticket, plan: Plan(action: .agentWork(.duringCall), time: agentTime(for: ticket, .duringCall, after: time)))
        } else {
            admit(ticket, plan: Plan(action: .triage, time: time + random.int64(in: 20 * Millis.second...4 * Millis.minute)))
        }
    }
}
