import MailMessage
import SupportDomain

/// How the desk takes and sends mail: its own address, which product a mail is about, where
/// the customers are listed, and the limits.
package struct MailSettings: Sendable {
    /// The desk's address: the `From` of its replies, the domain of its Message-IDs, and an
    /// address whose mail is never taken (a loop).
    package var address: MailAddress
    /// The product (and so the team) of a ticket opened by mail to one of these addresses
    /// (lowercased), e.g. `domains@desk.example` -> `domains`.
    package var productByAddress: [String: String]
    /// The product of a ticket opened by mail to any other address.
    package var defaultProduct: String
    /// The priority a mailed ticket opens with.
    package var priority: Priority
    /// The largest message taken, in bytes (larger: 413, which the gate turns into a bounce).
    package var maximumMessageBytes: Int

    package init(
        address: MailAddress, productByAddress: [String: String] = [:], defaultProduct: String = "general",
        priority: Priority = .normal, maximumMessageBytes: Int = 25 << 20
    ) {
        self.address = address
        self.productByAddress = Dictionary(productByAddress.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.defaultProduct = defaultProduct
        self.priority = priority
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// The settings `supportd` runs with when not told otherwise.
    package static let `default` = MailSettings(address: MailAddress(address: "support@localhost", displayName: "Support"))

    /// The domain of the desk's Message-IDs.
    package var domain: String { address.domain.isEmpty ? "localhost" : address.domain }

    /// Whether `address` is one of the desk's own (its address, or one routed to a product).
    package func isOwn(_ address: String) -> Bool {
        let key = address.lowercased()
        return key == self.address.address.lowercased() || productByAddress[key] != nil
    }
}

/// The Message-IDs the desk gives its replies: `<ld.SEQ.HASH16@domain>`, the seq of the reply's
/// `message.posted` and the first 16 hex digits of its hash. Unique across desks and data
/// directories (the hash chains the whole log before it), the same on every attempt (so a
/// resend after a crash is recognised by the receiver), and read back without an index: a
/// customer's `In-Reply-To` names the event, which names the ticket.
package enum ReplyMessageID {
    /// The Message-ID of the reply recorded at `seq` with `hash`.
    package static func make(seq: UInt64, hash: String, domain: String) -> String {
        "<ld.\(seq).\(hash.prefix(16))@\(domain)>"
    }

    /// The seq and hash prefix a desk Message-ID names; nil for any other id.
    package static func parse(_ messageID: String) -> (seq: UInt64, hashPrefix: String)? {
        guard messageID.hasPrefix("<ld."), messageID.hasSuffix(">"), let at = messageID.firstIndex(of: "@") else { return nil }
        let local = messageID[messageID.index(messageID.startIndex, offsetBy: 4)..<at]
        let parts = local.split(separator: ".")
        guard parts.count == 2, let seq = UInt64(parts[0]), parts[1].count == 16 else { return nil }
        return (seq, String(parts[1]))
    }
}
