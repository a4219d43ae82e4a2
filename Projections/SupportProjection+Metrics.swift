import EventLog
import SupportDomain

extension SupportProjection {
    // MARK: Response times (SPEC §4)

    /// Response-time metrics evaluated at `evaluation`: first reply, next reply, resolution,
    /// requester wait and agent work, each value in the window containing its end, summarised on
    /// `clock`; SLA outcomes on each target's own clock, with running intervals breached at
    /// `evaluation` counted in the window containing their due instant.
    ///
    /// Groups that hold a value or an SLA outcome, by key in code point order, the null group
    /// last; with ``GroupBy/none`` at most one group, key nil.
    public func responseTimes(
        at evaluation: Timestamp, window: TimeWindow, groupBy: GroupBy,
        clock: SLAClock
    ) -> [ResponseTimeGroup] {
        let business = clock == .business
        // By group key + 1 (keys are dense: -1 for the null group, then name indices), read and
        // written through buffers: no hashing, no optional or copy check per value.
        var accumulators = [ResponseAccumulator](repeating: ResponseAccumulator(), count: groupCount(groupBy) + 1)
        var present = [Bool](repeating: false, count: accumulators.count)
        accumulators.withUnsafeMutableBufferPointer { groups in
            present.withUnsafeMutableBufferPointer { present in
                selectResponseValues(
                    at: evaluation, window: window, groupBy: groupBy,
                    reply: { g, value in
                        present[g] = true
                        let duration = business ? value.business : value.calendar
                        if value.isFirst {
                            groups[g].firstReply.add(duration, value.outcome)
                        } else {
                            groups[g].nextReply.add(duration, value.outcome)
                        }
                    },
                    resolution: { g, _, t in
                        present[g] = true
                        let calendar = t.resolutionEnd - t.openedAt
                        groups[g].add(
                            resolution: business ? t.resolutionBusiness : calendar, outcome: t.resolutionOutcome,
                            wait: business ? t.waitBusiness : t.waitCalendar, work: business ? t.workBusiness : t.workCalendar)
                    },
                    runningBreach: { g, _, _, metric in
                        present[g] = true
                        switch metric {
                        case .firstReply: groups[g].firstReply.breached += 1
                        case .nextReply: groups[g].nextReply.breached += 1
                        case .resolution: groups[g].resolution.breached += 1
                        }
                    })
            }
        }
        var found: [Int64: ResponseAccumulator] = [:]
        for (g, accumulator) in accumulators.enumerated() where present[g] { found[Int64(g - 1)] = accumulator }

        return sortedGroups(found, groupBy).map { key, accumulator in
            ResponseTimeGroup(
                key: key,
                firstReply: accumulator.firstReply.summary(withSLA: true),
                nextReply: accumulator.nextReply.summary(withSLA: true),
                resolution: accumulator.resolution.summary(withSLA: true),
                requesterWait: accumulator.requesterWait.summary(withSLA: false),
                agentWork: accumulator.agentWork.summary(withSLA: false))
        }
    }

