/// A header section: the raw (unfolded, not yet decoded) fields and where the body starts.
struct HeaderSection {
    /// Name and raw value: unfolded (line breaks removed, whitespace kept), trimmed, 8-bit bytes
    /// read as UTF-8 (or Windows-1252 when not valid UTF-8).
    var fields: [(name: String, value: String)] = []
    /// The offset of the body's first byte (after the blank line), `bytes.count` when none.
    var bodyStart: Int

    func first(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    func all(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    /// A generous bound on fields per section; the rest are dropped with a defect.
    static let maximumFields = 2_000

    /// Reads the header section at the start of `bytes`. A line that is neither a field nor a
    /// continuation ends the section (the body starts there, a defect). `hasHeaders` is false when
    /// the very first line is not a field (an mbox `From ` line is skipped first).
    static func read(_ bytes: [UInt8], defects: inout [String]) -> (section: HeaderSection, hasHeaders: Bool) {
        var section = HeaderSection(bodyStart: bytes.count)
        var index = 0
        var current: (name: String, value: [UInt8])?
        var sawField = false
        var dropped = false
        var eightBit = false

        func finish() {
            guard let field = current else { return }
            current = nil
            if section.fields.count >= maximumFields {
                dropped = true
                return
            }
            let value: String
            if Charset.isASCII(field.value) {
                value = String(decoding: field.value, as: UTF8.self)
            } else if Charset.isValidUTF8(field.value) {
                value = String(decoding: field.value, as: UTF8.self)
            } else {
                eightBit = true
                value = Charset.windows1252.decode(field.value)
            }
            section.fields.append((field.name, value.trimmingWhitespace()))
        }

        // An mbox "From " separator line before the first field.
        if bytes.starts(with: Array("From ".utf8)) {
            index = lineEnd(bytes, from: 0).next
        }
        while index < bytes.count {
            let (end, next) = lineEnd(bytes, from: index)
            if end == index {
                finish()
                section.bodyStart = next
                break
            }
            let first = bytes[index]
            if first == 0x20 || first == 0x09 {
                if current != nil {
                    current?.value += bytes[index..<end]
                    index = next
                    continue
                }
                if !sawField {
                    // Leading whitespace before any field: not a header section.
                    return (section, false)
                }
                // A continuation after a dropped line: ignore it.
                index = next
                continue
            }
            guard let colon = fieldNameEnd(bytes, from: index, to: end) else {
                finish()
                if !sawField { return (section, false) }
                defects.append("a line in the header section is not a header field; the body starts there")
                section.bodyStart = index
                break
            }
            finish()
            var nameEnd = colon
            while nameEnd > index, bytes[nameEnd - 1] == 0x20 || bytes[nameEnd - 1] == 0x09 { nameEnd -= 1 }
            let name = String(decoding: bytes[index..<nameEnd], as: UTF8.self)
            current = (name, Array(bytes[(colon + 1)..<end]))
            sawField = true
            index = next
        }
        finish()
        if dropped { defects.append("more than \(maximumFields) header fields; the rest were dropped") }
        if eightBit { defects.append("8-bit header bytes that are not UTF-8 were read as Windows-1252") }
        return (section, sawField)
    }

    /// The colon ending a field name on the line `from..<to`, or nil when the line is no field.
    private static func fieldNameEnd(_ bytes: [UInt8], from: Int, to: Int) -> Int? {
        var index = from
        var sawSpace = false
        while index < to {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") { return index > from && !(sawSpace && index == from) ? index : nil }
            if byte == 0x20 || byte == 0x09 {
                sawSpace = true
            } else if byte < 0x21 || byte > 0x7E || sawSpace {
                return nil
            }
            index += 1
        }
        return nil
    }
}

/// The end of the line starting at `from` (before its CR LF or LF) and the next line's start.
func lineEnd(_ bytes: [UInt8], from: Int) -> (end: Int, next: Int) {
    var index = from
    while index < bytes.count, bytes[index] != 0x0A { index += 1 }
    if index == bytes.count { return (index, index) }
    let end = index > from && bytes[index - 1] == 0x0D ? index - 1 : index
    return (end, index + 1)
}
