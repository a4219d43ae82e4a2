import EventLog
import SupportDomain

/// `GET /v1/tickets/{id}/sla` and `support-replay sla`: every SLA interval of a ticket explained
/// (``TicketClocks``), with the business windows that counted. The one encoder of that shape.
package struct SLAExplanationAnswer: JSONAnswer {
    /// An event that started or ended an interval.
    package struct Reference: JSONAnswer {
        package var seq: UInt64
        package var version: UInt64
        package var type: String

        init(_ r: EventReference) {
            seq = r.seq
            version = r.version
            type = r.type
        }
    }

    /// Both clocks' lengths, in seconds.
    package struct Elapsed: JSONAnswer {
        package var calendar: SecondsBody
        package var business: SecondsBody
    }

    package struct Window: JSONAnswer {
        /// The local date.
        package var date: String
        /// Local wall times with their offset.
        package var start: String
        package var end: String
        package var seconds: SecondsBody
    }

    package struct Day: JSONAnswer {
        package var date: String
        package var kind: String
        /// For a daylight-saving day: the UTC offsets at its start and end (`+01:00`).
        package var offsetBefore: String?
        package var offsetAfter: String?
    }

    /// The business time of the interval: the windows that counted (the first 400), how many
    /// there were, and the holidays and daylight-saving days it spans.
    package struct BusinessTime: JSONAnswer {
        package var seconds: SecondsBody
        package var windowCount: Int
        package var windows: [Window]
        package var notableDays: [Day]
    }

    package struct Interval: JSONAnswer {
        package var metric: String
        package var state: String
        @NullWhenAbsent package var outcome: String?
        package var start: Timestamp
        package var startedBy: Reference
        @NullWhenAbsent package var end: Timestamp?
        @NullWhenAbsent package var endedBy: Reference?
        @NullWhenAbsent package var reopenedBy: Reference?
        package var priority: String
        package var priorityBasis: String
        @NullWhenAbsent package var target: SLATarget?
        @NullWhenAbsent package var due: Timestamp?
        package var elapsed: Elapsed
        /// Beyond the target on the target's clock, when breached.
        @NullWhenAbsent package var late: SecondsBody?
        package var businessTime: BusinessTime
    }

    package var ticket: String
    package var version: UInt64
    package var evaluatedAt: Timestamp
    package var timeZone: String
    package var policyHash: String
    package var intervals: [Interval]

    /// The explanation of `clocks` (folded from the ticket's events) evaluated at `evaluation`.
    package init(ticket: String, clocks: TicketClocks, at evaluation: Timestamp) {
        let levels = clocks.levels
        let calendar = levels.calendar
        self.ticket = ticket
        version = clocks.ticket?.version ?? 0
        evaluatedAt = evaluation
        timeZone = levels.policy.timeZoneIdentifier
        policyHash = levels.policy.hash
        intervals = clocks.intervals(at: evaluation).map { interval in
            let explained = calendar.explainBusinessTime(from: interval.start, to: interval.end ?? max(interval.start, evaluation))
            return Interval(
                metric: interval.metric.rawValue, state: interval.state.rawValue, outcome: interval.outcome?.rawValue,
                start: interval.start, startedBy: Reference(interval.startedBy), end: interval.end,
                endedBy: interval.endedBy.map(Reference.init), reopenedBy: interval.reopenedBy.map(Reference.init),
                priority: interval.priority.rawValue, priorityBasis: interval.priorityBasis.rawValue, target: interval.target,
                due: interval.due,
                elapsed: Elapsed(
                    calendar: SecondsBody(milliseconds: interval.elapsed.calendar),
                    business: SecondsBody(milliseconds: interval.elapsed.business)),
                late: interval.late.map(SecondsBody.init),
                businessTime: BusinessTime(
                    seconds: SecondsBody(milliseconds: explained.total), windowCount: explained.windowCount,
                    windows: explained.windows.map { w in
                        Window(
                            date: w.date.description, start: calendar.formatBucketStart(w.start), end: calendar.formatBucketStart(w.end),
                            seconds: SecondsBody(milliseconds: w.milliseconds))
                    },
                    notableDays: explained.notableDays.map { day in
                        Day(
                            date: day.date.description, kind: day.kind.rawValue, offsetBefore: day.offsets.map { Self.offset($0.before) },
                            offsetAfter: day.offsets.map { Self.offset($0.after) })
                    }))
        }
    }

    /// The explanation of a ticket's events (version order) with `at` <= `asOf` when given,
    /// evaluated at `asOf` or else at `now`; nil when the ticket had no event by then.
    package static func make(
        ticket: String, events: [RecordedEvent], asOf: Timestamp?, now: Timestamp, levels: ServiceLevels
    ) throws(DomainError) -> SLAExplanationAnswer? {
        let considered = asOf.map { instant in events.prefix { $0.at <= instant } } ?? events[...]
        guard let clocks = try TicketClocks.explain(considered, levels: levels) else { return nil }
        return SLAExplanationAnswer(ticket: ticket, clocks: clocks, at: asOf ?? now)
    }

    /// A UTC offset as `+HH:MM` (`+HH:MM:SS` when it has seconds).
    static func offset(_ milliseconds: Int64) -> String {
        let seconds = abs(milliseconds) / 1000
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let text = (milliseconds < 0 ? "-" : "+") + two(seconds / 3600) + ":" + two(seconds / 60 % 60)
        return seconds % 60 == 0 ? text : text + ":" + two(seconds % 60)
    }
}
extension SLATarget: JSONAnswer {}

extension SupportBackend {
    /// The clocks of a ticket explained from its events (read by the caller, who checked who may
    /// see them): the events with `at` <= `asOf`, evaluated at `asOf`, else all, evaluated now.
    /// Nil when the ticket had no event by then.
    ///
    /// With `asOf`, like every point-in-time answer, it is computed off the request path and a few
    /// at once (``PointInTimeFolds``: 503 beyond): an instant far ahead makes intervals centuries
    /// long, whose business time takes seconds to count.
    package func explainClocks(
        ticket: String, events: [RecordedEvent], asOf: Timestamp?
    ) async throws(ServiceError) -> SLAExplanationAnswer? {
        let levels = self.levels, now = clock()
        let explain: @Sendable () throws -> SLAExplanationAnswer? = {
            do throws(DomainError) {
                return try SLAExplanationAnswer.make(ticket: ticket, events: events, asOf: asOf, now: now, levels: levels)
            } catch {
                // A stored event the domain cannot read: the log is damaged, not the request.
                throw ServiceError(.unavailable, error.detail)
            }
        }
        do {
            guard asOf != nil else { return try explain() }
            return try await pointInTime.run(retryAfter: 1, explain)
        } catch {
            throw error as? ServiceError ?? ServiceError(.internalError, "explaining the clocks of \(ticket) failed: \(error)")
        }
    }
}
