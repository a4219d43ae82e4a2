import EventLog
import Foundation
import Synchronization

/// A count of expensive operations in progress, refused beyond a limit instead of queued: a
/// caller told to come back later is better than one whose request waits behind the others.
package final class ConcurrencyGate: Sendable {
    package let limit: Int
    private let running = Mutex(0)

    package init(limit: Int) { self.limit = max(0, limit) }

    /// Takes a place; false when all are taken.
    package func tryEnter() -> Bool {
        running.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    package func leave() { running.withLock { $0 -= 1 } }

    /// Places taken now.
    package var inUse: Int { running.withLock { $0 } }
}

/// Runs point-in-time (`asOf`) answers each on a thread of its own and a few at once, so that they
/// never hold the cooperative pool's threads (the ones every other request runs on); beyond the
/// limit the answer is 503 with `Retry-After`.
///
/// Every `asOf` answer passes the gate, from a snapshot or not: one from a snapshot folds up to a
/// snapshot's spacing of events (tens of milliseconds at 10 M events) but then runs the query on
/// a projection as large as the live one (response times over 10 M events: about 170 ms), and
/// until the snapshots are built after a start from a checkpoint, answers are full folds. One
/// gate keeps the CPU given to point-in-time answers bounded in both cases; a refused caller is
/// told to retry after 1 s when the snapshots are ready, else after about one fold.
package final class PointInTimeFolds: Sendable {
    package let gate: ConcurrencyGate
    /// A test seam: called on the fold's thread before it folds (a test blocks it there).
    package let willFold = Mutex<FoldHook?>(nil)

    /// The seam's closure, in a struct: a bare function value in the mutex's generic storage is
    /// re-abstracted (wrapped in more thunks) on every inout access.
    package struct FoldHook: Sendable {
        let run: @Sendable () -> Void
        package init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    package init(limit: Int) { gate = ConcurrencyGate(limit: limit) }

    /// Runs `work` on its own thread and resumes with its result; 503 when `gate.limit` folds
    /// already run. `retryAfter` is the seconds a refused caller is told to wait.
    package func run<R: Sendable>(retryAfter: @autoclosure () -> Int, _ work: @escaping @Sendable () throws -> R) async throws -> R {
        guard gate.tryEnter() else {
            throw ServiceError.retryLater(
                .unavailable, seconds: retryAfter(),
                "\(gate.limit) point-in-time (asOf) answers are being computed; retry later")
        }
        let gate = self.gate, hook = willFold.withLock { $0 }
        let job = Job(work)
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                hook?.run()
                let result = job.run()
                gate.leave()
                continuation.resume(with: result)
            }
            thread.name = "ledgerdesk-as-of"
            thread.start()
        }
    }

    /// The work of one fold, let go of as soon as it has run: what it holds (the log, a
    /// projection) is released before the caller resumes, not when the thread ends, so that a
    /// caller that closes the log next can open its directory again at once.
    private final class Job<R: Sendable>: @unchecked Sendable {
        private var work: (@Sendable () throws -> R)?
        init(_ work: @escaping @Sendable () throws -> R) { self.work = work }

        /// Runs the work once (only the fold's thread calls it) and drops it.
        func run() -> Result<R, any Error> {
            guard let work else { return .failure(ServiceError(.internalError, "a fold ran twice")) }
            self.work = nil
            return Result { try work() }
        }
    }

    /// What a refused caller is told to wait: about one fold of a log of `events` events
    /// (1.5 s per million on the reference machine, docs/benchmarks.md), from 1 to 60 seconds.
    package static func retryAfter(events: UInt64) -> Int {
        Int(min(60, max(1, (events * 3 + 1_999_999) / 2_000_000)))
    }
}

/// A token bucket per principal: `burst` requests at once, refilled at `requestsPerSecond`.
package final class RateLimiter: Sendable {
    package let requestsPerSecond: Double
    package let burst: Double
    /// Monotonic nanoseconds (a test moves its own clock).
    private let now: @Sendable () -> UInt64
    private let buckets = Mutex<[Principal: Bucket]>([:])

    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    package init(requestsPerSecond: Double, burst: Int, clock: @escaping @Sendable () -> UInt64) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = Double(max(1, burst))
        self.now = clock
    }

    package var isEnabled: Bool { requestsPerSecond > 0 }

    /// The rate as the problem detail names it (`20`, `0.5`).
    package var rateText: String {
        requestsPerSecond == requestsPerSecond.rounded() && requestsPerSecond < 1e15 ? "\(Int(requestsPerSecond))" : "\(requestsPerSecond)"
    }

    /// Takes one request from the principal's bucket: nil when it may go on, otherwise the whole
    /// seconds until its bucket holds a request again.
    package func admit(_ principal: Principal) -> Int? {
        guard isEnabled else { return nil }
        let t = now()
        return buckets.withLock { buckets -> Int? in
            var bucket = buckets[principal] ?? Bucket(tokens: burst, updated: t)
            let elapsed = Double(t &- bucket.updated) / 1e9
            bucket.tokens = min(burst, bucket.tokens + max(0, elapsed) * requestsPerSecond)
            bucket.updated = max(bucket.updated, t)
            defer { buckets[principal] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / requestsPerSecond).rounded(.up)))
        }
    }
}
