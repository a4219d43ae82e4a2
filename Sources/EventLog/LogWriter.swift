import CLMDB
import Dispatch
import Foundation
import Synchronization

/// The single owner of the LMDB write transaction: a dedicated thread that commits the
/// appends of many concurrent callers together (group commit).
///
/// Callers enqueue requests and suspend. The thread takes everything queued, applies it in one
/// transaction and commits it without flushing; in durable mode the group's records then go to
/// the write-ahead segment as one frame, and a flusher thread answers the callers once a flush of
/// the segment covers it: one flush stands between a group and its acknowledgement
/// (docs/architecture.md, "Durability"). While one flush runs, the next groups commit and queue
/// up behind it, so the number of groups per flush follows the load by itself.
final class LogWriter: Sendable {
    fileprivate struct Pending {
        var requests: [AppendRequest]
        /// A follower's events from the replicated log (instead of requests): one result.
        var replicated: [ReplicatedEvent] = []
        var continuation: CheckedContinuation<[Result<AppendResult, EventLogError>], Never>

        /// How many results the pending work gets.
        var resultCount: Int { replicated.isEmpty ? requests.count : 1 }
        var isReplicated: Bool { !replicated.isEmpty }
    }

    private struct Queue {
        var pending: [Pending] = []
        var closing = false
        /// Set once a flush failed: every append fails with it from then on.
        var failure: EventLogError?
    }

    fileprivate let storage: LogStorage
    private let configuration: EventLogConfiguration
    /// The write-ahead segment (durable mode), written by this thread only.
    private let segment: WriteAheadSegment?
    private let queue = Mutex(Queue())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// The durable head, published after each good flush.
    private let headWatch: HeadWatch
    /// The chain head as the writer sees it; only the writer thread touches it after start.
    private let chainHead: Mutex<LogHead>
    /// Transactions committed and events appended since open.
    let commits = Atomic<UInt64>(0)
    let appendedEvents = Atomic<UInt64>(0)

    init(storage: LogStorage, configuration: EventLogConfiguration, head: LogHead, headWatch: HeadWatch, segment: WriteAheadSegment?) {
        self.storage = storage
        self.configuration = configuration
        self.chainHead = Mutex(head)
        self.headWatch = headWatch
        self.segment = segment
        let thread = Thread { [self] in self.run() }
        thread.name = "ledgerdesk-log-writer"
        thread.start()
        if let segment {
            let flusher = Thread { [self] in self.runFlusher(segment) }
            flusher.name = "ledgerdesk-segment-flusher"
            flusher.start()
        }
    }

    /// Appends the requests (each atomically, all in the same commit when they fit) and
    /// answers once they are durable. Refused at once when the log is closing or has failed.
    func submit(_ requests: [AppendRequest]) async -> [Result<AppendResult, EventLogError>] {
        await enqueue(requests: requests, replicated: [])
    }

    /// Writes a follower's events from the replicated log (checked to continue the chain), in
    /// a commit of their own, and answers once they are durable (one result).
    func submitReplicated(_ events: [ReplicatedEvent]) async -> Result<AppendResult, EventLogError> {
        await enqueue(requests: [], replicated: events).first ?? .failure(.closed)
    }

    private func enqueue(requests: [AppendRequest], replicated: [ReplicatedEvent]) async -> [Result<AppendResult, EventLogError>] {
        await withCheckedContinuation { continuation in
            let pending = Pending(requests: requests, replicated: replicated, continuation: continuation)
            let refusal = queue.withLock { q -> EventLogError? in
                if q.closing { return .closed }
                if let failure = q.failure { return failure }
                q.pending.append(pending)
                return nil
            }
            if let refusal {
                continuation.resume(returning: Array(repeating: .failure(refusal), count: pending.resultCount))
            } else {
                wakeUp.signal()
            }
        }
    }

    /// How many submissions wait for the writer thread to take them.
    var queuedCount: Int { queue.withLock { $0.pending.count } }

    /// Refuses new requests, finishes the queued ones and stops the thread.
    func close() {
        let first = queue.withLock { q -> Bool in
            defer { q.closing = true }
            return !q.closing
        }
        guard first else { return }
        wakeUp.signal()
        finished.wait()
    }

