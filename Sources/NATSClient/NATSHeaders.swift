import Foundation

/// The headers of a NATS message (`HPUB`/`HMSG`): an ordered multi-map whose names compare
/// case-insensitively, and the optional status of the `NATS/1.0 503 No Responders` line.
package struct NATSHeaders: Sendable, Equatable {
    /// The fields in their order, names as written.
    package private(set) var fields: [(name: String, value: String)] = []
    /// The status code of the first line (`NATS/1.0 503`), nil when the line has none.
    package var status: Int?
    /// The text after the status code (`No Responders`), nil when there is none.
    package var statusDescription: String?

    /// Empty headers.
    package init() {}

    /// Headers from fields in order.
    package init(_ fields: [(String, String)]) {
        for (name, value) in fields { append(name, value) }
    }

    /// The first value of `name` (case-insensitive); setting replaces every value of that name (nil removes them).
    package subscript(name: String) -> String? {
        get { fields.first { Self.same($0.name, name) }?.value }
        set {
            if let index = fields.firstIndex(where: { Self.same($0.name, name) }), let newValue {
                fields[index].value = newValue
                let tail = fields[(index + 1)...].filter { !Self.same($0.name, name) }
                fields = Array(fields[...index]) + tail
            } else {
                fields.removeAll { Self.same($0.name, name) }
                if let newValue { fields.append((name, newValue)) }
            }
        }
    }

    /// Every value of `name` in order.
    package func values(_ name: String) -> [String] {
        fields.filter { Self.same($0.name, name) }.map(\.value)
    }

    /// Adds one more value of `name` after the others.
    package mutating func append(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// True when there is no field and no status.
    package var isEmpty: Bool { fields.isEmpty && status == nil }

    package static func == (lhs: NATSHeaders, rhs: NATSHeaders) -> Bool {
        lhs.status == rhs.status && lhs.statusDescription == rhs.statusDescription && lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { Self.same($0.name, $1.name) && $0.value == $1.value }
    }

    private static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.lowercased() == b.lowercased()
    }

    /// The wire form: `NATS/1.0\r\nName: value\r\n...\r\n\r\n`. Names may not hold `:`, white space or
    /// control characters, values no CR or LF.
    func encoded() throws(NATSError) -> [UInt8] {
        var text = "NATS/1.0"
        if let status {
            text += " \(status)"
            if let statusDescription { text += " \(statusDescription)" }
        }
        text += "\r\n"
        for (name, value) in fields {
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }) else {
                throw .protocolError("invalid header name \(name.debugDescription)")
            }
            guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw .protocolError("invalid value of header \(name)")
            }
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Reads the wire form (the header block of an `HMSG`, or the `hdrs` of a stored message).
    static func decode(_ bytes: some Collection<UInt8>) throws(NATSError) -> NATSHeaders {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        guard let first = lines.first, first.hasPrefix("NATS/1.0") else {
            throw .protocolError("headers without the NATS/1.0 line")
        }
        lines.removeFirst()
        var headers = NATSHeaders()
        let statusText = first.dropFirst("NATS/1.0".count).trimmingCharacters(in: .whitespaces)
        if !statusText.isEmpty {
            let parts = statusText.split(separator: " ", maxSplits: 1)
            if let code = Int(parts[0]) {
                headers.status = code
                if parts.count > 1 { headers.statusDescription = String(parts[1]).trimmingCharacters(in: .whitespaces) }
            } else {
                headers.statusDescription = statusText
            }
        }
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .protocolError("header line without a colon") }
            let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            headers.append(name, value)
        }
        return headers
    }
}

/// One message: what a subscription receives and a request's answer.
package struct NATSMessage: Sendable {
    /// The subject it was published to.
    package var subject: String
    /// Where an answer goes (the request's inbox), nil when none.
    package var replyTo: String?
    /// Its headers, nil for a plain `MSG`.
    package var headers: NATSHeaders?
    /// The payload bytes.
    package var payload: [UInt8]

    /// A message from its parts.
    package init(subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil, payload: [UInt8]) {
        self.subject = subject
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }
}
