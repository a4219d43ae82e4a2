/// Why a command or an event was refused, with the HTTP status class it maps to at the edge.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of a refusal; each maps to one HTTP status at the edge.
    public enum Kind: Sendable, Equatable {
        /// Malformed input: unknown field, wrong type or enum, bad instant (400).
        case badRequest
        /// The actor's role may not do this (403).
        case forbidden
        /// No such ticket, or another customer's (404).
        case notFound
        /// A rule of SPEC §2.2 refuses it (409).
        case conflict
    }

    /// The class of the refusal.
    public var kind: Kind
    /// A precise, human-readable reason.
    public var detail: String

    /// A refusal of class `kind`, for the reason `detail`.
    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail }

    static func badRequest(_ detail: String) -> DomainError { DomainError(.badRequest, detail) }
    static func forbidden(_ detail: String) -> DomainError { DomainError(.forbidden, detail) }
    static func conflict(_ detail: String) -> DomainError { DomainError(.conflict, detail) }
}
