import EventLog
import SupportDomain

/// Why the service refused or could not do what it was asked: a kind, which the HTTP edge maps
/// to a status (SupportServer's `Problem`), and a human-readable detail.
package struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in the terms of the answer the caller gets.
    package enum Kind: Sendable, Equatable {
        /// The input is malformed or breaks a limit.
        case badRequest
        /// The caller may not do this.
        case forbidden
        /// No such thing (or one the caller may not know about).
        case notFound
        /// The request contradicts the state (a rule, a reused key, a clock that went backwards).
        case conflict
        /// An expected version (`If-Match`) does not hold.
        case preconditionFailed
        /// The input is larger than the service accepts.
        case contentTooLarge
        /// A limit of concurrent work is reached: retry after `retryAfter` seconds.
        case tooManyRequests
        /// The service cannot answer now (storage, a damaged record, shutting down).
        case unavailable
        /// A state that should not occur.
        case internalError
    }

    /// What went wrong.
    package var kind: Kind
    /// A precise, human-readable explanation of this occurrence.
    package var detail: String
    /// For imports: the 1-based line that failed.
    package var line: Int?
    /// Seconds after which a retry may succeed, when the refusal is temporary.
    package var retryAfter: Int?

    package init(_ kind: Kind, _ detail: String, line: Int? = nil, retryAfter: Int? = nil) {
        self.kind = kind
        self.detail = detail
        self.line = line
        self.retryAfter = retryAfter
    }

    package var description: String { detail }

    package static func badRequest(_ detail: String) -> ServiceError { ServiceError(.badRequest, detail) }
    package static func notFound(_ detail: String) -> ServiceError { ServiceError(.notFound, detail) }
    package static func forbidden(_ detail: String) -> ServiceError { ServiceError(.forbidden, detail) }
    package static func conflict(_ detail: String) -> ServiceError { ServiceError(.conflict, detail) }

    /// A temporary refusal: the caller may try again after `seconds` (at least 1).
    package static func retryLater(_ kind: Kind, seconds: Int, _ detail: String) -> ServiceError {
        ServiceError(kind, detail, retryAfter: max(1, seconds))
    }
}

extension ServiceError {
    /// The error for a refused domain rule.
    package init(_ error: DomainError) {
        switch error.kind {
        case .badRequest: self.init(.badRequest, error.detail)
        case .forbidden: self.init(.forbidden, error.detail)
        case .notFound: self.init(.notFound, error.detail)
        case .conflict: self.init(.conflict, error.detail)
        }
    }

    /// The error for a failed log operation.
    package init(_ error: EventLogError) {
        switch error {
        case .rejected(let inner as DomainError): self.init(inner)
        case .rejected(let inner as ServiceError): self = inner
        case .timeWentBackwards: self.init(.conflict, error.description)
        case .idempotencyKeyReused: self.init(.conflict, error.description)
        case .wrongExpectedVersion: self.init(.conflict, error.description)
        case .invalidRequest: self.init(.badRequest, error.description)
        // Writes stay refused until a restart (reads go on): no Retry-After would be honest.
        case .flushFailed: self.init(.unavailable, error.description)
        // A replicated desk between leaders, or without quorum: worth trying again in a moment.
        case .replicationFailed: self.init(.unavailable, error.description, retryAfter: 1)
        default: self.init(.unavailable, error.description)
        }
    }
}
