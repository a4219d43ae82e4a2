import EventLog

/// One automatic reaction a ticket is owed (issue 14), and the instant it is due.
public struct DueReaction: Sendable, Equatable {
    /// What the reaction is.
    public enum Kind: Sendable, Equatable {
        /// The running interval of the target comes within the lead time of its due instant.
        case warning(SLAMetric)
        /// The running interval of the target breaches.
        case breach(SLAMetric)
        /// The shift of the ticket's assignee ends, and the assignee is on no shift of the team.
        case shiftEnd(shift: String)
        /// The solved ticket has been quiet for the policy's business days.
        case autoClose
    }

    /// What the reaction is.
    public var kind: Kind
    /// The instant it is due.
    public var due: Timestamp
}

/// The automations' decisions (issue 14), from a ticket's state and the policy alone: which
/// reactions the ticket is owed and when, and the events each appends. A pure function of the
/// folded ticket, so that whoever runs it (the runner after a crash, a test) decides the same,
/// and a reaction the log already records is never owed again.
public struct ReactionPlanner: Sendable {
    /// The policy (targets, calendar) whose ``Policy/automations`` are planned.
    public let levels: ServiceLevels
    private var automations: Automations { levels.policy.automations }
    private var shifts: ShiftCalendar { ShiftCalendar(calendar: levels.calendar) }

    /// The planner of `levels`' automations.
    public init(levels: ServiceLevels) { self.levels = levels }

    /// Who writes the reactions.
    public static let actor = SupportActor(kind: .system, id: "automations")

    /// The reactions `ticket` is owed in its current state, earliest first: only those that
    /// would append something (``events(for:on:)`` is not empty).
    public func reactions(of ticket: Ticket) -> [DueReaction] {
        guard automations.isOn, ticket.status != .closed else { return [] }
        var owed: [DueReaction] = []
        for metric in SLAMetric.allCases where ticket.isRunning(metric) {
            guard let target = levels.target(metric, priority: ticket.priority) else { continue }
            let start = intervalStart(metric, of: ticket)
            if let warning = automations.slaWarning, !ticket.reactions.warned.contains(metric),
                let at = warningInstant(start: start, target: target, lead: warning.leadSeconds * 1000)
            {
                owed.append(DueReaction(kind: .warning(metric), due: at))
            }
            if automations.escalation != nil, !ticket.reactions.breachHandled.contains(metric),
                let deadline = levels.deadline(metric, priority: ticket.priority, start: start), let breachAt = deadline.breachAt
            {
                owed.append(DueReaction(kind: .breach(metric), due: breachAt))
            }
        }
        if let handOff = handOff(of: ticket) { owed.append(handOff) }
        if let close = autoClose(of: ticket) { owed.append(close) }
        return owed.filter { !events(for: $0, on: ticket).isEmpty }.sorted { $0.due < $1.due }
    }

    /// The events of `reaction` on `ticket` as it is now; empty when its condition no longer
    /// holds (the agent replied, the ticket moved) or it has nothing to do.
    public func events(for reaction: DueReaction, on ticket: Ticket) -> [TicketEvent] {
        guard ticket.status != .closed else { return [] }
        switch reaction.kind {
        case .warning(let metric):
            guard automations.slaWarning != nil, ticket.isRunning(metric), !ticket.reactions.warned.contains(metric),
                let due = deadline(metric, of: ticket)?.due
            else { return [] }
            return [.slaWarning(.init(target: metric, due: due))]
        case .breach(let metric):
            guard let escalation = automations.escalation, ticket.isRunning(metric), !ticket.reactions.breachHandled.contains(metric),
                let deadline = deadline(metric, of: ticket), deadline.breachAt == reaction.due, let due = deadline.due
            else { return [] }
            let team = escalation.team(for: ticket.team).flatMap { Identifier.same($0, ticket.team) ? nil : $0 }
            let raised = escalation.raisePriority ? ticket.priority.raised : nil
            guard team != nil || raised != nil else { return [] }
            var said = ["SLA breach: the \(metric.prose) was due at \(due.rfc3339)."]
            if let team { said.append("Escalated from \(ticket.team) to \(team).") }
            if let raised { said.append("Priority raised from \(ticket.priority.rawValue) to \(raised.rawValue).") }
            var events: [TicketEvent] = [
                .noteAdded(.init(body: said.joined(separator: " "), automation: .init(rule: .slaBreach, due: reaction.due, target: metric)))
            ]
            if let team { events.append(.escalated(.init(team: team, reason: "sla breach: \(metric.rawValue)"))) }
            if let raised { events.append(.priorityChanged(raised)) }
            return events
        case .shiftEnd:
            guard let owed = handOff(of: ticket), owed == reaction, let agent = ticket.assignee, case .shiftEnd(let shift) = owed.kind
            else { return [] }
            let name = shift.isEmpty ? "" : " (\(shift))"
            let body = "\(agent)'s shift\(name) ended at \(reaction.due.rfc3339): back to the \(ticket.team) queue."
            return [
                .noteAdded(.init(body: body, automation: .init(rule: .shiftEnd, due: reaction.due))),
                .assigned(.init(agent: nil)),
            ]
        case .autoClose:
            guard let owed = autoClose(of: ticket), owed == reaction, let days = automations.autoClose?.businessDays else { return [] }
            let body =
                "Closed automatically: solved at \(ticket.lifecycle.statusSince.rfc3339), no customer message for \(days) business day\(days == 1 ? "" : "s")."
            return [
                .noteAdded(.init(body: body, automation: .init(rule: .autoClose, due: reaction.due))),
                .statusChanged(.closed),
            ]
        }
    }

