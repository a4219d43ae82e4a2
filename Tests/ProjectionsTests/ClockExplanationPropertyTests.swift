import EventLog
import Foundation
import SupportDomain
import Testing

@testable import Projections

/// A ticket's clock explanation (``TicketClocks``) and the response-time metrics are one
/// computation: on random logs under random policies (business and calendar targets, holidays,
/// zones with a daylight-saving change in the log's span), for every ticket and at several
/// evaluation instants, the intervals the explanation gives add up to what a projection of that
/// ticket's events answers, and over all tickets to what the whole log's projection answers.
@Suite("Clock explanations add up to the metrics (seeded)")
struct ClockExplanationPropertyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var seed: UInt64
        var testDescription: String { "seed \(seed)" }
    }

    static let cases = (1...6).map { Case(seed: UInt64($0)) }

    @Test(arguments: cases)
    func everyTicketsIntervalsAddUpToItsMetricsAndAllTicketsToTheWholeLogs(_ c: Case) throws {
        var rng = SeededRandom(seed: c.seed &* 6_700_417)
        let random = RandomPolicy(&rng)
        let levels = try P.levels(random.json)
        let events = RandomLog(seed: c.seed &+ 1000, steps: 450, start: random.logStart).events
        #expect(events.count > 250)
        let first = events.map(\.at.milliseconds).min()!, last = events.map(\.at.milliseconds).max()!

        var instants = (0..<2).map { _ in Timestamp(milliseconds: Int64.random(in: first...last, using: &rng)) }
        instants.append(Timestamp(milliseconds: last + 3 * 86_400_000))
        // Where a running interval's breach flips: at its due instant, 1 ms after, and at the
        // instant it is breached (on a business clock, the next business millisecond).
        let middle = Timestamp(milliseconds: (first + last) / 2)
        let running = try Self.explanations(events.filter { $0.at <= middle }, levels: levels)
            .flatMap { $0.clocks.intervals(at: middle) }.filter { $0.state == .running }
        for interval in running.shuffled(using: &rng).prefix(6) {
            guard let due = interval.due, due.milliseconds <= last + 86_400_000 else { continue }
            instants += [due, Timestamp(milliseconds: due.milliseconds + 1)]
            if let target = interval.target, target.clock == .business,
                let breach = levels.calendar.adding(businessMilliseconds: 1, to: due)
            {
                instants.append(breach)
            }
        }

        var checkedIntervals = 0, breachedRunning = 0
        var seen: Set<String> = []
        for instant in instants {
            let prefix = events.filter { $0.at <= instant }
            var windows: [TimeWindow] = [.unbounded, TimeWindow(to: Timestamp(milliseconds: (first + last) / 2))]
            let a = Int64.random(in: first...last, using: &rng), b = Int64.random(in: first...(last + 86_400_000), using: &rng)
            windows.append(TimeWindow(from: Timestamp(milliseconds: min(a, b)), to: Timestamp(milliseconds: max(a, b))))

            var whole = SupportProjection(levels: levels)
            try whole.apply(contentsOf: prefix)
            // By window, clock and priority (nil: all), what the explanations of all tickets give.
            var sums: [TimeWindow: [SLAClock: [String?: Expected]]] = [:]

            for (id, ticketEvents, clocks) in try Self.explanations(prefix, levels: levels) {
                let intervals = clocks.intervals(at: instant)
                checkedIntervals += intervals.count
                for interval in intervals { seen.insert("\(interval.state) \(interval.outcome.map(\.rawValue) ?? "-")") }
                breachedRunning += intervals.filter { $0.state == .running && $0.outcome == .breached }.count
                try Self.expectConsistent(intervals, of: try #require(clocks.ticket), at: instant, levels: levels, id: id)

                var single = SupportProjection(levels: levels)
                try single.apply(contentsOf: ticketEvents)
                #expect(Self.endedValues(intervals) == Self.projectedValues(single), "\(id) at \(instant): the measured values")
                for window in windows {
                    for clock in SLAClock.allCases {
                        var expected = Expected()
                        for interval in intervals {
                            guard expected.add(interval, window: window, clock: clock) else { continue }
                            sums[window, default: [:]][clock, default: [:]][nil, default: Expected()].add(
                                interval, window: window, clock: clock)
                            sums[window, default: [:]][clock, default: [:]][interval.priority.rawValue, default: Expected()].add(
                                interval, window: window, clock: clock)
                        }
                        let groups = single.responseTimes(at: instant, window: window, groupBy: .none, clock: clock)
                        expected.expectEqual(to: groups.first, "\(id) at \(instant), \(clock), \(window)")
                    }
                }
            }

            for window in windows {
                for clock in SLAClock.allCases {
                    let byGroup = sums[window]?[clock] ?? [:]
                    let ungrouped = whole.responseTimes(at: instant, window: window, groupBy: .none, clock: clock)
                    (byGroup[nil] ?? Expected()).expectEqual(to: ungrouped.first, "whole log at \(instant), \(clock), \(window)")
                    let byPriority = whole.responseTimes(at: instant, window: window, groupBy: .priority, clock: clock)
                    for priority in Priority.allCases {
                        (byGroup[priority.rawValue] ?? Expected()).expectEqual(
                            to: byPriority.first { $0.key == priority.rawValue },
                            "whole log, priority \(priority), at \(instant), \(clock), \(window)")
                    }
                }
            }
        }
        #expect(checkedIntervals > 200, "\(checkedIntervals) intervals checked")
        #expect(breachedRunning > 0, "no running interval was breached at an evaluation instant")
        // Every kind of interval was met: ended both ways, running, cancelled, reopened.
        #expect(
            seen.isSuperset(of: ["ended achieved", "ended breached", "running -", "running breached", "cancelled -", "reopened -"]),
            "\(seen.sorted())")
    }

    /// The ended intervals the metrics count (turns, and the counted resolution) as
    /// `metric|end|calendar|business|priority|outcome`, sorted.
    static func endedValues(_ intervals: [SLAInterval]) -> [String] {
        intervals.filter { $0.state == .ended }.map { i in
            "\(i.metric)|\(i.end?.milliseconds ?? -1)|\(i.elapsed.calendar)|\(i.elapsed.business)|\(i.priority)|\(i.outcome.map(\.rawValue) ?? "-")"
        }.sorted()
    }

    /// The same of a projection's records (of one ticket).
    static func projectedValues(_ p: SupportProjection) -> [String] {
        func text(_ o: Outcome) -> String { o == .none ? "-" : o == .achieved ? "achieved" : "breached" }
        var out = p.replies.map { r in
            "\(r.isFirst ? SLAMetric.firstReply : .nextReply)|\(r.end)|\(r.calendar)|\(r.business)|\(r.priority)|\(text(r.outcome))"
        }
        for t in p.tickets where t.status.isResolved {
            out.append(
                "\(SLAMetric.resolution)|\(t.resolutionEnd)|\(t.resolutionEnd - t.openedAt)|\(t.resolutionBusiness)|\(t.resolutionPriority)|\(text(t.resolutionOutcome))"
            )
        }
        return out.sorted()
    }

    /// Each ticket of the events (log order) with its own events and their explanation.
    static func explanations(
        _ events: [RecordedEvent], levels: ServiceLevels
    ) throws -> [(id: String, events: [RecordedEvent], clocks: TicketClocks)] {
        var order: [String] = []
        var byTicket: [[UInt32]: [RecordedEvent]] = [:]
        for event in events {
            let key = event.stream.unicodeScalars.map(\.value)
            if byTicket[key] == nil { order.append(event.stream) }
            byTicket[key, default: []].append(event)
        }
        return try order.map { id in
            let own = byTicket[id.unicodeScalars.map(\.value)] ?? []
            return (id, own, try #require(try TicketClocks.explain(own, levels: levels)))
        }
    }

    /// What holds of any ticket's intervals, whatever the metrics say.
    static func expectConsistent(
        _ intervals: [SLAInterval], of ticket: Ticket, at instant: Timestamp, levels: ServiceLevels, id: String
    ) throws {
        let resolutions = intervals.filter { $0.metric == .resolution }
        let counted = resolutions.filter { $0.state == .ended || $0.state == .running }
        #expect(counted.count == 1, "\(id): one resolution counts, found \(counted.map(\.state))")
        #expect(resolutions.last?.state == counted.first?.state, "\(id): the counted resolution is the last")
        #expect((counted.first?.state == .ended) == ticket.status.isResolved, "\(id): \(ticket.status)")
        #expect(resolutions.allSatisfy { $0.start == ticket.openedAt }, "\(id): a resolution runs from the opening")
        let runningTurns = intervals.filter { $0.metric != .resolution && $0.state == .running }
        #expect(runningTurns.count == (ticket.runningTurn == nil ? 0 : 1), "\(id): running turns")
        #expect(intervals.filter { $0.metric == .firstReply && $0.state != .cancelled }.count <= 1, "\(id): one first reply")
        for interval in intervals {
            let end = interval.end ?? instant
            #expect(interval.elapsed.calendar == max(0, end.milliseconds - interval.start.milliseconds), "\(id): \(interval)")
            #expect(interval.elapsed.business == levels.calendar.businessDuration(from: interval.start, to: end), "\(id): \(interval)")
            #expect(interval.target == levels.target(interval.metric, priority: interval.priority), "\(id): \(interval)")
            #expect(interval.due == interval.target.flatMap { levels.due(start: interval.start, target: $0) }, "\(id): \(interval)")
            #expect((interval.state == .running) == (interval.end == nil && interval.endedBy == nil), "\(id): \(interval)")
            #expect((interval.state == .reopened) == (interval.reopenedBy != nil), "\(id): \(interval)")
            #expect(interval.priorityBasis == (interval.state == .running ? .atEvaluation : .atEnd), "\(id): \(interval)")
            if interval.state == .running { #expect(interval.priority == ticket.priority, "\(id): \(interval)") }
            if let endedBy = interval.endedBy { #expect(endedBy.seq > interval.startedBy.seq, "\(id): \(interval)") }
            switch interval.state {
            case .ended:
                let expected = interval.target.map {
                    interval.elapsed.duration(on: $0.clock) <= $0.milliseconds ? SLAInterval.Outcome.achieved : .breached
                }
                #expect(interval.outcome == expected, "\(id): \(interval)")
            case .running:
                if let target = interval.target, interval.outcome == .breached {
                    #expect(interval.elapsed.duration(on: target.clock) > target.milliseconds, "\(id): \(interval)")
                } else if let target = interval.target, interval.due != nil {
                    #expect(interval.elapsed.duration(on: target.clock) <= target.milliseconds, "\(id): \(interval)")
                }
            case .cancelled, .reopened:
                #expect(interval.outcome == nil, "\(id): \(interval)")
            }
            if let late = interval.late, let target = interval.target {
                #expect(late > 0 && late == interval.elapsed.duration(on: target.clock) - target.milliseconds, "\(id): \(interval)")
            } else {
                #expect(interval.outcome != .breached, "\(id): a breach says how late: \(interval)")
            }
        }
    }
}

/// What the intervals of a ticket (or of many) give for one window and clock: what the metrics
/// count (ended intervals ending in the window, running ones breached with their due in it).
struct Expected {
    struct Metric {
        var values: [Int64] = []
        var achieved = 0
        var breached = 0
        var summary: MetricSummary {
            MetricSummary(statistics: DurationStatistics(values), sla: SLACompliance(achieved: achieved, breached: breached))
        }
    }

    var firstReply = Metric()
    var nextReply = Metric()
    var resolution = Metric()
    /// Whether anything counted: the metrics answer a group only then.
    var present = false

    /// Counts `interval` as the metrics do; false when they do not count it.
    @discardableResult
    mutating func add(_ interval: SLAInterval, window: TimeWindow, clock: SLAClock) -> Bool {
        func count(_ body: (inout Metric) -> Void) {
            switch interval.metric {
            case .firstReply: body(&firstReply)
            case .nextReply: body(&nextReply)
            case .resolution: body(&resolution)
            }
            present = true
        }
        switch interval.state {
        case .ended:
            guard let end = interval.end, window.contains(end) else { return false }
            count { m in
                m.values.append(interval.elapsed.duration(on: clock))
                if interval.outcome == .achieved { m.achieved += 1 }
                if interval.outcome == .breached { m.breached += 1 }
            }
        case .running:
            guard interval.outcome == .breached, let due = interval.due, window.contains(due) else { return false }
            count { $0.breached += 1 }
        case .cancelled, .reopened:
            return false
        }
        return true
    }

    func expectEqual(to group: ResponseTimeGroup?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let group else {
            #expect(!present, "\(what): the metric has no group, the explanation counts something", sourceLocation: sourceLocation)
            return
        }
        #expect(present, "\(what): the metric has a group, the explanation counts nothing", sourceLocation: sourceLocation)
        #expect(group.firstReply == firstReply.summary, "\(what): first reply", sourceLocation: sourceLocation)
        #expect(group.nextReply == nextReply.summary, "\(what): next reply", sourceLocation: sourceLocation)
        #expect(group.resolution == resolution.summary, "\(what): resolution", sourceLocation: sourceLocation)
    }
}

/// A random policy file: a zone with a daylight-saving change (or none) inside the span of a log
/// started at ``logStart``, a random week of business windows, holidays in that span, and random
/// targets (some removed) on random clocks.
struct RandomPolicy {
    var json: String
    var logStart: Timestamp

    init(_ rng: inout SeededRandom) {
        // Each zone with a start a few days before one of its changes in 2026.
        let zones: [(String, String)] = [
            ("Europe/Paris", "2026-03-25T06:00:00Z"), ("America/New_York", "2026-10-28T06:00:00Z"),
            ("America/Santiago", "2026-04-01T06:00:00Z"), ("Australia/Lord_Howe", "2026-04-01T06:00:00Z"),
            ("Asia/Kathmandu", "2026-03-20T06:00:00Z"), ("Europe/Paris", "2026-10-21T06:00:00Z"),
        ]
        let (zone, start) = zones[Int.random(in: 0..<zones.count, using: &rng)]
        logStart = Timestamp(rfc3339: start)!
        func hhmm(_ minutes: Int) -> String {
            let h = minutes / 60, m = minutes % 60
            return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
        }
        var days: [String] = []
        for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] where Double.random(in: 0..<1, using: &rng) < 0.75 {
            var windows: [String] = []
            var from = Int.random(in: 0...16, using: &rng) * 60 + (Bool.random(using: &rng) ? 30 : 0)
            for _ in 0..<Int.random(in: 1...2, using: &rng) where from < 23 * 60 {
                let to = min(24 * 60, from + Int.random(in: 1...20, using: &rng) * 30)
                windows.append("\"\(hhmm(from))-\(hhmm(to))\"")
                from = to + Int.random(in: 1...4, using: &rng) * 30
            }
            days.append("\"\(day)\": [\(windows.joined(separator: ", "))]")
        }
        let startDay = logStart.milliseconds / 86_400_000
        var holidays: [String] = []
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            let (y, m, d) = CivilCalendar.date(daysSinceEpoch: Int(startDay) + Int.random(in: -2...14, using: &rng))
            holidays.append("\"\(LocalDate(year: y, month: m, day: d)!)\"")
        }
        var priorities: [String] = []
        for priority in ["urgent", "high", "normal", "low"] {
            var metrics: [String] = []
            for metric in ["firstReply", "nextReply", "resolution"] {
                if Double.random(in: 0..<1, using: &rng) < 0.15 {
                    metrics.append("\"\(metric)\": null")
                    continue
                }
                let most: Int64 = metric == "resolution" ? 3 * 86_400 : 12 * 3_600
                // Half the time whole half-hours, as the windows are: dues then often fall on a
                // window's end, where a business clock's breach waits for the next window.
                let seconds =
                    Bool.random(using: &rng)
                    ? Int64.random(in: 1...(most / 1800), using: &rng) * 1800 : Int64.random(in: 300...most, using: &rng)
                metrics.append(
                    "\"\(metric)\": {\"seconds\": \(seconds), \"clock\": \"\(Bool.random(using: &rng) ? "business" : "calendar")\"}")
            }
            priorities.append("\"\(priority)\": {\(metrics.joined(separator: ", "))}")
        }
        json = """
            {"timeZone": "\(zone)", "schedule": {\(days.joined(separator: ", "))}, "holidays": [\(holidays.joined(separator: ", "))],
             "targets": {\(priorities.joined(separator: ", "))}}
            """
    }
}
