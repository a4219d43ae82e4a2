import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SupportService

/// The API's routes (SPEC §7).
package func buildRouter(backend: SupportBackend, tokens: TokenStore) -> Router<SupportRequestContext> {
    let router = Router(context: SupportRequestContext.self)
    let metrics = ServerMetrics(teamLimit: backend.limits.metricsTeams)
    backend.appendObserver.listen { metrics.recordAppend($0) }
    router.add(middleware: ReplicaMiddleware(backend: backend))
    router.add(middleware: RequestIDMiddleware())
    router.get("healthz") { _, _ in
        JSONResponse.make(HealthAnswer())
    }
    router.get("metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.render(backend: backend))))
    }
    let sessions = WebSessions(clock: backend.clock)
    DashboardRoutes(backend: backend, tokens: tokens, sessions: sessions).register(on: router)
    ConsoleRoutes(backend: backend, tokens: tokens, sessions: sessions).register(on: router)
    let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(tokens: tokens))
        .add(middleware: RateLimitMiddleware(limiter: backend.rateLimiter))
    TicketRoutes(backend: backend).register(on: v1)
    EventRoutes(backend: backend).register(on: v1)
    ImportRoute(backend: backend).register(on: v1)
    ReadRoutes(backend: backend).register(on: v1)
    registerAttachmentRoutes(on: v1, backend: backend)
    MailRoute(backend: backend, metrics: metrics).register(on: v1)
    WebhookRoutes(backend: backend).register(on: v1)
    ClusterRoutes(backend: backend).register(on: v1)
    return router
}

/// The application serving the API on `host:port` (idle connections closed after
/// `backend.limits.idleTimeout`); `onRunning` gets the bound port.
package func buildApplication(
    backend: SupportBackend, tokens: TokenStore, host: String, port: Int, logger: Logger,
    services: [any Service] = [], onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(backend: backend, tokens: tokens),
        server: .http1(configuration: .init(idleTimeout: backend.limits.idleTimeAmount)),
        configuration: .init(address: .hostname(host, port: port), serverName: "ledgerdesk"),
        // Stopped in reverse order: the mail outbox, then the projections, then the log.
        services: [EventLogService(backend: backend), ProjectionService(backend: backend)] + services,
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
        logger: logger)
}

extension ServerLimits {
    /// The idle timeout as NIO's time amount.
    var idleTimeAmount: TimeAmount? {
        idleTimeout.map { d in
            let (seconds, attoseconds) = d.components
            return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
    }
}
