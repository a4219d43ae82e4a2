/// Reads RFC 5322 / MIME messages.
package enum MailParser {
    /// The deepest nesting of multiparts and embedded messages read; deeper is a `MailParseError`.
    package static let maximumDepth = MIMEReader.maximumDepth
    /// The most MIME parts read (the message itself counts); more is a `MailParseError`.
    package static let maximumParts = MIMEReader.maximumParts

    /// Parses one message (CRLF or bare LF line ends). Whatever is broken but readable is read
    /// and reported in `defects`; only a message without a header section, an empty one, or one
    /// beyond the nesting or part bounds is an error.
    package static func parse(_ bytes: [UInt8]) throws(MailParseError) -> ParsedMail {
        guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }) else {
            throw MailParseError(detail: "the message is empty")
        }
        var reader = MIMEReader()
        let root = try reader.read(bytes, depth: 0, defaultType: "text/plain", isMessage: true)
        var defects = reader.defects
        let log = DefectLog()
        let headers = root.headers.fields.map { field in
            (name: field.name, value: EncodedWords.decode(field.value, defects: log))
        }
        defects += log.list
        let raw = root.headers
        let inReplyTo = raw.first("In-Reply-To").map(MessageIDs.parse) ?? []
        let references = raw.first("References").map(MessageIDs.parse) ?? []
        let body = MailBody.assemble(root, defects: &defects)
        let split = QuotedHistory.split(body.text)
        let kind = MailClassifier.kind(root, text: body.text, inReplyTo: inReplyTo, references: references, defects: &defects)
        var seen = Set<String>()
        let unique = defects.filter { seen.insert($0).inserted }
        return ParsedMail(
            headers: headers,
            from: raw.first("From").flatMap(MailAddress.parse),
            to: raw.all("To").flatMap(MailAddress.parseList),
            cc: raw.all("Cc").flatMap(MailAddress.parseList),
            replyTo: raw.first("Reply-To").flatMap(MailAddress.parse),
            subject: EncodedWords.decode(raw.first("Subject") ?? "", defects: nil),
            messageID: raw.first("Message-ID").flatMap { MessageIDs.parse($0).first },
            inReplyTo: inReplyTo,
            references: references,
            text: body.text,
            newText: split.new,
            quoted: split.quoted,
            attachments: body.attachments,
            kind: kind,
            defects: unique
        )
    }
}
