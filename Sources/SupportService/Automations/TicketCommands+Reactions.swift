import EventLog
import SupportDomain

extension TicketCommands {
    /// What became of a reaction's append.
    package enum ReactionOutcome: Sendable {
        /// Appended: the ticket after it.
        case appended(Ticket)
        /// The ticket changed since it was read: decide again on its new state.
        case changed
    }

    /// Appends the events of one automatic reaction on `ticket`, as `system`, atomically, at the
    /// clock (raised to the ticket's last `at`), only if the ticket is still at the version it
    /// was decided on. Each event passes the rules (``TicketRules/decide(_:on:at:)``) like any
    /// command's.
    package func react(_ events: [TicketEvent], on ticket: Ticket, by actor: SupportActor) async throws(ServiceError) -> ReactionOutcome {
        let at = max(clock(), ticket.lastAt)
        var after = ticket
        for event in events {
            do {
                let decided = try TicketRules.decide(TicketCommand(event: event, actor: actor), on: after, at: at)
                for e in decided { after.apply(e, version: after.version + 1, at: at, actor: actor) }
            } catch {
                throw ServiceError(error)
            }
        }
        let request = AppendRequest(
            stream: ticket.id,
            events: events.map { ProposedEvent(type: $0.kind.rawValue, at: nil, actor: actor.eventActor, data: $0.data) },
            expectedVersion: .exactly(ticket.version))
        let result: AppendResult
        do {
            result = try await append(request)
        } catch .wrongExpectedVersion {
            return .changed
        } catch {
            throw ServiceError(error)
        }
        await projections.waitUntilApplied(result.lastSeq)
        guard let appended = Self.ticket(after: ticket, events: events, result: result) else {
            throw ServiceError(.internalError, "the reaction's events make no ticket")
        }
        cache.store(appended)
        return .appended(appended)
    }
}
