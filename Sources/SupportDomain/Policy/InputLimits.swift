/// How large the free text, names and lists of one command or import line may be.
///
/// A real desk bounds what one request can make it store: a subject is a line, a message is a
/// long e-mail at most, and a list of attachments or tags is what a person picks. Over a limit
/// is a 400 that names the field, and nothing is written; commands and import lines are checked
/// by the same ``check(_:)``. Events already in the log are never re-checked, so lowering a
/// limit keeps every stored ticket readable.
///
/// Text is counted in Unicode code points (as identifiers are, SPEC §2.1), except bodies, which
/// are counted in bytes of UTF-8 (what they cost to store and send). Limits are not part of
/// `policyHash`: they decide what may be written, never what a projection computes.
public struct InputLimits: Hashable, Sendable {
    /// `ticket.opened` subject, in code points.
    public var subject: Int
    /// The body of an opening, a message or a note, in bytes of UTF-8.
    public var body: Int
    /// A rating's comment, in code points.
    public var comment: Int
    /// An opening's `context` (the control-panel location), in code points.
    public var context: Int
    /// An escalation's `reason`, in code points.
    public var reason: Int
    /// An attachment's `name`, in code points.
    public var attachmentName: Int
    /// An attachment's `contentType`, in code points.
    public var attachmentContentType: Int
    /// Attachments on one opening or message.
    public var attachments: Int
    /// Tags in one `added` or `removed` list.
    public var tagsPerCommand: Int

    /// Creates limits from their parts; every one must be at least 1.
    public init(
        subject: Int, body: Int, comment: Int, context: Int, reason: Int, attachmentName: Int,
        attachmentContentType: Int, attachments: Int, tagsPerCommand: Int
    ) {
        self.subject = subject
        self.body = body
        self.comment = comment
        self.context = context
        self.reason = reason
        self.attachmentName = attachmentName
        self.attachmentContentType = attachmentContentType
        self.attachments = attachments
        self.tagsPerCommand = tagsPerCommand
    }

    /// The built-in limits:
    ///
    /// | key | limit |
    /// | --- | --- |
    /// | `subject` | 1,000 code points |
    /// | `body` | 262,144 bytes of UTF-8 (256 KiB) |
    /// | `comment` | 10,000 code points |
    /// | `context` | 2,000 code points |
    /// | `reason` | 2,000 code points |
    /// | `attachmentName` | 255 code points |
    /// | `attachmentContentType` | 255 code points |
    /// | `attachments` | 100 per opening or message |
    /// | `tagsPerCommand` | 100 per `added` or `removed` list |
    public static let `default` = InputLimits(
        subject: 1_000, body: 256 * 1024, comment: 10_000, context: 2_000,
        reason: 2_000, attachmentName: 255, attachmentContentType: 255,
        attachments: 100, tagsPerCommand: 100)

    /// The policy file's names for the limits (the members of its `limits` object).
    package static let keys: [String] = Field.allCases.map(\.rawValue)

    /// One limit, by its policy-file name.
    enum Field: String, CaseIterable {
        case subject, body, comment, context, reason, attachmentName, attachmentContentType, attachments, tagsPerCommand

        var keyPath: WritableKeyPath<InputLimits, Int> {
            switch self {
            case .subject: \.subject
            case .body: \.body
            case .comment: \.comment
            case .context: \.context
            case .reason: \.reason
            case .attachmentName: \.attachmentName
            case .attachmentContentType: \.attachmentContentType
            case .attachments: \.attachments
            case .tagsPerCommand: \.tagsPerCommand
            }
        }
    }

    /// The limit named `field`.
    subscript(field: Field) -> Int {
        get { self[keyPath: field.keyPath] }
        set { self[keyPath: field.keyPath] = newValue }
    }

    /// Refuses an event whose text, names or lists exceed a limit (400, naming the field).
    public func check(_ event: TicketEvent) throws(DomainError) {
        switch event {
        case .opened(let e):
            try text(e.subject, "subject", at: subject, limit: .subject)
            try bytes(e.body, "body")
            if let c = e.context { try text(c, "context", at: context, limit: .context) }
            if let a = e.attachments { try check(a) }
            if let q = e.quoted { try bytes(q, "quoted") }
        case .messagePosted(let e):
            try bytes(e.body, "body")
            if let a = e.attachments { try check(a) }
            if let q = e.quoted { try bytes(q, "quoted") }
        case .deliveryFailed(let e):
            try text(e.reason, "reason", at: reason, limit: .reason)
        case .noteAdded(let e):
            try bytes(e.body, "body")
        case .escalated(let e):
            try text(e.reason, "reason", at: reason, limit: .reason)
        case .tagsChanged(let e):
            for (name, list) in [("added", e.added), ("removed", e.removed)] {
                if let list, list.count > tagsPerCommand {
                    throw .badRequest("\"\(name)\" has \(list.count) tags; at most \(tagsPerCommand) (policy limits.tagsPerCommand)")
                }
            }
        case .satisfactionRated(let e):
            if let c = e.comment { try text(c, "comment", at: comment, limit: .comment) }
        case .assigned, .priorityChanged, .statusChanged, .merged, .delivered, .slaWarning:
            break
        }
    }

    private func check(_ attachments: [Attachment]) throws(DomainError) {
        if attachments.count > self.attachments {
            throw .badRequest("\"attachments\" has \(attachments.count) items; at most \(self.attachments) (policy limits.attachments)")
        }
        for (k, a) in attachments.enumerated() {
            try text(a.name, "attachments[\(k)].name", at: attachmentName, limit: .attachmentName)
            try text(a.contentType, "attachments[\(k)].contentType", at: attachmentContentType, limit: .attachmentContentType)
        }
    }

    private func text(_ value: String, _ field: String, at most: Int, limit: Field) throws(DomainError) {
        // Counting stops one past the limit: a huge value costs no more than a legal one.
        var count = 0
        for _ in value.unicodeScalars {
            count += 1
            if count > most {
                throw .badRequest("\"\(field)\" is longer than \(most) characters (Unicode code points; policy limits.\(limit.rawValue))")
            }
        }
    }

    private func bytes(_ value: String, _ field: String) throws(DomainError) {
        let count = value.utf8.count
        if count > body {
            throw .badRequest("\"\(field)\" is \(count) bytes of UTF-8; at most \(body) (policy limits.body)")
        }
    }
}
