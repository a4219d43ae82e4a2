/// A failure of the core NATS client (``NATSConnection``).
package enum NATSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection is down (reconnecting, or closed): nothing was sent.
    case notConnected
    /// The connection dropped (or was closed) while the operation was in flight: it may or may not have been delivered.
    case connectionClosed
    /// No answer came within the time given.
    case timeout
    /// Nobody subscribes to the request's subject (the server's "503" status).
    case noResponders
    /// The server sent something this client cannot read, or the caller passed something it cannot send
    /// (a subject with white space, a payload over the server's max_payload).
    case protocolError(String)
    /// The server answered `-ERR`.
    case serverError(String)
    /// None of the servers accepted a connection.
    case cannotConnect(String)
    /// The waiting task was cancelled.
    case cancelled

    package var description: String {
        switch self {
        case .notConnected: "not connected"
        case .connectionClosed: "connection closed"
        case .timeout: "timed out"
        case .noResponders: "no responders"
        case .protocolError(let detail): "protocol error: \(detail)"
        case .serverError(let detail): "server error: \(detail)"
        case .cannotConnect(let detail): "cannot connect: \(detail)"
        case .cancelled: "cancelled"
        }
    }
}
