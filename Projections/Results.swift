import EventLog
import SupportDomain

/// A half-open interval of instants `[from, to)`; a missing bound is unbounded (SPEC §3).
public struct TimeWindow: Sendable, Hashable {
    /// The first instant in the window; nil: unbounded below.
    public var from: Timestamp?
    /// The first instant after the window; nil: unbounded above.
    public var to: Timestamp?

    /// The window `[from, to)`; a nil bound is unbounded.
    public init(from: Timestamp? = nil, to: Timestamp? = nil) {
        self.from = from
        self.to = to
    }

    /// Every instant.
    public static let unbounded = TimeWindow()

    /// Whether `from <= instant < to`.
    public func contains(_ instant: Timestamp) -> Bool { contains(milliseconds: instant.milliseconds) }

    @inline(__always)
    func contains(milliseconds: Int64) -> Bool {
        if let from, milliseconds < from.milliseconds { return false }
        if let to, milliseconds >= to.milliseconds { return false }
        return true
    }
}

/// What metrics and satisfaction are grouped by (SPEC §4 attribution).
public enum GroupBy: String, Sendable, CaseIterable, Hashable {
    /// One group, key `null`.
    case none
    /// The team the ticket was in when the value ended (a running breach: its current team).
    case team
    /// The author of the ending reply; for resolution, requester wait and agent work the assignee
    /// right after the ending event; for a running breach the current assignee; for a rating the
    /// rated reply's author. No agent is the `null` group.
    case agent
    /// The priority when the value ended (running breach: the current priority).
    case priority
    /// The ticket's channel.
    case channel
    /// The ticket's product.
    case product
}

// MARK: Queues

/// One team's queue in the queues summary (SPEC §5, §8 `queues`).
public struct QueueSummary: Sendable, Hashable {
    /// The team.
    public var team: String
    /// The tickets awaiting an agent (`new` or `open`) in the team.
    public var depth: Int
    /// How many of them are breached at the evaluation instant.
    public var breached: Int
    /// The earliest waiting-since of the entries; nil when the queue is empty.
    public var oldestWaitingSince: Timestamp?
}

/// One ticket of a team or agent queue (SPEC §8 `entries`).
public struct QueueEntry: Sendable, Hashable {
    /// The ticket's id.
    public var id: String
    /// The ticket's subject.
    public var subject: String
    /// The ticket's customer.
    public var customer: String
    /// The ticket's priority.
    public var priority: Priority
    /// The ticket's status.
    public var status: TicketStatus
    /// The assigned agent, if any.
    public var assignee: String?
    /// The channel the ticket came in by.
    public var channel: Channel
    /// Since when the ticket has awaited an agent.
    public var waitingSince: Timestamp?
    /// When the ticket's next running SLA target falls due; nil when none runs.
    public var nextDue: Timestamp?
    /// The metric of that target.
    public var nextDueTarget: SLAMetric?
    /// Whether a running target is past due at the evaluation instant.
    public var breached: Bool
}

// MARK: Workloads

/// The tickets currently assigned to an agent, by status.
public struct AssignedCounts: Sendable, Hashable {
    /// `new` and `open`: awaiting the agent.
    public var newOpen: Int
    /// `pending`: awaiting the customer.
    public var pending: Int
    /// `on_hold`: put on hold.
    public var onHold: Int

    package init(newOpen: Int = 0, pending: Int = 0, onHold: Int = 0) {
        self.newOpen = newOpen
        self.pending = pending
        self.onHold = onHold
    }
}

/// Ratings summarised: count, mean score and CSAT (share of 4 and 5, 0...1); nil when empty.
public struct RatingSummary: Sendable, Hashable {
    /// How many ratings.
    public var count: Int
    /// The mean score; nil when there is no rating.
    public var mean: Double?
    /// The share of scores 4 and 5, 0...1; nil when there is no rating.
    public var csat: Double?
}

