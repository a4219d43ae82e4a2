import Dispatch
import EventLog
import Foundation
import Logging
import SupportDomain
import Synchronization

/// The one place where projections meet side effects: it follows the log, applies each event
/// to the pure ``SupportProjection`` fold, publishes how far it got, and stores checkpoints.
///
/// Readers use ``read(_:)`` (a shared lock, held only while a query runs, never across an
/// `await`); the runner takes the lock exclusively for each applied batch. A write's answer
/// waits for ``waitUntilApplied(_:)`` so that it is sent once every projection has applied it.
public final class ProjectionRunner: Sendable {
    /// The log the runner follows.
    public let store: any EventStoring
    /// Where the projection's checkpoint is kept.
    public let checkpoints: any CheckpointStore
    /// The policy and business calendar the projection evaluates SLAs with.
    public let levels: ServiceLevels
    /// The policy hash every projection answer carries.
    public let policyHash: String
    private let state: SharedState<SupportProjection>
    private let applied: AppliedWatch
    private let logger: Logger

    /// Events per applied batch (one exclusive lock each).
    static let batchSize = 4096

    /// The name of the projection's checkpoint in its `CheckpointStore`.
    public static let checkpointName = "support-projection"
    /// A checkpoint is written after this many newly applied events (and at shutdown).
    static let checkpointEvery: UInt64 = 250_000
    private let lastCheckpoint: Mutex<UInt64>
    /// The seq the projection resumed from at start-up (its checkpoint's), or nil when it was
    /// rebuilt from seq 1.
    public let resumedFrom: UInt64?
    /// The snapshots point-in-time answers start from (nil: every answer is a full fold).
    package let pointInTime: PointInTimeIndex?

    /// The runner of an LMDB log, with its checkpoints in the same data directory
    /// (`LMDBCheckpointStore`).
    public convenience init(
        store: EventStore, levels: ServiceLevels, rebuild: Bool = false,
        logger: Logger = Logger(label: "projections")
    ) throws {
        let checkpoints = try LMDBCheckpointStore(
            dataDirectory: store.configuration.directory,
            readOnly: store.configuration.readOnly)
        try self.init(store: store, checkpoints: checkpoints, levels: levels, rebuild: rebuild, logger: logger)
    }

    /// The runner of an LMDB log with the given point-in-time snapshots (nil: none).
    package convenience init(
        store: EventStore, levels: ServiceLevels, rebuild: Bool = false, pointInTime: PointInTimeIndex.Options?,
        logger: Logger = Logger(label: "projections")
    ) throws {
        let checkpoints = try LMDBCheckpointStore(
            dataDirectory: store.configuration.directory,
            readOnly: store.configuration.readOnly)
        try self.init(store: store, checkpoints: checkpoints, levels: levels, rebuild: rebuild, pointInTime: pointInTime, logger: logger)
    }

    /// Restores the projection from its checkpoint and applies what the log holds beyond it, or,
    /// when there is none, when it does not fit the log (`CheckpointStore.checkpoint(name:of:)`),
    /// when it is damaged, when it was built under another policy or by another version of the
    /// fold, or when `rebuild` is set, folds the whole log from seq 1.
    ///
    /// Point-in-time snapshots (`PointInTimeIndex`) are taken while folding from seq 1; after a
    /// start from a checkpoint a background fold takes them (until it has caught up, `asOf`
    /// answers are full folds).
    public convenience init(
        store: any EventStoring, checkpoints: any CheckpointStore, levels: ServiceLevels,
        rebuild: Bool = false, logger: Logger = Logger(label: "projections")
    ) throws {
        try self.init(store: store, checkpoints: checkpoints, levels: levels, rebuild: rebuild, pointInTime: .default, logger: logger)
    }