    /// A committed batch and its callers.
    private struct Committed {
        var batch: [Pending]
        var results: [Result<AppendResult, EventLogError>]
        var head: LogHead?
    }

    /// The writer loop. In durable mode a group is acknowledged once its commit returned and its
    /// segment frame is flushed: the writer writes the frame, commits to LMDB without flushing
    /// (`MDB_NOSYNC`) and goes on with the next group, while the flusher thread flushes the frames
    /// written so far with one `fdatasync` and answers the groups it covers. LMDB is flushed when
    /// the segment's epoch ends (``checkpoint()``: the segment is full, the writer idles, the log
    /// closes); until then the epoch's frames are what makes those commits durable, and the pinned
    /// snapshot of the last flush is what a restart after a machine crash goes back to.
    ///
    /// The thread sleeps only when nothing is queued and the log is not closing; whatever it
    /// takes from the queue, it looks again before sleeping, so a close that arrives with (or
    /// after) the last batch is always seen.
    private func run() {
        var lastFlush = DispatchTime.now()
        while true {
            let (batch, closing) = queue.withLock { q -> ([Pending], Bool) in
                // A commit holds requests or a follower's replicated events, never both.
                var take = 0, count = 0
                let replicated = q.pending.first?.isReplicated ?? false
                while take < q.pending.count, count < configuration.maximumBatch, q.pending[take].isReplicated == replicated {
                    count += q.pending[take].resultCount
                    take += 1
                }
                let taken = Array(q.pending.prefix(take))
                q.pending.removeFirst(take)
                return (taken, q.closing)
            }
            if batch.isEmpty {
                if closing {
                    finish()
                    return
                }
                // Idle with frames in the segment: flush LMDB after a while, so that a restart
                // has little to replay and LMDB's unflushed pages do not pile up.
                if let segment, segment.hasFrames, queue.withLock({ $0.failure }) == nil {
                    if wakeUp.wait(timeout: .now() + .milliseconds(configuration.idleCheckpointMilliseconds)) == .timedOut {
                        do { try checkpoint() } catch { failWrites(.flushFailed("flushing the log failed: \(error)")) }
                    }
                } else {
                    wakeUp.wait()
                }
                continue
            }
            let (results, head, commitFailure) = commit(batch)
            let committed = Committed(batch: batch, results: results, head: head)
            if let commitFailure {
                acknowledge(committed, flushFailure: commitFailure)
                continue
            }
            switch configuration.durability {
            case .durable:
                acknowledgeOnceFlushed(committed)
            case .deferred(let interval):
                var failure: EventLogError?
                if DispatchTime.now().uptimeNanoseconds - lastFlush.uptimeNanoseconds > UInt64(interval) * 1_000_000 {
                    failure = flush()
                    lastFlush = .now()
                }
                acknowledge(committed, flushFailure: failure)
            }
        }
    }

    /// Flushes the data file (LMDB's data and meta pages); on failure the writer has failed (see
    /// ``failWrites(_:)``) and the error is returned.
    private func flush() -> EventLogError? {
        if let failure = queue.withLock({ $0.failure }) { return failure }
        do {
            try configuration.faults.beforeFlush(.sync)
            try storage.environment.sync(force: true)
            return nil
        } catch {
            let failure = EventLogError.flushFailed("flushing the log failed: \(error)")
            failWrites(failure)
            return failure
        }
    }

    /// Enters the failed state for good: the durable head stays at the last good flush, the
    /// queued work and every later append fail with `failure`. Retrying the flush could report
    /// success for pages the kernel has dropped, so nothing is ever acknowledged again.
    private func failWrites(_ failure: EventLogError) {
        let queued = queue.withLock { q -> [Pending] in
            if q.failure == nil { q.failure = failure }
            defer { q.pending = [] }
            return q.pending
        }
        headWatch.fail()
        for p in queued {
            p.continuation.resume(returning: Array(repeating: .failure(failure), count: p.resultCount))
        }
    }

