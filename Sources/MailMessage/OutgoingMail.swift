import Foundation

/// A message we send: rendered as RFC 5322 / MIME bytes ready for SMTP's DATA (CRLF line ends,
/// no line over 998 octets; dot-stuffing is the SMTP client's).
package struct OutgoingMail: Sendable {
    package var from: MailAddress
    package var to: [MailAddress]
    package var subject: String
    /// With brackets: `<local@host>`.
    package var messageID: String
    package var inReplyTo: String?
    package var references: [String]
    package var date: Date
    package var text: String
    package var attachments: [MailAttachment]
    /// Added after the standard fields, e.g. `("Auto-Submitted", "auto-replied")`.
    package var extraHeaders: [(name: String, value: String)]

    package init(
        from: MailAddress, to: [MailAddress], subject: String, messageID: String, inReplyTo: String? = nil,
        references: [String] = [], date: Date = Date(), text: String, attachments: [MailAttachment] = [],
        extraHeaders: [(name: String, value: String)] = []
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.text = text
        self.attachments = attachments
        self.extraHeaders = extraHeaders
    }

    /// The message's bytes.
    ///
    /// - Header fields: `Date` (RFC 5322, UTC), `From`, `To`, `Subject`, `Message-ID`,
    ///   `In-Reply-To`, `References`, `MIME-Version`, the extra headers, then the content fields.
    ///   Values are folded at whitespace to 78 characters where they can be; non-ASCII subjects,
    ///   display names and extra values are RFC 2047 `B` words of UTF-8. Control characters in
    ///   values (tab, CR, LF included) become spaces; ids longer than 900 octets and extra headers
    ///   with an invalid name are left out.
    /// - The text: `text/plain; charset=utf-8`, 7bit when it is printable ASCII in lines of at
    ///   most 78 characters (none starting with `From `), quoted-printable otherwise.
    /// - With attachments: `multipart/mixed`, the text first, then each attachment in base64 with
    ///   `Content-Disposition: attachment` and its file name (RFC 2231 when not plain ASCII or
    ///   long).
    package func rendered() -> [UInt8] {
        var header = HeaderWriter()
        header.add("Date", [RFC5322Date.format(date)])
        header.add("From", MailRendering.addressTokens([from]))
        if !to.isEmpty { header.add("To", MailRendering.addressTokens(to)) }
        header.add("Subject", MailRendering.unstructuredTokens(subject))
        header.add("Message-ID", [MailRendering.id(messageID)].compactMap { $0 })
        if let inReplyTo, let id = MailRendering.id(inReplyTo) { header.add("In-Reply-To", [id]) }
        let ids = references.compactMap(MailRendering.id)
        if !ids.isEmpty { header.add("References", ids) }
        header.add("MIME-Version", ["1.0"])
        for (name, value) in extraHeaders where MailRendering.isFieldName(name) {
            header.add(name, MailRendering.unstructuredTokens(value))
        }
        let textBytes = Array(text.utf8)
        let sevenBit = MailRendering.isSevenBitText(textBytes)
        let textHeaders: [(String, [String])] = [
            ("Content-Type", ["text/plain;", "charset=utf-8"]),
            ("Content-Transfer-Encoding", [sevenBit ? "7bit" : "quoted-printable"]),
        ]
        let textBody = sevenBit ? MailRendering.crlfLines(textBytes) : TransferEncoding.encodeQuotedPrintable(textBytes)
        guard !attachments.isEmpty else {
            for (name, tokens) in textHeaders { header.add(name, tokens) }
            return header.bytes + [0x0D, 0x0A] + textBody
        }
        let boundary = MailRendering.boundary(for: messageID, avoiding: sevenBit ? textBytes : [])
        header.add("Content-Type", ["multipart/mixed;", "boundary=\"\(boundary)\""])
        var output = header.bytes + [0x0D, 0x0A]
        output += Array("This is a multi-part message in MIME format.\r\n".utf8)
        let delimiter = Array("\r\n--\(boundary)\r\n".utf8)
        output += delimiter
        var textPart = HeaderWriter()
        for (name, tokens) in textHeaders { textPart.add(name, tokens) }
        output += textPart.bytes + [0x0D, 0x0A] + textBody
        for attachment in attachments {
            output += delimiter
            var part = HeaderWriter()
            let type =
                MIMEReader.isValidType(attachment.contentType) && !attachment.contentType.hasPrefix("multipart/")
                ? attachment.contentType.asciiLowercased() : "application/octet-stream"
            let name = MailDisposition.filenameTokens(attachment.filename)
            part.add("Content-Type", [type + ";"] + name.typeTokens)
            part.add("Content-Disposition", ["attachment;"] + name.dispositionTokens)
            part.add("Content-Transfer-Encoding", ["base64"])
            output += part.bytes + [0x0D, 0x0A] + TransferEncoding.encodeBase64Lines(attachment.bytes)
        }
        output += Array("\r\n--\(boundary)--\r\n".utf8)
        return output
    }
}

/// Header fields folded at the spaces between their tokens, to 78 characters where possible.
struct HeaderWriter {
    private(set) var bytes: [UInt8] = []

    mutating func add(_ name: String, _ tokens: [String]) {
        var line = name + ":"
        var lines: [String] = []
        for token in tokens {
            if line.utf8.count + 1 + token.utf8.count > 78, line.utf8.count > name.utf8.count + 1 {
                lines.append(line)
                line = ""
            }
            line += " " + token
        }
        lines.append(line)
        bytes += Array(lines.joined(separator: "\r\n").utf8) + [0x0D, 0x0A]
    }
}