    /// The values behind one group and SLA metric of ``responseTimes(at:window:groupBy:clock:)``
    /// (the same selection): each ended interval whose end is in the window, and each running
    /// interval breached at `evaluation` whose due instant is in the window, with its ticket,
    /// duration on `clock`, outcome and how late. `group` is a group's key as the metric names
    /// it (nil: the null group, or the only group of ``GroupBy/none``). In the order the
    /// metric reads them.
    package func responseTimeValues(
        at evaluation: Timestamp, window: TimeWindow, groupBy: GroupBy, group: String?,
        metric: SLAMetric, clock: SLAClock
    ) -> [ResponseTimeValue] {
        let count = groupCount(groupBy) + 1
        // Whether each group index is the one asked for.
        let wanted: [Bool] = (0..<count).map { g in
            g == 0 ? (groupBy == .agent && group == nil) : groupName(groupBy, Int64(g - 1)) == group
        }
        var out: [ResponseTimeValue] = []
        func value(
            ticket: UInt32, start: Int64, end: Int64?, calendar: Int64, business: Int64, priority: Priority,
            outcome: Outcome
        ) -> ResponseTimeValue {
            let target = levels.target(metric, priority: priority)
            let onTarget = target?.clock == .business ? business : calendar
            return ResponseTimeValue(
                ticket: ticketIDs[Int(ticket)], metric: metric, priority: priority, start: Timestamp(milliseconds: start),
                end: end.map { Timestamp(milliseconds: $0) }, duration: clock == .business ? business : calendar,
                target: target,
                outcome: outcome == .achieved ? .achieved : outcome == .breached ? .breached : nil,
                late: outcome == .breached ? target.map { onTarget - $0.milliseconds } : nil)
        }
        selectResponseValues(
            at: evaluation, window: window, groupBy: groupBy,
            reply: { g, v in
                guard wanted[g], (v.isFirst ? SLAMetric.firstReply : .nextReply) == metric else { return }
                out.append(
                    value(
                        ticket: v.ticket, start: v.end - v.calendar, end: v.end, calendar: v.calendar, business: v.business,
                        priority: v.priority, outcome: v.outcome))
            },
            resolution: { g, ticket, t in
                guard wanted[g], metric == .resolution else { return }
                out.append(
                    value(
                        ticket: ticket, start: t.openedAt, end: t.resolutionEnd, calendar: t.resolutionEnd - t.openedAt,
                        business: t.resolutionBusiness, priority: t.resolutionPriority, outcome: t.resolutionOutcome))
            },
            runningBreach: { g, ticket, t, breached in
                guard wanted[g], breached == metric else { return }
                // Measured at the evaluation instant.
                let start = metric == .resolution ? t.openedAt : t.turnStart
                let elapsed = levels.measure(metric, priority: t.priority, from: Timestamp(milliseconds: start), to: evaluation)
                out.append(
                    value(
                        ticket: ticket, start: start, end: nil, calendar: elapsed.calendar, business: elapsed.business,
                        priority: t.priority, outcome: .breached))
            })
        return out
    }

    /// The selection of ``responseTimes(at:window:groupBy:clock:)`` and
    /// ``responseTimeValues(at:window:groupBy:group:metric:clock:)``, one place for both: each
    /// ended turn with its end in the window (`reply`), each resolved ticket with its
    /// resolution's end in the window (`resolution`), and each running interval breached at
    /// `evaluation` with its due instant in the window (`runningBreach`, per breached metric),
    /// each with its group index (the group key + 1).
    @inline(__always)
    private func selectResponseValues(
        at evaluation: Timestamp, window: TimeWindow, groupBy: GroupBy,
        reply: (Int, ReplyValue) -> Void,
        resolution: (Int, UInt32, TicketState) -> Void,
        runningBreach: (Int, UInt32, TicketState, SLAMetric) -> Void
    ) {
        let now = evaluation.milliseconds
        replies.forEachChunk { chunk in
            chunk.withUnsafeBufferPointer { values in
                for value in values where window.contains(milliseconds: value.end) {
                    let g = Int(
                        groupKey(groupBy, team: value.team, agent: value.agent, priority: value.priority, ticket: value.ticket) + 1)
                    reply(g, value)
                }
            }
        }
        var i = 0
        tickets.forEachChunk { chunk in
            chunk.withUnsafeBufferPointer { records in
                for t in records {
                    defer { i += 1 }
                    let ticket = UInt32(i)
                    if t.status.isResolved {
                        guard window.contains(milliseconds: t.resolutionEnd) else { continue }
                        let g = Int(
                            groupKey(
                                groupBy, team: t.resolutionTeam, agent: t.resolutionAgent,
                                priority: t.resolutionPriority, ticket: ticket) + 1)
                        resolution(g, ticket, t)
                        continue
                    }
                    // Running intervals breached at the evaluation instant count in their due's
                    // window. Neither is breached before its cached breach instant (the
                    // deadlines are made from these).
                    guard t.turnBreachAt <= now || t.resolutionBreachAt <= now else { continue }
                    let deadlines = t.deadlines
                    func breachedInWindow(_ deadline: SLADeadline?) -> Bool {
                        guard let deadline, deadline.isBreached(at: evaluation), let due = deadline.due else { return false }
                        return window.contains(milliseconds: due.milliseconds)
                    }
                    let turnBreached = breachedInWindow(deadlines.reply)
                    let resolutionBreached = breachedInWindow(deadlines.resolution)
                    guard turnBreached || resolutionBreached else { continue }
                    let g = Int(groupKey(groupBy, team: t.team, agent: t.assignee, priority: t.priority, ticket: ticket) + 1)
                    if turnBreached { runningBreach(g, ticket, t, deadlines.reply?.metric == .firstReply ? .firstReply : .nextReply) }
                    if resolutionBreached { runningBreach(g, ticket, t, .resolution) }
                }
            }
        }
    }

