import EventLog
import Synchronization

/// Projection snapshots for point-in-time answers (`asOf=T`, SPEC §3: the events with `at` <= T,
/// in log order, whatever their `recorded`), so that an answer folds a few events from a snapshot
/// instead of the whole log.
///
/// The rule. Let maxAt(n) be the greatest `at` of the events 1...n (non-decreasing in n). A
/// snapshot of the projection after the events 1...N (a plain prefix of the log) answers for any
/// T >= maxAt(N): each of those events has `at` <= T, so the full fold up to T applies all of them,
/// in the same order, to the same state. What the full fold applies after them are the events with
/// seq > N and `at` <= T, in seq order. Let M(T) be the last seq with maxAt <= T (M(T) >= N): every
/// event up to M(T) has `at` <= T; the event M(T) + 1 has `at` > T (it raised maxAt above T); an
/// event after that with `at` <= T has `at` < maxAt(seq - 1): it is *back-dated*. So the answer is:
/// the snapshot, then the events N+1...B with `at` <= T for any bound B >= M(T), then the
/// back-dated events after B with `at` <= T, all in seq order, then (beyond what the index has
/// seen) the remaining events of the log with `at` <= T.
///
/// What is kept, fed in seq order by whoever folds the log from seq 1 (the runner's live
/// projection, or a background fold after a start from a checkpoint):
/// - snapshots every ``spacing`` events (copies of the projection, which share their chunks with
///   it: ``ChunkedArray``, ``NameTable``), at most ``capacity`` of them: beyond, every other one is
///   dropped and the spacing doubled, so that they stay evenly spread over the log;
/// - maxAt every ``markEvery`` events (the bound B: the first mark above T);
/// - the seq and `at` of every back-dated event. A log where they are more than
///   ``backdatedLimit`` (an old log imported after newer events) is not indexed: its answers are
///   full folds, which are always right.
package final class PointInTimeIndex: Sendable {
    /// A projection after the events 1...seq, and the greatest `at` among them.
    struct Snapshot: Sendable {
        let seq: UInt64
        let maxAt: Int64
        var projection: SupportProjection
    }

    struct Mark: Sendable {
        let seq: UInt64
        let maxAt: Int64
    }

    struct Backdated: Sendable {
        let seq: UInt64
        let at: Int64
    }

    /// How many events a point-in-time index may leave to a fold from a snapshot.
    package struct Options: Sendable {
        /// Events between snapshots (at first: doubled whenever the snapshots exceed `capacity`).
        package var spacing: UInt64
        /// Snapshots kept at most.
        package var capacity: Int
        /// Back-dated events kept at most; beyond, point-in-time answers are full folds.
        package var backdatedLimit: Int
        /// Events between two maxAt marks.
        package var markEvery: UInt64

        package init(spacing: UInt64 = 32_768, capacity: Int = 320, backdatedLimit: Int = 1 << 20, markEvery: UInt64 = 512) {
            self.spacing = max(1, spacing)
            self.capacity = max(2, capacity)
            self.backdatedLimit = backdatedLimit
            self.markEvery = max(1, markEvery)
        }

        package static let `default` = Options()
    }

    private struct State {
        var options: Options
        var spacing: UInt64
        var snapshots: [Snapshot] = []
        var marks = ChunkedArray<Mark>()
        var backdated = ChunkedArray<Backdated>()
        /// maxAt and the back-dated events are known for the events 1...covered.
        var covered: UInt64 = 0
        var maxAt = Int64.min
        /// The last seq the live projection has folded, fed or not.
        var liveSeen: UInt64 = 0
        /// Too many back-dated events: nothing is answered from the index.
        var overflowed = false
        var stopped = false
    }

    private let state: Mutex<State>
    /// Events a feeder folds between two calls of ``observe(_:projection:live:)`` at most.
    let group: Int

    package init(options: Options = .default) {
        state = Mutex(State(options: options, spacing: options.spacing))
        group = Int(min(options.spacing, 4096))
    }

    /// What a fold of the answer at T starts from and reads.
    struct Plan {
        /// The snapshot to start from (nil: an empty projection, from seq 1).
        var start: Snapshot?
        /// The events after the start up to `bound` are read and filtered on `at`.
        var bound: UInt64
        /// Back-dated events after `bound` with `at` <= T, in seq order.
        var backdated: [UInt64]
        /// The index has seen the events up to this seq; the log's events after it are read and
        /// filtered on `at`.
        var covered: UInt64
    }

    /// How to answer at `instant` from the index; nil when it cannot (not built, overflowed).
    func plan(at instant: Timestamp) -> Plan? {
        let t = instant.milliseconds
        let (snapshot, marks, backdated, covered, maxAt) =
            state.withLock { s -> (Snapshot?, ChunkedArray<Mark>, ChunkedArray<Backdated>, UInt64, Int64)? in
                guard !s.overflowed, s.covered > 0 else { return nil }
                // The last snapshot with maxAt <= T.
                var low = 0, high = s.snapshots.count
                while low < high {
                    let middle = (low + high) / 2
                    if s.snapshots[middle].maxAt <= t { low = middle + 1 } else { high = middle }
                }
                return (low > 0 ? s.snapshots[low - 1] : nil, s.marks, s.backdated, s.covered, s.maxAt)
            } ?? (nil, [], [], 0, 0)
        guard covered > 0 else { return nil }
        // The bound: before the first mark above T (M(T) is below it), else everything covered.
        var bound = covered
        if maxAt > t {
            var low = 0, high = marks.count
            while low < high {
                let middle = (low + high) / 2
                if marks[middle].maxAt <= t { low = middle + 1 } else { high = middle }
            }
            if low < marks.count { bound = min(covered, marks[low].seq) }
        }
        let from = snapshot?.seq ?? 0
        bound = max(bound, from)
        // The back-dated events after the bound (seq ascending).
        var low = 0, high = backdated.count
        while low < high {
            let middle = (low + high) / 2
            if backdated[middle].seq <= bound { low = middle + 1 } else { high = middle }
        }
        var seqs: [UInt64] = []
        for k in low..<backdated.count where backdated[k].at <= t && backdated[k].seq <= covered {
            seqs.append(backdated[k].seq)
        }
        return Plan(start: snapshot, bound: bound, backdated: seqs, covered: covered)
    }

    /// Takes in the events a fold from seq 1 has just applied, (seq, at) in seq order, and the
    /// projection after them (folded through the last of them): those the index has not seen
    /// yet, as long as they follow what it has seen. `live` says whether the runner's live
    /// projection is feeding. Returns false once the index needs no more from this feeder (a
    /// background fold: the live projection has taken over, or the index stopped).
    @discardableResult
    func observe(_ events: [(seq: UInt64, at: Int64)], projection: borrowing SupportProjection, live: Bool) -> Bool {
        guard let last = events.last?.seq else { return true }
        // Copied outside the lock (retains only): the snapshot, if one is taken.
        let copy = copy projection
        return state.withLock { s -> Bool in
            if live { s.liveSeen = max(s.liveSeen, last) }
            if s.stopped || s.overflowed { return false }
            if last > s.covered, let first = events.first(where: { $0.seq > s.covered }), first.seq == s.covered + 1 {
                // (Not contiguous: the live projection started from a checkpoint, and a background
                // fold fills the index up to it first.)
                for event in events where event.seq > s.covered {
                    if event.at < s.maxAt {
                        s.backdated.append(Backdated(seq: event.seq, at: event.at))
                        if s.backdated.count > s.options.backdatedLimit {
                            s.overflowed = true
                            s.snapshots = []
                            s.marks = []
                            s.backdated = []
                            return false
                        }
                    } else {
                        s.maxAt = event.at
                    }
                    s.covered = event.seq
                    if event.seq % s.options.markEvery == 0 { s.marks.append(Mark(seq: event.seq, maxAt: s.maxAt)) }
                }
                let previous = s.snapshots.last?.seq ?? 0
                if s.covered >= previous + s.spacing {
                    s.snapshots.append(Snapshot(seq: s.covered, maxAt: s.maxAt, projection: copy))
                    Self.rebase(&s.snapshots)
                    if s.snapshots.count > s.options.capacity {
                        // Every other one, so that they stay evenly spread; the newest stays.
                        let count = s.snapshots.count
                        s.snapshots = s.snapshots.enumerated().filter { (count - 1 - $0.offset) % 2 == 0 }.map(\.element)
                        s.spacing *= 2
                    }
                }
            }
            // A background fold goes on until it has caught up with the live projection.
            return live || s.covered < s.liveSeen
        }
    }

    /// The live projection starts at `seq` (its checkpoint's): a background fold fills the index
    /// up to it.
    func liveStarts(at seq: UInt64) { state.withLock { $0.liveSeen = max($0.liveSeen, seq) } }

    /// Older snapshots share the name tables' base of the newest one once it holds their names.
    private static func rebase(_ snapshots: inout [Snapshot]) {
        guard let newest = snapshots.last?.projection else { return }
        for k in snapshots.indices.dropLast() { snapshots[k].projection.rebaseNames(onto: newest) }
    }

    /// Stops feeding (a background fold ends at its next batch).
    func stop() { state.withLock { $0.stopped = true } }

    /// Whether the index covers the events up to the live projection's (the background fold is done).
    package var isCaughtUp: Bool { state.withLock { !$0.overflowed && $0.covered > 0 && $0.covered >= $0.liveSeen } }

    /// What the index holds, for measuring it.
    package struct Figures: Sendable {
        package var snapshots: Int
        package var spacing: UInt64
        package var covered: UInt64
        package var backdated: Int
        package var overflowed: Bool
    }

    package var figures: Figures {
        state.withLock {
            Figures(
                snapshots: $0.snapshots.count, spacing: $0.spacing, covered: $0.covered, backdated: $0.backdated.count,
                overflowed: $0.overflowed)
        }
    }
}

