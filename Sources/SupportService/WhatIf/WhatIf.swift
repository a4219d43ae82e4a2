import EventLog
import Logging
import Projections
import SupportDomain

/// One policy's figures in a what-if: what the response-time, satisfaction and queue routes of
/// a server started with that policy would answer.
package struct WhatIfSide: Sendable {
    /// The policy and its business calendar.
    package var levels: ServiceLevels
    package var policy: Policy { levels.policy }
    package var policyHash: String
    package var responseTimes: [ResponseTimeGroup]
    package var satisfaction: [SatisfactionGroup]
    /// Every team's queue at the evaluation instant, whole, by team in code point order.
    package var queues: [(team: String, entries: [QueueEntry])]
    /// The first reply of all groups in each of the query's ``WhatIfQuery/curveWindows``, nil
    /// where no value ends in it.
    package var firstReplyCurve: [MetricSummary?]

    /// The figures of `projection` (folded under `levels`) at `at`.
    init(_ projection: borrowing SupportProjection, levels: ServiceLevels, query: WhatIfQuery, at: Timestamp) {
        self.levels = levels
        policyHash = levels.policy.hash
        responseTimes = projection.responseTimes(at: at, window: query.window, groupBy: query.groupBy, clock: query.clock)
        satisfaction = projection.satisfaction(window: query.window, bucket: query.bucket, groupBy: query.groupBy)
        var queues: [(team: String, entries: [QueueEntry])] = []
        for summary in projection.queues(at: at) where summary.depth > 0 {
            queues.append((summary.team, projection.teamQueue(summary.team, at: at)))
        }
        self.queues = queues
        firstReplyCurve = query.curveWindows.map { window in
            projection.responseTimes(at: at, window: window, groupBy: .none, clock: query.clock).first?.firstReply
        }
    }
}

/// One SLA metric of one group under both policies.
package struct WhatIfSLAChange: Sendable, Hashable {
    package var current: SLACompliance
    package var proposed: SLACompliance
}

/// The SLA outcomes of one group (its key as in the response-time groups) under both policies.
package struct WhatIfGroupChange: Sendable, Hashable {
    package var key: String?
    package var firstReply: WhatIfSLAChange
    package var nextReply: WhatIfSLAChange
    package var resolution: WhatIfSLAChange
}

/// Where a ticket stands in its team's queue under one policy.
package struct WhatIfPlacement: Sendable, Hashable {
    /// 1 for the first ticket of the queue.
    package var position: Int
    package var nextDue: Timestamp?
    package var nextDueTarget: SLAMetric?
    package var breached: Bool

    init(position: Int, _ entry: QueueEntry) {
        self.position = position
        nextDue = entry.nextDue
        nextDueTarget = entry.nextDueTarget
        breached = entry.breached
    }
}

/// A ticket whose place (position, due instant or breach) in its team's queue differs.
package struct WhatIfTicketMove: Sendable, Hashable {
    package var id: String
    package var current: WhatIfPlacement
    package var proposed: WhatIfPlacement
}

/// A team's queue placement changes at the evaluation instant: how many tickets moved, and the
/// first ``WhatIfResult/movesListed`` of them in the proposed queue's order.
package struct WhatIfQueueChange: Sendable, Hashable {
    package var team: String
    /// The tickets awaiting an agent in the team (the same under both policies).
    package var depth: Int
    /// The tickets whose placement differs.
    package var changed: Int
    package var tickets: [WhatIfTicketMove]
}

