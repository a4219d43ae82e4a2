import EventLog
import Projections
import SupportDomain
import Synchronization

extension TicketCommands {
    /// POST /v1/queues/{team}/claim: assigns the first unassigned ticket of the team's queue to
    /// the calling agent; nil when the queue has none.
    ///
    /// The ticket is chosen by the log's writer inside the write transaction, from the queue as it
    /// stands at that moment, so agents claiming at once each get their own ticket, in queue order,
    /// and a claim never fails because others claim too (a whole team claims at shift start).
    ///
    /// Under an `idempotency` key (the agent console's Take next: a double click or a reload),
    /// a claim already answered answers again with the ticket it claimed, and claims nothing more.
    package func claim(team: String, principal: Principal, idempotency: IdempotencyKey? = nil) async throws(ServiceError) -> WriteReply? {
        guard principal.role == .agent, let actor = principal.actor else {
            throw .forbidden("only an agent may claim a ticket")
        }
        if let idempotency {
            switch try await IdempotentAnswers(store: store).lookUp(idempotency.key, fingerprint: idempotency.fingerprint) {
            case .answered(let reply): return reply
            case .reused: throw .conflict("this Take next was already used for another request")
            case .unused: break
            }
        }
        // Everything acknowledged before this claim is applied first, so the writer has only the
        // few events committed since then to look at beside the projection.
        if let head = try? store.head.seq { await projections.waitUntilApplied(head) }
        let event = TicketEvent.assigned(.init(agent: principal.id))
        let chosen = Mutex<Ticket?>(nil)
        let projections = self.projections, levels = self.levels
        var request = AppendRequest(decidedBy: { snapshot, _ in
            guard let ticket = try Self.firstClaimable(inTeam: team, snapshot: snapshot, projections: projections, levels: levels) else {
                return nil
            }
            chosen.withLock { $0 = ticket }
            return DecidedAppend(
                stream: ticket.id,
                events: [ProposedEvent(type: event.kind.rawValue, actor: actor.eventActor, data: event.data)],
                expectedVersion: .exactly(ticket.version))
        })
        if var key = idempotency {
            key.response = { result in
                guard let before = chosen.withLock({ $0 }) else { return [] }
                return Self.answer(before: before, events: [event], result: result, viewer: principal, levels: levels, status: 200)?
                    .answer.encoded() ?? []
            }
            request.idempotency = key
        }
        let result: AppendResult
        do { result = try await append(request) } catch { throw ServiceError(error) }
        guard !result.events.isEmpty, let ticket = chosen.withLock({ $0 }) else { return nil }
        await projections.waitUntilApplied(result.lastSeq)
        return try reply(for: result, before: ticket, events: [event], viewer: principal, levels: levels, status: 200)
    }

    /// The first unassigned ticket of `team`'s queue in the log as `snapshot` holds it (runs in the
    /// write transaction). The projection knows the queue up to its applied seq; the tickets that
    /// changed after it are folded from the snapshot and placed by the same queue order.
    package static func firstClaimable(
        inTeam team: String, snapshot: LogSnapshot, projections: ProjectionRunner,
        levels: ServiceLevels
    ) throws -> Ticket? {
        try projections.read { projection in
            // Keyed by UTF-8 bytes: identifiers are compared by code point (SPEC §2.1).
            var changed = Set<[UInt8]>()
            var changedIDs: [String] = []
            try snapshot.forEachEvent(after: projection.appliedSeq) { event in
                if StreamName.isTicket(event.stream), changed.insert(Array(event.stream.utf8)).inserted { changedIDs.append(event.stream) }
                return true
            }
            var best: (ticket: Ticket?, position: QueuePosition)?
            for id in changedIDs {
                guard let ticket = try Ticket.fold(snapshot.events(inStream: id)), ticket.assignee == nil,
                    Identifier.same(ticket.team, team), let position = ticket.queuePosition(levels: levels)
                else { continue }
                if best == nil || QueuePosition.precedes(position, best!.position) { best = (ticket, position) }
            }
            if let unchanged = projection.firstUnassignedTicket(inTeam: team, skipping: { changed.contains(Array($0.utf8)) }),
                best == nil || QueuePosition.precedes(unchanged, best!.position)
            {
                best = (nil, unchanged)
            }
            guard let best else { return nil }
            if let ticket = best.ticket { return ticket }
            return try Ticket.fold(snapshot.events(inStream: best.position.id))
        }
    }
}