/// One agent's workload (SPEC §5 agent workloads, §8 `agents`).
public struct AgentWorkload: Sendable, Hashable {
    /// The agent's id.
    public var agent: String
    /// Currently assigned tickets by status.
    public var assigned: AssignedCounts
    /// Resolution values attributed to the agent that end in the window.
    public var solved: Int
    /// The agent's `message.posted` events in the window.
    public var replies: Int
    /// The current ratings of the agent's replies given in the window.
    public var satisfaction: RatingSummary
    /// Whether `assigned.newOpen` exceeds the policy's capacity.
    public var overloaded: Bool
}

// MARK: Response times

/// Durations summarised, in milliseconds (SPEC §4 statistics). All nil when `count` is 0.
public struct DurationStatistics: Sendable, Hashable {
    /// How many durations.
    public var count: Int
    /// The shortest.
    public var min: Int64?
    /// The longest.
    public var max: Int64?
    /// sum / count rounded to the nearest millisecond, halves away from zero.
    public var mean: Int64?
    /// Nearest rank: the k-th smallest value with k = ceil(50 n / 100).
    public var p50: Int64?
    /// Nearest rank: the k-th smallest value with k = ceil(90 n / 100).
    public var p90: Int64?
    /// Nearest rank: the k-th smallest value with k = ceil(99 n / 100).
    public var p99: Int64?

    /// No duration at all.
    public static let empty = DurationStatistics(count: 0, min: nil, max: nil, mean: nil, p50: nil, p90: nil, p99: nil)

    /// Summarises `values` (any order). The ranks are selected, not sorted for: O(n), and the
    /// values are only read (`select(_:of:low:high:)`).
    package init(_ values: [Int64]) {
        guard !values.isEmpty else {
            self = .empty
            return
        }
        let n = values.count
        let (sum, low, high) = values.withUnsafeBufferPointer { v in
            var sum: Int128 = 0
            var low = v[0], high = v[0]
            for value in v {
                sum += Int128(value)
                low = Swift.min(low, value)
                high = Swift.max(high, value)
            }
            return (sum, low, high)
        }
        let divisor = Int128(n)
        var quotient = sum / divisor
        let remainder = sum % divisor
        // Halves away from zero.
        if remainder.magnitude * 2 >= divisor.magnitude { quotient += sum < 0 ? -1 : 1 }
        let k50 = (50 * n + 99) / 100 - 1, k90 = (90 * n + 99) / 100 - 1, k99 = (99 * n + 99) / 100 - 1
        let ranks = values.withUnsafeBufferPointer { Self.select([k50, k90, k99], of: $0, low: low, high: high) }
        self.init(count: n, min: low, max: high, mean: Int64(quotient), p50: ranks[0], p90: ranks[1], p99: ranks[2])
    }

    /// Below this many values a selection works on a copy with quickselect.
    static let countingThreshold = 2_048

    /// The values at the positions `ks` (ascending) of `v` sorted, all of `v` within
    /// `low...high`. A counting pass over buckets of the high bits of `value - low` (about
    /// log2(n) bits, 8 to 16) finds the bucket of each rank and its rank within it; then the
    /// values of that bucket alone are gathered and selected from, the same way on their lower
    /// bits. The k-th smallest value is one value whichever way it is found: the answer is the
    /// sort's.
    static func select(_ ks: [Int], of v: UnsafeBufferPointer<Int64>, low: Int64, high: Int64) -> [Int64] {
        if low == high { return ks.map { _ in low } }
        if v.count < countingThreshold {
            var copy = Array(v)
            return copy.withUnsafeMutableBufferPointer { c in
                var from = 0
                return ks.map { k in
                    // Each selection leaves the larger values after its rank: the next one looks there only.
                    select(c, k, from: from)
                    from = k
                    return c[k]
                }
            }
        }
        let range = UInt64(bitPattern: high &- low)
        let bits = UInt64.bitWidth - range.leadingZeroBitCount
        let bucketBits = Swift.min(16, Swift.max(8, Int.bitWidth - v.count.leadingZeroBitCount))
        let shift = UInt64(Swift.max(0, bits - bucketBits))
        var counts = [Int](repeating: 0, count: Int(range >> shift) + 1)
        counts.withUnsafeMutableBufferPointer { c in
            for x in v { c[Int(UInt64(bitPattern: x &- low) >> shift)] += 1 }
        }
        // Each rank's bucket and its rank within the bucket (ranks ascending: buckets too).
        var buckets: [(bucket: Int, ranks: [Int])] = []
        var bucket = 0, before = 0
        for k in ks {
            while before + counts[bucket] <= k {
                before += counts[bucket]
                bucket += 1
            }
            if buckets.last?.bucket == bucket {
                buckets[buckets.count - 1].ranks.append(k - before)
            } else {
                buckets.append((bucket, [k - before]))
            }
        }
        var out: [Int64] = []
        out.reserveCapacity(ks.count)
        for (b, ranks) in buckets {
            let offset = UInt64(b) << shift
            let bucketLow = low &+ Int64(bitPattern: offset)
            if shift == 0 {
                out += ranks.map { _ in bucketLow }
                continue
            }
            let bucketHigh = low &+ Int64(bitPattern: Swift.min(range, offset + ((1 << shift) - 1)))
            var members: [Int64] = []
            members.reserveCapacity(counts[b])
            let key = UInt64(b)
            for x in v where UInt64(bitPattern: x &- low) >> shift == key { members.append(x) }
            out += members.withUnsafeBufferPointer { select(ranks, of: $0, low: bucketLow, high: bucketHigh) }
        }
        return out
    }

