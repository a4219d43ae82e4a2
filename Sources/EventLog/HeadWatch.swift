import Synchronization

/// The latest committed head, and the tasks waiting for it to move.
final class HeadWatch: Sendable {
    private struct State {
        var head: LogHead
        var nextID = 0
        var waiters: [Int: (after: UInt64, continuation: CheckedContinuation<Bool, Never>)] = [:]
        var closed = false
    }

    private let state: Mutex<State>

    init(head: LogHead) { state = Mutex(State(head: head)) }

    var head: LogHead { state.withLock { $0.head } }

    /// Publishes a committed head and wakes everyone it moves past.
    func publish(_ head: LogHead) {
        let ready = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.head = head
            let due = s.waiters.filter { $0.value.after < head.seq }
            for id in due.keys { s.waiters[id] = nil }
            return due.map(\.value.continuation)
        }
        for c in ready { c.resume(returning: true) }
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

    /// Suspends until the head's seq exceeds `seq`; returns false when cancelled or closed.
    func wait(beyond seq: UInt64) async -> Bool {
        let id = state.withLock { s -> Int in s.nextID += 1; return s.nextID }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: Bool? = state.withLock { s in
                    if s.head.seq > seq { return true }
                    if s.closed || Task.isCancelled { return false }
                    s.waiters[id] = (seq, continuation)
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