extension SupportProjection {
    /// Moves this projection's name tables onto `later`'s bases where they hold its names (see
    /// ``NameTable/rebased(onto:)``): `later` must be a later state of the same fold.
    mutating func rebaseNames(onto later: borrowing SupportProjection) {
        if let t = ticketKeys.rebased(onto: later.ticketKeys) { ticketKeys = t }
        if let t = teams.rebased(onto: later.teams) { teams = t }
        if let t = agents.rebased(onto: later.agents) { agents = t }
        if let t = customers.rebased(onto: later.customers) { customers = t }
        if let t = tagNames.rebased(onto: later.tagNames) { tagNames = t }
    }
}

extension PointInTimeIndex {
    /// The bytes each snapshot holds of its own (chunks it shares with no older snapshot, and its
    /// names' recent tables), by part, summed over the snapshots: what the snapshots cost beyond
    /// the live projection.
    package func ownBytes() -> [(part: String, bytes: Int)] {
        let snapshots = state.withLock { $0.snapshots }
        var parts: [String: Int] = [:]
        func own<E>(_ part: String, _ a: ChunkedArray<E>, _ b: ChunkedArray<E>?) {
            let shared = b.map { a.sharedChunks(with: $0) } ?? 0
            parts[part, default: 0] += (a.chunks.count - shared) * ChunkedArray<E>.chunkSize * MemoryLayout<E>.stride
        }
        for (k, snapshot) in snapshots.enumerated() {
            let p = snapshot.projection
            let q = k > 0 ? snapshots[k - 1].projection : nil
            own("tickets", p.tickets, q?.tickets)
            own("infos", p.infos, q?.infos)
            own("replies", p.replies, q?.replies)
            own("agent messages", p.agentMessages, q?.agentMessages)
            own("ratings", p.ratings, q?.ratings)
            own("customer tickets", p.previousCustomerTicket, q?.previousCustomerTicket)
            own("customers' last tickets", p.customerLastTicket, q?.customerLastTicket)
            own("ticket ids", p.ticketKeys.names, q?.ticketKeys.names)
            own("customer names", p.customers.names, q?.customers.names)
            parts["names' recent tables", default: 0] +=
                [p.ticketKeys, p.customers, p.agents, p.teams, p.tagNames].reduce(0) { $0 + $1.slotBytes.recent }
            parts["opening order (chunk references)", default: 0] += p.openingOrder.chunks.count * 8 * 3
        }
        if let newest = snapshots.last?.projection {
            parts["names' bases (shared)", default: 0] +=
                [newest.ticketKeys, newest.customers].reduce(0) { $0 + $1.slotBytes.base }
        }
        return parts.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }
}