    /// Moves the k-th smallest of `v[from...]` to index k, the smaller ones before it and the
    /// larger after it (a quickselect with random pivots and three-way partitions, for the
    /// many equal durations).
    private static func select(_ v: UnsafeMutableBufferPointer<Int64>, _ k: Int, from: Int) {
        var low = from, high = v.count - 1
        while low < high {
            let pivot = v[Int.random(in: low...high)]
            var less = low, i = low, greater = high
            while i <= greater {
                let x = v[i]
                if x < pivot {
                    v.swapAt(less, i)
                    less += 1
                    i += 1
                } else if x > pivot {
                    v.swapAt(i, greater)
                    greater -= 1
                } else {
                    i += 1
                }
            }
            if k < less { high = less - 1 } else if k > greater { low = greater + 1 } else { return }
        }
    }

    package init(count: Int, min: Int64?, max: Int64?, mean: Int64?, p50: Int64?, p90: Int64?, p99: Int64?) {
        self.count = count
        self.min = min
        self.max = max
        self.mean = mean
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
    }
}

/// SLA outcomes of one metric: achieved and breached intervals, compliance = achieved /
/// (achieved + breached), nil when both are 0.
public struct SLACompliance: Sendable, Hashable {
    /// Intervals that ended within their target.
    public var achieved: Int
    /// Intervals that exceeded their target.
    public var breached: Int
    /// achieved / (achieved + breached); nil when both are 0.
    public var compliance: Double? {
        achieved + breached == 0 ? nil : Double(achieved) / Double(achieved + breached)
    }

    package init(achieved: Int = 0, breached: Int = 0) {
        self.achieved = achieved
        self.breached = breached
    }
}

/// One metric of a response-time group: its statistics, and for the SLA metrics (first reply,
/// next reply, resolution) its SLA outcomes.
public struct MetricSummary: Sendable, Hashable {
    /// The durations summarised.
    public var statistics: DurationStatistics
    /// nil for requester wait and agent work (no SLA).
    public var sla: SLACompliance?
}

/// One group of the response-time metrics (SPEC §8 response times).
public struct ResponseTimeGroup: Sendable, Hashable {
    /// nil: the null group (no agent, or groupBy none).
    public var key: String?
    /// Time to the first reply.
    public var firstReply: MetricSummary
    /// Time to each later reply.
    public var nextReply: MetricSummary
    /// Time to resolution.
    public var resolution: MetricSummary
    /// The part of the resolution time spent in `new`, `open` or `on_hold` (no SLA).
    public var requesterWait: MetricSummary
    /// The part of the resolution time spent in `new` or `open` (no SLA).
    public var agentWork: MetricSummary
}

// MARK: Satisfaction

