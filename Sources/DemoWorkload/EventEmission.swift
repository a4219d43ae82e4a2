import EventLog
import SupportDomain

/// The events a simulated action appends, each applied to the ticket by the domain's own fold
/// (``Ticket``), so the generator's view of a ticket is the server's (SPEC §2.2).
extension WorkloadSimulator {
    func agentActor(_ agent: Int) -> SupportActor { roster.agents[agent].actor }

    /// `message.posted` by an agent, then `status.changed` to `status` (same instant) when that
    /// is a change.
    mutating func postAgentMessage(
        _ ticket: inout LiveTicket, at time: Int64, by agent: Int, _ body: String,
        status: TicketStatus? = nil, attachment: Bool = false
    ) {
        let message = TicketEvent.MessagePosted(body: body, attachments: attachment ? attachments(count: 1) : nil)
        record(.messagePosted(message), &ticket, at: time, by: agentActor(agent))
        if let status { changeStatus(&ticket, to: status, at: time, by: agentActor(agent)) }
    }

    /// `message.posted` by the ticket's customer (which reopens a pending, on-hold or solved ticket).
    mutating func postCustomerMessage(
        _ ticket: inout LiveTicket, at time: Int64, _ body: String,
        attachmentCount: Int = 0
    ) {
        let message = TicketEvent.MessagePosted(
            body: body,
            attachments: attachmentCount > 0 ? attachments(count: attachmentCount) : nil)
        record(.messagePosted(message), &ticket, at: time, by: customers.actors[ticket.customer])
    }

    mutating func addNote(_ ticket: inout LiveTicket, at time: Int64, by actor: SupportActor, _ body: String) {
        record(.noteAdded(TicketEvent.NoteAdded(body: body)), &ticket, at: time, by: actor)
    }

    /// `ticket.assigned`: `agent` nil unassigns; `team` also moves the ticket.
    mutating func assign(
        _ ticket: inout LiveTicket, to agent: Int?, team: Team? = nil, at time: Int64,
        by actor: SupportActor
    ) {
        if let team { ticket.team = team }
        record(
            .assigned(TicketEvent.Assigned(agent: agent.map { agentActor($0).id }, team: team?.id)), &ticket,
            at: time, by: actor)
        ticket.assignee = agent
    }

    mutating func changePriority(
        _ ticket: inout LiveTicket, to priority: Priority, at time: Int64,
        by actor: SupportActor
    ) {
        record(.priorityChanged(priority), &ticket, at: time, by: actor)
    }

    /// `status.changed`, only when it is a change the rules allow (never to the current status,
    /// never from `closed`, never to `new`).
    mutating func changeStatus(
        _ ticket: inout LiveTicket, to status: TicketStatus, at time: Int64,
        by actor: SupportActor
    ) {
        guard status != ticket.status, status != .new, ticket.status != .closed else { return }
        record(.statusChanged(status), &ticket, at: time, by: actor)
    }

    mutating func escalate(
        _ ticket: inout LiveTicket, to team: Team, reason: String, at time: Int64,
        by actor: SupportActor
    ) {
        record(.escalated(TicketEvent.Escalated(team: team.id, reason: reason)), &ticket, at: time, by: actor)
        ticket.team = team
        ticket.escalated = true
    }

    /// `tags.changed` adding the tags the ticket lacks and removing those it has (nothing when
    /// that leaves both lists empty).
    mutating func changeTags(
        _ ticket: inout LiveTicket, adding: [Tag] = [], removing: [Tag] = [], at time: Int64,
        by actor: SupportActor
    ) {
        var added: [String] = []
        var removed: [String] = []
        for tag in adding where !ticket.has(tag) && !added.contains(tag.id) { added.append(tag.id) }
        for tag in removing where ticket.has(tag) && !removed.contains(tag.id) { removed.append(tag.id) }
        guard !added.isEmpty || !removed.isEmpty else { return }
        record(.tagsChanged(TicketEvent.TagsChanged(added: added, removed: removed)), &ticket, at: time, by: actor)
    }

    /// `ticket.merged` into `target`: the ticket is closed.
    mutating func merge(_ ticket: inout LiveTicket, into target: LiveTicket, at time: Int64, by actor: SupportActor) {
        record(.merged(into: target.id), &ticket, at: time, by: actor)
    }

    /// `satisfaction.rated` by the customer; `reply` nil rates the latest agent message.
    mutating func recordRating(
        _ ticket: inout LiveTicket, score: Int, reply: Int64?, comment: String?,
        at time: Int64
    ) {
        let rating = TicketEvent.SatisfactionRated(score: score, comment: comment, reply: reply.map { UInt64($0) })
        record(.satisfactionRated(rating), &ticket, at: time, by: customers.actors[ticket.customer])
    }

    /// `count` attachments as the log describes them (name, size, content type, SHA-256).
    mutating func attachments(count: Int) -> [Attachment] {
        var list: [Attachment] = []
        for _ in 0..<count {
            let kind = random.element(of: Phrases.attachments)
            let size = random.int64(in: kind.sizes)
            list.append(Attachment(name: kind.name, size: size, contentType: kind.contentType, sha256: randomDigest()))
        }
        return list
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
