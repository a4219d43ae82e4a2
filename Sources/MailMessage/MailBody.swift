/// Picks a message's body text and its attachments from its MIME tree.
///
/// - The body is made of the inline `text/plain` and `text/html` leaves without a file name: in
///   a `multipart/alternative`, the first alternative that gives plain text, else the last that
///   gives any text; in every other multipart, the text of each child in order (Apple Mail's
///   text, image, text), joined by a blank line. HTML is made readable (`HTMLText`).
/// - Every other leaf is an attachment, including the images of an alternative not chosen (a
///   screenshot pasted into an HTML mail), except the signature of a `multipart/signed`
///   (`application/pgp-signature`, `application/pkcs7-signature`), which is dropped.
/// - An embedded message (`message/rfc822`) is one attachment (`forwarded.eml` unless named), its
///   inner parts not listed, unless it is the message's only content (no body text outside it):
///   then its text becomes the body, under a "Forwarded message" header block, and its
///   attachments are the message's.
struct MailBody {
    var text = ""
    var attachments: [MailAttachment] = []

    private enum Piece {
        case plain(String)
        case html(String)

        var isPlain: Bool {
            if case .plain = self { return true }
            return false
        }
    }

    static func assemble(_ root: MIMEPart, defects: inout [String]) -> MailBody {
        var body = MailBody()
        var pieces: [Piece] = []
        var embedded: [MIMEPart] = []
        collectBody(root, into: &pieces, defects: &defects)
        collectAttachments(root, chosen: Set(chosenLeaves(root)), into: &body.attachments, embedded: &embedded, defects: &defects)
        if pieces.isEmpty, embedded.count == 1, let message = embedded.first?.embedded.first {
            // The forwarded message is the content: show it.
            body.attachments.removeAll { $0.contentType == embedded[0].mimeType && $0.filename == attachmentName(embedded[0]) }
            let inner = assemble(message, defects: &defects)
            body.text = forwardedHeader(message.headers) + inner.text
            body.attachments += inner.attachments
            return body
        }
        body.text = pieces.map { piece in
            switch piece {
            case .plain(let text): return text
            case .html(let html): return HTMLText.text(html)
            }
        }.map(normalizeText).filter { !$0.isEmpty }.joined(separator: "\n\n")
        return body
    }

    /// The leaves whose text is the body (their part numbers).
    private static func chosenLeaves(_ part: MIMEPart) -> [Int] {
        if isBodyCandidate(part) { return [part.number] }
        guard part.isMultipart else { return [] }
        if part.mimeType == "multipart/alternative" {
            let options = part.children.map(chosenLeaves)
            let indices = options.indices.filter { !options[$0].isEmpty }
            if let plain = indices.first(where: { yieldsPlain(part.children[$0]) }) { return options[plain] }
            return indices.last.map { options[$0] } ?? []
        }
        return part.children.flatMap(chosenLeaves)
    }

    private static func yieldsPlain(_ part: MIMEPart) -> Bool {
        if isBodyCandidate(part) { return part.mimeType == "text/plain" }
        guard part.isMultipart else { return false }
        if part.mimeType == "multipart/alternative" { return part.children.contains(where: yieldsPlain) }
        return part.children.first(where: { !chosenLeaves($0).isEmpty }).map(yieldsPlain) ?? false
    }

    private static func isBodyCandidate(_ part: MIMEPart) -> Bool {
        (part.mimeType == "text/plain" || part.mimeType == "text/html") && !part.isMultipart && !part.isAttachmentDisposition
            && part.filename == nil
    }

    private static func collectBody(_ part: MIMEPart, into pieces: inout [Piece], defects: inout [String]) {
        let chosen = Set(chosenLeaves(part))
        walk(part) { leaf in
            guard chosen.contains(leaf.number) else { return }
            let bytes = leaf.decodedBody(defects: &defects)
            // LF line ends from here on: in Swift "\r\n" is one Character, which splitting on
            // "\n" never finds, so CRLF text (mail's canonical form) would be one long line.
            var text = lfLineEnds(Charset.decodeText(bytes, label: leaf.charset, defects: &defects))
            if leaf.mimeType == "text/html" {
                pieces.append(.html(text))
            } else {
                if leaf.contentType["format"]?.asciiLowercased() == "flowed" {
                    text = unflow(text, deleteSpace: leaf.contentType["delsp"]?.asciiLowercased() == "yes")
                }
                pieces.append(.plain(text))
            }
        }
    }