    // MARK: The instants

    private func deadline(_ metric: SLAMetric, of ticket: Ticket) -> SLADeadline? {
        levels.deadline(metric, priority: ticket.priority, start: intervalStart(metric, of: ticket))
    }

    /// Where the running interval of `metric` started: the running turn's start for a reply
    /// target, the opening for the resolution.
    private func intervalStart(_ metric: SLAMetric, of ticket: Ticket) -> Timestamp {
        metric == .resolution ? ticket.openedAt : (ticket.runningTurn?.start ?? ticket.openedAt)
    }

    /// When an interval from `start` has `lead` left of `target` on the target's clock (its
    /// start when the lead is the whole target or more); nil when it never does.
    private func warningInstant(start: Timestamp, target: SLATarget, lead: Int64) -> Timestamp? {
        guard lead < target.milliseconds else { return start }
        switch target.clock {
        case .calendar: return Timestamp(milliseconds: start.milliseconds + target.milliseconds - lead)
        case .business: return levels.calendar.adding(businessMilliseconds: target.milliseconds - lead, to: start)
        }
    }

    /// The hand-off a ticket awaiting an agent is owed at the end of its assignee's shift: the
    /// first end, at or after the ticket was last given to the assignee, came to its team or started
    /// awaiting an agent, at which the assignee is on no shift of the team.
    private func handOff(of ticket: Ticket) -> DueReaction? {
        guard ticket.status.isAwaitingAgent, let agent = ticket.assignee, let assignedAt = ticket.assignedAt else { return nil }
        let shifts = automations.shifts(of: ticket.team)
        guard !shifts.isEmpty else { return nil }
        let since = max(assignedAt.milliseconds, ticket.teamSince.milliseconds, ticket.lastEnteredAwaitingAgent.milliseconds)
        guard let found = self.shifts.firstHandOff(of: agent, in: shifts, after: since) else { return nil }
        return DueReaction(kind: .shiftEnd(shift: found.shift.name), due: Timestamp(milliseconds: found.end))
    }

    /// The closing a solved ticket is owed: at the close of business (the end of the last
    /// business window) of the N-th local date after the day it was solved that has business
    /// time.
    private func autoClose(of ticket: Ticket) -> DueReaction? {
        guard let days = automations.autoClose?.businessDays, ticket.status == .solved else { return nil }
        let calendar = levels.calendar
        let solvedDay = calendar.estimatedLocalDay(of: ticket.lifecycle.statusSince.milliseconds)
        var counted = 0
        for day in (solvedDay + 1)...(solvedDay + 400 + 7 * days) {
            let start = Timestamp(milliseconds: calendar.instant(atWallTime: Int64(day) * CivilCalendar.millisecondsPerDay))
            let end = Timestamp(milliseconds: calendar.instant(atWallTime: Int64(day + 1) * CivilCalendar.millisecondsPerDay))
            let business = calendar.businessDuration(from: start, to: end)
            guard business > 0 else { continue }
            counted += 1
            if counted == days, let close = calendar.adding(businessMilliseconds: business, to: start) {
                return DueReaction(kind: .autoClose, due: close)
            }
        }
        return nil
    }
}

extension Priority {
    /// One step up (`low` → `normal` → `high` → `urgent`); nil for `urgent`.
    var raised: Priority? {
        switch self {
        case .low: .normal
        case .normal: .high
        case .high: .urgent
        case .urgent: nil
        }
    }
}

extension SLAMetric {
    /// The target in words, for notes.
    var prose: String {
        switch self {
        case .firstReply: "first reply"
        case .nextReply: "next reply"
        case .resolution: "resolution"
        }
    }
}
