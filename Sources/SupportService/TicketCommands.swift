import Crypto
import EventLog
import Projections
import SupportDomain

/// Runs the write commands: decides a command against the ticket's current state and appends
/// with an expected version so a concurrent write is detected (retried, or 412 under
/// `If-Match`). The HTTP edge parses the request and checks it in the order SPEC §7 answers;
/// what it hands over here is a command, the principal and what the request expects.
package struct TicketCommands: Sendable {
    let store: EventStore
    let levels: ServiceLevels
    package let directory: TicketDirectory
    let projections: ProjectionRunner
    let appendObserver: AppendObserver
    let clock: @Sendable () -> Timestamp

    /// Appends and tells the observer how long it took (`ledgerdesk_append_duration_seconds`).
    func append(_ request: AppendRequest) async throws(EventLogError) -> AppendResult {
        let start = ContinuousClock.now
        defer { appendObserver.record(ContinuousClock.now - start) }
        return try await store.append(request)
    }

    /// Bodies over this are 413 (SPEC §7: 1 MiB).
    package static let maximumBody = 1 << 20
    /// How often a command is re-decided after losing a race to another write.
    static let maximumAttempts = 16

    /// Recently written tickets, so a command does not fold the whole stream again.
    package let cache = TicketCache()

    /// Reads a ticket's current state: from the cache when it holds the stream's current
    /// version (one index lookup), else by folding the stream.
    package func load(_ id: String) throws(ServiceError) -> Ticket? {
        // `$webhooks` and any other `$` stream hold no ticket.
        guard StreamName.isTicket(id) else { return nil }
        do {
            let version = try store.read { try $0.version(of: id) }
            guard version > 0 else { return nil }
            if let cached = cache.ticket(id), cached.version == version { return cached }
            let ticket = try Ticket.fold(try store.events(inStream: id))
            if let ticket { cache.store(ticket) }
            return ticket
        } catch let error as DomainError {
            throw ServiceError(.unavailable, "ticket \(id) cannot be read: \(error.detail)")
        } catch let error as EventLogError {
            throw ServiceError(error)
        } catch {
            throw ServiceError(.unavailable, "\(error)")
        }
    }

    /// A ticket the principal may see, or 404 (another customer's ticket looks exactly like a missing one).
    package func visibleTicket(_ id: String, to principal: Principal) throws(ServiceError) -> Ticket {
        guard let ticket = try load(id), principal.role != .customer || Identifier.same(ticket.customer, principal.id) else {
            throw .notFound("ticket \(id) not found")
        }
        return ticket
    }

    /// Runs a parsed command: against `ticket` (nil: opens a new one), with the version the
    /// request expects (`If-Match`), remembered under `idempotency` for a retry.
    package func run(
        _ command: TicketCommand, on ticket: Ticket?, principal: Principal, idempotency: IdempotencyKey?,
        expectedVersion: UInt64?
    ) async throws(ServiceError) -> WriteReply {
        if let ticket {
            if let expectedVersion, expectedVersion != ticket.version {
                throw ServiceError(.preconditionFailed, "ticket \(ticket.id) is at version \(ticket.version), not \(expectedVersion)")
            }
            return try await change(
                ticket, command: command, principal: principal, idempotency: idempotency,
                ifMatch: expectedVersion != nil)
        }
        if expectedVersion != nil { throw ServiceError(.preconditionFailed, "If-Match cannot match a ticket that does not exist yet") }
        return try await open(command, principal: principal, idempotency: idempotency)
    }

    /// Checks a back-dated `at` against the clock (SPEC §7: between the ticket's last `at` and now).
    private func checkBackdating(_ command: TicketCommand, now: Timestamp) throws(ServiceError) {
        if let at = command.at, at > now {
            throw .conflict("at \(at) is after the server clock (\(now))")
        }
    }

    private func change(
        _ initial: Ticket, command: TicketCommand, principal: Principal, idempotency: IdempotencyKey?,
        ifMatch: Bool
    ) async throws(ServiceError) -> WriteReply {
        var ticket = initial
        for _ in 0..<Self.maximumAttempts {
            let now = clock()
            try checkBackdating(command, now: now)
            let at = command.at ?? max(now, ticket.lastAt)
            let events: [TicketEvent]
            do { events = try TicketRules.decide(command, on: ticket, at: at) } catch { throw ServiceError(error) }
            var precondition: AppendRequest.Precondition?
            if case .merged(let into) = command.event {
                do { try TicketRules.checkMergeTarget(try load(into), into: into, at: at) } catch let error as DomainError {
                    throw ServiceError(error)
                } catch let error as ServiceError {
                    throw error
                } catch {
                    throw ServiceError(.unavailable, "\(error)")
                }
                precondition = { snapshot, at in
                    let target = try Ticket.fold(snapshot.events(inStream: into))
                    try TicketRules.checkMergeTarget(target, into: into, at: at)
                }
            }
            let before = ticket
            let levels = self.levels
            var key = idempotency
            key?.response = { result in
                Self.answer(before: before, events: events, result: result, viewer: principal, levels: levels, status: 200)?
                    .answer.encoded() ?? []
            }
            let request = AppendRequest(
                stream: ticket.id,
                events: events.map {
                    ProposedEvent(type: $0.kind.rawValue, at: command.at, actor: command.actor.eventActor, data: $0.data)
                },
                expectedVersion: .exactly(ticket.version), idempotency: key, precondition: precondition)
            let result: AppendResult
            do {
                result = try await append(request)
            } catch .wrongExpectedVersion {
                if ifMatch { throw ServiceError(.preconditionFailed, "ticket \(ticket.id) changed while this command was decided") }
                ticket = try visibleTicket(ticket.id, to: principal)
                continue
            } catch {
                throw ServiceError(error)
            }
            // The answer goes out once every projection has applied the write (read your writes).
            await projections.waitUntilApplied(result.lastSeq)
            return try reply(for: result, before: before, events: events, viewer: principal, levels: levels, status: 200)
        }
        throw ServiceError(.unavailable, "ticket \(initial.id) is changing too fast; retry")
    }

    private func open(_ command: TicketCommand, principal: Principal, idempotency: IdempotencyKey?) async throws(ServiceError) -> WriteReply
    {
        let events: [TicketEvent]
        do { events = try TicketRules.decideOpening(command) } catch { throw ServiceError(error) }
        try checkBackdating(command, now: clock())
        let levels = self.levels
        var key = idempotency
        key?.response = { result in
            Self.answer(before: nil, events: events, result: result, viewer: principal, levels: levels, status: 201)?
                .answer.encoded() ?? []
        }
        for _ in 0..<Self.maximumAttempts {
            let id = directory.reserve()
            let request = AppendRequest(
                stream: id,
                events: events.map {
                    ProposedEvent(type: $0.kind.rawValue, at: command.at, actor: command.actor.eventActor, data: $0.data)
                },
                expectedVersion: .noStream, idempotency: key)
            let result: AppendResult
            do {
                result = try await append(request)
            } catch .wrongExpectedVersion {
                continue  // the id was taken (e.g. by an import): take the next one
            } catch {
                throw ServiceError(error)
            }
            await projections.waitUntilApplied(result.lastSeq)
            return try reply(for: result, before: nil, events: events, viewer: principal, levels: levels, status: 201)
        }
        throw ServiceError(.unavailable, "no free ticket id found; retry")
    }

    /// The reply to an append: the stored answer again when the log replayed an idempotent
    /// request, else the ticket after the appended events.
    func reply(
        for result: AppendResult, before: Ticket?, events: [TicketEvent], viewer: Principal,
        levels: ServiceLevels, status: Int
    ) throws(ServiceError) -> WriteReply {
        if result.replayed {
            guard let stored = result.response else {
                throw ServiceError(.unavailable, "the stored answer of this idempotency key cannot be read")
            }
            return try IdempotentAnswers(store: store).replay(stored)
        }
        guard
            let (answer, after) = Self.answer(
                before: before, events: events, result: result, viewer: viewer, levels: levels,
                status: status)
        else {
            throw ServiceError(.internalError, "the appended events make no ticket")
        }
        cache.store(after)
        return answer.reply(for: after)
    }

    /// The ticket after the appended events.
    static func ticket(after before: Ticket?, events: [TicketEvent], result: AppendResult) -> Ticket? {
        var fold = TicketFold(before)
        for (event, recorded) in zip(events, result.events) {
            guard let actor = SupportActor(recorded.actor) else { continue }
            try? fold.apply(event, ticket: recorded.stream, version: recorded.version, at: recorded.at, actor: actor)
        }
        return fold.ticket
    }

    /// The answer to the write (the ticket after the appended events) and that ticket; nil when
    /// the events make no ticket.
    static func answer(
        before: Ticket?, events: [TicketEvent], result: AppendResult, viewer: Principal,
        levels: ServiceLevels, status: Int
    ) -> (answer: WriteAnswer, ticket: Ticket)? {
        guard let ticket = ticket(after: before, events: events, result: result), let last = result.events.last else { return nil }
        return (WriteAnswer(ticket: ticket, at: last.recorded, levels: levels, viewer: viewer, status: status), ticket)
    }
}