    // MARK: Satisfaction (SPEC §4)

    /// The current ratings (one per rated agent reply, the latest) whose `at` is in the window,
    /// per group and local calendar bucket of the policy's zone: count, mean score and CSAT.
    /// Buckets without ratings are omitted; groups as in ``responseTimes(at:window:groupBy:clock:)``.
    public func satisfaction(window: TimeWindow, bucket: BucketUnit, groupBy: GroupBy) -> [SatisfactionGroup] {
        var groups = GroupArray<[Int64: RatingAccumulator]>(count: groupCount(groupBy))
        let calendar = levels.calendar
        // The last bucket found, [start, end): ratings come mostly in order of `at`.
        var start = Int64.max, end = Int64.min
        for rating in ratings where window.contains(milliseconds: rating.at) {
            let key = groupKey(groupBy, team: rating.team, agent: rating.agent, priority: rating.priority, ticket: rating.ticket)
            if rating.at < start || rating.at >= end {
                let bucketStart = calendar.bucketStart(containing: Timestamp(milliseconds: rating.at), unit: bucket)
                start = bucketStart.milliseconds
                end = calendar.nextBucketStart(after: bucketStart, unit: bucket).milliseconds
            }
            groups[key, default: [:]][start, default: RatingAccumulator()].add(rating.score)
        }
        return sortedGroups(groups.dictionary, groupBy).map { key, buckets in
            SatisfactionGroup(
                key: key,
                series: buckets.sorted { $0.key < $1.key }.map { start, a in
                    SatisfactionPoint(
                        bucketStart: Timestamp(milliseconds: start), count: a.count,
                        mean: Double(a.sum) / Double(a.count), csat: Double(a.good) / Double(a.count))
                })
        }
    }

    // MARK: Workloads (SPEC §5)

    /// Every agent that acted on a ticket (an event with actor kind `agent`) or was assigned one,
    /// by id in code point order: the tickets currently assigned by status, and in the window the
    /// resolution values attributed to them (`solved`), their messages (`replies`) and the
    /// ratings of their replies; `overloaded` when their new+open tickets exceed the capacity.
    public func workloads(window: TimeWindow) -> [AgentWorkload] {
        var solved = [Int](repeating: 0, count: agents.count)
        var replyCounts = [Int](repeating: 0, count: agents.count)
        var ratingsByAgent = [RatingAccumulator](repeating: RatingAccumulator(), count: agents.count)
        for t in tickets where t.status.isResolved && t.resolutionAgent != Sentinel.none {
            if window.contains(milliseconds: t.resolutionEnd) { solved[Int(t.resolutionAgent)] += 1 }
        }
        for message in agentMessages where window.contains(milliseconds: message.at) {
            replyCounts[Int(message.agent)] += 1
        }
        for rating in ratings where window.contains(milliseconds: rating.at) {
            ratingsByAgent[Int(rating.agent)].add(rating.score)
        }
        let capacity = levels.policy.capacity
        return agents.indicesSortedByName().map { agent in
            let a = Int(agent)
            let r = ratingsByAgent[a]
            return AgentWorkload(
                agent: agents[agent], assigned: agentLoads[a], solved: solved[a], replies: replyCounts[a],
                satisfaction: RatingSummary(
                    count: r.count, mean: r.count == 0 ? nil : Double(r.sum) / Double(r.count),
                    csat: r.count == 0 ? nil : Double(r.good) / Double(r.count)),
                overloaded: agentLoads[a].newOpen > capacity)
        }
    }