    /// Publishes the batch's head and answers its callers (with `flushFailure` as their error
    /// when the flush that should have made them durable failed).
    private func acknowledge(_ committed: Committed, flushFailure failure: EventLogError?) {
        if failure == nil, let head = committed.head { headWatch.publish(head) }
        var offset = 0
        for p in committed.batch {
            var slice = Array(committed.results[offset..<(offset + p.resultCount)])
            offset += p.resultCount
            if let failure { slice = slice.map { _ in .failure(failure) } }
            p.continuation.resume(returning: slice)
        }
    }

    /// Lets the flusher answer what it holds and stop, flushes LMDB and, when that worked, drops
    /// the segment's frames: a clean close leaves none.
    private func finish() {
        if segment != nil {
            flushes.withLock { $0.stopping = true }
            flushWake.signal()
            flusherStopped.wait()
            if queue.withLock({ $0.failure }) == nil {
                do { try checkpoint() } catch { failWrites(.flushFailed("flushing the log failed: \(error)")) }
            }
            storage.environment.unpin()
        } else {
            _ = flush()
        }
        finished.signal()
    }

    /// Makes LMDB durable through its last commit, begins a new segment epoch that notes LMDB's
    /// meta pages (dropping the frames LMDB now holds), and pins that commit's snapshot so that
    /// no later unflushed commit overwrites its pages (writer thread only).
    private func checkpoint() throws {
        guard let segment else { return }
        try configuration.faults.beforeFlush(.sync)
        try storage.environment.sync(force: true)
        try segment.beginEpoch(metaPages: try storage.environment.metaPages())
        try storage.environment.pinLastCommit()
    }

    /// A group's frame on its way to the segment: the records and idempotency records the
    /// transaction writes, written to the segment once the transaction has committed.
    final class SegmentWrite {
        var records: [[UInt8]] = []
        var idempotency: [(key: [UInt8], value: [UInt8])] = []
        /// The group's new events for the replicated log (a cluster's leader).
        var replicated: [ReplicatedEvent] = []
        /// Set when the frame went to the file.
        var written = false
    }

    /// What the flusher thread and the writer share (durable mode): frames are numbered in the
    /// order they are written (tickets); a flush covers every frame written before it began.
    private struct Flushes {
        /// The ticket of the last frame written.
        var requested: UInt64 = 0
        /// Every frame up to this ticket is flushed.
        var flushed: UInt64 = 0
        /// Committed groups waiting for the flush of their ticket, in commit order.
        var waiting: [(ticket: UInt64, committed: Committed)] = []
        var failure: EventLogError?
        var stopping = false
    }

    private let flushes = Mutex(Flushes())
    private let flushWake = DispatchSemaphore(value: 0)
    private let flusherStopped = DispatchSemaphore(value: 0)

    /// The flusher thread: flushes the segment whenever frames were written since its last flush
    /// (one `fdatasync` for all of them) and answers the committed groups that flush covers.
    private func runFlusher(_ segment: WriteAheadSegment) {
        while true {
            let (target, flushed, stopping) = flushes.withLock { ($0.requested, $0.flushed, $0.stopping) }
            if target == flushed {
                if stopping { break }
                flushWake.wait()
                continue
            }
            var failure: EventLogError?
            do {
                try configuration.faults.beforeFlush(.segment)
                try segment.flush()
            } catch {
                failure = error as? EventLogError ?? .flushFailed("flushing the write-ahead segment failed: \(error)")
            }
            if let failure { failWrites(failure) }
            let (due, dueFailure) = flushes.withLock { f -> ([Committed], EventLogError?) in
                if let failure, f.failure == nil { f.failure = failure }
                f.flushed = target
                let count = f.failure != nil ? f.waiting.count : f.waiting.prefix { $0.ticket <= target }.count
                defer { f.waiting.removeFirst(count) }
                return (f.waiting.prefix(count).map(\.committed), f.failure)
            }
            for committed in due { acknowledge(committed, flushFailure: dueFailure) }
        }
        flusherStopped.signal()
    }