/// One bucket of a satisfaction series.
public struct SatisfactionPoint: Sendable, Hashable {
    /// The bucket's start (local midnight; format with `BusinessCalendar.formatBucketStart`).
    public var bucketStart: Timestamp
    /// How many ratings fall in the bucket.
    public var count: Int
    /// The mean score, unrounded.
    public var mean: Double
    /// The share of scores 4 and 5, 0...1.
    public var csat: Double
}

/// One group of the satisfaction answer, its buckets in time order (empty buckets omitted).
public struct SatisfactionGroup: Sendable, Hashable {
    /// The group's key; nil: the null group (no agent, or groupBy none).
    public var key: String?
    /// The buckets with ratings, in time order.
    public var series: [SatisfactionPoint]
}

// MARK: Ticket list

/// The filters of the ticket list (SPEC §5); nil matches everything. Names compare by code point.
public struct TicketFilter: Sendable, Hashable {
    /// Only tickets in this status.
    public var status: TicketStatus?
    /// Only the team's tickets.
    public var team: String?
    /// Only the tickets assigned to this agent.
    public var assignee: String?
    /// Only this customer's tickets.
    public var customer: String?
    /// Only the tickets with this tag.
    public var tag: String?

    /// A filter; each nil member matches every ticket.
    public init(
        status: TicketStatus? = nil, team: String? = nil, assignee: String? = nil,
        customer: String? = nil, tag: String? = nil
    ) {
        self.status = status
        self.team = team
        self.assignee = assignee
        self.customer = customer
        self.tag = tag
    }
}

/// A ticket without its thread (SPEC §8), evaluated at an instant.
public struct TicketSummary: Sendable, Hashable {
    /// The ticket's id.
    public var id: String
    /// The version of the ticket's last event.
    public var version: UInt64
    /// The status.
    public var status: TicketStatus
    /// The priority.
    public var priority: Priority
    /// The team the ticket is with.
    public var team: String
    /// The assigned agent, if any.
    public var assignee: String?
    /// The customer.
    public var customer: String
    /// The subject.
    public var subject: String
    /// The channel the ticket came in by.
    public var channel: Channel
    /// The product.
    public var product: String
    /// Free-form context given at opening, if any.
    public var context: String?
    /// Sorted by code point.
    public var tags: [String]
    /// When the ticket was opened.
    public var openedAt: Timestamp
    /// Who opened it.
    public var openedBy: SupportActor
    /// The ticket it was merged into, if any.
    public var mergedInto: String?
    /// Since when the ticket has awaited an agent; nil when it does not.
    public var waitingSince: Timestamp?
    /// When the next running SLA target falls due; nil when none runs.
    public var nextDue: Timestamp?
    /// The metric of that target.
    public var nextDueTarget: SLAMetric?
    /// Whether a running target is past due at the evaluation instant.
    public var breached: Bool
}

/// One page of the ticket list.
public struct TicketPage: Sendable, Hashable {
    /// The page's tickets, newest opening first (see ``SupportProjection/tickets(matching:at:limit:after:)``).
    public var tickets: [TicketSummary]
    /// The id to pass as `after` for the next page; nil on the last page.
    public var next: String?
}

// MARK: Response-time values (the drill-down of a metric)

/// One value behind an SLA metric of ``ResponseTimeGroup``: an ended interval (first reply,
/// next reply or resolution), or a running one already breached at the evaluation instant.
package struct ResponseTimeValue: Sendable, Hashable {
    /// An SLA outcome.
    package enum Outcome: String, Sendable, Hashable {
        case achieved
        case breached
    }

    package var ticket: String
    package var metric: SLAMetric
    /// The priority the interval is judged against: at its end, or the current one while it runs.
    package var priority: Priority
    package var start: Timestamp
    /// nil: still running (breached at the evaluation instant).
    package var end: Timestamp?
    /// Milliseconds on the clock asked for; for a running interval, up to the evaluation instant.
    package var duration: Int64
    /// The target at ``priority``, nil without one.
    package var target: SLATarget?
    /// nil: no target at that priority.
    package var outcome: Outcome?
    /// For a breached interval: milliseconds on the target's clock beyond the target (a running
    /// one measured at the evaluation instant).
    package var late: Int64?
}
