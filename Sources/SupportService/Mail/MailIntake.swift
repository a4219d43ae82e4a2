import Crypto
import EventLog
import Foundation
import MailMessage
import SupportDomain

/// What the intake did with one message (the answer of `POST /v1/mail`).
package struct MailIntakeAnswer: JSONAnswer, Equatable {
    /// What happened to a message.
    package enum Outcome: String, Sendable {
        /// It opened a ticket.
        case opened
        /// It was added to an existing ticket's thread.
        case appended
        /// A message with its Message-ID was taken before: nothing was written.
        case duplicate
        /// Not taken, on purpose (an auto-reply, a loop): nothing was written.
        case ignored
        /// A bounce of a reply the desk sent: recorded as an internal note on its ticket.
        case bounce
    }

    package var outcome: String
    /// The ticket the message opened, joined or was taken into before; absent when it names none.
    package var ticket: String?
    /// The ticket's version after the write; absent when nothing was written.
    package var version: Int64?
    /// The message's Message-ID (made up from its bytes when it had none).
    package var messageId: String
    /// Why an ignored message was ignored; absent otherwise.
    package var reason: String?

    init(_ outcome: Outcome, ticket: String? = nil, version: UInt64? = nil, messageId: String, reason: String? = nil) {
        self.outcome = outcome.rawValue
        self.ticket = ticket
        self.version = version.map { Int64($0) }
        self.messageId = messageId
        self.reason = reason
    }

    /// 201 when the message opened a ticket, else 200.
    package var status: Int { outcome == Outcome.opened.rawValue ? 201 : 200 }
}

