import EventLog
import Hummingbird
import NIOCore
import ServiceLifecycle
import SupportDomain
import SupportService
import Synchronization

/// POST /v1/import (admins): NDJSON events in log order, streamed: lines are validated as they
/// arrive and memory does not grow with the body (up to 1 GiB; a line up to
/// ``LogImporter/maximumLineLength``).
struct ImportRoute {
    let backend: SupportBackend
    /// The largest import body accepted.
    static let maximumBody = 1 << 30

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.post("import") { request, context in try await handle(request: request, context: context) }
    }

    func handle(request: Request, context: SupportRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        guard principal.role == .admin else { throw Problem.forbidden("only an admin may import") }
        _ = try QueryParameters(request, allowed: [])
        let stopping = Atomic<Bool>(false)
        let summary = try await withGracefulShutdownHandler {
            // Lines are validated as they arrive and spooled; nothing is appended before the last one passed.
            let session = try LogImporter(backend: backend).session()
            var total = 0
            for try await buffer in request.body {
                total += buffer.readableBytes
                guard total <= Self.maximumBody else {
                    throw Problem(.contentTooLarge, "an import may be at most \(Self.maximumBody) bytes")
                }
                if stopping.load(ordering: .relaxed) {
                    throw Problem(.serviceUnavailable, "the server is shutting down; nothing of this import was appended")
                }
                try session.feed(buffer.readableBytesView)
            }
            return try await session.finish(shouldStop: { stopping.load(ordering: .relaxed) })
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
        }
        return JSONResponse.make(ImportAnswer(summary))
    }
}
