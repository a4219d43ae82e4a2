import EventLog
import SupportDomain

@testable import Projections

/// A plain recomputation of SPEC §4 and §5, written apart from the projection: each ticket's events
/// are walked on their own, values are collected as lists, and aggregates are computed naively.
struct Reference {
    /// 0 first reply, 1 next reply, 2 resolution, 3 requester wait, 4 agent work.
    struct Value: Hashable {
        var ticket: String
        var metric: Int
        var end: Int64
        var calendar: Int64
        var business: Int64
        var team: String
        var agent: String?
        var priority: Priority
        var channel: Channel
        var product: String
        /// 0 none, 1 achieved, 2 breached.
        var outcome: Int
    }

    struct Breach {
        var metric: Int
        var due: Int64
        var team: String
        var agent: String?
        var priority: Priority
        var channel: Channel
        var product: String
    }

    struct Rating {
        var at: Int64
        var score: Int
        var agent: String
        var team: String
        var priority: Priority
        var channel: Channel
        var product: String
    }

    let levels: ServiceLevels
    let evaluation: Int64
    var values: [Value] = []
    var breaches: [Breach] = []
    var ratings: [Rating] = []
    /// Agent message instants per agent.
    var agentMessages: [String: [Int64]] = [:]
    /// Agents that acted or were assigned.
    var agents: Set<[UInt32]> = []
    var agentNames: [[UInt32]: String] = [:]
    /// The domain's own fold of each ticket.
    var tickets: [Ticket] = []

