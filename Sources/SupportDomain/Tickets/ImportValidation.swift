import EventLog

/// Checks a sequence of events given in log order (an import, the demo data) against the same
/// rules as live commands, folding the tickets as it goes, so that the whole input can be
/// validated before anything is appended.
package struct ImportValidation {
    /// Reads a ticket already in the log (nil when it does not exist).
    package typealias Lookup = (String) throws -> Ticket?

    // Keyed by UTF-8 bytes: Swift's String equality would merge canonically equivalent ids.
    private var tickets: [[UInt8]: Ticket] = [:]
    private let lookup: Lookup
    private let now: Timestamp
    private let keepsThreads: Bool
    private let limits: InputLimits

    /// - Parameters:
    ///   - now: the server clock; no event may be after it.
    ///   - limits: the sizes an event may have (the policy's, as for commands).
    ///   - keepsThreads: false to hold the tickets without their threads (no message bodies):
    ///     the rules never read them, and a large import then holds only a compact state per ticket.
    ///   - lookup: the tickets already in the log.
    package init(now: Timestamp, limits: InputLimits, keepsThreads: Bool = true, lookup: @escaping Lookup) {
        self.now = now
        self.limits = limits
        self.keepsThreads = keepsThreads
        self.lookup = lookup
    }

    private mutating func hold(_ ticket: Ticket) {
        tickets[Array(ticket.id.utf8)] = keepsThreads ? ticket : ticket.withoutThread()
    }

    /// The tickets this input opened or changed, in their state after it.
    /// (Canonically equivalent ids would share a key here; use ``touchedTicket(_:)`` for exact lookups.)
    package var touchedTickets: [String: Ticket] {
        Dictionary(tickets.values.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The state of a ticket this input opened or changed, by exact id.
    package func touchedTicket(_ id: String) -> Ticket? { tickets[Array(id.utf8)] }

    private mutating func ticket(_ id: String) throws(DomainError) -> Ticket? {
        if let t = tickets[Array(id.utf8)] { return t }
        do {
            let found = try lookup(id)
            if let found { hold(found) }
            return found
        } catch let error as DomainError {
            throw error
        } catch {
            throw DomainError(.conflict, "ticket \(id) cannot be read: \(error)")
        }
    }

    /// An event that passed the checks of its own line (``check(ticket:type:at:actor:data:limits:now:)``):
    /// typed, with its actor.
    package struct CheckedEvent: Sendable {
        package var event: TicketEvent
        package var actor: SupportActor
    }

    /// The checks of one event that do not depend on any ticket: its ids, actor, type and data,
    /// sizes and clock. They may run ahead of ``add(_:ticket:at:version:)``, on any thread, in
    /// any order; the first failure in log order is then the one ``add`` would have found.
    package static func check(
        ticket id: String, type: String, at: Timestamp, actor eventActor: EventActor, data: JSONValue,
        limits: InputLimits, now: Timestamp
    ) throws(DomainError) -> CheckedEvent {
        if let problem = Identifier.problem(with: id) { throw .badRequest("\"ticket\" \(problem)") }
        guard let actor = SupportActor(eventActor) else {
            throw .badRequest("\"actor.kind\" must be one of \(ActorKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let problem = Identifier.problem(with: actor.id) { throw .badRequest("\"actor.id\" \(problem)") }
        let event = try TicketEvent(type: type, data: data)
        try limits.check(event)
        if at > now { throw .conflict("at \(at) is after the server clock (\(now))") }
        return CheckedEvent(event: event, actor: actor)
    }

    /// The server clock and sizes this validation checks against (for ``check(ticket:type:at:actor:data:limits:now:)``).
    package var clock: (limits: InputLimits, now: Timestamp) { (limits, now) }

    /// Checks one event and folds it in; returns it typed. 400 for malformed input, 409 for
    /// every rule violation (who may write included, per SPEC §7's import rules).
    package mutating func add(
        ticket id: String, type: String, at: Timestamp, actor eventActor: EventActor,
        data: JSONValue, version: UInt64? = nil
    ) throws(DomainError) -> TicketEvent {
        let checked = try Self.check(ticket: id, type: type, at: at, actor: eventActor, data: data, limits: limits, now: now)
        return try add(checked, ticket: id, at: at, version: version)
    }

    /// Checks an event that passed ``check(ticket:type:at:actor:data:limits:now:)`` against its
    /// ticket and folds it in (the rest of ``add(ticket:type:at:actor:data:version:)``).
    package mutating func add(
        _ checked: CheckedEvent, ticket id: String, at: Timestamp, version: UInt64?
    ) throws(DomainError) -> TicketEvent {
        let event = checked.event, actor = checked.actor
        let command = TicketCommand(event: event, actor: actor, at: at)
        let current = try ticket(id)
        let expectedVersion = (current?.version ?? 0) + 1
        if let version, version != expectedVersion {
            throw .conflict("version \(version) is not the next version of \(id) (\(expectedVersion))")
        }
        do throws(DomainError) {
            if let current {
                _ = try TicketRules.decide(command, on: current, at: at)
                if case .merged(let into) = event {
                    try TicketRules.checkMergeTarget(try ticket(into), into: into, at: at)
                }
            } else {
                guard case .opened = event else { throw DomainError.conflict("ticket \(id) does not exist") }
                _ = try TicketRules.decideOpening(command)
            }
            var fold = TicketFold(current)
            try fold.apply(event, ticket: id, version: expectedVersion, at: at, actor: actor)
            if let next = fold.ticket { hold(next) }
        } catch {
            // In an import every rule violation, who may write included, is a 409.
            throw error.kind == .forbidden ? DomainError(.conflict, error.detail) : error
        }
        return event
    }
}
