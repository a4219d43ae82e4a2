import SupportDomain
import EventLog

/// The events a simulated action appends, each updating the ticket's state exactly as the log's
/// rules will (SPEC §2.2).
extension WorkloadSimulator {
    func agentActor(_ agent: Int) -> EventActor { roster.agents[agent].actor }

    /// `message.posted` by an agent, then `status.changed` to `status` (same instant) when that
    /// is a change.
    mutating func postAgentMessage(_ ticket: inout LiveTicket, at time: Int64, by agent: Int, _ body: String,
                                   status: TicketStatus? = nil, attachment: Bool = false) {
        var data: [String: JSONValue] = ["body": .string(body)]
        if attachment { data["attachments"] = attachments(count: 1) }
        record(.messagePosted, &ticket, at: time, by: agentActor(agent), data)
        if ticket.status == .new { ticket.status = .open }
        if ticket.firstAgentMessage == 0 { ticket.firstAgentMessage = ticket.version }
        ticket.latestAgentMessage = ticket.version
        ticket.agentMessages += 1
        if let status { changeStatus(&ticket, to: status, at: time, by: agentActor(agent)) }
    }

    /// `message.posted` by the ticket's customer: reopens a pending, on-hold or solved ticket.
    mutating func postCustomerMessage(_ ticket: inout LiveTicket, at time: Int64, _ body: String,
                                      attachmentCount: Int = 0) {
        var data: [String: JSONValue] = ["body": .string(body)]
        if attachmentCount > 0 { data["attachments"] = attachments(count: attachmentCount) }
        record(.messagePosted, &ticket, at: time, by: customers.actors[ticket.customer], data)
        switch ticket.status {
        case .pending, .onHold, .solved: ticket.status = .open
        case .new, .open, .closed: break
        }
    }

    mutating func addNote(_ ticket: inout LiveTicket, at time: Int64, by actor: EventActor, _ body: String) {
        record(.noteAdded, &ticket, at: time, by: actor, ["body": .string(body)])
    }

    /// `ticket.assigned`: `agent` nil unassigns; `team` also moves the ticket.
    mutating func assign(_ ticket: inout LiveTicket, to agent: Int?, team: Team? = nil, at time: Int64,
                         by actor: EventActor) {
        var data: [String: JSONValue] = ["agent": agent.map { .string(agentActor($0).id) } ?? .null]
        if let team {
            data["team"] = .string(team.id)
            ticket.team = team
        }
        record(.assigned, &ticket, at: time, by: actor, data)
        ticket.assignee = agent
    }

    mutating func changePriority(_ ticket: inout LiveTicket, to priority: Priority, at time: Int64,
                                 by actor: EventActor) {
        record(.priorityChanged, &ticket, at: time, by: actor, ["priority": .string(priority.rawValue)])
        ticket.priority = priority
    }

    /// `status.changed`, only when it is a change the rules allow (never to the current status,
    /// never from `closed`, never to `new`).
    mutating func changeStatus(_ ticket: inout LiveTicket, to status: TicketStatus, at time: Int64,
                               by actor: EventActor) {
        guard status != ticket.status, status != .new, ticket.status != .closed else { return }
        record(.statusChanged, &ticket, at: time, by: actor, ["status": .string(status.rawValue)])
        ticket.status = status
    }

    mutating func escalate(_ ticket: inout LiveTicket, to team: Team, reason: String, at time: Int64,
                           by actor: EventActor) {
        record(.escalated, &ticket, at: time, by: actor, ["team": .string(team.id), "reason": .string(reason)])
        ticket.team = team
        ticket.escalated = true
    }

    /// `tags.changed` adding the tags the ticket lacks and removing those it has (nothing when
    /// that leaves both lists empty).
    mutating func changeTags(_ ticket: inout LiveTicket, adding: [Tag] = [], removing: [Tag] = [], at time: Int64,
                             by actor: EventActor) {
        var added: [JSONValue] = []
        var removed: [JSONValue] = []
        var tags = ticket.tags
        for tag in adding where tags & tag.bit == 0 {
            tags |= tag.bit
            added.append(.string(tag.id))
        }
        for tag in removing where ticket.tags & tag.bit != 0 && tags & tag.bit != 0 {
            tags &= ~tag.bit
            removed.append(.string(tag.id))
        }
        guard !added.isEmpty || !removed.isEmpty else { return }
        record(.tagsChanged, &ticket, at: time, by: actor, ["added": .array(added), "removed": .array(removed)])
        ticket.tags = tags
    }

    /// `ticket.merged` into `target`: the ticket is closed.
    mutating func merge(_ ticket: inout LiveTicket, into target: LiveTicket, at time: Int64, by actor: EventActor) {
        record(.merged, &ticket, at: time, by: actor, ["into": .string(target.id)])
        ticket.status = .closed
    }

    /// `satisfaction.rated` by the customer; `reply` nil rates the latest agent message.
    mutating func recordRating(_ ticket: inout LiveTicket, score: Int, reply: Int64?, comment: String?,
                               at time: Int64) {
        var data: [String: JSONValue] = ["score": .int(Int64(score))]
        if let reply { data["reply"] = .int(reply) }
        if let comment { data["comment"] = .string(comment) }
        record(.satisfactionRated, &ticket, at: time, by: customers.actors[ticket.customer], data)
    }

    /// `count` attachments as the log describes them (name, size, content type, SHA-256).
    mutating func attachments(count: Int) -> JSONValue {
        var list: [JSONValue] = []
        for _ in 0..<count {
            let kind = random.element(of: Phrases.attachments)
            list.append(.object([
                "name": .string(kind.name),
                "size": .int(random.int64(in: kind.sizes)),
                "contentType": .string(kind.contentType),
                "sha256": .string(randomDigest()),
            ]))
        }
        return .array(list)
    }

    /// 64 random lowercase hex digits.
    private mutating func randomDigest() -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for _ in 0..<4 {
            var word = random.next()
            for _ in 0..<16 {
                bytes.append(digits[Int(word & 15)])
                word >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
