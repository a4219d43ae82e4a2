import EventLog
import HTTPTypes
import Hummingbird
import NIOCore
import SupportDomain
import SupportService

/// An RFC 9457 problem: every error the API answers is one, as `application/problem+json`.
package struct Problem: HTTPResponseError, Sendable, Equatable {
    package var status: HTTPResponse.Status
    /// A precise, human-readable explanation of this occurrence.
    package var detail: String
    /// For imports: the 1-based line that failed.
    package var line: Int?
    /// Extra response headers (e.g. `WWW-Authenticate` on 401).
    package var headers: HTTPFields
    /// Extension members of the problem document (RFC 9457 §3.2), e.g. the leader of a 307.
    package var members: [String: JSONValue] = [:]

    package init(_ status: HTTPResponse.Status, _ detail: String, line: Int? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = detail
        self.line = line
        self.headers = headers
    }

    /// The problem document.
    package var json: JSONValue {
        var o: [String: JSONValue] = [
            "type": .string("about:blank"), "title": .string(status.reasonPhrase),
            "status": .int(Int64(status.code)), "detail": .string(detail),
        ]
        if let line { o["line"] = .int(Int64(line)) }
        for (name, value) in members where o[name] == nil { o[name] = value }
        return .object(o)
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let bytes = CanonicalJSON.encode(json)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, detail) }
    static func notFound(_ detail: String) -> Problem { Problem(.notFound, detail) }
    static func forbidden(_ detail: String) -> Problem { Problem(.forbidden, detail) }
    static func conflict(_ detail: String) -> Problem { Problem(.conflict, detail) }

    /// 429 or 503 with `Retry-After: seconds`: the caller may try again then.
    static func retryLater(_ status: HTTPResponse.Status, seconds: Int, _ detail: String) -> Problem {
        Problem(status, detail, headers: [.retryAfter: "\(max(1, seconds))"])
    }
}

extension Problem {
    /// The problem for a service error: its kind is the status, its detail, line and
    /// `Retry-After` carry over.
    package init(_ error: ServiceError) {
        let status: HTTPResponse.Status =
            switch error.kind {
            case .badRequest: .badRequest
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            case .preconditionFailed: .preconditionFailed
            case .contentTooLarge: .contentTooLarge
            case .tooManyRequests: .tooManyRequests
            case .unavailable: .serviceUnavailable
            case .internalError: .internalServerError
            }
        self.init(
            status, error.detail, line: error.line,
            headers: error.retryAfter.map { [.retryAfter: "\($0)"] } ?? [:])
    }

    /// The problem for a refused domain rule.
    init(_ error: DomainError) { self.init(ServiceError(error)) }

    /// The problem for a failed log operation.
    init(_ error: EventLogError) {
        if case .rejected(let inner as Problem) = error { self = inner } else { self.init(ServiceError(error)) }
    }
}

/// An error the edge answers as a problem document.
protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

extension Problem: ProblemConvertible {
    var problem: Problem { self }
}

extension ServiceError: ProblemConvertible {
    var problem: Problem { Problem(self) }
}
