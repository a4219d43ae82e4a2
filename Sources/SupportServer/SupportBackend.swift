import EventLog
import Foundation
import Hummingbird
import Logging
import NIOCore
import Projections
import ServiceLifecycle
import SupportDomain

/// Everything the API serves from: the log, the policy and the command handling.
/// One per data directory; ``close()`` (or ``EventLogService``) closes the log last.
public final class SupportBackend: Sendable {
    public let store: EventStore
    public let levels: ServiceLevels
    /// The projections (queues, workloads, metrics), following the log.
    public let projections: ProjectionRunner
    let commands: TicketCommands
    let metrics: ServerMetrics
    /// The limits of the HTTP edge (rate, long-polls, point-in-time folds, idle connections).
    public let limits: ServerLimits
    let rateLimiter: RateLimiter
    let longPolls: ConcurrencyGate
    let pointInTime: PointInTimeFolds
    /// Triggered when the server starts shutting down (long-polls answer at once).
    public let shutdown = ShutdownSignal()
    let clock: @Sendable () -> Timestamp

    /// Opens the log in `dataDirectory` (created when missing) under `policy`, served under
    /// `limits`. `monotonicNanoseconds` is the rate limiter's clock (a test moves its own).
    public convenience init(dataDirectory: String, policy: Policy = .default, durability: Durability = .durable,
                            rebuildProjections: Bool = false, limits: ServerLimits = .default,
                            clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
                            monotonicNanoseconds: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) throws {
        try self.init(dataDirectory: dataDirectory, policy: policy, durability: durability,
                      rebuildProjections: rebuildProjections, limits: limits, clock: clock,
                      monotonicNanoseconds: monotonicNanoseconds, faults: StorageFaults())
    }

    /// The same, with faults injected into the log's flushes (tests).
    package init(dataDirectory: String, policy: Policy, durability: Durability, rebuildProjections: Bool,
                 limits: ServerLimits, clock: @escaping @Sendable () -> Timestamp,
                 monotonicNanoseconds: @escaping @Sendable () -> UInt64, faults: StorageFaults) throws {
        self.limits = limits
        metrics = ServerMetrics(teamLimit: limits.metricsTeams)
        rateLimiter = RateLimiter(requestsPerSecond: limits.requestsPerSecond, burst: limits.burst, clock: monotonicNanoseconds)
        longPolls = ConcurrencyGate(limit: limits.concurrentLongPolls)
        pointInTime = PointInTimeFolds(limit: limits.concurrentPointInTimeFolds)
        var log = EventLogConfiguration(directory: dataDirectory, envelope: EnvelopeFormat(streamField: "ticket"),
                                        durability: durability, clock: clock)
        log.faults = faults
        store = try EventStore(log)
        // An import cut by a crash left its spool behind; the writer lock we now hold means no import runs.
        ImportSpool.removeLeftovers(in: dataDirectory)
        levels = try ServiceLevels(policy: policy)
        projections = try ProjectionRunner(store: store, levels: levels, rebuild: rebuildProjections)
        commands = TicketCommands(store: store, levels: levels, directory: try TicketDirectory(store: store),
                                  projections: projections, metrics: metrics, clock: clock)
        self.clock = clock
    }

    /// Finishes queued appends and closes the log.
    public func close() { store.close() }
}

/// Closes the log when the service group shuts down, after the HTTP server (which the
/// application stops first) has finished its in-flight requests.
public struct EventLogService: Service {
    let backend: SupportBackend
    public init(backend: SupportBackend) { self.backend = backend }

    public func run() async throws {
        try? await gracefulShutdown()
        backend.close()
    }
}

/// Runs the projections while the server runs (stopped after the HTTP server has drained).
public struct ProjectionService: Service {
    let backend: SupportBackend
    public init(backend: SupportBackend) { self.backend = backend }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await backend.projections.run() }
    }
}

/// The API's routes (SPEC §7).
public func buildRouter(backend: SupportBackend, tokens: TokenStore) -> Router<SupportRequestContext> {
    let router = Router(context: SupportRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.get("healthz") { _, _ in
        JSONResponse.make(.object(["status": .string("ok")]))
    }
    router.get("metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: backend.metrics.render(backend: backend))))
    }
    DashboardRoutes(backend: backend, tokens: tokens).register(on: router)
    let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(tokens: tokens))
        .add(middleware: RateLimitMiddleware(limiter: backend.rateLimiter))
    TicketRoutes(backend: backend).register(on: v1)
    EventRoutes(backend: backend).register(on: v1)
    ImportRoute(backend: backend).register(on: v1)
    ReadRoutes(backend: backend).register(on: v1)
    return router
}

/// The application serving the API on `host:port` (idle connections closed after
/// `backend.limits.idleTimeout`); `onRunning` gets the bound port.
public func buildApplication(backend: SupportBackend, tokens: TokenStore, host: String, port: Int, logger: Logger,
                             onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    Application(
        router: buildRouter(backend: backend, tokens: tokens),
        server: .http1(configuration: .init(idleTimeout: backend.limits.idleTimeAmount)),
        configuration: .init(address: .hostname(host, port: port), serverName: "ledgerdesk"),
        services: [EventLogService(backend: backend), ProjectionService(backend: backend)],
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
        logger: logger)
}
