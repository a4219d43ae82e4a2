import MailMessage

/// One reply of the server: a three-digit code and its text lines (a multi-line reply `250-a`,
/// `250 b` has the lines "a" and "b").
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    var isPositive: Bool { (200..<400).contains(code) }
    var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The reply as one line: "250 2.0.0 Ok: queued as 4F1A2" (the lines of a multi-line reply
    /// joined by " ").
    var text: String {
        let joined = lines.filter { !$0.isEmpty }.joined(separator: " ")
        return joined.isEmpty ? String(code) : "\(code) \(joined)"
    }
}

/// Cuts the bytes a server sends into reply lines and replies, within bounds: a line is at most
/// `maximumLineLength` bytes, a reply at most `maximumLines` lines.
struct SMTPReplyReader {
    static let maximumLineLength = 4096
    static let maximumLines = 128

    private var buffer: [UInt8] = []
    private var pendingLines: [String] = []
    private var pendingCode: Int?

    /// Bytes received and not yet part of a complete reply.
    var hasBufferedBytes: Bool { !buffer.isEmpty || !pendingLines.isEmpty }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, `nil` when more bytes are needed.
    mutating func nextReply() throws(MailDeliveryError) -> SMTPReply? {
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var end = newline
            if end > 0, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            guard end <= Self.maximumLineLength else {
                throw .transient("the server sent a line longer than \(Self.maximumLineLength) bytes")
            }
            let line = Array(buffer[..<end])
            buffer.removeSubrange(...newline)
            if let reply = try take(line) { return reply }
        }
        guard buffer.count <= Self.maximumLineLength else {
            throw .transient("the server sent a line longer than \(Self.maximumLineLength) bytes")
        }
        return nil
    }

    private mutating func take(_ line: [UInt8]) throws(MailDeliveryError) -> SMTPReply? {
        let printable = String(decoding: line, as: UTF8.self)
        guard line.count >= 3, line[0..<3].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            line.count == 3 || line[3] == UInt8(ascii: " ") || line[3] == UInt8(ascii: "-")
        else { throw .transient("the server sent a malformed reply line: \(printable.prefix(200))") }
        let code = Int(String(decoding: line[0..<3], as: UTF8.self))!
        guard (200..<600).contains(code) else { throw .transient("the server sent a reply code out of range: \(printable.prefix(200))") }
        if let pendingCode, pendingCode != code {
            throw .transient("the server changed the code inside a multi-line reply: \(printable.prefix(200))")
        }
        let text = line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : ""
        pendingLines.append(text)
        guard pendingLines.count <= Self.maximumLines else {
            throw .transient("the server sent a reply of more than \(Self.maximumLines) lines")
        }
        if line.count > 3, line[3] == UInt8(ascii: "-") {
            pendingCode = code
            return nil
        }
        let reply = SMTPReply(code: code, lines: pendingLines)
        pendingLines = []
        pendingCode = nil
        return reply
    }
}

/// What the server's EHLO reply offers.
struct SMTPExtensions: Sendable, Equatable {
    var startTLS = false
    var eightBitMIME = false
    /// SIZE was offered; its limit when it named one (0 or none: no limit announced).
    var size: Int?
    var authMechanisms: Set<String> = []

    init() {}

    /// Reads the lines after the greeting line of an EHLO reply.
    init(ehlo reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map { $0.uppercased() }
            guard let keyword = words.first else { continue }
            switch keyword {
            case "STARTTLS": startTLS = true
            case "8BITMIME": eightBitMIME = true
            case "SIZE": size = words.count > 1 ? Int(words[1]) ?? 0 : 0
            case "AUTH": authMechanisms.formUnion(words.dropFirst())
            default:
                if keyword.hasPrefix("AUTH=") {  // the pre-RFC 4954 form some servers still send
                    authMechanisms.formUnion(keyword.dropFirst(5).split(separator: " ").map(String.init))
                }
            }
        }
    }
}

/// The bytes sent after DATA: every line ending made CRLF, lines beginning with "." get a second
/// one, the message ends with CRLF, then ".", CRLF.
func dataPayload(_ message: [UInt8]) -> [UInt8] {
    dataPayloadAndSize(message).payload
}

/// The bytes sent after DATA and the message's size as SIZE counts it (RFC 1870: the message
/// with CRLF line endings, without the doubled dots and the final ".", CRLF).
func dataPayloadAndSize(_ message: [UInt8]) -> (payload: [UInt8], size: Int) {
    var out: [UInt8] = []
    out.reserveCapacity(message.count + message.count / 32 + 5)
    let cr = UInt8(ascii: "\r")
    let lf = UInt8(ascii: "\n")
    let dot = UInt8(ascii: ".")
    var atLineStart = true
    var stuffed = 0
    var index = 0
    while index < message.count {
        let byte = message[index]
        if byte == cr || byte == lf {
            out.append(cr)
            out.append(lf)
            if byte == cr, index + 1 < message.count, message[index + 1] == lf { index += 1 }
            atLineStart = true
        } else {
            if atLineStart, byte == dot {
                out.append(dot)
                stuffed += 1
            }
            out.append(byte)
            atLineStart = false
        }
        index += 1
    }
    if !atLineStart { out.append(contentsOf: [cr, lf]) }
    let size = out.count - stuffed
    out.append(contentsOf: [dot, cr, lf])
    return (out, size)
}