    /// A runner with the given point-in-time snapshots (nil: none, every `asOf` answer is a full fold).
    package init(
        store: any EventStoring, checkpoints: any CheckpointStore, levels: ServiceLevels,
        rebuild: Bool = false, pointInTime: PointInTimeIndex.Options?, logger: Logger = Logger(label: "projections")
    ) throws {
        let index = pointInTime.map { PointInTimeIndex(options: $0) }
        self.pointInTime = index
        self.store = store
        self.checkpoints = checkpoints
        self.levels = levels
        self.policyHash = levels.policy.hash
        self.logger = logger
        var projection: SupportProjection?
        if !rebuild {
            if let stored = try checkpoints.checkpoint(name: Self.checkpointName, of: store) {
                do {
                    let restored = try SupportProjection(checkpoint: stored.state, levels: levels)
                    if restored.appliedSeq == stored.applied.seq {
                        projection = restored
                        logger.info("projections resumed from their checkpoint at seq \(restored.appliedSeq)")
                    } else {
                        logger.warning("the projection checkpoint does not say where it stands; rebuilding")
                    }
                } catch {
                    logger.warning("rebuilding the projections: \(error)")
                }
            } else if try checkpoints.load(name: Self.checkpointName) != nil {
                logger.warning("the projection checkpoint does not fit the log (ahead of it, or of another log); rebuilding")
            }
        }
        let start =
            try projection
            ?? Self.fold(store: store, levels: levels, upTo: nil, logger: logger, observeEvery: index?.group ?? Self.batchSize) {
                projection, events in
                index?.observe(events, projection: projection, live: true)
                return true
            }
        state = SharedState(start)
        applied = AppliedWatch(start.appliedSeq)
        lastCheckpoint = Mutex(projection?.appliedSeq ?? 0)
        resumedFrom = projection?.appliedSeq
        if let index, let resumed = projection?.appliedSeq {
            index.liveStarts(at: resumed)
            Self.buildInBackground(index, store: store, levels: levels, logger: logger)
        }
        catchUp()
    }

    /// Fills a point-in-time index from seq 1 on a thread of its own, until it has caught up
    /// with the live projection (which then feeds it), the index stops, or the log fails.
    private static func buildInBackground(
        _ index: PointInTimeIndex, store: any EventStoring, levels: ServiceLevels, logger: Logger
    ) {
        let thread = Thread {
            do {
                var last: UInt64 = 0
                var more = true
                var projection = try fold(store: store, levels: levels, upTo: nil, logger: logger, observeEvery: index.group) {
                    projection, events in
                    last = events.last?.seq ?? last
                    more = index.observe(events, projection: projection, live: false)
                    return more
                }
                while more {
                    var read = false
                    try foldRecords(
                        store: store, into: &projection, after: last, through: nil, upTo: nil, logger: logger, observeEvery: index.group
                    ) { projection, events in
                        last = events.last?.seq ?? last
                        read = true
                        more = index.observe(events, projection: projection, live: false)
                        return more
                    }
                    // Nothing new in the log: the live projection is where this fold is.
                    if !read { break }
                }
                logger.info("point-in-time snapshots ready up to seq \(last)")
            } catch {
                logger.warning("point-in-time snapshots not built (asOf answers are full folds): \(error)")
            }
        }
        thread.name = "ledgerdesk-as-of-index"
        thread.start()
    }

    /// Writes the projection's checkpoint (its state and applied seq) to its checkpoint store.
    package func saveCheckpoint() async {
        let (seq, bytes) = state.read { ($0.appliedSeq, $0.checkpoint()) }
        do {
            try checkpoints.save(name: Self.checkpointName, state: bytes, appliedSeq: seq, of: store)
            lastCheckpoint.withLock { $0 = max($0, seq) }
        } catch {
            logger.error("cannot store the projection checkpoint at seq \(seq): \(error)")
        }
    }

    /// The seq the projection has applied up to.
    public var appliedSeq: UInt64 { applied.value }

    /// Runs a query against the current projection.
    public func read<R>(_ body: (borrowing SupportProjection) throws -> R) rethrows -> R {
        try state.read(body)
    }

    /// Makes sure the projection has applied `seq` (read your writes): a caller whose write is
    /// durable applies what the log holds itself rather than wait for the background loop.
    public func waitUntilApplied(_ seq: UInt64) async {
        guard applied.value < seq else { return }
        catchUp()
        await applied.wait(untilAtLeast: seq)
    }

    /// Applies everything the log holds beyond the applied seq, under the exclusive lock.
    /// Safe from any task: the lock serialises appliers, and applying skips what is applied.
    package func catchUp() {
        let index = pointInTime
        let reached: UInt64 = state.write { projection in
            var observed: [(seq: UInt64, at: Int64)] = []
            while true {
                let batch: [RecordedEvent]
                do {
                    batch = try store.events(after: projection.appliedSeq, limit: Self.batchSize)
                } catch {
                    logger.error("projection cannot read the log after seq \(projection.appliedSeq): \(error)")
                    return projection.appliedSeq
                }
                for event in batch {
                    do {
                        try projection.apply(event)
                    } catch {
                        // A valid log never holds such an event; skip it rather than stop every read model.
                        logger.error("projection skipped event \(event.seq): \(error)")
                    }
                    if let index {
                        // A group of events at a time, so that a snapshot may follow any group.
                        observed.append((event.seq, event.at.milliseconds))
                        if observed.count == index.group || event.seq == batch.last?.seq {
                            index.observe(observed, projection: projection, live: true)
                            observed.removeAll(keepingCapacity: true)
                        }
                    }
                }
                if batch.count < Self.batchSize { return max(projection.appliedSeq, batch.last?.seq ?? 0) }
            }
        }
        applied.publish(reached)
    }

