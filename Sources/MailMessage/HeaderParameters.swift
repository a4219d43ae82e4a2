/// A structured header value with parameters: `Content-Type` and `Content-Disposition`.
struct HeaderParameters {
    /// The lowercased value before the first `;` (`text/plain`, `attachment`).
    var value: String
    /// Parameters by lowercased name, decoded: quoted strings unquoted, RFC 2231 continuations
    /// joined and percent-decoded in their charset, RFC 2047 words (a common misuse) decoded.
    var parameters: [String: String]

    subscript(_ name: String) -> String? { parameters[name] }

    /// A bound on the parameters read (fuzzed input can hold thousands of `name*N` segments).
    static let maximumParameters = 200

    static func parse(_ raw: String, defects: DefectLog?) -> HeaderParameters {
        var scanner = Scanner(Array(raw.utf8))
        let value = scanner.token(until: UInt8(ascii: ";"))
        var simple: [String: String] = [:]
        // name -> [(segment number, encoded?, raw value)]
        var segments: [String: [(number: Int, encoded: Bool, text: [UInt8])]] = [:]
        var count = 0
        while scanner.skip(UInt8(ascii: ";")), count < maximumParameters {
            count += 1
            let name = String(decoding: scanner.token(until: UInt8(ascii: "=")), as: UTF8.self).trimmingWhitespace().asciiLowercased()
            guard scanner.skip(UInt8(ascii: "=")), !name.isEmpty else {
                _ = scanner.value()  // a parameter without "=": skip its rest
                continue
            }
            let text = scanner.value()
            if let star = name.firstIndex(of: "*") {
                let base = String(name[..<star])
                var rest = name[name.index(after: star)...]
                var encoded = false
                if rest.hasSuffix("*") {
                    encoded = true
                    rest = rest.dropLast()
                }
                let number: Int
                if rest.isEmpty {
                    number = 0
                    encoded = true
                } else if let parsed = Int(rest), parsed >= 0, parsed < 1_000 {
                    number = parsed
                } else {
                    continue
                }
                segments[base, default: []].append((number, encoded, text))
            } else if simple[name] == nil {
                simple[name] = String(decoding: text, as: UTF8.self)
            }
        }
        var parameters: [String: String] = [:]
        for (name, value) in simple {
            parameters[name] = value.contains("=?") ? EncodedWords.decode(value, defects: defects) : value
        }
        for (name, parts) in segments {
            if let joined = joinSegments(parts.sorted { $0.number < $1.number }, defects: defects) {
                parameters[name] = joined  // RFC 2231 wins over a plain parameter of the same name
            }
        }
        return HeaderParameters(
            value: String(decoding: value, as: UTF8.self).trimmingWhitespace().asciiLowercased(), parameters: parameters)
    }

    private static func joinSegments(_ parts: [(number: Int, encoded: Bool, text: [UInt8])], defects: DefectLog?) -> String? {
        var charset: String?
        var bytes: [UInt8] = []
        for (position, part) in parts.enumerated() {
            var text = part.text[...]
            if part.encoded {
                if position == 0 {
                    // charset'language'value
                    let pieces = text.split(separator: UInt8(ascii: "'"), maxSplits: 2, omittingEmptySubsequences: false)
                    if pieces.count == 3 {
                        charset = String(decoding: pieces[0], as: UTF8.self)
                        text = pieces[2]
                    }
                }
                var index = text.startIndex
                while index < text.endIndex {
                    if text[index] == UInt8(ascii: "%"), index + 2 < text.endIndex,
                        let high = TransferEncoding.hexValue(text[index + 1]), let low = TransferEncoding.hexValue(text[index + 2])
                    {
                        bytes.append(high << 4 | low)
                        index += 3
                    } else {
                        bytes.append(text[index])
                        index += 1
                    }
                }
            } else {
                bytes += text
            }
        }
        var found: [String] = []
        let label = (charset?.isEmpty ?? true) ? "utf-8" : charset
        let decoded = Charset.decodeText(bytes, label: label, defects: &found)
        defects?.add(found)
        return decoded
    }

    /// A small scanner over a header value's bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0D || bytes[index] == 0x0A {
                index += 1
            }
            // Comments are rare here; (comment) before a parameter is skipped.
            if index < bytes.count, bytes[index] == UInt8(ascii: "(") {
                var depth = 0
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "(") { depth += 1 }
                    if bytes[index] == UInt8(ascii: ")") { depth -= 1 }
                    index += 1
                    if depth == 0 { break }
                }
                skipSpace()
            }
        }

        /// Skips `byte` (after whitespace); false when it is not next.
        mutating func skip(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// The bytes up to `stop` or `;` (not consumed), trimmed.
        mutating func token(until stop: UInt8) -> [UInt8] {
            skipSpace()
            let start = index
            while index < bytes.count, bytes[index] != stop, bytes[index] != UInt8(ascii: ";") { index += 1 }
            var end = index
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            return Array(bytes[start..<end])
        }

        /// A parameter value: a quoted string (unescaped) or a token up to `;`.
        mutating func value() -> [UInt8] {
            skipSpace()
            guard index < bytes.count else { return [] }
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                var output: [UInt8] = []
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
                    output.append(bytes[index])
                    index += 1
                }
                if index < bytes.count { index += 1 }
                // Junk after the closing quote, up to the next ";", is dropped.
                while index < bytes.count, bytes[index] != UInt8(ascii: ";") { index += 1 }
                return output
            }
            return token(until: UInt8(ascii: ";"))
        }
    }
}
