import EventLog
import SupportDomain
import Testing

@testable import Projections

/// Random valid logs over many interleaved tickets, checked three ways: (a) folding in any batch
/// split (with copies taken in between) equals one fold; (b) every metric equals a plain
/// recomputation that walks each ticket's events on its own (``Reference``) and the domain's
/// `Ticket.serviceState`; (c) a point-in-time answer (fold of the at <= T prefix, evaluated at T)
/// equals the recomputation at T.
@Suite("Projection properties")
struct PropertyTests {
    static let start = Timestamp(rfc3339: "2026-03-20T06:00:00Z")!
    static let policies: [String?] = [
        nil,
        #"{"holidays": ["2026-03-25", "2026-04-06"], "capacity": 2, "targets": {"low": {"nextReply": null}, "high": {"firstReply": {"seconds": 1800, "clock": "calendar"}}}}"#,
    ]

    struct Case: CustomTestStringConvertible, Sendable {
        var seed: UInt64
        var policy: Int
        var testDescription: String { "seed \(seed), policy \(policy)" }
    }

    static let cases = [Case(seed: 1, policy: 0), Case(seed: 2, policy: 1), Case(seed: 3, policy: 0), Case(seed: 4, policy: 1)]

    @Test(arguments: cases)
    func foldingInBatchesEqualsOneFold(_ c: Case) throws {
        let levels = try P.levels(Self.policies[c.policy])
        let events = RandomLog(seed: c.seed, steps: 1200, start: Self.start).events
        var whole = SupportProjection(levels: levels)
        try whole.apply(contentsOf: events)

        var rng = SeededRandom(seed: c.seed &* 7919)
        var batched = SupportProjection(levels: levels)
        var copies: [SupportProjection] = []
        var index = 0
        while index < events.count {
            let size = Int.random(in: 1...80, using: &rng)
            let end = min(events.count, index + size)
            try batched.apply(contentsOf: events[index..<end])
            index = end
            if Int.random(in: 0..<5, using: &rng) == 0 { copies.append(batched) }  // a copy must not share later changes
        }
        // Re-delivered events (at or below appliedSeq) are skipped.
        try batched.apply(contentsOf: events.suffix(10))
        #expect(batched.appliedSeq == UInt64(events.count))
        let last = events.map(\.at).max()!
        for offset: Int64 in [0, 3_600_000, 5 * 86_400_000] {
            let at = Timestamp(milliseconds: last.milliseconds + offset)
            #expect(answers(whole, at: at) == answers(batched, at: at))
        }
        // Each copy equals a fold of the events up to its seq.
        for copy in copies.prefix(4) {
            var rebuilt = SupportProjection(levels: levels)
            try rebuilt.apply(contentsOf: events.prefix(Int(copy.appliedSeq)))
            #expect(answers(copy, at: last) == answers(rebuilt, at: last))
        }
    }

    @Test(arguments: cases)
    func everyAnswerMatchesARecomputationAtEveryPointInTime(_ c: Case) throws {
        let levels = try P.levels(Self.policies[c.policy])
        let events = RandomLog(seed: c.seed, steps: 1200, start: Self.start).events
        #expect(events.count > 700)
        var rng = SeededRandom(seed: c.seed &* 104_729)
        let first = events.map(\.at.milliseconds).min()!, last = events.map(\.at.milliseconds).max()!
        var instants = (0..<5).map { _ in Timestamp(milliseconds: Int64.random(in: first...last, using: &rng)) }
        instants.append(events[Int.random(in: 0..<events.count, using: &rng)].at)  // exactly at an event
        instants.append(Timestamp(milliseconds: last + 2 * 86_400_000))  // everything, evaluated later
        // Exactly at due instants and 1 ms after them, where "breached" flips.
        let middle = Timestamp(milliseconds: (first + last) / 2)
        let dues = try Reference(events: events.filter { $0.at <= middle }, levels: levels, evaluation: middle).tickets
            .compactMap { $0.serviceState(at: middle, levels: levels).nextDue }.filter { $0.milliseconds <= last }
        for due in dues.shuffled(using: &rng).prefix(4) {
            instants += [due, Timestamp(milliseconds: due.milliseconds + 1)]
        }
        for instant in instants {
            let prefix = events.filter { $0.at <= instant }
            var projection = SupportProjection(levels: levels)
            try projection.apply(contentsOf: prefix)
            let reference = try Reference(events: prefix, levels: levels, evaluation: instant)
            try compare(projection, reference, at: instant, rng: &rng, first: first, last: last)
        }
    }