    /// Follows the log until the task is cancelled or the log closes, so that events appended by
    /// other means (imports, another writer's commits) reach the read models without a reader.
    public func run() async {
        while !Task.isCancelled {
            let after = applied.value
            catchUp()
            if applied.value >= lastCheckpoint.withLock({ $0 }) + Self.checkpointEvery { await saveCheckpoint() }
            if applied.value == after {
                guard await store.waitForEvents(after: after) else { break }
            }
        }
        // Stopping: leave a checkpoint so the next start resumes instead of replaying the log.
        if applied.value > lastCheckpoint.withLock({ $0 }) { await saveCheckpoint() }
        pointInTime?.stop()
    }

    /// Back-dated events an answer from a snapshot reads at most; beyond, it is a full fold.
    static let backdatedReadLimit = 65_536
    /// Events beyond the point-in-time index's an answer from a snapshot reads at most (the index
    /// is still being built); beyond, it is a full fold.
    static let uncoveredReadLimit: UInt64 = 262_144

    /// The projection as of an instant: the events whose `at` <= `asOf`, in log order (SPEC §3).
    ///
    /// From the last snapshot of the point-in-time index that holds only events with `at` <=
    /// `asOf`, then the few events after it that qualify (`PointInTimeIndex`); a full fold of
    /// the log when there is no index, while it is being built after a start from a checkpoint,
    /// or when too many back-dated events would have to be read. Either way the same projection.
    public func asOf(_ instant: Timestamp) throws -> SupportProjection {
        if let plan = try snapshotPlan(at: instant) { return try fold(plan, upTo: instant) }
        return try fullFold(upTo: instant)
    }

    /// The index's plan for an answer at `instant`, nil when the answer is a full fold.
    func snapshotPlan(at instant: Timestamp) throws -> PointInTimeIndex.Plan? {
        guard let plan = pointInTime?.plan(at: instant), plan.backdated.count <= Self.backdatedReadLimit,
            try store.head.seq <= plan.covered + Self.uncoveredReadLimit
        else { return nil }
        return plan
    }

    /// Whether ``asOf(_:)`` answers at `instant` from a snapshot (else by a full fold).
    package func answersFromSnapshot(at instant: Timestamp) -> Bool { (try? snapshotPlan(at: instant)) != nil }

    /// The projection as of an instant by a fold of the whole log (what ``asOf(_:)`` answers
    /// without an index).
    package func fullFold(upTo instant: Timestamp) throws -> SupportProjection {
        try Self.fold(store: store, levels: levels, upTo: instant, logger: logger)
    }

    /// The answer at `instant` from a snapshot, as planned by the index.
    func fold(_ plan: PointInTimeIndex.Plan, upTo instant: Timestamp) throws -> SupportProjection {
        var projection = plan.start?.projection ?? SupportProjection(levels: levels)
        try Self.foldRecords(
            store: store, into: &projection, after: plan.start?.seq ?? 0, through: plan.bound, upTo: instant, logger: logger)
        try Self.foldRecords(store: store, into: &projection, seqs: plan.backdated, upTo: instant, logger: logger)
        try Self.foldRecords(store: store, into: &projection, after: plan.covered, through: nil, upTo: instant, logger: logger)
        return projection
    }

    /// Folds one prepared event, or leaves it out when its `at` is after `upTo`: the rule of
    /// every fold of the log (a record a read could not decode fails the fold, left out or not).
    @inline(__always)
    static func fold(
        _ event: borrowing SupportProjection.PreparedEvent, into projection: inout SupportProjection, upTo: Timestamp?, logger: Logger
    ) throws {
        if let upTo {
            if let at = event.at {
                if at > upTo { return }
            } else if let view = StoredEventView(keySeq: event.seq, record: event.record), view.at > upTo {
                // Left out; but a record a read could not decode fails the fold as that read would.
                if BinaryJSON.end(of: 0, in: view.data) == nil { _ = try view.recordedEvent() }
                return
            }
        }
        if let refusal = try projection.apply(event) {
            logger.error("projection skipped event \(event.seq): \(refusal.detail)")
        }
    }

    /// The `at` of a prepared event (nil when its record cannot be read: the fold fails on it).
    @inline(__always)
    static func at(of event: borrowing SupportProjection.PreparedEvent) -> Int64? {
        if let at = event.at { return at.milliseconds }
        return StoredEventView(keySeq: event.seq, record: event.record)?.at.milliseconds
    }

