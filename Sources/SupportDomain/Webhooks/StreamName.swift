/// The streams of the log: a ticket's stream is named by the ticket's id; a name starting with
/// `$` is a stream of the system's own (``webhooks``), never a ticket.
public enum StreamName {
    /// The stream of the webhook registrations (``WebhookEvent``).
    public static let webhooks = "$webhooks"

    /// Whether `id` names a ticket's stream: every id but those starting with `$`.
    @inlinable
    public static func isTicket(_ id: String) -> Bool { id.utf8.first != UInt8(ascii: "$") }
}
