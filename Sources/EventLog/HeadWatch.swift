import Synchronization

/// The durable head (the last event the writer has acknowledged), and the tasks waiting for it
/// to move. Readers of a writable store see the log up to this head and no further.
final class HeadWatch: Sendable {
    private struct Waiter {
        /// Wakes when the head's seq exceeds this.
        var after: UInt64
        /// Gives up (false) when the writer fails: a wait for a given event, which will never come.
        var endsOnFailure: Bool
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var head: LogHead
        var nextID = 0
        var waiters: [Int: Waiter] = [:]
        var closed = false
        var failed = false
    }

    private let state: Mutex<State>

    init(head: LogHead) { state = Mutex(State(head: head)) }

    var head: LogHead { state.withLock { $0.head } }

    /// Publishes a durable head and wakes everyone it moves past (a head behind the published
    /// one changes nothing: groups may be answered out of order by the writer and the flusher).
    func publish(_ head: LogHead) {
        let ready = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            guard head.seq > s.head.seq else { return [] }
            s.head = head
            let due = s.waiters.filter { $0.value.after < head.seq }
            for id in due.keys { s.waiters[id] = nil }
            return due.map(\.value.continuation)
        }
        for c in ready { c.resume(returning: true) }
    }

    /// The writer has failed: the head moves no more. Wakes the waits for given events (false);
    /// waits for whatever comes next go on until the log closes.
    func fail() {
        let given = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.failed = true
            let due = s.waiters.filter { $0.value.endsOnFailure }
            for id in due.keys { s.waiters[id] = nil }
            return due.map(\.value.continuation)
        }
        for c in given { c.resume(returning: false) }
    }

    /// Wakes every waiter for good (the log is closing).
    func close() {
        let all = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.closed = true
            defer { s.waiters = [:] }
            return s.waiters.values.map(\.continuation)
        }
        for c in all { c.resume(returning: false) }
    }

    /// Suspends until the head's seq exceeds `seq`; returns false when cancelled or closed, and,
    /// with `endsOnFailure`, when the writer has failed.
    func wait(beyond seq: UInt64, endsOnFailure: Bool = false) async -> Bool {
        let id = state.withLock { s -> Int in
            s.nextID += 1; return s.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: Bool? = state.withLock { s in
                    if s.head.seq > seq { return true }
                    if s.closed || Task.isCancelled || (endsOnFailure && s.failed) { return false }
                    s.waiters[id] = Waiter(after: seq, endsOnFailure: endsOnFailure, continuation: continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let c = state.withLock { s in s.waiters.removeValue(forKey: id)?.continuation }
            c?.resume(returning: false)
        }
    }
}