enum MailRendering {
    /// Control characters become spaces.
    static func clean(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// An unstructured value (subject, extra header) as fold tokens: ASCII words, or RFC 2047
    /// words when it holds non-ASCII, `=?`, or a word too long to fold.
    static func unstructuredTokens(_ value: String) -> [String] {
        let text = clean(value)
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        let plain =
            text.utf8.allSatisfy { $0 < 0x80 } && !text.contains("=?") && words.allSatisfy { $0.utf8.count <= 60 }
            && !text.hasPrefix(" ") && !text.hasSuffix(" ")
        guard plain else { return EncodedWords.encode(text) }
        // Fold only before a space that is followed by a word, so no line is whitespace alone.
        var tokens: [String] = []
        var current = ""
        for (index, word) in words.enumerated() {
            if index == 0 {
                current = String(word)
            } else if word.isEmpty {
                current += " "
            } else {
                tokens.append(current)
                current = String(word)
            }
        }
        tokens.append(current)
        // Tokens are joined by one space when written: a token ending in spaces carried the extras.
        return tokens.filter { !$0.isEmpty || tokens.count == 1 }
    }

    static func addressTokens(_ addresses: [MailAddress]) -> [String] {
        var tokens: [String] = []
        for (index, address) in addresses.enumerated() {
            let comma = index < addresses.count - 1 ? "," : ""
            let bare = clean(address.address).filter { $0 != " " }
            if let name = address.displayName.map(clean)?.trimmingWhitespace(), !name.isEmpty {
                tokens += displayNameTokens(name)
                tokens.append("<" + bare + ">" + comma)
            } else {
                tokens.append(bare + comma)
            }
        }
        return tokens
    }

    private static let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".unicodeScalars)

    static func displayNameTokens(_ name: String) -> [String] {
        let words = name.split(separator: " ", omittingEmptySubsequences: false)
        if !name.contains("=?"), words.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(atext.contains) && $0.count <= 60 }) {
            return words.map(String.init)
        }
        if name.utf8.allSatisfy({ $0 < 0x80 }), !name.contains("=?"), name.utf8.count <= 60 {
            var quoted = "\""
            for character in name {
                if character == "\"" || character == "\\" { quoted += "\\" }
                quoted.append(character)
            }
            return [quoted + "\""]
        }
        return EncodedWords.encode(name)
    }

    /// An id as written (brackets added when missing); nil when it cannot be written safely.
    static func id(_ value: String) -> String? {
        let bare = value.filter { !$0.isWhitespace && $0 != "<" && $0 != ">" }
        guard !bare.isEmpty, bare.utf8.count <= 900, bare.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        return "<" + bare + ">"
    }

    static func isFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 76 && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
    }

    static func isSevenBitText(_ bytes: [UInt8]) -> Bool {
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.count > 78 || line.starts(with: Array("From ".utf8)) { return false }
            if !line.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) { return false }
        }
        return true
    }

    /// LF line ends as CRLF, the text ended by one.
    static func crlfLines(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 40 + 2)
        for byte in bytes {
            if byte == 0x0A { output.append(0x0D) }
            output.append(byte)
        }
        if output.last != 0x0A { output += [0x0D, 0x0A] }
        return output
    }

    /// A boundary that cannot occur in base64 or quoted-printable output (it holds `=_`), checked
    /// against a 7bit text too.
    static func boundary(for messageID: String, avoiding text: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in messageID.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        var counter = 0
        while true {
            let candidate = "=_ledgerdesk_" + String(hash &+ UInt64(counter), radix: 16)
            let bytes = Array(candidate.utf8)
            if text.count < bytes.count || !contains(text, bytes) { return candidate }
            counter += 1
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}

/// The `name` / `filename` parameters of an attachment.
enum MailDisposition {
    static func filenameTokens(_ filename: String) -> (typeTokens: [String], dispositionTokens: [String]) {
        let name = MailRendering.clean(filename).trimmingWhitespace()
        let safe = name.isEmpty ? "attachment" : name
        let plain = safe.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
        if plain && safe.utf8.count <= 60 {
            return (["name=\"\(safe)\""], ["filename=\"\(safe)\""])
        }
        // RFC 2231: filename*0*=utf-8''...; filename*1*=...; each segment on its own line.
        var segments: [String] = []
        var current = ""
        for byte in safe.utf8 {
            let isAttributeChar =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "!#$&+-.^_`|~".utf8.contains(byte)
            let piece = isAttributeChar ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
            if current.utf8.count + piece.utf8.count > 45 {
                segments.append(current)
                current = ""
            }
            current += piece
        }
        segments.append(current)
        var tokens: [String] = []
        for (index, segment) in segments.enumerated() {
            let value = index == 0 ? "utf-8''" + segment : segment
            tokens.append("filename*\(index)*=\(value)" + (index < segments.count - 1 ? ";" : ""))
        }
        return ([], tokens)
    }
}

/// RFC 5322 dates, in UTC.
enum RFC5322Date {
    static func format(_ date: Date) -> String {
        // Clamped to the years 0001-9999 (and 1970 for a date that is no number).
        let interval = date.timeIntervalSince1970
        let seconds = interval.isFinite ? Int64(min(max(interval, -62_135_596_800), 253_402_300_799).rounded(.down)) : 0
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        let weekday = Int((days % 7 + 11) % 7)  // 1970-01-01 was a Thursday
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        // Civil from days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(names[weekday]), \(two(day)) \(months[Int(month) - 1]) \(year) \(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60)) +0000"
    }
}
