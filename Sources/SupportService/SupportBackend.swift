import EventLog
import Foundation
import Projections
import ServiceLifecycle
import SupportDomain
import Synchronization

/// Everything the API serves from: the log, the policy, the projections, the command handling
/// and the limits on expensive work. One per data directory; ``close()`` (or
/// ``EventLogService``) closes the log last.
package final class SupportBackend: Sendable {
    /// The log.
    package let store: EventStore
    /// The policy, compiled: SLA targets, the business calendar, input limits.
    package let levels: ServiceLevels
    /// The projections (queues, workloads, metrics), following the log.
    package let projections: ProjectionRunner
    package let commands: TicketCommands
    /// The attachments' bytes, content-addressed beside the log (`<data dir>/attachments`).
    package let attachments: any AttachmentStore
    /// The limits the backend and its HTTP edge run under (rate, long-polls, point-in-time folds,
    /// idle connections, import chunks).
    package let limits: ServerLimits
    package let rateLimiter: RateLimiter
    package let longPolls: ConcurrencyGate
    package let pointInTime: PointInTimeFolds
    /// Triggered when the server starts shutting down (long-polls answer at once).
    package let shutdown = ShutdownSignal()
    package let clock: @Sendable () -> Timestamp
    /// Told how long each command's append took (the HTTP edge's metrics listen).
    package let appendObserver: AppendObserver

    /// Opens the log in `dataDirectory` (created when missing) under `policy`, served under
    /// `limits`. `monotonicNanoseconds` is the rate limiter's clock (a test moves its own).
    package convenience init(
        dataDirectory: String, policy: Policy = .default, durability: Durability = .durable,
        rebuildProjections: Bool = false, limits: ServerLimits = .default,
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
        monotonicNanoseconds: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    ) throws {
        try self.init(
            dataDirectory: dataDirectory, policy: policy, durability: durability,
            rebuildProjections: rebuildProjections, limits: limits, clock: clock,
            monotonicNanoseconds: monotonicNanoseconds, faults: StorageFaults())
    }

    /// The same, with faults injected into the log's flushes (tests).
    package init(
        dataDirectory: String, policy: Policy, durability: Durability, rebuildProjections: Bool,
        limits: ServerLimits, clock: @escaping @Sendable () -> Timestamp,
        monotonicNanoseconds: @escaping @Sendable () -> UInt64, faults: StorageFaults
    ) throws {
        self.limits = limits
        appendObserver = AppendObserver()
        rateLimiter = RateLimiter(requestsPerSecond: limits.requestsPerSecond, burst: limits.burst, clock: monotonicNanoseconds)
        longPolls = ConcurrencyGate(limit: limits.concurrentLongPolls)
        pointInTime = PointInTimeFolds(limit: limits.concurrentPointInTimeFolds)
        var log = EventLogConfiguration(
            directory: dataDirectory, envelope: EnvelopeFormat(streamField: "ticket"),
            durability: durability, clock: clock)
        log.faults = faults
        store = try EventStore(log)
        // An import cut by a crash left its spool behind; the writer lock we now hold means no import runs.
        ImportSpool.removeLeftovers(in: dataDirectory)
        levels = try ServiceLevels(policy: policy)
        let attachmentFiles = try FileAttachmentStore(directory: dataDirectory + "/attachments")
        attachmentFiles.removeLeftovers()
        attachments = attachmentFiles
        projections = try ProjectionRunner(store: store, levels: levels, rebuild: rebuildProjections)
        commands = TicketCommands(
            store: store, levels: levels, directory: try TicketDirectory(store: store),
            projections: projections, appendObserver: appendObserver, clock: clock)
        self.clock = clock
    }

    /// Finishes queued appends and closes the log.
    package func close() { store.close() }
}

/// Who is told how long each command's append took: one listener at a time (the HTTP edge's
/// metrics), none by default.
package final class AppendObserver: Sendable {
    /// The closure sits in a struct: a bare function value held in the mutex's generic storage
    /// is re-abstracted on every inout access, and each `withLock` would wrap it in two more
    /// thunks (a chain that grew with every command and made appends linear in their count).
    private struct Listener: Sendable {
        let body: @Sendable (Duration) -> Void
    }

    private let listener = Mutex<Listener?>(nil)

    package init() {}

    /// Sets the listener (replacing the previous one).
    package func listen(_ body: @escaping @Sendable (Duration) -> Void) { listener.withLock { $0 = Listener(body: body) } }

    package func record(_ duration: Duration) {
        let current = listener.withLock { $0 }
        current?.body(duration)
    }
}

/// Closes the log when the service group shuts down, after the HTTP server (which the
/// application stops first) has finished its in-flight requests.
package struct EventLogService: Service {
    let backend: SupportBackend
    package init(backend: SupportBackend) { self.backend = backend }

    package func run() async throws {
        try? await gracefulShutdown()
        backend.close()
    }
}

/// Runs the projections while the server runs (stopped after the HTTP server has drained).
package struct ProjectionService: Service {
    let backend: SupportBackend
    package init(backend: SupportBackend) { self.backend = backend }

    package func run() async throws {
        await cancelWhenGracefulShutdown { await backend.projections.run() }
    }
}