/// A what-if's answer: both policies' figures over the same events at the same instant, and
/// what differs.
package struct WhatIfResult: Sendable {
    package var query: WhatIfQuery
    /// The evaluation instant (`asOf`, or the server clock when the answer was computed).
    package var at: Timestamp
    /// The last seq both halves folded (events with `at` <= `asOf` up to it).
    package var throughSeq: UInt64
    package var current: WhatIfSide
    package var proposed: WhatIfSide
    /// Per response-time group (the union of both sides' groups, current's order first).
    package var groups: [WhatIfGroupChange]
    /// Per team whose queue has a ticket whose placement differs, by team.
    package var queues: [WhatIfQueueChange]

    /// The moved tickets listed per team at most.
    package static let movesListed = 50

    init(query: WhatIfQuery, at: Timestamp, throughSeq: UInt64, current: WhatIfSide, proposed: WhatIfSide) {
        self.query = query
        self.at = at
        self.throughSeq = throughSeq
        self.current = current
        self.proposed = proposed
        groups = Self.groupChanges(current.responseTimes, proposed.responseTimes)
        queues = Self.queueChanges(current.queues, proposed.queues)
    }

    static func groupChanges(_ current: [ResponseTimeGroup], _ proposed: [ResponseTimeGroup]) -> [WhatIfGroupChange] {
        var keys: [String?] = []
        var seen = Set<String?>()
        for g in current + proposed where seen.insert(g.key).inserted { keys.append(g.key) }
        let now = Dictionary(current.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let then = Dictionary(proposed.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        func change(_ metric: KeyPath<ResponseTimeGroup, MetricSummary>, _ key: String?) -> WhatIfSLAChange {
            WhatIfSLAChange(
                current: now[key]?[keyPath: metric].sla ?? SLACompliance(), proposed: then[key]?[keyPath: metric].sla ?? SLACompliance())
        }
        return keys.map { key in
            WhatIfGroupChange(
                key: key, firstReply: change(\.firstReply, key), nextReply: change(\.nextReply, key), resolution: change(\.resolution, key))
        }
    }

    static func queueChanges(
        _ current: [(team: String, entries: [QueueEntry])], _ proposed: [(team: String, entries: [QueueEntry])]
    ) -> [WhatIfQueueChange] {
        let before = Dictionary(current.map { ($0.team, $0.entries) }, uniquingKeysWith: { a, _ in a })
        var changes: [WhatIfQueueChange] = []
        for (team, entries) in proposed {
            var placed: [String: WhatIfPlacement] = [:]
            for (k, e) in (before[team] ?? []).enumerated() { placed[e.id] = WhatIfPlacement(position: k + 1, e) }
            var moves: [WhatIfTicketMove] = []
            var changed = 0
            for (k, e) in entries.enumerated() {
                let now = WhatIfPlacement(position: k + 1, e)
                // The same tickets await an agent under both policies (status and team do not
                // depend on it); a ticket missing on one side would be a fold's difference.
                let was = placed[e.id] ?? WhatIfPlacement(position: 0, e)
                guard was != now else { continue }
                changed += 1
                if moves.count < movesListed { moves.append(WhatIfTicketMove(id: e.id, current: was, proposed: now)) }
            }
            if changed > 0 { changes.append(WhatIfQueueChange(team: team, depth: entries.count, changed: changed, tickets: moves)) }
        }
        return changes
    }
}

extension SupportBackend {
    /// The figures of the current policy and of `query`'s proposed one, side by side, over the
    /// same events at the same instant.
    ///
    /// The current half answers from the live projection (or, with `asOf`, from the projection
    /// as of that instant, as the plain routes do). The proposed half folds the same events (the
    /// same seq bound; with `asOf`, those with `at` <= it) into a fresh projection under the
    /// proposed policy (``ProjectionRunner/fold(store:levels:upTo:throughSeq:logger:observeEvery:observe:)``):
    /// what a server started with that policy file would have projected from this log. When the
    /// proposed policy's hash is the current one, the current half's figures are reused.
    /// Both run on a thread of their own through ``pointInTime`` (a few at once; beyond, 503
    /// with `Retry-After`): a what-if costs about one rebuild of the projection.
    ///
    /// - Throws: `ServiceError` `badRequest` for an overlay that is no valid policy file (naming
    ///   the key path under `policy`), `unavailable` when the log cannot be read or too many
    ///   point-in-time answers run.
    package func whatIf(_ query: WhatIfQuery) async throws(ServiceError) -> WhatIfResult {
        let proposedLevels = try query.proposedPolicy()
        let runner = projections, store = self.store, clock = self.clock, currentLevels = levels
        let retryAfter = PointInTimeFolds.retryAfter(events: (try? store.head.seq) ?? 0)
        do {
            return try await pointInTime.run(retryAfter: retryAfter) { () throws -> WhatIfResult in
                // The current half, its projection let go of before the proposed one is folded.
                let (at, seq, current) = try { () throws -> (Timestamp, UInt64, WhatIfSide) in
                    if let asOf = query.asOf {
                        let past: SupportProjection
                        do { past = try runner.asOf(asOf) } catch { throw ServiceError(.unavailable, "\(error)") }
                        return (asOf, past.appliedSeq, WhatIfSide(past, levels: currentLevels, query: query, at: asOf))
                    }
                    let now = clock()
                    // A copy (its large parts shared, copied on write) so that the queries run
                    // without holding the projection's lock against the appliers.
                    let live: SupportProjection = runner.read { copy $0 }
                    return (now, live.appliedSeq, WhatIfSide(live, levels: currentLevels, query: query, at: now))
                }()
                var proposed: WhatIfSide
                if proposedLevels.policy.hash == current.policyHash {
                    proposed = current
                    proposed.levels = proposedLevels
                } else {
                    let projection: SupportProjection
                    do {
                        projection = try ProjectionRunner.fold(
                            store: store, levels: proposedLevels, upTo: query.asOf, throughSeq: seq, logger: Logger(label: "what-if"))
                    } catch { throw ServiceError(.unavailable, "the log cannot be read for the what-if: \(error)") }
                    proposed = WhatIfSide(projection, levels: proposedLevels, query: query, at: at)
                }
                return WhatIfResult(query: query, at: at, throughSeq: seq, current: current, proposed: proposed)
            }
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.unavailable, "\(error)")
        }
    }
}