    /// Answers a committed group once the frames written so far are flushed (at once when they
    /// are), in commit order.
    private func acknowledgeOnceFlushed(_ committed: Committed) {
        guard segment != nil else {
            acknowledge(committed, flushFailure: nil)
            return
        }
        let (now, failure) = flushes.withLock { f -> (Bool, EventLogError?) in
            if let failure = f.failure { return (true, failure) }
            if f.waiting.isEmpty && f.flushed >= f.requested { return (true, nil) }
            f.waiting.append((f.requested, committed))
            return (false, nil)
        }
        if now { acknowledge(committed, flushFailure: failure) }
    }

    /// Writes a committed group's frame (when it has events) and asks the flusher to flush it.
    /// A frame that does not fit in the segment's epoch begins a new one (``checkpoint()``).
    private func startSegmentWrite(_ write: SegmentWrite, firstSeq: UInt64) throws {
        guard let segment, !write.records.isEmpty else { return }
        if try !segment.write(firstSeq: firstSeq, records: write.records, idempotency: write.idempotency) {
            try checkpoint()
            guard try segment.write(firstSeq: firstSeq, records: write.records, idempotency: write.idempotency) else {
                throw EventLogError.storage("a frame does not fit in an empty write-ahead segment")
            }
        }
        write.written = true
        flushes.withLock { $0.requested += 1 }
        flushWake.signal()
    }

    /// Applies the requests in one transaction; grows the map and retries when it is full.
    /// A commit whose I/O failed (`flushFailure`) has put the writer in the failed state.
    private func commit(
        _ batch: [Pending]
    )
        -> (results: [Result<AppendResult, EventLogError>], head: LogHead?, flushFailure: EventLogError?)
    {
        let total = batch.reduce(0) { $0 + $1.resultCount }
        let startHead = chainHead.withLock { $0 }
        // The test seam's hook before a durable commit (which writes LMDB's pages without flushing them).
        let durable = configuration.durability == .durable
        let faults = configuration.faults
        func failed(
            _ error: EventLogError
        ) -> (results: [Result<AppendResult, EventLogError>], head: LogHead?, flushFailure: EventLogError?) {
            failWrites(error)
            return (Array(repeating: .failure(error), count: total), nil, error)
        }
        while true {
            var head = startHead
            let write = SegmentWrite()
            do {
                let results = try storage.environment.withTransaction(
                    readOnly: false,
                    beforeCommit: {
                        if durable { try faults.beforeFlush(.commit) }
                    }
                ) { txn in
                    var results: [Result<AppendResult, EventLogError>] = []
                    results.reserveCapacity(total)
                    if batch.first?.isReplicated == true {
                        try applyReplicated(batch, txn: txn, head: &head, segment: write)
                        results = batch.map { _ in .success(AppendRules.nothingAppended) }
                    } else {
                        let now = configuration.clock()
                        for pending in batch {
                            for request in pending.requests {
                                results.append(try apply(request, txn: txn, now: now, head: &head, segment: write))
                            }
                        }
                        // A cluster's leader: the group commits here only once the replicated
                        // log holds it (a follower's replicator refuses every group, even one
                        // that appends nothing).
                        try configuration.replicator?.replicate(write.replicated)
                    }
                    if head != startHead {
                        try txn.put(storage.meta, key: StorageKeys.metaHead, value: StorageKeys.headValue(head))
                    }
                    return results
                }
                commits.add(1, ordering: .relaxed)
                do {
                    try startSegmentWrite(write, firstSeq: startHead.seq + 1)
                } catch {
                    // Committed, never acknowledged: whether it survives a restart is open.
                    return failed(error as? EventLogError ?? .flushFailed("writing the write-ahead segment failed: \(error)"))
                }
                guard head != startHead else { return (results, nil, nil) }
                appendedEvents.add(head.seq - startHead.seq, ordering: .relaxed)
                chainHead.withLock { $0 = head }
                return (results, head, nil)
            } catch LMDBError.mapFull {
                do {
                    // LMDB grows its map only with no transaction of this process open, the pinned
                    // snapshot included: end the segment's epoch first (which pins the last commit
                    // anew), let go of the pin while the map grows, and pin the same commit again.
                    if segment != nil {
                        do { try checkpoint() } catch { return failed(.flushFailed("flushing the log failed: \(error)")) }
                        storage.environment.unpin()
                    }
                    let grown = Result { try storage.environment.grow(minimumSize: storage.environment.mapSize * 2) }
                    if segment != nil {
                        do { try storage.environment.pinLastCommit() } catch {
                            return failed(.storage("the log cannot hold its flushed snapshot: \(error)"))
                        }
                    }
                    try grown.get()
                } catch {
                    return (Array(repeating: .failure(.storage("the log is full and could not grow: \(error)")), count: total), nil, nil)
                }
            } catch let failure as CommitFailure {
                // The commit's pages may be on disk: it is never acknowledged, and nothing is
                // written after it.
                return failed(EventLogError.flushFailed("\(failure)"))
            } catch let refusal as EventLogError {
                // A refusal of the replicated log, or a follower's event that does not continue
                // the chain: the transaction is aborted and nothing was written.
                return (Array(repeating: .failure(refusal), count: total), nil, nil)
            } catch {
                return (Array(repeating: .failure(.storage("\(error)")), count: total), nil, nil)
            }
        }
    }