    private static func key(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

    /// Recomputes from `events` (log order), evaluated at `evaluation`.
    init(events: [RecordedEvent], levels: ServiceLevels, evaluation: Timestamp) throws {
        self.levels = levels
        self.evaluation = evaluation.milliseconds
        var streams: [[UInt32]: [RecordedEvent]] = [:]
        var order: [[UInt32]] = []
        for event in events {
            let k = Self.key(event.stream)
            if streams[k] == nil { order.append(k) }
            streams[k, default: []].append(event)
        }
        for k in order {
            let stream = streams[k]!
            try walk(stream)
            if let ticket = try Ticket.fold(stream) { tickets.append(ticket) }
        }
    }

    private mutating func noteAgent(_ name: String) {
        agents.insert(Self.key(name))
        agentNames[Self.key(name)] = name
    }

    private func outcome(_ metric: SLAMetric, _ priority: Priority, start: Int64, end: Int64) -> Int {
        guard let target = levels.target(metric, priority: priority) else { return 0 }
        let d = levels.duration(from: Timestamp(milliseconds: start), to: Timestamp(milliseconds: end), clock: target.clock)
        return d <= target.seconds * 1000 ? 1 : 2
    }

    private func business(_ a: Int64, _ b: Int64) -> Int64 {
        levels.duration(from: Timestamp(milliseconds: a), to: Timestamp(milliseconds: b), clock: .business)
    }

    private mutating func walk(_ stream: [RecordedEvent]) throws {
        let opened = stream[0]
        guard case .opened(let o) = try TicketEvent(type: opened.type, data: opened.data) else { fatalError("not opened") }
        let id = opened.stream
        let openedAt = opened.at.milliseconds
        var status = TicketStatus.new
        var since = openedAt
        var priority = o.priority
        var team = o.product
        var assignee: String?
        var turn: (start: Int64, first: Bool)? = opened.actor.kind == "customer" ? (openedAt, true) : nil
        var answered = false
        var segments: [(status: TicketStatus, from: Int64, to: Int64)] = []
        var resolution: (end: Int64, team: String, agent: String?, priority: Priority)?
        var authors: [UInt64: String] = [:]
        var lastAgentVersion: UInt64?
        var current: [UInt64: Rating] = [:]
        if opened.actor.kind == "agent" { noteAgent(opened.actor.id) }

        func value(_ metric: Int, start: Int64, end: Int64, agent: String?, outcome: Int) -> Value {
            Value(
                ticket: id, metric: metric, end: end, calendar: end - start, business: business(start, end), team: team,
                agent: agent, priority: priority, channel: o.channel, product: o.product, outcome: outcome)
        }
        func move(_ next: TicketStatus, _ at: Int64) {
            segments.append((status, since, at))
            since = at
            if next == .solved || (next == .closed && status != .solved) { resolution = (at, team, assignee, priority) }
            if next == .solved || next == .closed { turn = nil }
            status = next
        }

        for e in stream.dropFirst() {
            let at = e.at.milliseconds
            if e.actor.kind == "agent" { noteAgent(e.actor.id) }
            switch try TicketEvent(type: e.type, data: e.data) {
            case .messagePosted:
                if e.actor.kind == "customer" {
                    if [.pending, .onHold, .solved].contains(status) { move(.open, at) }
                    if turn == nil { turn = (at, !answered) }
                } else {
                    authors[e.version] = e.actor.id
                    lastAgentVersion = e.version
                    agentMessages[e.actor.id, default: []].append(at)
                    if status == .new { move(.open, at) }
                    if let running = turn {
                        let metric: SLAMetric = running.first ? .firstReply : .nextReply
                        values.append(
                            value(
                                running.first ? 0 : 1, start: running.start, end: at, agent: e.actor.id,
                                outcome: outcome(metric, priority, start: running.start, end: at)))
                        turn = nil
                        answered = true
                    }
                }
            case .assigned(let a):
                assignee = a.agent
                if let agent = a.agent { noteAgent(agent) }
                if let t = a.team { team = t }
            case .priorityChanged(let p): priority = p
            case .statusChanged(let s): move(s, at)
            case .escalated(let x): team = x.team
            case .merged: move(.closed, at)
            case .satisfactionRated(let r):
                if let version = r.reply ?? lastAgentVersion, let author = authors[version] {
                    current[version] = Rating(
                        at: at, score: r.score, agent: author, team: team, priority: priority,
                        channel: o.channel, product: o.product)
                }
            case .opened, .noteAdded, .tagsChanged, .delivered, .deliveryFailed, .slaWarning: break
            }
        }
        ratings.append(contentsOf: current.values)

        if status == .solved || status == .closed, let r = resolution {
            let counted = segments.filter { $0.to <= r.end }
            let wait = counted.filter { [.new, .open, .onHold].contains($0.status) }
            let work = counted.filter { [.new, .open].contains($0.status) }
            func make(_ metric: Int, _ calendar: Int64, _ business: Int64, _ outcome: Int) -> Value {
                Value(
                    ticket: id, metric: metric, end: r.end, calendar: calendar, business: business, team: r.team,
                    agent: r.agent, priority: r.priority, channel: o.channel, product: o.product, outcome: outcome)
            }
            values.append(
                make(
                    2, r.end - openedAt, business(openedAt, r.end),
                    outcome(.resolution, r.priority, start: openedAt, end: r.end)))
            values.append(make(3, wait.map { $0.to - $0.from }.reduce(0, +), wait.map { business($0.from, $0.to) }.reduce(0, +), 0))
            values.append(make(4, work.map { $0.to - $0.from }.reduce(0, +), work.map { business($0.from, $0.to) }.reduce(0, +), 0))
        }
        // Running intervals breached at the evaluation instant.
        var running: [(Int, SLAMetric, Int64)] = []
        if let turn { running.append((turn.first ? 0 : 1, turn.first ? .firstReply : .nextReply, turn.start)) }
        if status != .solved && status != .closed { running.append((2, .resolution, openedAt)) }
        for (metric, slaMetric, start) in running {
            guard let target = levels.target(slaMetric, priority: priority),
                levels.isBreached(start: Timestamp(milliseconds: start), at: Timestamp(milliseconds: evaluation), target: target),
                let due = levels.due(start: Timestamp(milliseconds: start), target: target)
            else { continue }
            breaches.append(
                Breach(
                    metric: metric, due: due.milliseconds, team: team, agent: assignee, priority: priority,
                    channel: o.channel, product: o.product))
        }
    }

    // MARK: Aggregates

    private static func groupKey(
        _ groupBy: GroupBy, team: String, agent: String?, priority: Priority, channel: Channel,
        product: String
    ) -> String? {
        switch groupBy {
        case .none: nil
        case .team: team
        case .agent: agent
        case .priority: priority.rawValue
        case .channel: channel.rawValue
        case .product: product
        }
    }

    /// Keys in code point order, nil last.
    private static func ordered(_ keys: [[UInt32]?]) -> [[UInt32]?] {
        keys.sorted { a, b in
            switch (a, b) {
            case let (x?, y?): x.lexicographicallyPrecedes(y)
            case (_?, nil): true
            default: false
            }
        }
    }

    static func statistics(_ values: [Int64]) -> DurationStatistics {
        guard !values.isEmpty else { return DurationStatistics(count: 0, min: nil, max: nil, mean: nil, p50: nil, p90: nil, p99: nil) }
        let s = values.sorted()
        let n = s.count
        func rank(_ p: Double) -> Int64 { s[Int((p * Double(n) / 100).rounded(.up)) - 1] }
        let mean = Int64((Double(s.reduce(0, +)) / Double(n)).rounded(.toNearestOrAwayFromZero))
        return DurationStatistics(count: n, min: s.first, max: s.last, mean: mean, p50: rank(50), p90: rank(90), p99: rank(99))
    }

    func responseTimes(window: TimeWindow, groupBy: GroupBy, clock: SLAClock) -> [ResponseTimeGroup] {
        var durations: [[UInt32]?: [[Int64]]] = [:]
        var outcomes: [[UInt32]?: [[Int]]] = [:]
        var names: [[UInt32]?: String?] = [:]
        func touch(_ key: String?) -> [UInt32]? {
            let k = key.map(Self.key)
            if durations[k] == nil {
                durations[k] = Array(repeating: [], count: 5)
                outcomes[k] = Array(repeating: [0, 0], count: 3)
                names[k] = key
            }
            return k
        }
        for v in values where window.contains(Timestamp(milliseconds: v.end)) {
            let k = touch(
                Self.groupKey(groupBy, team: v.team, agent: v.agent, priority: v.priority, channel: v.channel, product: v.product))
            durations[k]![v.metric].append(clock == .business ? v.business : v.calendar)
            if v.outcome > 0 { outcomes[k]![v.metric][v.outcome - 1] += 1 }
        }
        for b in breaches where window.contains(Timestamp(milliseconds: b.due)) {
            let k = touch(
                Self.groupKey(groupBy, team: b.team, agent: b.agent, priority: b.priority, channel: b.channel, product: b.product))
            outcomes[k]![b.metric][1] += 1
        }
        return Self.ordered(Array(durations.keys)).map { k in
            let d = durations[k]!, o = outcomes[k]!
            func metric(_ i: Int) -> MetricSummary {
                MetricSummary(statistics: Self.statistics(d[i]), sla: i < 3 ? SLACompliance(achieved: o[i][0], breached: o[i][1]) : nil)
            }
            return ResponseTimeGroup(
                key: names[k]!, firstReply: metric(0), nextReply: metric(1), resolution: metric(2),
                requesterWait: metric(3), agentWork: metric(4))
        }
    }

    func satisfaction(window: TimeWindow, bucket: BucketUnit, groupBy: GroupBy) -> [SatisfactionGroup] {
        var scores: [[UInt32]?: [Int64: [Int]]] = [:]
        var names: [[UInt32]?: String?] = [:]
        for r in ratings where window.contains(Timestamp(milliseconds: r.at)) {
            let name = Self.groupKey(groupBy, team: r.team, agent: r.agent, priority: r.priority, channel: r.channel, product: r.product)
            let k = name.map(Self.key)
            names[k] = name
            let start = levels.calendar.bucketStart(containing: Timestamp(milliseconds: r.at), unit: bucket).milliseconds
            scores[k, default: [:]][start, default: []].append(r.score)
        }
        return Self.ordered(Array(scores.keys)).map { k in
            SatisfactionGroup(
                key: names[k]!,
                series: scores[k]!.keys.sorted().map { start in
                    let s = scores[k]![start]!
                    return SatisfactionPoint(
                        bucketStart: Timestamp(milliseconds: start), count: s.count,
                        mean: Double(s.reduce(0, +)) / Double(s.count),
                        csat: Double(s.filter { $0 >= 4 }.count) / Double(s.count))
                })
        }
    }

    /// Queue entries from the domain's `Ticket` and `serviceState`, sorted per SPEC §5.
    func queue(where include: (Ticket) -> Bool) -> [QueueEntry] {
        let at = Timestamp(milliseconds: evaluation)
        let rows = tickets.filter { $0.status.isAwaitingAgent && include($0) }.map { ($0, $0.serviceState(at: at, levels: levels)) }
        return rows.sorted { a, b in
            let da = a.1.nextDue?.milliseconds ?? .max, db = b.1.nextDue?.milliseconds ?? .max
            if da != db { return da < db }
            if a.0.priority != b.0.priority { return a.0.priority > b.0.priority }
            if a.1.waitingSince! != b.1.waitingSince! { return a.1.waitingSince! < b.1.waitingSince! }
            return Self.key(a.0.id).lexicographicallyPrecedes(Self.key(b.0.id))
        }.map { t, s in
            QueueEntry(
                id: t.id, subject: t.subject, customer: t.customer, priority: t.priority, status: t.status,
                assignee: t.assignee, channel: t.channel, waitingSince: s.waitingSince, nextDue: s.nextDue,
                nextDueTarget: s.nextDueTarget, breached: s.breached)
        }
    }

    func queues() -> [QueueSummary] {
        var teams: [[UInt32]: String] = [:]
        for t in tickets { teams[Self.key(t.team)] = t.team }
        return teams.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { k in
            let entries = queue { Self.key($0.team) == k }
            return QueueSummary(
                team: teams[k]!, depth: entries.count, breached: entries.filter(\.breached).count,
                oldestWaitingSince: entries.compactMap(\.waitingSince).min())
        }
    }

    func workloads(window: TimeWindow) -> [AgentWorkload] {
        agents.sorted { $0.lexicographicallyPrecedes($1) }.map { k in
            let name = agentNames[k]!
            let mine = tickets.filter { $0.assignee.map(Self.key) == k }
            let assigned = AssignedCounts(
                newOpen: mine.filter { $0.status.isAwaitingAgent }.count,
                pending: mine.filter { $0.status == .pending }.count,
                onHold: mine.filter { $0.status == .onHold }.count)
            let solved = values.filter { $0.metric == 2 && $0.agent.map(Self.key) == k && window.contains(Timestamp(milliseconds: $0.end)) }
                .count
            let replies = (agentMessages[name] ?? []).filter { window.contains(Timestamp(milliseconds: $0)) }.count
            let scores = ratings.filter { Self.key($0.agent) == k && window.contains(Timestamp(milliseconds: $0.at)) }.map(\.score)
            let satisfaction = RatingSummary(
                count: scores.count,
                mean: scores.isEmpty ? nil : Double(scores.reduce(0, +)) / Double(scores.count),
                csat: scores.isEmpty ? nil : Double(scores.filter { $0 >= 4 }.count) / Double(scores.count))
            return AgentWorkload(
                agent: name, assigned: assigned, solved: solved, replies: replies, satisfaction: satisfaction,
                overloaded: assigned.newOpen > levels.policy.capacity)
        }
    }

    /// Ticket ids in list order: openedAt descending, then id descending by code point.
    func listOrder(where include: (Ticket) -> Bool) -> [String] {
        tickets.filter(include).sorted { a, b in
            if a.openedAt != b.openedAt { return a.openedAt > b.openedAt }
            return Self.key(b.id).lexicographicallyPrecedes(Self.key(a.id))
        }.map(\.id)
    }
}
