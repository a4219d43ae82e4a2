import EventLog
import Foundation
import Logging
import MailMessage
import SupportDomain
import Synchronization

/// When the outbox tries a mail again after the relay failed for the time being, and when it
/// gives up.
package struct MailRetryPolicy: Sendable, Equatable {
    /// The wait after the first failure; each later wait doubles, up to ``longestWait``.
    package var firstWait: Duration
    /// The longest wait between two attempts.
    package var longestWait: Duration
    /// How long after the first failure the outbox gives up (a permanent failure).
    package var giveUpAfter: Duration

    package init(firstWait: Duration = .seconds(30), longestWait: Duration = .seconds(3600), giveUpAfter: Duration = .seconds(48 * 3600)) {
        self.firstWait = firstWait
        self.longestWait = longestWait
        self.giveUpAfter = giveUpAfter
    }

    /// The wait after `failures` failed attempts (1: the first).
    func wait(afterFailures failures: Int) -> Duration {
        var wait = firstWait
        for _ in 1..<max(1, failures) where wait < longestWait { wait *= 2 }
        return min(wait, longestWait)
    }
}

/// Sends the agents' replies by mail, following the log (the mail channel's way out).
///
/// Every agent `message.posted` appended after the outbox was first enabled is a mail to the
/// ticket's customer, when the customer has an address (``CustomerDirectory``). The outbox hands
/// it to the relay (``MailTransport``) once it is durable, then records the outcome in the log
/// as `system`: `message.delivered`, or `message.delivery_failed` (`permanent` when the relay
/// refused for good or the outbox gave up; a failure for the time being is recorded once and
/// retried with backoff, ``MailRetryPolicy``).
///
/// The log is the outbox: a reply is pending until an outcome for it is in the log. The
/// checkpoint (seq reached and the pending replies with their attempts) is where the outbox
/// resumes: without it, it starts at the log's head, so it is kept like the log (not a cache
/// to delete). After a crash the outbox re-reads the log from its checkpoint, and a reply whose outcome was
/// not recorded yet is sent again, with the same Message-ID (``ReplyMessageID``), which the
/// receiver uses to drop the copy. Delivery is at least once.
package final class MailOutbox: Sendable {
    /// A reply waiting for its outcome.
    struct Pending: Sendable, Equatable {
        var ticket: String
        var reply: UInt64
        var seq: UInt64
        var messageID: String
        var failures = 0
        /// The clock's milliseconds before which no attempt is made.
        var notBefore: Int64 = 0
        var firstFailure: Int64?
        /// A failure for the time being was recorded in the log.
        var reportedFailure = false
        /// The relay took it; only its outcome remains to be recorded.
        var sent = false
    }

    private struct State {
        var through: UInt64 = 0
        var pending: [Pending] = []
        var started = false
    }

    /// The checkpoint's name in the data directory's checkpoint store.
    static let checkpointName = "mail-outbox"
    /// The actor of the outcomes.
    static let actor = SupportActor(kind: .system, id: "mail-outbox")

    let store: EventStore
    let commands: TicketCommands
    let settings: MailSettings
    let directory: CustomerDirectory
    let attachments: AttachmentShelf
    let transport: any MailTransport
    let checkpoints: any CheckpointStore
    let retry: MailRetryPolicy
    let clock: @Sendable () -> Timestamp
    let logger: Logger
    let counters: MailCounters
    private let state = Mutex(State())

    package init(
        store: EventStore, commands: TicketCommands, settings: MailSettings, directory: CustomerDirectory,
        attachments: AttachmentShelf, transport: any MailTransport, checkpoints: any CheckpointStore,
        retry: MailRetryPolicy = MailRetryPolicy(), clock: @escaping @Sendable () -> Timestamp,
        counters: MailCounters = MailCounters(), logger: Logger = Logger(label: "mail-outbox")
    ) {
        self.counters = counters
        self.store = store
        self.commands = commands
        self.settings = settings
        self.directory = directory
        self.attachments = attachments
        self.transport = transport
        self.checkpoints = checkpoints
        self.retry = retry
        self.clock = clock
        self.logger = logger
    }

    /// The replies waiting for an outcome (tests, metrics).
    var pending: [Pending] { state.withLock { $0.pending } }
    /// How far into the log the outbox has read.
    package var through: UInt64 { state.withLock { $0.through } }

    /// Follows the log until cancelled: reads what is new, sends what is due, and waits a
    /// little when there is nothing to do.
    package func run() async {
        while !Task.isCancelled {
            let busy = await step()
            if !busy { try? await Task.sleep(for: .milliseconds(100)) }
        }
        saveCheckpoint()
    }

    /// One round: starts from the checkpoint on the first call (from the log's head when there
    /// is none: replies written before the outbox was enabled are not sent), reads the events
    /// after what it has read, then makes every attempt that is due. True when it did something.
    @discardableResult
    package func step() async -> Bool {
        start()
        let read = follow()
        let sent = await sendDue()
        if read || sent { saveCheckpoint() }
        counters.pending.store(state.withLock { $0.pending.count }, ordering: .relaxed)
        return read || sent
    }

    // MARK: Following the log

    private func start() {
        guard !state.withLock({ $0.started }) else { return }
        var restored = State(started: true)
        do {
            if let checkpoint = try checkpoints.checkpoint(name: Self.checkpointName, of: store),
                let pending = Self.decode(checkpoint.state)
            {
                restored.through = checkpoint.applied.seq
                restored.pending = pending
            } else {
                restored.through = try store.head.seq
                logger.info("the mail outbox starts at seq \(restored.through): earlier replies are not sent")
            }
        } catch {
            logger.error("the mail outbox cannot read its checkpoint or the log: \(error)")
            return
        }
        state.withLock { $0 = restored }
        saveCheckpoint()
    }

    /// Applies the events after `through`; true when there were some.
    private func follow() -> Bool {
        let after = state.withLock { $0.through }
        let events: [RecordedEvent]
        do { events = try store.events(after: after, limit: 1000) } catch {
            logger.error("the mail outbox cannot read the log: \(error)")
            return false
        }
        guard !events.isEmpty else { return false }
        let domain = settings.domain
        state.withLock { s in
            for event in events {
                s.through = event.seq
                // Only the three types the outbox follows are decoded (by the domain's one decoder).
                guard let kind = TicketEvent.Kind(rawValue: event.type), [.messagePosted, .delivered, .deliveryFailed].contains(kind),
                    let decoded = try? TicketEvent(kind: kind, data: event.data)
                else { continue }
                switch decoded {
                case .messagePosted where event.actor.kind == ActorKind.agent.rawValue && Self.isLive(event):
                    s.pending.append(
                        Pending(
                            ticket: event.stream, reply: event.version, seq: event.seq,
                            messageID: ReplyMessageID.make(seq: event.seq, hash: event.hash.description, domain: domain)))
                case .delivered(let outcome):
                    s.pending.removeAll { $0.ticket == event.stream && $0.reply == outcome.reply }
                case .deliveryFailed(let outcome) where outcome.permanent:
                    s.pending.removeAll { $0.ticket == event.stream && $0.reply == outcome.reply }
                case .deliveryFailed(let outcome):
                    if let k = s.pending.firstIndex(where: { $0.ticket == event.stream && $0.reply == outcome.reply }) {
                        s.pending[k].reportedFailure = true
                    }
                default:
                    break
                }
            }
        }
        return true
    }

    /// Whether a reply was written as it happened: its `at` within an hour of when the log
    /// recorded it. A back-dated or imported reply is history, and history is not mailed.
    static func isLive(_ event: RecordedEvent) -> Bool {
        event.recorded.milliseconds - event.at.milliseconds <= 3_600_000
    }

    // MARK: Sending

    private func sendDue() async -> Bool {
        let now = clock().milliseconds
        let due = state.withLock { $0.pending.filter { $0.notBefore <= now } }
        for item in due where !Task.isCancelled {
            // Nothing is sent for an event a crash could still take back.
            guard await store.waitUntilDurable(item.seq) else { return false }
            await attempt(item)
        }
        return !due.isEmpty
    }

    /// What became of one attempt.
    private enum Settlement {
        /// Done: nothing more to do for this reply.
        case settled
        /// Try again at this instant (ms), with the item as updated.
        case later(Pending)
    }

    private func attempt(_ item: Pending) async {
        let settlement = await settle(item)
        state.withLock { s in
            guard let k = s.pending.firstIndex(where: { $0.ticket == item.ticket && $0.reply == item.reply }) else { return }
            switch settlement {
            case .settled: s.pending.remove(at: k)
            case .later(let updated): s.pending[k] = updated
            }
        }
    }

    private func settle(_ original: Pending) async -> Settlement {
        var item = original
        let now = clock().milliseconds
        let ticket: Ticket
        do {
            guard let loaded = try commands.load(item.ticket) else { return .settled }
            ticket = loaded
        } catch {
            item.notBefore = now + 5_000
            return .later(item)
        }
        guard let entry = ticket.thread.first(where: { $0.version == item.reply }), entry.kind == .message,
            entry.author.kind != .customer
        else { return .settled }
        // A customer with no address gets no mail, and there is no outcome to record.
        guard let to = directory.address(ofCustomer: ticket.customer) else { return .settled }

        if !item.sent {
            for attachment in entry.attachments { await attachments.fetchIfMissing(attachment.sha256) }
            let mail = compose(entry, of: ticket, to: to, messageID: item.messageID)
            do {
                let answer = try await transport.send(mail)
                logger.info("reply \(ticket.id) v\(item.reply) to \(to): \(answer)")
                item.sent = true
            } catch {
                // Stopped mid-send (a shutdown): not the relay's answer, nothing to record; the
                // next start sends it again, with the same Message-ID.
                if Task.isCancelled { return .later(item) }
                return await failed(item, ticket: ticket, to: to, error: error, now: now)
            }
        }
        let delivered = TicketEvent.delivered(.init(reply: item.reply, to: to, messageId: item.messageID))
        if await record(delivered, on: ticket.id) {
            counters.delivered.add(1, ordering: .relaxed)
            return .settled
        }
        item.notBefore = now + 5_000
        return .later(item)
    }

    private func failed(_ original: Pending, ticket: Ticket, to: String, error: MailDeliveryError, now: Int64) async -> Settlement {
        var item = original
        item.failures += 1
        if !error.permanent { counters.failedTransiently.add(1, ordering: .relaxed) }
        let first = item.firstFailure ?? now
        item.firstFailure = first
        let givingUp = !error.permanent && Duration.milliseconds(now - first) >= retry.giveUpAfter
        if error.permanent || givingUp {
            let reason = givingUp ? "gave up after \(item.failures) attempts: \(error.detail)" : error.detail
            let event = TicketEvent.deliveryFailed(.init(reply: item.reply, to: to, reason: clip(reason), permanent: true))
            if await record(event, on: ticket.id) {
                counters.failedPermanently.add(1, ordering: .relaxed)
                return .settled
            }
        } else if !item.reportedFailure {
            let event = TicketEvent.deliveryFailed(.init(reply: item.reply, to: to, reason: clip(error.detail), permanent: false))
            if await record(event, on: ticket.id) { item.reportedFailure = true }
        }
        let wait = retry.wait(afterFailures: item.failures)
        item.notBefore = now + wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000
        logger.warning("reply \(ticket.id) v\(item.reply) to \(to) not sent (\(error.detail)); next attempt in \(wait)")
        return .later(item)
    }

    /// Appends an outcome as `system`; false when the log would not take it now.
    private func record(_ event: TicketEvent, on ticketID: String) async -> Bool {
        do {
            guard let ticket = try commands.load(ticketID) else { return true }
            _ = try await commands.run(
                TicketCommand(event: event, actor: Self.actor), on: ticket, principal: Principal(role: .admin, id: Self.actor.id),
                idempotency: nil, expectedVersion: nil)
            return true
        } catch  where error.kind == .conflict || error.kind == .badRequest || error.kind == .forbidden {
            // The rules refuse it (cannot happen for a reply of the ticket): nothing to retry.
            logger.error("the outcome for \(ticketID) was refused: \(error.detail)")
            return true
        } catch {
            logger.error("the outcome for \(ticketID) cannot be recorded now: \(error.detail)")
            return false
        }
    }

    /// A relay's answer as a failure's `reason`: one line, within the policy's limit on reasons
    /// (relays answer in a line or a few).
    private func clip(_ reason: String) -> String {
        let flat = reason.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        let limit = max(1, commands.levels.policy.limits.reason)
        return flat.unicodeScalars.count <= limit ? flat : String(String.UnicodeScalarView(flat.unicodeScalars.prefix(limit)))
    }

    // MARK: The mail

    /// The mail of one reply: from the desk to the customer, in the ticket's thread (its
    /// `In-Reply-To` the customer's last mail before the reply, its `References` the thread's
    /// mail), the ticket's token in the subject, the reply's text and attached files.
    func compose(_ entry: Ticket.ThreadEntry, of ticket: Ticket, to: String, messageID: String) -> MailEnvelope {
        let token = "[\(ticket.id)]"
        var subject = ticket.subject.contains(token) ? ticket.subject : "\(token) \(ticket.subject)"
        if ticket.channel == .email, !subject.lowercased().hasPrefix("re:") { subject = "Re: " + subject }
        let inReplyTo = ticket.thread.last { $0.version < entry.version && $0.kind == .message && $0.email != nil }?.email?.messageId
        var references = ticket.mailMessageIDs.filter { $0 != messageID }
        if references.count > 20 { references = Array(references.prefix(1) + references.suffix(19)) }
        var text = entry.body
        var files: [MailAttachment] = []
        for attachment in entry.attachments {
            if let bytes = try? attachments.local.get(sha256: attachment.sha256) {
                files.append(MailAttachment(filename: attachment.name, contentType: attachment.contentType, bytes: bytes))
            } else {
                text += "\n\n[\(attachment.name) is not attached: the desk does not hold its content]"
            }
        }
        let mail = OutgoingMail(
            from: settings.address, to: [MailAddress(address: to)], subject: subject, messageID: messageID,
            inReplyTo: inReplyTo, references: references,
            date: Date(timeIntervalSince1970: Double(entry.at.milliseconds) / 1000), text: text, attachments: files,
            extraHeaders: [(name: "X-Ledgerdesk-Ticket", value: ticket.id)])
        return MailEnvelope(from: settings.address.address, recipients: [to], message: mail.rendered())
    }

    // MARK: The checkpoint

    private func saveCheckpoint() {
        let (through, pending, started) = state.withLock { ($0.through, $0.pending, $0.started) }
        guard started else { return }
        do {
            try checkpoints.save(name: Self.checkpointName, state: Self.encode(pending), appliedSeq: through, of: store)
        } catch {
            logger.warning("the mail outbox checkpoint was not saved: \(error)")
        }
    }

    static func encode(_ pending: [Pending]) -> [UInt8] {
        CanonicalJSON.encode(
            .object([
                "pending": .array(
                    pending.map { p in
                        var o: [String: JSONValue] = [
                            "ticket": .string(p.ticket), "reply": .int(Int64(p.reply)), "seq": .int(Int64(p.seq)),
                            "messageId": .string(p.messageID), "failures": .int(Int64(p.failures)), "notBefore": .int(p.notBefore),
                            "reported": .bool(p.reportedFailure), "sent": .bool(p.sent),
                        ]
                        if let f = p.firstFailure { o["firstFailure"] = .int(f) }
                        return .object(o)
                    })
            ]))
    }

    static func decode(_ bytes: [UInt8]) -> [Pending]? {
        guard let value = try? JSONParser.parse(bytes), let list = value["pending"]?.arrayValue else { return nil }
        var out: [Pending] = []
        for item in list {
            guard let ticket = item["ticket"]?.stringValue, let reply = item["reply"]?.intValue, let seq = item["seq"]?.intValue,
                let messageID = item["messageId"]?.stringValue, let failures = item["failures"]?.intValue,
                let notBefore = item["notBefore"]?.intValue
            else { return nil }
            var p = Pending(ticket: ticket, reply: UInt64(reply), seq: UInt64(seq), messageID: messageID)
            p.failures = Int(failures)
            p.notBefore = notBefore
            p.firstFailure = item["firstFailure"]?.intValue
            if case .bool(true)? = item["reported"] { p.reportedFailure = true }
            if case .bool(true)? = item["sent"] { p.sent = true }
            out.append(p)
        }
        return out
    }
}