    /// Checks one request and, when it passes, writes it. Rule failures are returned as
    /// values and write nothing; storage failures are thrown and abort the whole batch.
    private func apply(
        _ proposed: AppendRequest, txn: LMDBTransaction, now: Timestamp,
        head: inout LogHead, segment write: SegmentWrite
    ) throws -> Result<AppendResult, EventLogError> {
        let lmdb = LMDBSnapshot(storage: storage, txn: txn, visibleThrough: .max, writerHead: head)
        let snapshot = LogSnapshot(lmdb)
        let request: AppendRequest
        switch try AppendRules.decide(proposed, in: snapshot, now: now) {
        case .failure(let error): return .failure(error)
        case .success(nil): return .success(AppendRules.nothingAppended)
        case .success(let decided?): request = decided
        }
        var idempotencyKey: [UInt8] = []
        if let idem = request.idempotency {
            idempotencyKey = StorageKeys.idempotency(idem.key)
            if let stored = try txn.get(storage.idempotency, key: idempotencyKey) {
                guard let first = IdempotencyRecord(decoding: stored), first.key == idem.key else {
                    return .failure(.corruptRecord(seq: 0, reason: "unreadable idempotency record"))
                }
                // The fingerprint covers the request; a retry may have picked another stream id
                // (a server-assigned one), and still gets the first answer.
                guard first.fingerprint == idem.fingerprint else {
                    return .failure(.idempotencyKeyReused(key: idem.key))
                }
                var events: [RecordedEvent] = []
                if first.firstSeq > 0 {
                    for seq in first.firstSeq...first.lastSeq {
                        if let e = try lmdb.event(seq: seq) { events.append(e) }
                    }
                }
                return .success(
                    AppendResult(
                        stream: first.stream, events: events, replayed: true,
                        response: first.response))
            }
        }

        // The stream's digest, hashed once: for its number, which finds its tail and keys the index
        // entries below.
        let digest = StorageKeys.streamDigest(request.stream)
        let known = try storage.streamNumber(txn, digest: digest)
        let sealed: [AppendRules.SealedEvent]
        switch try AppendRules.seal(
            request, tail: try known.flatMap { try lmdb.tail(number: $0) }, in: snapshot, now: now, head: head,
            envelope: configuration.envelope)
        {
        case .failure(let error): return .failure(error)
        case .success(let events): sealed = events
        }
        if !sealed.isEmpty {
            let number = try known ?? newStreamNumber(digest: digest, txn: txn)
            for s in sealed {
                let seqKey = StorageKeys.seq(s.record.seq)
                let stored = s.record.encoded()
                try txn.put(storage.events, key: seqKey, value: stored, flags: UInt32(MDB_APPEND))
                if segment != nil { write.records.append(stored) }
                if configuration.replicator != nil {
                    write.replicated.append(ReplicatedEvent(seq: s.record.seq, hash: s.record.hash, record: stored))
                }
                try txn.put(storage.streamIndex, key: StorageKeys.streamEntry(number: number, version: s.record.version), value: seqKey)
                head = LogHead(seq: s.record.seq, hash: s.record.hash)
            }
        }
        let recorded = sealed.map(\.event)
        var result = AppendResult(stream: request.stream, events: recorded, replayed: false, response: nil)
        if let idem = request.idempotency {
            result.response = idem.response?(result)
            let record = IdempotencyRecord(
                key: idem.key, fingerprint: idem.fingerprint, stream: request.stream,
                firstSeq: recorded.first?.seq ?? 0, lastSeq: recorded.last?.seq ?? 0,
                response: result.response)
            let stored = record.encoded()
            try txn.put(storage.idempotency, key: idempotencyKey, value: stored)
            if segment != nil { write.idempotency.append((idempotencyKey, stored)) }
            // Replicated with the request's last event, so that a retry answers the same on every
            // node (an answer that appended nothing stays this node's own).
            if configuration.replicator != nil, !recorded.isEmpty, !write.replicated.isEmpty {
                write.replicated[write.replicated.count - 1].idempotency.append(.init(key: idempotencyKey, value: stored))
            }
        }
        return .success(result)
    }
}

