import Dispatch
import Synchronization

/// A test seam: a hook the writer (or the segment's flusher) calls right before each flush that makes commits
/// durable, to hold the durable head back (by blocking) or to simulate a failed `fdatasync`
/// (by throwing). Our own targets' tests only, hence `package`.
package struct StorageFaults: Sendable {
    /// Which flush is about to happen.
    package enum Flush: Sendable, Hashable {
        /// Right before a durable commit (`mdb_txn_commit`, which writes LMDB's pages without
        /// flushing them: the segment frame written after it makes the group durable). A throw
        /// fails the commit as an I/O error inside `mdb_txn_commit` would: the commit is aborted
        /// and the log fails.
        case commit
        /// The flush of a group's frame in the write-ahead segment (durable mode), on the flush
        /// queue beside the LMDB commit: the one that acknowledges the group. A throw fails it
        /// as an `fdatasync` error would.
        case segment
        /// An explicit flush of LMDB (`mdb_env_sync`): before the segment begins a new epoch
        /// (when it is full, and on close), or the periodic flush (deferred mode). A throw fails
        /// it as an `fdatasync` error would.
        case sync
    }

    /// Called before each flush (on the writer thread, or the segment's flush queue for
    /// ``Flush/segment``); blocking delays it, throwing fails it.
    package var beforeFlush: @Sendable (Flush) throws -> Void

    package init(beforeFlush: @escaping @Sendable (Flush) throws -> Void = { _ in }) {
        self.beforeFlush = beforeFlush
    }
}

/// Drives ``StorageFaults`` from a test: lets flushes through, holds the chosen kinds until
/// ``release()`` (the writer thread blocks in them, holding the durable head back), or fails them.
package final class FlushSwitch: Sendable {
    private struct State {
        var holding: Set<StorageFaults.Flush> = []
        var failing: Set<StorageFaults.Flush> = []
        /// How many more flushes fail; nil: every one of the failing kinds.
        var failuresLeft: Int?
        var held = false
    }

    /// The error a failed flush reports, as `fdatasync` would report `EIO`.
    package struct InjectedFailure: Error, CustomStringConvertible {
        package var description: String { "fdatasync: Input/output error (injected)" }
    }

    private let state = Mutex(State())
    private let gate = DispatchSemaphore(value: 0)

    package init() {}

    /// The hook to put in ``EventLogConfiguration/faults``.
    package var faults: StorageFaults { StorageFaults { [self] flush in try self.beforeFlush(flush) } }

    /// Holds the next flushes of these kinds until ``release()``.
    package func hold(_ kinds: Set<StorageFaults.Flush>) { state.withLock { $0.holding = kinds } }

    /// Lets a held flush go on, and holds no more.
    package func release() {
        let wasHeld = state.withLock { s -> Bool in
            s.holding = []
            defer { s.held = false }
            return s.held
        }
        if wasHeld { gate.signal() }
    }

    /// Fails the next `times` flushes of these kinds (every one when nil).
    package func fail(_ kinds: Set<StorageFaults.Flush>, times: Int? = nil) {
        state.withLock {
            $0.failing = kinds; $0.failuresLeft = times
        }
    }

    /// Waits (up to a generous bound that only guards against a hang) until the writer is held in
    /// a flush; false when it never got there.
    package func waitUntilHeld() async -> Bool {
        for _ in 0..<6000 {
            if state.withLock({ $0.held }) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    private func beforeFlush(_ flush: StorageFaults.Flush) throws {
        let hold = state.withLock { s -> Bool in
            guard s.holding.contains(flush) else { return false }
            s.held = true
            return true
        }
        if hold { gate.wait() }
        let fails = state.withLock { s -> Bool in
            guard s.failing.contains(flush), s.failuresLeft.map({ $0 > 0 }) ?? true else { return false }
            s.failuresLeft = s.failuresLeft.map { $0 - 1 }
            return true
        }
        if fails { throw InjectedFailure() }
    }
}
