import ServiceLifecycle
import Synchronization

/// Tells long-running requests (long-polls) that the server is stopping, so they answer at once
/// instead of holding the graceful shutdown up.
package final class ShutdownSignal: Sendable {
    private struct State {
        var triggered = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    package init() {}

    package var isTriggered: Bool { state.withLock { $0.triggered } }

    package func trigger() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.triggered = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    /// Returns when the signal is triggered, or when the waiting task is cancelled.
    package func wait() async {
        let id = state.withLock { s -> Int in
            s.nextID += 1; return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { s -> Bool in
                    if s.triggered || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// Listed after the HTTP server in the service group, so that graceful shutdown reaches it first:
/// it triggers the backend's shutdown signal, then the server drains.
package struct ShutdownNotifier: Service {
    let backend: SupportBackend
    package init(backend: SupportBackend) { self.backend = backend }

    package func run() async throws {
        try? await gracefulShutdown()
        backend.shutdown.trigger()
    }
}
