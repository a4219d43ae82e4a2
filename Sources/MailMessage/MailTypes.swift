/// An attachment of a message: a leaf part that is not its body text.
package struct MailAttachment: Sendable, Equatable {
    /// The file name, decoded (RFC 2231 / RFC 2047), without any directory part; `part-N` (N the
    /// part's number in document order) when the part names none, `forwarded.eml` for an unnamed
    /// `message/rfc822` part.
    package var filename: String
    /// The lowercased `type/subtype`, e.g. `application/pdf`.
    package var contentType: String
    /// The content, transfer-decoded.
    package var bytes: [UInt8]

    package init(filename: String, contentType: String, bytes: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
    }
}

/// What kind of mail a message is, for deciding whether it may open a ticket.
package enum MailKind: Sendable, Equatable {
    /// A human's mail.
    case personal
    /// An automatic answer (RFC 3834 and the common vendor headers); the reason names the header.
    case autoReply(reason: String)
    /// A delivery failure report.
    case bounce(MailBounce)
}

/// What a bounce says about the message that could not be delivered.
package struct MailBounce: Sendable, Equatable {
    /// The addresses whose delivery failed (DSN `Action: failed`; best effort from the text for
    /// other bounces).
    package var failedRecipients: [String]
    /// The Message-ID (with brackets) of the bounced message: from the returned message or its
    /// headers, else the bounce's `In-Reply-To` / `References`.
    package var originalMessageID: String?
    /// The `Diagnostic-Code` (without its `smtp;` type) or `Status` of the first failure.
    package var diagnostic: String?

    package init(failedRecipients: [String] = [], originalMessageID: String? = nil, diagnostic: String? = nil) {
        self.failedRecipients = failedRecipients
        self.originalMessageID = originalMessageID
        self.diagnostic = diagnostic
    }
}

/// Why a message cannot be read at all.
package struct MailParseError: Error, Sendable, Equatable {
    /// What is wrong, in a sentence fragment (`the message is empty`).
    package var detail: String

    package init(detail: String) {
        self.detail = detail
    }
}

/// A parsed message: what the gateway needs of it.
package struct ParsedMail: Sendable {
    /// The header fields in order, unfolded, encoded words decoded.
    package var headers: [(name: String, value: String)]
    package var from: MailAddress?
    package var to: [MailAddress]
    package var cc: [MailAddress]
    package var replyTo: MailAddress?
    /// The subject, decoded; "" when absent.
    package var subject: String
    /// `<local@host>`, with the angle brackets.
    package var messageID: String?
    /// The msg-ids of `In-Reply-To`, with brackets.
    package var inReplyTo: [String]
    /// The msg-ids of `References`, with brackets, oldest first.
    package var references: [String]
    /// The body as text (LF line ends, no leading or trailing blank lines): text/plain preferred
    /// over text/html, HTML made readable.
    package var text: String
    /// The text above the quoted history.
    package var newText: String
    /// The quoted history, from its attribution line on; nil when there is none.
    package var quoted: String?
    package var attachments: [MailAttachment]
    package var kind: MailKind
    /// What was broken but tolerated, one sentence fragment each.
    package var defects: [String]

    /// A parsed message built directly (tests of code that takes `ParsedMail`).
    package init(
        headers: [(name: String, value: String)] = [], from: MailAddress? = nil, to: [MailAddress] = [], cc: [MailAddress] = [],
        replyTo: MailAddress? = nil, subject: String = "", messageID: String? = nil, inReplyTo: [String] = [],
        references: [String] = [], text: String = "", newText: String? = nil, quoted: String? = nil,
        attachments: [MailAttachment] = [], kind: MailKind = .personal, defects: [String] = []
    ) {
        self.headers = headers
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.subject = subject
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.text = text
        self.newText = newText ?? text
        self.quoted = quoted
        self.attachments = attachments
        self.kind = kind
        self.defects = defects
    }

    /// The first field of that name (case-insensitive), decoded.
    package func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every field of that name (case-insensitive), decoded, in order.
    package func headers(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let left = utf8
        let right = other.utf8
        guard left.count == right.count else { return false }
        for (a, b) in zip(left, right) where asciiLower(a) != asciiLower(b) {
            return false
        }
        return true
    }

    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// ASCII lowercase (charset names, header names, MIME types).
    func asciiLowercased() -> String {
        String(decoding: utf8.map(asciiLower), as: UTF8.self)
    }
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
}