    /// Folds the events after `after` (through `through`, else to the log's head) on this thread,
    /// one short read transaction per batch, leaving out those after `upTo`; `observe` (given the
    /// projection and the batch's seqs and instants after each batch) may stop it.
    static func foldRecords(
        store: any EventStoring, into projection: inout SupportProjection, after: UInt64, through: UInt64?, upTo: Timestamp?,
        logger: Logger, observeEvery: Int = batchSize,
        observe: ((borrowing SupportProjection, [(seq: UInt64, at: Int64)]) -> Bool)? = nil
    ) throws {
        var position = after
        var observed: [(seq: UInt64, at: Int64)] = []
        let limit = observe == nil ? batchSize : min(batchSize, observeEvery)
        while through.map({ position < $0 }) ?? true {
            var count = 0
            observed.removeAll(keepingCapacity: true)
            try store.read { snapshot in
                try snapshot.forEachRecord(after: position) { seq, record in
                    if let through, seq > through { return false }
                    let event = SupportProjection.prepare(storedRecord: record, seq: seq)
                    try fold(event, into: &projection, upTo: upTo, logger: logger)
                    if observe != nil, let at = at(of: event) { observed.append((seq, at)) }
                    position = seq
                    count += 1
                    return count < limit
                }
            }
            if let observe, !observed.isEmpty, !observe(projection, observed) { return }
            if count < limit { return }
        }
    }

    /// Folds the events of the given seqs (ascending), leaving out those after `upTo`.
    static func foldRecords(
        store: any EventStoring, into projection: inout SupportProjection, seqs: [UInt64], upTo: Timestamp?, logger: Logger
    ) throws {
        var start = 0
        while start < seqs.count {
            let end = min(seqs.count, start + batchSize)
            try store.read { snapshot in
                for k in start..<end {
                    try snapshot.forEachRecord(after: seqs[k] - 1) { seq, record in
                        if seq == seqs[k] {
                            try fold(
                                SupportProjection.prepare(storedRecord: record, seq: seq), into: &projection, upTo: upTo, logger: logger)
                        }
                        return false
                    }
                }
            }
            start = end
        }
    }

    /// Folds the whole log (or the events with `at` <= `upTo`) into a fresh projection.
    ///
    /// Reading runs on its own thread, one batch ahead of the fold: it copies the stored records
    /// out of a short read transaction and decodes each in place (no `RecordedEvent`, JSON value or
    /// string per event); the fold applies them (the outcome of
    /// `SupportProjection.apply(storedRecord:seq:)` for each record). A rebuild uses both cores:
    /// its speed is that of the slower of the two stages.
    package static func fold(
        store: any EventStoring, levels: ServiceLevels, upTo: Timestamp?, throughSeq: UInt64? = nil,
        logger: Logger, observeEvery: Int = batchSize, observe: ((borrowing SupportProjection, [(seq: UInt64, at: Int64)]) -> Bool)? = nil
    ) throws -> SupportProjection {
        var observed: [(seq: UInt64, at: Int64)] = []
        var projection = SupportProjection(levels: levels)
        let pipe = BatchPipe()
        let reader = Thread {
            var after: UInt64 = 0
            var recordBytes = 1 << 20
            while true {
                do {
                    // One short read transaction per batch: a long rebuild never pins old pages.
                    // The storage of batches the fold is done with is used again (no fresh pages
                    // to fault in per batch).
                    let prepared = pipe.takeSpare() ?? PreparedBatch(records: StoredRecordBatch(records: batchSize, bytes: recordBytes))
                    let batch = prepared.records
                    batch.removeAll()
                    try store.read { snapshot in
                        try snapshot.forEachRecord(after: after) { seq, record in
                            if let throughSeq, seq > throughSeq { return false }
                            batch.append(seq: seq, record: record)
                            return batch.count < batchSize
                        }
                    }
                    guard !batch.isEmpty else { pipe.put(.end); return }
                    after = batch.lastSeq
                    recordBytes = max(recordBytes, batch.byteCount)
                    // Read and decoded here, in place, one batch ahead of the fold.
                    prepared.events.removeAll(keepingCapacity: true)
                    for k in 0..<batch.count {
                        let (seq, record) = batch.record(at: k)
                        prepared.events.append(SupportProjection.prepare(storedRecord: record, seq: seq))
                    }
                    guard pipe.put(.batch(prepared)) else { return }
                } catch {
                    pipe.put(.failure(error))
                    return
                }
            }
        }
        reader.start()
        defer { pipe.cancel() }
        while true {
            switch pipe.take() {
            case .end:
                return projection
            case .failure(let error):
                throw error
            case .batch(let batch):
                // In place: each prepared event is a few hundred bytes, not copied out of the array.
                var stopped = false
                try batch.events.withUnsafeBufferPointer { events in
                    for k in events.indices {
                        try fold(events[k], into: &projection, upTo: upTo, logger: logger)
                        if let observe {
                            // A group of events at a time, so that a snapshot may follow any group.
                            if let at = at(of: events[k]) { observed.append((events[k].seq, at)) }
                            if observed.count == observeEvery || k == events.count - 1 {
                                if !observed.isEmpty, !observe(projection, observed) {
                                    stopped = true
                                    return
                                }
                                observed.removeAll(keepingCapacity: true)
                            }
                        }
                    }
                }
                pipe.recycle(batch)
                if stopped { return projection }
            }
        }
    }
}

