import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SupportDomain
import SupportService

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let idempotencyKey = Self("Idempotency-Key")!
}

/// Gives every request an id (the caller's `X-Request-Id` when it sends a sane one), puts it in
/// the logger's metadata and on the response, and logs each request once with its outcome.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = SupportRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let incoming = request.headers[.requestID].flatMap { id in
            id.utf8.count <= 128 && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } ? id : nil
        }
        context.requestID = incoming ?? UUID().uuidString.lowercased()
        context.logger[metadataKey: "request"] = .string(context.requestID)
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = context.requestID
            context.logger.debug("\(request.method) \(request.uri.path) \(response.status.code)")
            return response
        } catch let error as any ProblemConvertible {
            // Problems, and the service's errors mapped to theirs at this edge.
            let problem = error.problem
            var response = try problem.response(from: request, context: context)
            response.headers[.requestID] = context.requestID
            context.logger.debug("\(request.method) \(request.uri.path) \(problem.status.code): \(problem.detail)")
            return response
        } catch let error as HTTPError {
            // Hummingbird's own errors (404 route, 405, body too large) become problems too.
            let problem = Problem(error.status, error.body ?? error.status.reasonPhrase)
            var response = try problem.response(from: request, context: context)
            response.headers[.requestID] = context.requestID
            return response
        } catch {
            context.logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            let problem = Problem(.internalServerError, "internal error (request \(context.requestID))")
            var response = try problem.response(from: request, context: context)
            response.headers[.requestID] = context.requestID
            return response
        }
    }
}

/// Resolves `Authorization: Bearer <token>` to a principal; anything else is 401.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SupportRequestContext
    let tokens: TokenStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer"]
        guard let header = request.headers[.authorization] else {
            throw Problem(.unauthorized, "missing Authorization: Bearer <token>", headers: challenge)
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), let principal = tokens.principal(forToken: String(header.dropFirst(prefix.count))) else {
            throw Problem(.unauthorized, "unknown or malformed bearer token", headers: challenge)
        }
        context.principal = principal
        context.logger[metadataKey: "principal"] = .string("\(principal.role.rawValue):\(principal.id)")
        // A gateway token hands mail in and nothing else: it reads no ticket, whatever the route.
        if principal.role == .gateway, !(request.method == .post && request.uri.path == MailRoute.path) {
            throw Problem.forbidden("a gateway token may only post mail to \(MailRoute.path)")
        }
        return try await next(request, context)
    }
}

/// 429 with `Retry-After` once a principal's bucket is empty (after authentication, so it counts
/// per token; `/healthz`, `/metrics` and the dashboard are outside `/v1` and not counted).
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = SupportRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let principal = context.principal, let seconds = limiter.admit(principal) {
            throw Problem.retryLater(
                .tooManyRequests, seconds: seconds,
                "rate limit of \(limiter.rateText) requests per second (burst \(Int(limiter.burst))) exceeded; retry after \(seconds) s")
        }
        return try await next(request, context)
    }
}