extension TicketCommands {
    /// The idempotency key of a write, as every edge scopes it (SPEC §7): to the principal's role
    /// and id, with a fingerprint of the request (method, the path as decoded, the body's
    /// bytes), so that a retry of the same request gets the first answer and another request
    /// under the same key is refused. The API and the agent console both go through it, so a key
    /// means the same thing whichever of them sent it.
    /// Whether `key` may be an idempotency key: 1 to 255 printable ASCII characters (SPEC §7).
    package static func isValidIdempotencyKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 255 && key.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    package static func idempotencyKey(
        _ key: String, principal: Principal, method: String, path: String, body: [UInt8]
    ) -> IdempotencyKey {
        var fingerprintInput = Array("\(method)\n\(path)\n".utf8)
        fingerprintInput += body
        let fingerprint = Array(SHA256.hash(data: fingerprintInput))
        return IdempotencyKey(key: "\(principal.role.rawValue)\u{0}\(principal.id)\u{0}\(key)", fingerprint: fingerprint)
    }

    /// The version a form or client that read the ticket at `version` may write at: the
    /// ticket's current version when every event since is one an agent decides nothing on (the
    /// mail outbox's delivery receipts, ``TicketRules/changesWhatAgentsDecideOn(_:)``), else
    /// `version` itself, which then fails its `If-Match` as it should.
    package func version(_ ticket: Ticket, readAt version: UInt64) throws(ServiceError) -> UInt64 {
        guard version < ticket.version else { return version }
        let events: [RecordedEvent]
        do { events = try store.events(inStream: ticket.id) } catch { throw ServiceError(error) }
        let since = events.filter { $0.version > version }
        let unchanged = since.allSatisfy { event in
            TicketEvent.Kind(rawValue: event.type).map { !TicketRules.changesWhatAgentsDecideOn($0) } ?? false
        }
        return unchanged ? ticket.version : version
    }
}
