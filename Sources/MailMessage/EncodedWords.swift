/// RFC 2047 encoded words (`=?charset?B|Q?text?=`) in header values.
enum EncodedWords {
    /// An encoded word longer than this is not one (RFC 2047 allows 75; senders overshoot).
    static let maximumWordLength = 1_000

    /// Decodes every encoded word of `text`. Whitespace between two adjacent encoded words is
    /// dropped and their bytes joined when they share a charset (a character split over two words
    /// comes out whole). Words that do not decode (unknown encoding, bad base64) stay verbatim.
    /// `defects` (when given) hears of unknown charsets, which are read as Latin-1.
    static func decode(_ text: String, defects: DefectLog?) -> String {
        guard text.utf8.contains(UInt8(ascii: "?")) else { return text }
        let bytes = Array(text.utf8)
        var output = ""
        var literalStart = 0
        var index = 0
        // The encoded words waiting to be decoded together, and the whitespace seen after them.
        var pendingBytes: [UInt8] = []
        var pendingCharset: String?
        var afterWord = false
        func flushPending() {
            guard let charset = pendingCharset else { return }
            output += decodeWordBytes(pendingBytes, charset: charset, defects: defects)
            pendingBytes = []
            pendingCharset = nil
        }
        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "="), bytes[index + 1] == UInt8(ascii: "?"),
                let word = parseWord(bytes, at: index)
            else {
                index += 1
                continue
            }
            let between = bytes[literalStart..<index]
            let onlySpace = between.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
            if !(afterWord && onlySpace) {
                flushPending()
                output += String(decoding: between, as: UTF8.self)
            }
            if pendingCharset != nil && pendingCharset != word.charset { flushPending() }
            pendingCharset = word.charset
            pendingBytes += word.bytes
            afterWord = true
            index = word.end
            literalStart = word.end
        }
        flushPending()
        output += String(decoding: bytes[literalStart...], as: UTF8.self)
        return output
    }

    struct Word {
        var charset: String
        var bytes: [UInt8]
        var end: Int
    }

    /// The encoded word starting at `start` (at "=?"), or nil when there is none that decodes.
    static func parseWord(_ bytes: [UInt8], at start: Int) -> Word? {
        let limit = min(bytes.count, start + maximumWordLength)
        var index = start + 2
        let charsetStart = index
        while index < limit, bytes[index] != UInt8(ascii: "?") {
            if bytes[index] <= 0x20 { return nil }
            index += 1
        }
        guard index + 3 < limit, index > charsetStart else { return nil }
        var charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self).asciiLowercased()
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 language
        let encoding = asciiLower(bytes[index + 1])
        guard bytes[index + 2] == UInt8(ascii: "?") else { return nil }
        let textStart = index + 3
        index = textStart
        while index + 1 < limit, !(bytes[index] == UInt8(ascii: "?") && bytes[index + 1] == UInt8(ascii: "=")) {
            if bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { return nil }
            index += 1
        }
        guard index + 1 < limit else { return nil }
        let text = bytes[textStart..<index]
        var ignored: [String] = []
        let decoded: [UInt8]?
        switch encoding {
        case UInt8(ascii: "b"): decoded = TransferEncoding.decodeBase64(text, strict: true, defects: &ignored)
        case UInt8(ascii: "q"): decoded = decodeQ(text)
        default: decoded = nil
        }
        guard let decoded else { return nil }
        return Word(charset: charset, bytes: decoded, end: index + 2)
    }

    private static func decodeQ(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "_") {
                output.append(0x20)
            } else if byte == UInt8(ascii: "=") {
                guard index + 2 < text.endIndex, let high = TransferEncoding.hexValue(text[index + 1]),
                    let low = TransferEncoding.hexValue(text[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    private static func decodeWordBytes(_ bytes: [UInt8], charset label: String, defects: DefectLog?) -> String {
        var found: [String] = []
        let text: String
        if Charset.named(label) == nil && !Charset.isASCII(bytes) {
            text = Charset.latin1.decode(bytes)
            found.append("unknown charset \(label.debugDescription) in an encoded word, read as Latin-1")
        } else {
            text = Charset.decodeText(bytes, label: label, defects: &found)
        }
        defects?.add(found)
        return text
    }

    /// Encodes `text` as UTF-8 B encoded words of at most `chunk` bytes each (never splitting a
    /// character's bytes), to be separated by folding whitespace.
    static func encode(_ text: String, chunk: Int = 30) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        func emit() {
            words.append("=?utf-8?B?" + String(decoding: TransferEncoding.encodeBase64(current), as: UTF8.self) + "?=")
            current = []
        }
        for scalar in text.unicodeScalars {
            let utf8 = Array(String(scalar).utf8)
            if current.count + utf8.count > chunk, !current.isEmpty { emit() }
            current += utf8
        }
        if !current.isEmpty || words.isEmpty { emit() }
        return words
    }
}

/// Defects collected by code that has no `inout` path to the parser's list (nested helpers).
final class DefectLog {
    private(set) var list: [String] = []

    func add(_ defects: [String]) {
        for defect in defects where !list.contains(defect) { list.append(defect) }
    }
}
