/// One entity of a message's MIME tree, as read: headers, type, and either children (multipart),
/// an embedded message (message/rfc822) or a body (leaf).
struct MIMEPart {
    var headers: HeaderSection
    /// `type/subtype`, lowercased, with its parameters.
    var contentType: HeaderParameters
    var disposition: HeaderParameters?
    /// Lowercased `Content-Transfer-Encoding`, "7bit" when absent.
    var transferEncoding: String
    /// The body bytes as they are in the message (not transfer-decoded); for a multipart, its
    /// whole body; for an embedded message, the whole embedded message.
    var body: [UInt8]
    var children: [MIMEPart] = []
    /// The message of a message/rfc822 part (zero or one element).
    var embedded: [MIMEPart] = []
    /// The number of this part among all parts in document order (1 is the message itself).
    var number: Int

    var mimeType: String { contentType.value }
    var isMultipart: Bool { mimeType.hasPrefix("multipart/") && !children.isEmpty }
    var charset: String? { contentType["charset"] }

    var filename: String? {
        let name = disposition?["filename"] ?? contentType["name"]
        return name.flatMap { $0.trimmingWhitespace().isEmpty ? nil : $0 }
    }

    var isAttachmentDisposition: Bool { disposition?.value == "attachment" }

    /// The body, transfer-decoded.
    func decodedBody(defects: inout [String]) -> [UInt8] {
        switch transferEncoding {
        case "base64":
            var found: [String] = []
            let decoded = TransferEncoding.decodeBase64(body, defects: &found) ?? []
            defects += found.map { "\($0) (part \(number))" }
            return decoded
        case "quoted-printable":
            var found: [String] = []
            let decoded = TransferEncoding.decodeQuotedPrintable(body, defects: &found)
            defects += found.map { "\($0) (part \(number))" }
            return decoded
        default:
            return body
        }
    }
}

/// Reads the MIME tree of a message, within bounds on nesting and part count.
struct MIMEReader {
    static let maximumDepth = 20
    static let maximumParts = 1_000

    var defects: [String] = []
    var partCount = 0

    /// Reads an entity (a message or a body part). `defaultType` is the type when none is given
    /// (text/plain, or message/rfc822 inside multipart/digest).
    mutating func read(
        _ bytes: [UInt8], depth: Int, defaultType: String, isMessage: Bool
    ) throws(MailParseError) -> MIMEPart {
        partCount += 1
        if partCount > Self.maximumParts {
            throw MailParseError(detail: "more than \(Self.maximumParts) MIME parts")
        }
        if depth > Self.maximumDepth {
            throw MailParseError(detail: "more than \(Self.maximumDepth) MIME levels")
        }
        let number = partCount
        var (section, hasHeaders) = HeaderSection.read(bytes, defects: &defects)
        if !hasHeaders {
            if isMessage && depth == 0 {
                throw MailParseError(detail: "the message has no header section")
            }
            // A part starting with its body (or with a blank line): no headers.
            section = HeaderSection(bodyStart: bytes.first == 0x0A ? 1 : (bytes.starts(with: [0x0D, 0x0A]) ? 2 : 0))
        }
        let log = DefectLog()
        var contentType = section.first("Content-Type").map { HeaderParameters.parse($0, defects: log) }
        if let type = contentType, !Self.isValidType(type.value) {
            defects.append("invalid Content-Type \(type.value.debugDescription) (part \(number)), read as \(defaultType)")
            contentType = nil
        }
        let type = contentType ?? HeaderParameters(value: defaultType, parameters: [:])
        let disposition = section.first("Content-Disposition").map { HeaderParameters.parse($0, defects: log) }
        defects += log.list
        var encoding = (section.first("Content-Transfer-Encoding") ?? "7bit").trimmingWhitespace().asciiLowercased()
        if encoding.hasPrefix("\"") { encoding = encoding.filter { $0 != "\"" } }
        if !["7bit", "8bit", "binary", "base64", "quoted-printable"].contains(encoding) {
            defects.append("unknown Content-Transfer-Encoding \(encoding.debugDescription) (part \(number)), read as 8bit")
            encoding = "8bit"
        }
        let body = section.bodyStart < bytes.count ? Array(bytes[section.bodyStart...]) : []
        var part = MIMEPart(
            headers: section, contentType: type, disposition: disposition, transferEncoding: encoding, body: body, number: number)

        if type.value.hasPrefix("multipart/") {
            guard let boundary = type["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
                defects.append("a \(type.value) part without a boundary (part \(number)) was read as text/plain")
                part.contentType = HeaderParameters(value: "text/plain", parameters: type.parameters)
                return part
            }
            let split = Self.split(body, boundary: Array(boundary.utf8))
            if split.parts.isEmpty {
                defects.append("the boundary of a \(type.value) part never occurs (part \(number)); read as text/plain")
                part.contentType = HeaderParameters(value: "text/plain", parameters: type.parameters)
                return part
            }
            if !split.closed { defects.append("a \(type.value) part has no closing boundary (part \(number))") }
            let childType = type.value == "multipart/digest" ? "message/rfc822" : "text/plain"
            for range in split.parts {
                part.children.append(try read(Array(body[range]), depth: depth + 1, defaultType: childType, isMessage: false))
            }
        } else if type.value == "message/rfc822" || type.value == "message/global" {
            let inner = part.decodedBody(defects: &defects)
            if !inner.isEmpty {
                part.embedded = [try read(inner, depth: depth + 1, defaultType: "text/plain", isMessage: false)]
            }
        }
        return part
    }

    static func isValidType(_ value: String) -> Bool {
        let pieces = value.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2 else { return false }
        return pieces.allSatisfy { piece in
            !piece.isEmpty && piece.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }
        }
    }

    /// Splits a multipart body at its boundary lines: `--boundary` followed by whitespace only, or
    /// `--boundary--` (the close). The line break before a boundary line belongs to it.
    static func split(_ body: [UInt8], boundary: [UInt8]) -> (parts: [Range<Int>], closed: Bool) {
        var parts: [Range<Int>] = []
        var current: Int?
        var index = 0
        while index < body.count {
            let (end, next) = lineEnd(body, from: index)
            if end - index >= boundary.count + 2, body[index] == UInt8(ascii: "-"), body[index + 1] == UInt8(ascii: "-"),
                body[(index + 2)..<(index + 2 + boundary.count)].elementsEqual(boundary)
            {
                var rest = index + 2 + boundary.count
                var closing = false
                if rest + 2 <= end, body[rest] == UInt8(ascii: "-"), body[rest + 1] == UInt8(ascii: "-") {
                    closing = true
                    rest += 2
                }
                if body[rest..<end].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    if let start = current {
                        var stop = index
                        if stop > start, body[stop - 1] == 0x0A { stop -= 1 }
                        if stop > start, body[stop - 1] == 0x0D { stop -= 1 }
                        parts.append(start..<max(start, stop))
                    }
                    if closing { return (parts, true) }
                    current = next
                }
            }
            index = next
        }
        if let start = current { parts.append(start..<max(start, body.count)) }
        return (parts, false)
    }
}
