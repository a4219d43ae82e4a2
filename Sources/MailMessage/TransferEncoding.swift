/// Base64 and quoted-printable, tolerant when decoding and strict when encoding.
package enum TransferEncoding {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        table[Int(UInt8(ascii: "-"))] = 62  // base64url, seen in the wild
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Decodes base64, skipping whitespace; other stray bytes are skipped too and reported once,
    /// as is data after the padding or a dangling final character. Returns nil only when `strict`
    /// and the input is not clean base64 (used for encoded words).
    static func decodeBase64<Bytes: Collection<UInt8>>(_ input: Bytes, strict: Bool = false, defects: inout [String]) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var accumulator: UInt32 = 0
        var count = 0
        var stray = false
        var padded = false
        for byte in input {
            if byte == UInt8(ascii: "=") {
                padded = true
                continue
            }
            let value = values[Int(byte)]
            if value == 0xFF {
                if byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A { continue }
                if strict { return nil }
                stray = true
                continue
            }
            if padded {
                // Data after padding: a second base64 run glued to the first. Keep reading it.
                if count > 0 { flush(&accumulator, count, into: &output) }
                accumulator = 0
                count = 0
                padded = false
                stray = true
            }
            accumulator = accumulator << 6 | UInt32(value)
            count += 1
            if count == 4 {
                output.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                output.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                output.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                count = 0
            }
        }
        if count == 1 {
            if strict { return nil }
            stray = true
        } else if count > 1 {
            flush(&accumulator, count, into: &output)
        }
        if stray { defects.append("invalid base64 data was skipped") }
        return output
    }

    private static func flush(_ accumulator: inout UInt32, _ count: Int, into output: inout [UInt8]) {
        let bits = accumulator << UInt32(6 * (4 - count))
        if count >= 2 { output.append(UInt8(truncatingIfNeeded: bits >> 16)) }
        if count >= 3 { output.append(UInt8(truncatingIfNeeded: bits >> 8)) }
    }

    /// `input` in base64 (RFC 4648, padded, one line): MIME bodies and SMTP AUTH alike.
    package static func encodeBase64<Bytes: Collection<UInt8>>(_ input: Bytes) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var iterator = input.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let value = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(value >> 6 & 63)])
            output.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(value & 63)])
        }
        return output
    }

    /// Base64 in lines of 76 characters, each ended by CRLF.
    static func encodeBase64Lines(_ input: [UInt8]) -> [UInt8] {
        let encoded = encodeBase64(input)
        var output: [UInt8] = []
        output.reserveCapacity(encoded.count + encoded.count / 76 * 2 + 2)
        var index = 0
        while index < encoded.count {
            let end = min(index + 76, encoded.count)
            output.append(contentsOf: encoded[index..<end])
            output.append(contentsOf: [0x0D, 0x0A])
            index = end
        }
        return output
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// Decodes quoted-printable: `=XX` (either case), soft line breaks (`=` before CRLF or LF,
    /// trailing whitespace after it allowed), whitespace at the end of lines dropped. A broken
    /// `=` is kept literally and reported. Line ends come out as they came in.
    static func decodeQuotedPrintable<Bytes: RandomAccessCollection<UInt8>>(_ input: Bytes, defects: inout [String]) -> [UInt8]
    where Bytes.Index == Int {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var broken = false
        var index = input.startIndex
        let end = input.endIndex
        while index < end {
            let byte = input[index]
            if byte == UInt8(ascii: "=") {
                // Soft line break: "=" then optional whitespace then (CR)LF or the end.
                var look = index + 1
                while look < end, input[look] == 0x20 || input[look] == 0x09 { look += 1 }
                if look == end {
                    index = end
                    continue
                }
                if input[look] == 0x0A {
                    index = look + 1
                    continue
                }
                if input[look] == 0x0D, look + 1 < end, input[look + 1] == 0x0A {
                    index = look + 2
                    continue
                }
                if index + 2 < end, let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
                broken = true
                output.append(byte)
                index += 1
                continue
            }
            if byte == 0x20 || byte == 0x09 {
                // Whitespace at the end of a line was added in transport: drop it.
                var look = index
                while look < end, input[look] == 0x20 || input[look] == 0x09 { look += 1 }
                if look == end || input[look] == 0x0A || (input[look] == 0x0D && look + 1 < end && input[look + 1] == 0x0A) {
                    index = look
                    continue
                }
                output.append(contentsOf: input[index..<look])
                index = look
                continue
            }
            output.append(byte)
            index += 1
        }
        if broken { defects.append("invalid quoted-printable escapes were kept as they are") }
        return output
    }

    /// Encodes text as quoted-printable: lines of at most 76 characters, CRLF hard breaks for the
    /// text's line ends (LF or CRLF), `=XX` for `=`, controls, 8-bit bytes, trailing whitespace and
    /// a `.` or `F` starting a line (dot-stuffing and mbox `From ` safety).
    static func encodeQuotedPrintable(_ text: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 2)
        let hex = Array("0123456789ABCDEF".utf8)
        var lines: [ArraySlice<UInt8>] = text.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
        for var line in lines {
            if line.last == 0x0D { line = line.dropLast() }
            var column = 0
            for (offset, byte) in zip(line.indices, line) {
                let last = offset == line.index(before: line.endIndex)
                let plain =
                    (byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: "="))
                    || ((byte == 0x20 || byte == 0x09) && !last)
                let risky = byte == UInt8(ascii: ".") || byte == UInt8(ascii: "F")
                let width = !plain || (column == 0 && risky) ? 3 : 1
                // Leave room for the soft break's "=" (and for a final escape on the last column).
                if column + width > 75 {
                    output.append(contentsOf: [UInt8(ascii: "="), 0x0D, 0x0A])
                    column = 0
                }
                if !plain || (column == 0 && risky) {
                    output.append(contentsOf: [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                    column += 3
                } else {
                    output.append(byte)
                    column += 1
                }
            }
            output.append(contentsOf: [0x0D, 0x0A])
        }
        return output
    }
}