    // MARK: Grouping

    /// How many keys a grouping has (``groupKey(_:team:agent:priority:ticket:)`` is below it).
    private func groupCount(_ groupBy: GroupBy) -> Int {
        switch groupBy {
        case .none: return 1
        case .team, .product: return teams.count
        case .agent: return agents.count
        case .priority: return 4
        case .channel: return Channel.allCases.count
        }
    }

    /// The group of a value: an index of the grouped name, -1 for the null group.
    @inline(__always)
    private func groupKey(_ groupBy: GroupBy, team: UInt32, agent: UInt32, priority: Priority, ticket: UInt32) -> Int64 {
        switch groupBy {
        case .none: return 0
        case .team: return Int64(team)
        case .agent: return agent == Sentinel.none ? -1 : Int64(agent)
        case .priority: return Int64(priority.urgencyRank)
        case .channel: return Int64(Channel.allCases.firstIndex(of: tickets[Int(ticket)].channel) ?? 0)
        case .product: return Int64(tickets[Int(ticket)].product)
        }
    }

    private func groupName(_ groupBy: GroupBy, _ key: Int64) -> String? {
        switch groupBy {
        case .none: return nil
        case .team, .product: return teams[UInt32(key)]
        case .agent: return key < 0 ? nil : agents[UInt32(key)]
        case .priority: return [Priority.low, .normal, .high, .urgent][Int(key)].rawValue
        case .channel: return Channel.allCases[Int(key)].rawValue
        }
    }

    /// Groups by key name in code point order, the null group last.
    private func sortedGroups<V>(_ groups: [Int64: V], _ groupBy: GroupBy) -> [(String?, V)] {
        groups.map { (groupName(groupBy, $0.key), $0.value) }.sorted { a, b in
            switch (a.0, b.0) {
            case let (x?, y?): return Identifier.precedes(x, y)
            case (_?, nil): return true
            default: return false
            }
        }
    }
}

/// The values and SLA outcomes of one metric in one group.
struct MetricAccumulator {
    var values: [Int64] = []
    var achieved = 0
    var breached = 0

    @inline(__always)
    mutating func add(_ duration: Int64, _ outcome: Outcome) {
        values.append(duration)
        switch outcome {
        case .none: break
        case .achieved: achieved += 1
        case .breached: breached += 1
        }
    }

    func summary(withSLA: Bool) -> MetricSummary {
        MetricSummary(
            statistics: DurationStatistics(values),
            sla: withSLA ? SLACompliance(achieved: achieved, breached: breached) : nil)
    }
}

struct ResponseAccumulator {
    var firstReply = MetricAccumulator()
    var nextReply = MetricAccumulator()
    var resolution = MetricAccumulator()
    var requesterWait = MetricAccumulator()
    var agentWork = MetricAccumulator()

    mutating func add(resolution value: Int64, outcome: Outcome, wait: Int64, work: Int64) {
        resolution.add(value, outcome)
        requesterWait.add(wait, .none)
        agentWork.add(work, .none)
    }
}

/// Ratings counted: how many, the sum of scores, how many 4 or 5.
struct RatingAccumulator {
    var count = 0
    var sum = 0
    var good = 0

    @inline(__always)
    mutating func add(_ score: UInt8) {
        count += 1
        sum += Int(score)
        if score >= 4 { good += 1 }
    }
}

/// Accumulators by group key (-1, the null group, and 0..<count), in an array: no hashing per
/// value. A group exists once it is accessed, as in a dictionary with a default.
struct GroupArray<Value> {
    private var values: [Value?]

    init(count: Int) { values = Array(repeating: nil, count: count + 1) }

    subscript(key: Int64, default value: @autoclosure () -> Value) -> Value {
        get { values[Int(key + 1)] ?? value() }
        _modify {
            let k = Int(key + 1)
            if values[k] == nil { values[k] = value() }
            yield &values[k]!
        }
    }

    /// The groups accessed, by key.
    var dictionary: [Int64: Value] {
        var out: [Int64: Value] = [:]
        for (k, value) in values.enumerated() { if let value { out[Int64(k - 1)] = value } }
        return out
    }
}
