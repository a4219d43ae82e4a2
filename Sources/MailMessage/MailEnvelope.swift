/// One message and the addresses it travels with: what the desk hands to a relay (SMTP's MAIL
/// FROM and one RCPT TO per recipient).
package struct MailEnvelope: Sendable, Equatable {
    /// The envelope sender (`MAIL FROM:<from>`), where bounces go; empty for the null reverse
    /// path `<>`.
    package var from: String
    /// The envelope recipients, one `RCPT TO` each.
    package var recipients: [String]
    /// The whole RFC 5322 message (headers, blank line, body). Lines may end with CRLF, LF or CR:
    /// an SMTP client sends every line ending as CRLF and dot-stuffs the lines that begin with ".".
    package var message: [UInt8]

    package init(from: String, recipients: [String], message: [UInt8]) {
        self.from = from
        self.recipients = recipients
        self.message = message
    }
}

/// Why a relay did not take a message.
///
/// `permanent` is true only when the relay refused the message for good: an SMTP 5xx reply to
/// MAIL, RCPT or DATA (or an envelope no relay could take, such as one without recipients).
/// Everything else (a 4xx reply, 421, a refused or dropped connection, a timeout, a TLS or AUTH
/// failure) is transient: the sender tries again later.
package struct MailDeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Do not retry: the relay refused the message for good.
    package var permanent: Bool
    /// The relay's reply and the command it answered, or what failed locally, e.g.
    /// "550 5.1.1 <x@y>: Recipient address rejected (RCPT TO)".
    package var detail: String

    package init(permanent: Bool, detail: String) {
        self.permanent = permanent
        self.detail = detail
    }

    package var description: String { (permanent ? "permanent: " : "transient: ") + detail }
}