/// Stored records and their events read in place (which borrow the records' bytes), handed from
/// the reading thread to the folding one, which only reads them, then back to the reading thread
/// (``BatchPipe/recycle(_:)``), which fills them again: one thread at a time owns a batch.
final class PreparedBatch: @unchecked Sendable {
    let records: StoredRecordBatch
    var events: [SupportProjection.PreparedEvent] = []

    init(records: StoredRecordBatch) {
        self.records = records
    }
}

/// A bounded hand-off of batches of stored records from the reading thread to the folding one: a `Mutex`
/// over the queue, and two semaphores to block on (free slots, filled slots), as the log's writer
/// does. One producer and one consumer.
final class BatchPipe: Sendable {
    enum Item: Sendable {
        case batch(PreparedBatch)
        case end
        case failure(any Error)
    }

    private struct State {
        var items: [Item] = []
        var cancelled = false
        /// Batches the consumer is done with, for the producer to fill again.
        var spares: [PreparedBatch] = []
    }

    private let state = Mutex(State())
    /// Created empty and filled in `init`: libdispatch refuses to free a semaphore whose count is
    /// below its initial one, which a pipe dropped while full would have.
    private let freeSlots = DispatchSemaphore(value: 0)
    private let filledSlots = DispatchSemaphore(value: 0)
    /// Batches read ahead at most.
    static let depth = 2

    init() {
        for _ in 0..<Self.depth { freeSlots.signal() }
    }

    /// Hands over an item, waiting while the pipe is full; false once the consumer has gone.
    @discardableResult
    func put(_ item: Item) -> Bool {
        freeSlots.wait()
        let accepted = state.withLock { s -> Bool in
            guard !s.cancelled else { return false }
            s.items.append(item)
            return true
        }
        if accepted { filledSlots.signal() }
        return accepted
    }

    func take() -> Item {
        filledSlots.wait()
        let item = state.withLock { $0.items.removeFirst() }
        freeSlots.signal()
        return item
    }

    /// Hands a batch the consumer is done with back to the producer.
    func recycle(_ batch: PreparedBatch) {
        state.withLock { $0.spares.append(batch) }
    }

    /// A batch handed back by the consumer, if any.
    func takeSpare() -> PreparedBatch? {
        state.withLock { $0.spares.popLast() }
    }

    /// Releases a producer waiting on a full pipe; its later puts are refused.
    func cancel() {
        state.withLock { $0.cancelled = true }
        freeSlots.signal()
    }
}

/// A value behind a reader/writer lock: many concurrent readers, one writer.
///
/// The one lock here that is not a `Mutex`: queries run under it (some for hundreds of
/// milliseconds over a large log), and a `Mutex` would serialise the readers.
final class SharedState<Value>: @unchecked Sendable {
    private var value: Value
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init(_ value: Value) {
        self.value = value
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func read<R>(_ body: (borrowing Value) throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value)
    }

    func write<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value)
    }
}

/// The applied seq, and the tasks waiting for it to reach theirs.
final class AppliedWatch: Sendable {
    private struct State {
        var value: UInt64
        var waiters: [(seq: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state: Mutex<State>

    init(_ value: UInt64) { state = Mutex(State(value: value)) }

    var value: UInt64 { state.withLock { $0.value } }

    func publish(_ seq: UInt64) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.value = max(s.value, seq)
            let current = s.value
            let due = s.waiters.filter { $0.seq <= current }.map(\.continuation)
            s.waiters.removeAll { $0.seq <= current }
            return due
        }
        for c in ready { c.resume() }
    }

    func wait(untilAtLeast seq: UInt64) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { s -> Bool in
                if s.value >= seq { return true }
                s.waiters.append((seq, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }
}
