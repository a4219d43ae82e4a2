/// A failure of a JetStream call: the API refused it, the transport failed, or the answer was unreadable.
package struct JetStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    package enum Kind: Sendable, Equatable {
        /// The JetStream API answered with an error: the HTTP-like `code`, JetStream's `err_code` and its text.
        case api(code: Int, errorCode: Int, description: String)
        /// The request did not get an answer (see ``NATSError``).
        case transport(NATSError)
        /// The answer was not what the API documents (or a stream read found a gap).
        case unexpectedAnswer(String)
    }

    /// What went wrong.
    package var kind: Kind

    /// An error of the given kind.
    package init(_ kind: Kind) {
        self.kind = kind
    }

    /// JetStream's err_code for "wrong last sequence" (`Nats-Expected-Last-Sequence` or
    /// `Nats-Expected-Last-Subject-Sequence` did not match).
    package static let wrongLastSequenceCode = 10071
    /// JetStream's err_code for "stream not found".
    package static let streamNotFoundCode = 10059
    /// JetStream's err_code for "no message found".
    package static let noMessageFoundCode = 10037
    /// JetStream's err_code for "stream name already in use with a different configuration".
    package static let streamNameExistsCode = 10058
    /// JetStream's err_code for "consumer not found".
    package static let consumerNotFoundCode = 10014

    /// The fencing refusal: the stream's (or the subject's) last sequence was not the expected one.
    package var isWrongLastSequence: Bool {
        if case .api(_, Self.wrongLastSequenceCode, _) = kind { true } else { false }
    }

    /// ``KeyValue/create(_:value:)`` found the key present (a wrong-last-sequence refusal).
    package var isKeyExists: Bool { isWrongLastSequence }

    /// JetStream cannot answer now: no responders, a timeout, no connection, a connection dropped
    /// mid-call, or a 503 from the API (no quorum, no leader). Retrying later may succeed; a write that
    /// failed so may or may not have been stored.
    package var isUnavailable: Bool {
        switch kind {
        case .transport(let error):
            switch error {
            case .noResponders, .timeout, .notConnected, .connectionClosed: true
            default: false
            }
        case .api(let code, let errorCode, _): code == 503 || errorCode == 10008
        case .unexpectedAnswer: false
        }
    }

    /// The API's err_code, nil for the other kinds.
    package var errorCode: Int? {
        if case .api(_, let errorCode, _) = kind { errorCode } else { nil }
    }

    package var description: String {
        switch kind {
        case .api(let code, let errorCode, let description): "JetStream API error \(code)/\(errorCode): \(description)"
        case .transport(let error): "JetStream request failed: \(error)"
        case .unexpectedAnswer(let detail): "unexpected JetStream answer: \(detail)"
        }
    }

    static func transport(_ error: NATSError) -> JetStreamError { JetStreamError(.transport(error)) }
    static func unexpected(_ detail: String) -> JetStreamError { JetStreamError(.unexpectedAnswer(detail)) }
}
