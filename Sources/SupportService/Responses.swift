import EventLog
import Projections
import SupportDomain

// The answers the API and support-replay both give: one type per shape, written by
// CanonicalJSONEncoder (see JSONAnswer), so the CLI's `--json` output is the API's body byte for byte.

/// A team's or an agent's queue (`GET /v1/queues/{team}`, `GET /v1/agents/{id}/queue`,
/// `support-replay as-of --queue/--agent`): `{"<owner key>", "entries", "evaluatedAt"}`.
package enum QueueAnswer {
    /// The answer written straight to bytes in canonical member order: queue reads are the
    /// hottest route, and building a dictionary per entry to sort its keys costs more than the query
    /// (docs/benchmarks.md, "direct writer, no temporary arrays"). This is why the queue shape is
    /// the one answer not written by ``CanonicalJSONEncoder`` through a ``JSONAnswer``: the
    /// encoder records the value and sorts each object's member names first. It stays the shape's only writer (routes and
    /// support-replay); QueueAnswerTests checks its bytes against the canonical encoding.
    package static func body(owner: (key: String, value: String), entries: [QueueEntry], at: Timestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + entries.count * 320)
        // Members in canonical order: "agent" < "entries" < "evaluatedAt" < "team".
        // The member names are fixed ASCII, for which RFC 8785's UTF-16 order is byte order.
        let ownerFirst = owner.key.utf8.lexicographicallyPrecedes("entries".utf8)
        out.append(UInt8(ascii: "{"))
        if ownerFirst {
            CanonicalJSON.appendStringLiteral(owner.key, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendStringLiteral(owner.value, to: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""entries":["#.utf8)
        for (k, e) in entries.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"assignee":"#.utf8)
            if let a = e.assignee { CanonicalJSON.appendStringLiteral(a, to: &out) } else { out.append(contentsOf: "null".utf8) }
            out.append(contentsOf: (e.breached ? #","breached":true,"channel":""# : #","breached":false,"channel":""#).utf8)
            out.append(contentsOf: e.channel.rawValue.utf8)
            out.append(contentsOf: #"","customer":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.customer, to: &out)
            out.append(contentsOf: #","id":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.id, to: &out)
            out.append(contentsOf: #","nextDue":"#.utf8)
            appendInstant(e.nextDue, to: &out)
            out.append(contentsOf: #","nextDueTarget":"#.utf8)
            if let t = e.nextDueTarget { out.append(contentsOf: "\"\(t.rawValue)\"".utf8) } else { out.append(contentsOf: "null".utf8) }
            out.append(contentsOf: #","priority":""#.utf8); out.append(contentsOf: e.priority.rawValue.utf8)
            out.append(contentsOf: #"","status":""#.utf8); out.append(contentsOf: e.status.rawValue.utf8)
            out.append(contentsOf: #"","subject":"#.utf8)
            CanonicalJSON.appendStringLiteral(e.subject, to: &out)
            out.append(contentsOf: #","waitingSince":"#.utf8)
            appendInstant(e.waitingSince, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"evaluatedAt":"#.utf8)
        appendInstant(at, to: &out)
        if !ownerFirst {
            out.append(UInt8(ascii: ","))
            CanonicalJSON.appendStringLiteral(owner.key, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSON.appendStringLiteral(owner.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func appendInstant(_ t: Timestamp?, to out: inout [UInt8]) {
        guard let t else { out.append(contentsOf: "null".utf8); return }
        out.append(UInt8(ascii: "\""))
        t.appendRFC3339(to: &out)
        out.append(UInt8(ascii: "\""))
    }
}

/// A ticket's history (`GET /v1/tickets/{id}/history`, `support-replay history --json`): every
/// event of the ticket in the log's envelope, each with the ticket's state right after it
/// (evaluated at the event's `at`): `{"events": [{"event", "state"}], "ticket"}`.
package enum TicketHistory {
    /// The body for `events` (the ticket's whole stream, in order).
    package static func body(
        ticket id: String, events: [RecordedEvent], envelope: EnvelopeFormat,
        levels: ServiceLevels
    ) throws(ServiceError) -> [UInt8] {
        var fold = TicketFold()
        var body = Array(#"{"events":["#.utf8)
        for (k, recorded) in events.enumerated() {
            do { try fold.apply(recorded) } catch {
                throw ServiceError(.unavailable, "event \(recorded.seq) cannot be read: \(error.detail)")
            }
            guard let ticket = fold.ticket else { throw ServiceError(.unavailable, "ticket \(id) does not start with ticket.opened") }
            if k > 0 { body.append(UInt8(ascii: ",")) }
            body += Array(#"{"event":"#.utf8)
            body += envelope.jsonLine(of: recorded)
            body += Array(#","state":"#.utf8)
            body += TicketSummaryBody(ticket, at: recorded.at, levels: levels).canonicalJSON
            body.append(UInt8(ascii: "}"))
        }
        body += Array(#"],"ticket":"#.utf8)
        CanonicalJSON.appendStringLiteral(id, to: &body)
        body.append(UInt8(ascii: "}"))
        return body
    }
}

/// `GET /v1/queues`: every team's queue summarised.
package struct QueuesAnswer: JSONAnswer {
    package struct Queue: JSONAnswer {
        package var team: String
        package var depth: Int
        package var breached: Int
        @NullWhenAbsent package var oldestWaitingSince: Timestamp?
    }

    package var evaluatedAt: Timestamp
    package var queues: [Queue]

    package init(_ queues: [QueueSummary], at: Timestamp) {
        evaluatedAt = at
        self.queues = queues.map { Queue(team: $0.team, depth: $0.depth, breached: $0.breached, oldestWaitingSince: $0.oldestWaitingSince) }
    }
}

/// Ratings: `{"count", "mean", "csat"}`, `null` for no ratings.
package struct RatingsBody: JSONAnswer {
    package var count: Int
    @NullWhenAbsent package var mean: Double?
    @NullWhenAbsent package var csat: Double?

    package init(_ r: RatingSummary) {
        count = r.count
        mean = r.mean
        csat = r.csat
    }
}

/// `GET /v1/agents`: the agents' workloads in a window.
package struct AgentsAnswer: JSONAnswer {
    package struct Assigned: JSONAnswer {
        package var newOpen: Int
        package var pending: Int
        package var onHold: Int
    }

    package struct Agent: JSONAnswer {
        package var agent: String
        package var assigned: Assigned
        package var solved: Int
        package var replies: Int
        package var satisfaction: RatingsBody
        package var overloaded: Bool

        init(_ w: AgentWorkload) {
            agent = w.agent
            assigned = Assigned(newOpen: w.assigned.newOpen, pending: w.assigned.pending, onHold: w.assigned.onHold)
            solved = w.solved
            replies = w.replies
            satisfaction = RatingsBody(w.satisfaction)
            overloaded = w.overloaded
        }
    }

    @NullWhenAbsent package var from: Timestamp?
    @NullWhenAbsent package var to: Timestamp?
    package var evaluatedAt: Timestamp
    package var capacity: Int
    package var agents: [Agent]
    package var policyHash: String

    package init(_ workloads: [AgentWorkload], window: TimeWindow, at: Timestamp, capacity: Int, policyHash: String) {
        from = window.from
        to = window.to
        evaluatedAt = at
        self.capacity = capacity
        agents = workloads.map(Agent.init)
        self.policyHash = policyHash
    }
}

/// Milliseconds as a JSON number of seconds with at most 3 fraction digits.
package struct SecondsBody: JSONAnswer {
    package var milliseconds: Int64

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if milliseconds % 1000 == 0 { try container.encode(milliseconds / 1000) } else { try container.encode(Double(milliseconds) / 1000) }
    }
}

/// `GET /v1/metrics/response-times`: the metrics per group.
package struct ResponseTimesAnswer: JSONAnswer {
    package struct SLA: JSONAnswer {
        package var achieved: Int
        package var breached: Int
        @NullWhenAbsent package var compliance: Double?
    }

    /// One metric: its statistics in seconds and, for the SLA metrics, its SLA outcomes.
    package struct Metric: JSONAnswer {
        package var count: Int
        @NullWhenAbsent package var min: SecondsBody?
        @NullWhenAbsent package var max: SecondsBody?
        @NullWhenAbsent package var mean: SecondsBody?
        @NullWhenAbsent package var p50: SecondsBody?
        @NullWhenAbsent package var p90: SecondsBody?
        @NullWhenAbsent package var p99: SecondsBody?
        /// Omitted (not `null`) for the metrics without an SLA.
        package var sla: SLA?

        init(_ m: MetricSummary) {
            let s = m.statistics
            func seconds(_ ms: Int64?) -> SecondsBody? { ms.map(SecondsBody.init) }
            count = s.count
            min = seconds(s.min)
            max = seconds(s.max)
            mean = seconds(s.mean)
            p50 = seconds(s.p50)
            p90 = seconds(s.p90)
            p99 = seconds(s.p99)
            sla = m.sla.map { SLA(achieved: $0.achieved, breached: $0.breached, compliance: $0.compliance) }
        }
    }

    package struct Group: JSONAnswer {
        @NullWhenAbsent package var key: String?
        package var firstReply: Metric
        package var nextReply: Metric
        package var resolution: Metric
        package var requesterWait: Metric
        package var agentWork: Metric

        init(_ g: ResponseTimeGroup) {
            key = g.key
            firstReply = Metric(g.firstReply)
            nextReply = Metric(g.nextReply)
            resolution = Metric(g.resolution)
            requesterWait = Metric(g.requesterWait)
            agentWork = Metric(g.agentWork)
        }
    }

    @NullWhenAbsent package var from: Timestamp?
    @NullWhenAbsent package var to: Timestamp?
    package var clock: String
    package var groupBy: String
    package var evaluatedAt: Timestamp
    package var groups: [Group]
    package var policyHash: String

    package init(_ groups: [ResponseTimeGroup], window: TimeWindow, clock: SLAClock, groupBy: GroupBy, at: Timestamp, policyHash: String) {
        from = window.from
        to = window.to
        self.clock = clock.rawValue
        self.groupBy = groupBy.rawValue
        evaluatedAt = at
        self.groups = groups.map(Group.init)
        self.policyHash = policyHash
    }
}

/// `GET /v1/satisfaction`: rating series per group.
package struct SatisfactionAnswer: JSONAnswer {
    package struct Point: JSONAnswer {
        package var bucketStart: String
        package var count: Int
        package var mean: Double
        package var csat: Double
    }

    package struct Group: JSONAnswer {
        @NullWhenAbsent package var key: String?
        package var series: [Point]
    }

    package var bucket: String
    package var groupBy: String
    @NullWhenAbsent package var from: Timestamp?
    @NullWhenAbsent package var to: Timestamp?
    package var timeZone: String
    package var evaluatedAt: Timestamp
    package var groups: [Group]
    package var policyHash: String

    /// `bucketStart` formats a bucket's start as the business calendar writes it.
    package init(
        _ groups: [SatisfactionGroup], bucket: String, groupBy: GroupBy, window: TimeWindow, timeZone: String,
        at: Timestamp, policyHash: String, bucketStart: (Timestamp) -> String
    ) {
        self.bucket = bucket
        self.groupBy = groupBy.rawValue
        from = window.from
        to = window.to
        self.timeZone = timeZone
        evaluatedAt = at
        self.groups = groups.map { g in
            Group(
                key: g.key,
                series: g.series.map { Point(bucketStart: bucketStart($0.bucketStart), count: $0.count, mean: $0.mean, csat: $0.csat) })
        }
        self.policyHash = policyHash
    }
}

/// `GET /v1/tickets`: one page of the ticket list.
package struct TicketListAnswer: JSONAnswer {
    package var evaluatedAt: Timestamp
    package var tickets: [TicketSummaryBody]
    /// The `after` of the next page; `null` on the last.
    @NullWhenAbsent package var next: String?

    package init(_ page: TicketPage, at: Timestamp) {
        evaluatedAt = at
        tickets = page.tickets.map { TicketSummaryBody($0, at: at) }
        next = page.next
    }

    /// No tickets (a customer asking for another customer's).
    package init(noTicketsAt at: Timestamp) {
        evaluatedAt = at
        tickets = []
        next = nil
    }
}

/// `GET /v1/events/head`: the last event's `{"seq", "hash"}`.
package struct EventsHeadAnswer: JSONAnswer {
    package var seq: Int64
    package var hash: String

    package init(_ head: LogHead) {
        seq = Int64(head.seq)
        hash = head.hash.hex
    }
}

/// `POST /v1/import`: what an import appended.
package struct ImportAnswer: JSONAnswer {
    package var imported: Int64
    package var tickets: Int64
    package var lastSeq: Int64

    package init(_ summary: ImportSummary) {
        imported = Int64(summary.imported)
        tickets = Int64(summary.tickets)
        lastSeq = Int64(summary.lastSeq)
    }
}

/// `GET /healthz`: `{"status": "ok"}`.
package struct HealthAnswer: JSONAnswer {
    package var status = "ok"

    package init() {}
}