extension LogWriter {
    /// Writes a follower's events, each checked to continue the chain at `head`
    /// (``LogStorage/appendChained(_:idempotency:txn:head:envelope:canonical:source:)``); the
    /// first that does not throws and aborts the commit.
    fileprivate func applyReplicated(_ batch: [Pending], txn: LMDBTransaction, head: inout LogHead, segment write: SegmentWrite) throws {
        var canonical: [UInt8] = []
        for pending in batch {
            for event in pending.replicated {
                try storage.appendChained(
                    event.record, idempotency: event.idempotency, txn: txn, head: &head, envelope: configuration.envelope,
                    canonical: &canonical, source: "the replicated log's record")
                if segment != nil {
                    write.records.append(event.record)
                    write.idempotency.append(contentsOf: event.idempotency.map { ($0.key, $0.value) })
                }
            }
        }
    }

    /// Numbers a stream at its first event: the next number (1, 2, 3… in order of first append),
    /// so the index entries of new streams are written at the end of the index.
    fileprivate func newStreamNumber(digest: [UInt8], txn: LMDBTransaction) throws -> UInt64 {
        let number = UInt64(try txn.count(storage.streamNumbers) + 1)
        try txn.put(storage.streamNumbers, key: digest, value: StorageKeys.streamNumber(number), flags: UInt32(MDB_NOOVERWRITE))
        return number
    }
}

/// The stored first result of an idempotency key.
struct IdempotencyRecord: Equatable {
    var key: String
    var fingerprint: [UInt8]
    var stream: String
    var firstSeq: UInt64
    var lastSeq: UInt64
    var response: [UInt8]?

    func encoded() -> [UInt8] {
        var out: [UInt8] = [1]
        out.appendString(key)
        out.appendVarint(UInt64(fingerprint.count)); out.append(contentsOf: fingerprint)
        out.appendString(stream)
        out.appendLittleEndian(firstSeq)
        out.appendLittleEndian(lastSeq)
        if let response {
            out.append(1)
            out.appendVarint(UInt64(response.count)); out.append(contentsOf: response)
        } else {
            out.append(0)
        }
        return out
    }

    init(key: String, fingerprint: [UInt8], stream: String, firstSeq: UInt64, lastSeq: UInt64, response: [UInt8]?) {
        self.key = key; self.fingerprint = fingerprint; self.stream = stream
        self.firstSeq = firstSeq; self.lastSeq = lastSeq; self.response = response
    }

    init?(decoding buffer: UnsafeRawBufferPointer) {
        var r = ByteReader(buffer)
        do {
            guard try r.byte() == 1 else { return nil }
            key = try r.string()
            fingerprint = Array(try r.bytes(count: Int(try r.varint())))
            stream = try r.string()
            firstSeq = try r.uint64()
            lastSeq = try r.uint64()
            response = try r.byte() == 1 ? Array(try r.bytes(count: Int(try r.varint()))) : nil
        } catch {
            return nil
        }
    }
}