/// Takes one mail into the log: the mail channel's way in (`POST /v1/mail`, fed by
/// `support-mailgate`).
///
/// A mail joins the ticket it answers (its `In-Reply-To` or `References` name a reply the desk
/// sent or a mail it took; else its subject carries the ticket's token, `[T-42]`), when that
/// ticket is the sender's and not closed (a merged ticket leads to the one it was merged into);
/// otherwise it opens a ticket on the `email` channel for the sender. Auto-replies and mail from
/// the desk's own addresses are ignored; a bounce of a desk reply becomes an internal note on
/// its ticket. Every write is keyed by the mail's Message-ID in the log's idempotency records,
/// so a mail delivered twice is taken once, atomically, whatever the MTA retries.
package struct MailIntake: Sendable {
    let commands: TicketCommands
    let store: EventStore
    package let settings: MailSettings
    package let directory: CustomerDirectory
    let attachments: AttachmentShelf
    let limits: InputLimits

    package init(
        commands: TicketCommands, store: EventStore, settings: MailSettings, directory: CustomerDirectory,
        attachments: AttachmentShelf, limits: InputLimits
    ) {
        self.commands = commands
        self.store = store
        self.settings = settings
        self.directory = directory
        self.attachments = attachments
        self.limits = limits
    }

    /// The actor of what the intake records itself (bounce notes).
    static let system = SupportActor(kind: .system, id: "mail")

    /// Takes the raw message `raw`.
    ///
    /// - Throws: 413 over the size limit; 400 for a message that can never be taken (no header
    ///   section, no sender); 503 when the log or the attachment store cannot write (the gate
    ///   answers the MTA "try again later").
    package func take(_ delivered: [UInt8]) async throws(ServiceError) -> MailIntakeAnswer {
        let raw = Self.withoutEnvelopeLine(delivered)
        guard raw.count <= settings.maximumMessageBytes else {
            throw ServiceError(.contentTooLarge, "the message is \(raw.count) bytes; at most \(settings.maximumMessageBytes)")
        }
        let mail: ParsedMail
        do { mail = try MailParser.parse(raw) } catch { throw ServiceError(.badRequest, "the message cannot be read: \(error.detail)") }
        let messageID = Self.messageID(of: mail, raw: raw)
        guard let from = mail.from else { throw ServiceError(.badRequest, "the message names no sender (From)") }
        if settings.isOwn(from.address) {
            return MailIntakeAnswer(.ignored, messageId: messageID, reason: "mail from the desk's own address \(from.address)")
        }
        if let ticket = try await ticketTaken(messageID) {
            return MailIntakeAnswer(.duplicate, ticket: ticket, messageId: messageID)
        }
        switch mail.kind {
        case .autoReply(let reason):
            return MailIntakeAnswer(.ignored, messageId: messageID, reason: "an automatic reply (\(reason))")
        case .bounce(let bounce):
            return try await takeBounce(bounce, of: mail, messageID: messageID, from: from.address)
        case .personal:
            break
        }
        guard let customer = directory.customer(forAddress: from.address) else {
            throw ServiceError(.badRequest, "the sender's address \(from.address) is too long to name a customer")
        }
        let origin = TicketEvent.MailOrigin(messageId: messageID, from: from.address)
        let (files, dropped) = try await keep(mail.attachments)
        let body = text(mail.newText, dropped: dropped)
        let quoted = mail.quoted.map { clip(bytes: $0, to: limits.body) }
        let actor = SupportActor(kind: .customer, id: customer)
        let principal = Principal(role: .customer, id: customer)
        let key = idempotencyKey(messageID)

        if let ticket = try ticketAnswered(by: mail, customer: customer) {
            let event = TicketEvent.messagePosted(
                .init(body: body, attachments: files.isEmpty ? nil : files, quoted: quoted, email: origin))
            let reply = try await commands.run(
                TicketCommand(event: event, actor: actor), on: ticket, principal: principal, idempotency: key,
                expectedVersion: nil)
            return MailIntakeAnswer(.appended, ticket: ticket.id, version: reply.version, messageId: messageID)
        }
        let subject = mail.subject.trimmingCharacters(in: .whitespaces)
        let opened = TicketEvent.Opened(
            customer: customer, subject: clip(codePoints: subject.isEmpty ? "(no subject)" : subject, to: limits.subject),
            body: body, channel: .email, product: product(of: mail), priority: settings.priority,
            attachments: files.isEmpty ? nil : files, quoted: quoted, email: origin)
        let reply = try await commands.run(
            TicketCommand(event: .opened(opened), actor: actor), on: nil, principal: principal, idempotency: key,
            expectedVersion: nil)
        let id = reply.location.map { String($0.split(separator: "/").last ?? "") }
        return MailIntakeAnswer(.opened, ticket: id, version: reply.version, messageId: messageID)
    }

    /// The message without the mbox `From sender date` line a local delivery agent puts first
    /// (Postfix's pipe to a command does): it is not a header, and it changes with every retry.
    static func withoutEnvelopeLine(_ raw: [UInt8]) -> [UInt8] {
        guard raw.starts(with: Array("From ".utf8)), let end = raw.firstIndex(of: 0x0A) else { return raw }
        return Array(raw[(end + 1)...])
    }

    // MARK: Identity and duplicates

    /// The mail's Message-ID, or one made from its bytes when it has none (so that the same
    /// bytes delivered twice are still taken once).
    static func messageID(of mail: ParsedMail, raw: [UInt8]) -> String {
        if let id = mail.messageID, id.utf8.count <= 998, !id.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return id
        }
        return "<\(AttachmentDigest.hex(of: raw).prefix(32))@no-message-id.invalid>"
    }

    /// The idempotency record of a Message-ID: one scope for the whole desk (whichever gateway
    /// delivers), apart from every principal's keys (whose scope starts with a role name).
    static func idempotencyScope(_ messageID: String) -> String { "mail\u{0}\(messageID)" }

    private func idempotencyKey(_ messageID: String) -> IdempotencyKey {
        IdempotencyKey(key: Self.idempotencyScope(messageID), fingerprint: Array(SHA256.hash(data: Array(messageID.utf8))))
    }

    /// The ticket a mail with this Message-ID was written to, if one was (durably).
    private func ticketTaken(_ messageID: String) async throws(ServiceError) -> String? {
        let record: (fingerprint: [UInt8], stream: String, response: [UInt8]?, lastSeq: UInt64)?
        do { record = try store.read { try $0.idempotencyRecord(key: Self.idempotencyScope(messageID)) } } catch {
            throw ServiceError(error)
        }
        guard let record else { return nil }
        guard await store.waitUntilDurable(record.lastSeq) else {
            throw ServiceError(.unavailable, "the first delivery of \(messageID) did not reach the disk; retry")
        }
        return record.stream
    }

    // MARK: Threading

    /// The ticket a mail answers: named by its `In-Reply-To` and `References` (newest first),
    /// then by a token in its subject; only the sender's own ticket, and not a closed one.
    private func ticketAnswered(by mail: ParsedMail, customer: String) throws(ServiceError) -> Ticket? {
        var candidates: [String] = []
        for id in mail.inReplyTo + mail.references.reversed() {
            if let ticket = try ticketOf(messageID: id) { candidates.append(ticket) }
        }
        candidates += Self.subjectTokens(mail.subject)
        var tried = Set<String>()
        for candidate in candidates where tried.insert(candidate).inserted {
            guard var ticket = try commands.load(candidate) else { continue }
            // A merged ticket is closed: its thread goes on in the ticket it was merged into.
            var hops = 0
            while let into = ticket.mergedInto, hops < 8, let next = try commands.load(into) {
                ticket = next
                hops += 1
            }
            if Identifier.same(ticket.customer, customer), ticket.status != .closed { return ticket }
        }
        return nil
    }

    /// The ticket of a Message-ID the desk sent (a reply's) or took (a customer's mail).
    private func ticketOf(messageID: String) throws(ServiceError) -> String? {
        do {
            if let (seq, prefix) = ReplyMessageID.parse(messageID) {
                guard let event = try store.read({ try $0.event(seq: seq) }), event.hash.description.hasPrefix(prefix) else { return nil }
                return event.stream
            }
            return try store.read { try $0.idempotencyRecord(key: Self.idempotencyScope(messageID)) }?.stream
        } catch {
            throw ServiceError(error)
        }
    }

    /// The bracketed tokens of a subject (`[T-42]`), in order: each may be a ticket id.
    static func subjectTokens(_ subject: String) -> [String] {
        var tokens: [String] = []
        var rest = Substring(subject)
        while let open = rest.firstIndex(of: "[") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "]") else { break }
            let token = after[..<close]
            if !token.isEmpty, !token.contains("["), Identifier.problem(with: String(token)) == nil { tokens.append(String(token)) }
            rest = after[after.index(after: close)...]
        }
        return tokens
    }

    /// The product of a new ticket: the first recipient routed to one, else the default.
    private func product(of mail: ParsedMail) -> String {
        for recipient in mail.to + mail.cc {
            if let product = settings.productByAddress[recipient.address.lowercased()] { return product }
        }
        return settings.defaultProduct
    }

    // MARK: Bounces

    /// A bounce of a desk reply: an internal note on the reply's ticket naming the failed
    /// recipients; a bounce of anything else is ignored.
    private func takeBounce(
        _ bounce: MailBounce, of mail: ParsedMail, messageID: String, from: String
    ) async throws(ServiceError)
        -> MailIntakeAnswer
    {
        var ticketID: String?
        for id in [bounce.originalMessageID].compactMap({ $0 }) + mail.inReplyTo + mail.references.reversed() {
            if ReplyMessageID.parse(id) != nil, let ticket = try ticketOf(messageID: id) {
                ticketID = ticket
                break
            }
        }
        guard let ticketID, let ticket = try commands.load(ticketID) else {
            return MailIntakeAnswer(.ignored, messageId: messageID, reason: "a bounce of no mail the desk sent")
        }
        if ticket.status == .closed {
            return MailIntakeAnswer(.ignored, ticket: ticket.id, messageId: messageID, reason: "a bounce for closed ticket \(ticket.id)")
        }
        let recipients = bounce.failedRecipients.isEmpty ? "the customer" : bounce.failedRecipients.joined(separator: ", ")
        var body = "Mail to \(recipients) could not be delivered"
        if let diagnostic = bounce.diagnostic, !diagnostic.isEmpty { body += ": \(diagnostic)" }
        body += "."
        let note = TicketEvent.noteAdded(
            .init(body: clip(bytes: body, to: limits.body), email: TicketEvent.MailOrigin(messageId: messageID, from: from)))
        let reply = try await commands.run(
            TicketCommand(event: note, actor: Self.system), on: ticket, principal: Principal(role: .admin, id: "mail"),
            idempotency: idempotencyKey(messageID), expectedVersion: nil)
        return MailIntakeAnswer(.bounce, ticket: ticket.id, version: reply.version, messageId: messageID)
    }

    // MARK: Attachments and limits

    /// Keeps the attachments' bytes beside the log (before the event that names them is
    /// appended), within the policy's limits on their number and names.
    private func keep(_ files: [MailAttachment]) async throws(ServiceError) -> (kept: [Attachment], dropped: [String]) {
        var kept: [Attachment] = []
        for file in files.prefix(limits.attachments) {
            let stored: StoredAttachment
            do { stored = try await attachments.keep(file.bytes) } catch {
                throw ServiceError(.unavailable, "an attachment cannot be kept: \(error.detail)")
            }
            kept.append(
                Attachment(
                    name: clip(codePoints: file.filename, to: limits.attachmentName), size: Int64(stored.size),
                    contentType: clip(codePoints: file.contentType, to: limits.attachmentContentType), sha256: stored.sha256))
        }
        return (kept, files.dropFirst(limits.attachments).map(\.filename))
    }

    /// The new text, cut to the body limit, with a mark naming the attachments not kept.
    private func text(_ newText: String, dropped: [String]) -> String {
        guard !dropped.isEmpty else { return clip(bytes: newText, to: limits.body) }
        let mark =
            "\n[\(dropped.count) more attachments not kept (the policy keeps \(limits.attachments)): \(dropped.joined(separator: ", "))]"
        return clip(bytes: newText, to: max(0, limits.body - mark.utf8.count)) + clip(bytes: mark, to: limits.body)
    }

    /// `text` cut to at most `limit` bytes of UTF-8, on a character boundary, marked when cut.
    private func clip(bytes text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let mark = "\n[cut at \(limit) bytes]"
        var out = ""
        var size = 0
        for character in text {
            let n = character.utf8.count
            if size + n + mark.utf8.count > limit { break }
            out.append(character)
            size += n
        }
        return out + mark
    }

    /// `text` cut to at most `limit` code points.
    private func clip(codePoints text: String, to limit: Int) -> String {
        guard text.unicodeScalars.count > limit else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(limit))
        return String(scalars)
    }
}
