import EventLog
import Projections
import SupportDomain

/// `POST /v1/metrics/what-if`: both policies' figures side by side and what differs. Each side's
/// `responseTimes` and `satisfaction` are the bodies of `GET /v1/metrics/response-times` and
/// `GET /v1/satisfaction` (the same encoders, so byte for byte what a server started with that
/// policy answers for the same parameters at the same instant).
package struct WhatIfAnswer: JSONAnswer {
    /// The effective policy in the policy file's form (every key; no input limits).
    package struct PolicyBody: JSONAnswer {
        let policy: Policy
        package func encode(to encoder: any Encoder) throws { try policy.encode(to: encoder) }
    }

    package struct Side: JSONAnswer {
        package var policy: PolicyBody
        package var policyHash: String
        package var responseTimes: ResponseTimesAnswer
        package var satisfaction: SatisfactionAnswer

        init(_ side: WhatIfSide, query: WhatIfQuery, at: Timestamp) {
            policy = PolicyBody(policy: side.policy)
            policyHash = side.policyHash
            responseTimes = ResponseTimesAnswer(
                side.responseTimes, window: query.window, clock: query.clock, groupBy: query.groupBy, at: at, policyHash: side.policyHash)
            let calendar = side.levels.calendar
            satisfaction = SatisfactionAnswer(
                side.satisfaction, bucket: query.bucket.rawValue, groupBy: query.groupBy, window: query.window,
                timeZone: side.policy.timeZoneIdentifier, at: at, policyHash: side.policyHash, bucketStart: calendar.formatBucketStart)
        }
    }

    /// One SLA metric of a group: both outcomes and proposed minus current.
    package struct SLAChange: JSONAnswer {
        package var current: ResponseTimesAnswer.SLA
        package var proposed: ResponseTimesAnswer.SLA
        package var achievedChange: Int
        package var breachedChange: Int
        /// Proposed compliance minus current; null when either is null.
        @NullWhenAbsent package var complianceChange: Double?

        init(_ change: WhatIfSLAChange) {
            func body(_ c: SLACompliance) -> ResponseTimesAnswer.SLA {
                ResponseTimesAnswer.SLA(achieved: c.achieved, breached: c.breached, compliance: c.compliance)
            }
            current = body(change.current)
            proposed = body(change.proposed)
            achievedChange = change.proposed.achieved - change.current.achieved
            breachedChange = change.proposed.breached - change.current.breached
            let before = change.current.compliance
            complianceChange = change.proposed.compliance.flatMap { after in before.map { after - $0 } }
        }
    }

    package struct GroupChange: JSONAnswer {
        @NullWhenAbsent package var key: String?
        package var firstReply: SLAChange
        package var nextReply: SLAChange
        package var resolution: SLAChange
    }

    package struct Placement: JSONAnswer {
        package var position: Int
        @NullWhenAbsent package var nextDue: Timestamp?
        @NullWhenAbsent package var nextDueTarget: String?
        package var breached: Bool

        init(_ p: WhatIfPlacement) {
            position = p.position
            nextDue = p.nextDue
            nextDueTarget = p.nextDueTarget?.rawValue
            breached = p.breached
        }
    }

    package struct Move: JSONAnswer {
        package var id: String
        package var current: Placement
        package var proposed: Placement
    }

    package struct QueueChange: JSONAnswer {
        package var team: String
        package var depth: Int
        package var changed: Int
        package var tickets: [Move]
    }

    package struct Differences: JSONAnswer {
        package var groups: [GroupChange]
        package var queues: [QueueChange]
    }

    @NullWhenAbsent package var from: Timestamp?
    @NullWhenAbsent package var to: Timestamp?
    package var groupBy: String
    package var clock: String
    package var bucket: String
    package var evaluatedAt: Timestamp
    package var throughSeq: Int64
    package var current: Side
    package var proposed: Side
    package var differences: Differences

    package init(_ result: WhatIfResult) {
        let query = result.query
        from = query.window.from
        to = query.window.to
        groupBy = query.groupBy.rawValue
        clock = query.clock.rawValue
        bucket = query.bucket.rawValue
        evaluatedAt = result.at
        throughSeq = Int64(result.throughSeq)
        current = Side(result.current, query: query, at: result.at)
        proposed = Side(result.proposed, query: query, at: result.at)
        differences = Differences(
            groups: result.groups.map {
                GroupChange(
                    key: $0.key, firstReply: SLAChange($0.firstReply), nextReply: SLAChange($0.nextReply),
                    resolution: SLAChange($0.resolution))
            },
            queues: result.queues.map { q in
                QueueChange(
                    team: q.team, depth: q.depth, changed: q.changed,
                    tickets: q.tickets.map { Move(id: $0.id, current: Placement($0.current), proposed: Placement($0.proposed)) })
            })
    }
}