    /// Visits the leaves in document order (not inside embedded messages).
    private static func walk(_ part: MIMEPart, _ visit: (MIMEPart) -> Void) {
        if part.isMultipart {
            for child in part.children { walk(child, visit) }
        } else {
            visit(part)
        }
    }

    private static func collectAttachments(
        _ part: MIMEPart, chosen: Set<Int>, into attachments: inout [MailAttachment], embedded: inout [MIMEPart],
        defects: inout [String]
    ) {
        if part.isMultipart {
            for (index, child) in part.children.enumerated() {
                if part.mimeType == "multipart/signed", index > 0,
                    ["application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"].contains(child.mimeType)
                {
                    continue
                }
                collectAttachments(child, chosen: chosen, into: &attachments, embedded: &embedded, defects: &defects)
            }
            return
        }
        if chosen.contains(part.number) || isBodyCandidate(part) { return }
        if !part.embedded.isEmpty { embedded.append(part) }
        attachments.append(
            MailAttachment(filename: attachmentName(part), contentType: part.mimeType, bytes: part.decodedBody(defects: &defects)))
    }

    static func attachmentName(_ part: MIMEPart) -> String {
        if let name = part.filename.map(sanitizedFilename), !name.isEmpty { return name }
        if part.mimeType == "message/rfc822" || part.mimeType == "message/global" { return "forwarded.eml" }
        return "part-\(part.number)"
    }

    /// The last path component, without control characters, at most 255 characters.
    static func sanitizedFilename(_ name: String) -> String {
        let base = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(String.UnicodeScalarView(base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
        let trimmed = clean.trimmingWhitespace()
        if trimmed == "." || trimmed == ".." { return "" }
        return String(trimmed.prefix(255))
    }

    private static func forwardedHeader(_ headers: HeaderSection) -> String {
        var lines = ["---------- Forwarded message ----------"]
        for name in ["From", "Date", "Subject", "To"] {
            if let value = headers.first(name) { lines.append("\(name): \(EncodedWords.decode(value, defects: nil))") }
        }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// `text` with each CRLF turned into LF.
    static func lfLineEnds(_ text: String) -> String {
        guard text.unicodeScalars.contains("\r") else { return text }
        var scalars = String.UnicodeScalarView()
        var pendingCR = false
        for scalar in text.unicodeScalars {
            if pendingCR, scalar != "\n" { scalars.append("\r") }
            pendingCR = scalar == "\r"
            if !pendingCR { scalars.append(scalar) }
        }
        if pendingCR { scalars.append("\r") }
        return String(scalars)
    }

    /// LF line ends, no leading or trailing blank lines, no trailing whitespace at the very end.
    static func normalizeText(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.last == "\r" ? line.dropLast() : line
        }
        while let first = lines.first, first.allSatisfy(\.isWhitespace) { lines.removeFirst() }
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        var result = lines.joined(separator: "\n")
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }

    /// RFC 3676 format=flowed: a line ending in a space continues on the next line (same quote
    /// depth); space-stuffing removed. The signature separator `-- ` is never joined.
    static func unflow(_ text: String, deleteSpace: Bool) -> String {
        var output: [String] = []
        var current: String?
        var currentDepth = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine.last == "\r" ? rawLine.dropLast() : rawLine)
            let depth = line.prefix { $0 == ">" }.count
            line = line.dropFirst(depth)
            if line.first == " " { line = line.dropFirst() }
            let quote = String(repeating: ">", count: depth) + (depth > 0 ? " " : "")
            if let open = current, depth != currentDepth {
                output.append(open)
                current = nil
            }
            let flowed = line.last == " " && line != "-- "
            let piece = flowed && deleteSpace ? String(line.dropLast()) : String(line)
            if let open = current {
                current = open + piece
            } else {
                current = quote + piece
            }
            currentDepth = depth
            if !flowed, let open = current {
                output.append(open)
                current = nil
            }
        }
        if let open = current { output.append(open) }
        return output.joined(separator: "\n")
    }
}
