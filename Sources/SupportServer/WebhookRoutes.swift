import EventLog
import HTTPTypes
import Hummingbird
import NIOCore
import SupportDomain
import SupportService

/// The admins' webhook endpoints (docs/webhooks.md): register, list, read, remove, the
/// delivery log and redelivery. Everyone but an admin gets 403.
struct WebhookRoutes {
    let backend: SupportBackend

    /// The largest body taken.
    static let maximumBody = 16 * 1024

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.post("webhooks") { request, context in try await create(request, context) }
        group.get("webhooks") { request, context in try list(request, context) }
        group.get("webhooks/:id") { request, context in try read(request, context) }
        group.delete("webhooks/:id") { request, context in try await remove(request, context) }
        group.get("webhooks/:id/deliveries") { request, context in try deliveries(request, context) }
        group.post("webhooks/:id/redeliver") { request, context in try await redeliver(request, context) }
    }

    private func admin(_ context: SupportRequestContext) throws(Problem) -> Principal {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        guard principal.role == .admin else { throw Problem.forbidden("only an admin may manage webhooks") }
        return principal
    }

    private func body(_ request: Request) async throws -> [UInt8] {
        var request = request
        do {
            return Array(buffer: try await request.collectBody(upTo: Self.maximumBody))
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem(.contentTooLarge, "the body exceeds \(Self.maximumBody) bytes")
        } catch is NIOTooManyBytesError {
            throw Problem(.contentTooLarge, "the body exceeds \(Self.maximumBody) bytes")
        }
    }

    private func endpoint(_ context: SupportRequestContext) throws(Problem) -> (registration: WebhookRegistration, seq: UInt64) {
        let id = try context.pathIdentifier("id")
        let endpoints: WebhookEndpoints
        do { endpoints = try backend.webhooks.endpoints() } catch { throw Problem(error) }
        guard let found = endpoints.endpoint(id) else { throw Problem.notFound("webhook \(id) not found") }
        return found
    }

    private static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        JSONResponse.make(bytes: CanonicalJSON.encode(value), status: status, headers: headers)
    }

    /// POST /v1/webhooks: 201 with the endpoint and its secret (shown this once), `Location`.
    func create(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        let principal = try admin(context)
        _ = try QueryParameters(request, allowed: [])
        let asked: WebhookCommands.Registration
        do { asked = try WebhookCommands.Registration(body: try await body(request)) } catch let error as ServiceError {
            throw Problem(error)
        }
        let made: (registration: WebhookRegistration, secret: String, event: RecordedEvent)
        do { made = try await backend.webhooks.register(asked, admin: principal.id) } catch { throw Problem(error) }
        let answer = WebhookAnswers.endpoint(
            made.registration, registeredSeq: made.event.seq, progress: nil, now: Timestamp.now(), secret: made.secret)
        var headers = HTTPFields()
        headers[.location] = "/v1/webhooks/\(made.registration.id)"
        return Self.json(answer, status: .created, headers: headers)
    }

    /// GET /v1/webhooks: the current endpoints (never their secrets).
    func list(_ request: Request, _ context: SupportRequestContext) throws -> Response {
        _ = try admin(context)
        _ = try QueryParameters(request, allowed: [])
        let endpoints: WebhookEndpoints
        do { endpoints = try backend.webhooks.endpoints() } catch { throw Problem(error) }
        return Self.json(WebhookAnswers.list(endpoints, commands: backend.webhooks, now: Timestamp.now()))
    }

    /// GET /v1/webhooks/{id}.
    func read(_ request: Request, _ context: SupportRequestContext) throws -> Response {
        _ = try admin(context)
        let found = try endpoint(context)
        _ = try QueryParameters(request, allowed: [])
        return Self.json(
            WebhookAnswers.endpoint(
                found.registration, registeredSeq: found.seq, progress: backend.webhooks.progress(of: found.registration.id),
                now: Timestamp.now()))
    }

    /// DELETE /v1/webhooks/{id}: 204.
    func remove(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        let principal = try admin(context)
        let found = try endpoint(context)
        _ = try QueryParameters(request, allowed: [])
        do { try await backend.webhooks.remove(found.registration.id, admin: principal.id) } catch { throw Problem(error) }
        return Response(status: .noContent)
    }

    /// GET /v1/webhooks/{id}/deliveries?limit=N: the delivery log, newest first (default 50, at most 200).
    func deliveries(_ request: Request, _ context: SupportRequestContext) throws -> Response {
        _ = try admin(context)
        let found = try endpoint(context)
        let query = try QueryParameters(request, allowed: ["limit"])
        let limit = try query.integer("limit", in: 1...WebhookProgress.logLimit) ?? 50
        return Self.json(WebhookAnswers.deliveries(backend.webhooks.progress(of: found.registration.id), limit: limit))
    }

    /// POST /v1/webhooks/{id}/redeliver `{"from": seq}`: 202; delivery starts again at that seq.
    func redeliver(_ request: Request, _ context: SupportRequestContext) async throws -> Response {
        _ = try admin(context)
        let found = try endpoint(context)
        _ = try QueryParameters(request, allowed: [])
        let raw = try await body(request)
        let value: JSONValue
        do { value = try JSONParser.parse(raw) } catch { throw Problem.badRequest("the body is not JSON: \(error)") }
        guard let members = value.objectValue else { throw Problem.badRequest("the body must be a JSON object {\"from\": seq}") }
        if let unknown = members.keys.first(where: { $0 != "from" }) { throw Problem.badRequest("unknown field \"\(unknown)\"") }
        guard let from = members["from"]?.intValue, from >= 1 else {
            throw Problem.badRequest("\"from\" must be a positive integer (the seq to deliver again from)")
        }
        do { try backend.webhooks.redeliver(found.registration.id, from: UInt64(from)) } catch { throw Problem(error) }
        return Self.json(.object(["id": .string(found.registration.id), "from": .int(from)]), status: .accepted)
    }
}