    // MARK: Comparisons

    func compare(
        _ projection: SupportProjection, _ reference: Reference, at instant: Timestamp,
        rng: inout SeededRandom, first: Int64, last: Int64
    ) throws {
        // Per-ticket values: reply times, resolution, requester wait, agent work.
        let expectedValues = reference.values.map { v in
            "\(v.ticket)|\(v.metric)|\(v.end)|\(v.calendar)|\(v.business)|\(v.team)|\(v.agent ?? "-")|\(v.priority)|\(v.outcome)"
        }.sorted()
        #expect(actualValues(projection) == expectedValues, "values at \(instant)")

        var windows: [TimeWindow] = [.unbounded]
        for _ in 0..<2 {
            let a = Int64.random(in: first...last, using: &rng), b = Int64.random(in: first...last + 86_400_000, using: &rng)
            windows.append(TimeWindow(from: Timestamp(milliseconds: min(a, b)), to: Timestamp(milliseconds: max(a, b))))
        }
        windows.append(TimeWindow(to: Timestamp(milliseconds: (first + last) / 2)))
        for window in windows {
            for groupBy in GroupBy.allCases {
                for clock in SLAClock.allCases {
                    #expect(
                        projection.responseTimes(at: instant, window: window, groupBy: groupBy, clock: clock)
                            == reference.responseTimes(window: window, groupBy: groupBy, clock: clock),
                        "response times at \(instant), \(groupBy), \(clock), \(window)")
                }
                for bucket in BucketUnit.allCases {
                    #expect(
                        projection.satisfaction(window: window, bucket: bucket, groupBy: groupBy)
                            == reference.satisfaction(window: window, bucket: bucket, groupBy: groupBy),
                        "satisfaction at \(instant), \(groupBy), \(bucket)")
                }
            }
            #expect(projection.workloads(window: window) == reference.workloads(window: window), "workloads at \(instant)")
        }

        // Queues against the domain's Ticket.serviceState.
        #expect(projection.queues(at: instant) == reference.queues(), "queues at \(instant)")
        for team in RandomLog.teams {
            #expect(projection.teamQueue(team, at: instant) == reference.queue { Identifier.same($0.team, team) }, "queue \(team)")
            let limited = projection.teamQueue(team, at: instant, limit: 3)
            #expect(limited == Array(reference.queue { Identifier.same($0.team, team) }.prefix(3)))
        }
        for agent in RandomLog.agents {
            #expect(
                projection.agentQueue(agent, at: instant)
                    == reference.queue { $0.assignee.map { Identifier.same($0, agent) } ?? false }, "agent queue \(agent)")
        }
        // Ticket summaries against the domain's fold.
        for ticket in reference.tickets {
            let state = ticket.serviceState(at: instant, levels: projection.levels)
            let summary = try #require(projection.ticket(ticket.id, at: instant))
            #expect(
                summary
                    == TicketSummary(
                        id: ticket.id, version: ticket.version, status: ticket.status, priority: ticket.priority, team: ticket.team,
                        assignee: ticket.assignee, customer: ticket.customer, subject: ticket.subject, channel: ticket.channel,
                        product: ticket.product, context: ticket.context, tags: ticket.tags, openedAt: ticket.openedAt,
                        openedBy: ticket.openedBy, mergedInto: ticket.mergedInto, waitingSince: state.waitingSince,
                        nextDue: state.nextDue, nextDueTarget: state.nextDueTarget, breached: state.breached))
        }

        // The ticket list: whole order, filters, and paging through it.
        let filters: [(TicketFilter, (Ticket) -> Bool)] = [
            (TicketFilter(), { _ in true }),
            (TicketFilter(status: .open), { $0.status == .open }),
            (TicketFilter(team: "domains"), { $0.team == "domains" }),
            (TicketFilter(assignee: "bob"), { $0.assignee == "bob" }),
            (TicketFilter(customer: "c2"), { $0.customer == "c2" }),
            (TicketFilter(status: .new, customer: "c3"), { $0.status == .new && $0.customer == "c3" }),
            (TicketFilter(tag: "vip"), { $0.tags.contains("vip") }),
        ]
        for (filter, include) in filters {
            let expected = reference.listOrder(where: include)
            let limit = Int.random(in: 1...40, using: &rng)
            var pages: [String] = []
            var after: String?
            repeat {
                let page = try projection.tickets(matching: filter, at: instant, limit: limit, after: after)
                #expect(page.tickets.count <= limit)
                pages += page.tickets.map(\.id)
                after = page.next
                if page.next != nil { #expect(page.tickets.count == limit && page.next == page.tickets.last?.id) }
            } while after != nil && pages.count <= expected.count
            #expect(pages == expected, "list \(filter)")
        }
    }

    private func actualValues(_ p: SupportProjection) -> [String] {
        var out = p.replies.map { r in
            let outcome = r.outcome == .none ? 0 : r.outcome == .achieved ? 1 : 2
            return
                "\(p.ticketIDs[Int(r.ticket)])|\(r.isFirst ? 0 : 1)|\(r.end)|\(r.calendar)|\(r.business)|\(p.teams[r.team])|\(p.agents[r.agent])|\(r.priority)|\(outcome)"
        }
        for (i, t) in p.tickets.enumerated() where t.status.isResolved {
            let id = p.ticketIDs[i], team = p.teams[t.resolutionTeam]
            let agent = t.resolutionAgent == Sentinel.none ? "-" : p.agents[t.resolutionAgent]
            let outcome = t.resolutionOutcome == .none ? 0 : t.resolutionOutcome == .achieved ? 1 : 2
            out.append(
                "\(id)|2|\(t.resolutionEnd)|\(t.resolutionEnd - t.openedAt)|\(t.resolutionBusiness)|\(team)|\(agent)|\(t.resolutionPriority)|\(outcome)"
            )
            out.append("\(id)|3|\(t.resolutionEnd)|\(t.waitCalendar)|\(t.waitBusiness)|\(team)|\(agent)|\(t.resolutionPriority)|0")
            out.append("\(id)|4|\(t.resolutionEnd)|\(t.workCalendar)|\(t.workBusiness)|\(team)|\(agent)|\(t.resolutionPriority)|0")
        }
        return out.sorted()
    }

    /// Every answer of a projection at an instant, for equality.
    func answers(_ p: SupportProjection, at: Timestamp) -> [String] {
        var out: [String] = ["\(p.appliedSeq)", "\(p.queues(at: at))", "\(p.workloads(window: .unbounded))"]
        for team in RandomLog.teams { out.append("\(p.teamQueue(team, at: at))") }
        for agent in RandomLog.agents { out.append("\(p.agentQueue(agent, at: at))") }
        for groupBy in GroupBy.allCases {
            for clock in SLAClock.allCases { out.append("\(p.responseTimes(at: at, window: .unbounded, groupBy: groupBy, clock: clock))") }
            out.append("\(p.satisfaction(window: .unbounded, bucket: .week, groupBy: groupBy))")
        }
        out.append("\((try? p.tickets(matching: TicketFilter(), at: at, limit: 1000))?.tickets ?? [])")
        return out
    }
}
