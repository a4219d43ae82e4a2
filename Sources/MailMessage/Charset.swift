/// The charsets MailMessage decodes: UTF-8, US-ASCII and the 8-bit tables of `CharsetTables`.
enum Charset: Sendable, Equatable {
    case utf8
    case ascii
    case latin1
    case table(String, [UInt16])

    /// The charset a MIME label names, or nil when it is not one we know.
    static func named(_ label: String) -> Charset? {
        var key = ""
        for byte in label.utf8 {
            let lower = asciiLower(byte)
            if (lower >= 0x61 && lower <= 0x7A) || (lower >= 0x30 && lower <= 0x39) {
                key.unicodeScalars.append(Unicode.Scalar(lower))
            }
        }
        if key.hasPrefix("x") && !key.hasPrefix("xmac") { key.removeFirst() }
        switch key {
        case "utf8", "utf8mb4": return .utf8
        case "usascii", "ascii", "ansix341968", "us", "iso646us", "646", "csascii": return .ascii
        case "iso88591", "latin1", "l1", "iso885911987", "cp819", "ibm819": return .latin1
        default: break
        }
        let alias = latinNames[key]
        if let alias { key = alias }
        if key.hasPrefix("iso8859") {
            // The number after "8859" in the label itself: "ISO_8859-2:1987" is -2, "iso-8859-11" is -11.
            return iso8859Number(alias == nil ? label : key).flatMap(iso8859)
        }
        if (key.hasPrefix("cp125") && key.count == 6) || (key.hasPrefix("windows125") && key.count == 11)
            || (key.hasPrefix("win125") && key.count == 7)
        {
            return key.last.flatMap { Int(String($0)) }.flatMap(windows)
        }
        switch key {
        case "koi8r", "koi8": return .table("koi8-r", CharsetTables.koi8R)
        case "koi8u", "koi8ru": return .table("koi8-u", CharsetTables.koi8U)
        default: return nil
        }
    }

    private static let latinNames: [String: String] = [
        "latin2": "iso88592", "l2": "iso88592", "latin3": "iso88593", "l3": "iso88593", "latin4": "iso88594",
        "l4": "iso88594", "cyrillic": "iso88595", "arabic": "iso88596", "greek": "iso88597", "hebrew": "iso88598",
        "latin5": "iso88599", "l5": "iso88599", "latin6": "iso885910", "l6": "iso885910", "latin7": "iso885913",
        "l7": "iso885913", "latin8": "iso885914", "l8": "iso885914", "latin9": "iso885915", "l9": "iso885915",
        "latin0": "iso885915", "latin10": "iso885916", "l10": "iso885916",
    ]

    private static func iso8859Number(_ label: String) -> String? {
        let bytes = Array(label.utf8)
        let pattern = Array("8859".utf8)
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
            var index = start + pattern.count
            while index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "_") || bytes[index] == 0x20 {
                index += 1
            }
            var digits = ""
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39, digits.count < 3 {
                digits.unicodeScalars.append(Unicode.Scalar(bytes[index]))
                index += 1
            }
            return digits.isEmpty ? nil : digits
        }
        return nil
    }

    private static func iso8859(_ number: String) -> Charset? {
        switch number {
        case "1": return .latin1
        case "2": return .table("iso-8859-2", CharsetTables.iso8859_2)
        case "3": return .table("iso-8859-3", CharsetTables.iso8859_3)
        case "4": return .table("iso-8859-4", CharsetTables.iso8859_4)
        case "5": return .table("iso-8859-5", CharsetTables.iso8859_5)
        case "6": return .table("iso-8859-6", CharsetTables.iso8859_6)
        case "7": return .table("iso-8859-7", CharsetTables.iso8859_7)
        case "8": return .table("iso-8859-8", CharsetTables.iso8859_8)
        case "9": return .table("iso-8859-9", CharsetTables.iso8859_9)
        case "10": return .table("iso-8859-10", CharsetTables.iso8859_10)
        case "11": return .table("iso-8859-11", CharsetTables.iso8859_11)
        case "13": return .table("iso-8859-13", CharsetTables.iso8859_13)
        case "14": return .table("iso-8859-14", CharsetTables.iso8859_14)
        case "15": return .table("iso-8859-15", CharsetTables.iso8859_15)
        case "16": return .table("iso-8859-16", CharsetTables.iso8859_16)
        default: return nil
        }
    }

    private static func windows(_ digit: Int) -> Charset? {
        switch digit {
        case 0: return .table("windows-1250", CharsetTables.windows1250)
        case 1: return .table("windows-1251", CharsetTables.windows1251)
        case 2: return .table("windows-1252", CharsetTables.windows1252)
        case 3: return .table("windows-1253", CharsetTables.windows1253)
        case 4: return .table("windows-1254", CharsetTables.windows1254)
        case 5: return .table("windows-1255", CharsetTables.windows1255)
        case 6: return .table("windows-1256", CharsetTables.windows1256)
        case 7: return .table("windows-1257", CharsetTables.windows1257)
        case 8: return .table("windows-1258", CharsetTables.windows1258)
        default: return nil
        }
    }

    static let windows1252 = Charset.table("windows-1252", CharsetTables.windows1252)

    /// Decodes `bytes`; never fails (undefined bytes become U+FFFD).
    func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        switch self {
        case .utf8, .ascii:
            return String(decoding: bytes, as: UTF8.self)
        case .latin1:
            var scalars = String.UnicodeScalarView()
            for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
            return String(scalars)
        case .table(_, let table):
            var units: [UInt16] = []
            units.reserveCapacity(bytes.count)
            for byte in bytes { units.append(byte < 0x80 ? UInt16(byte) : table[Int(byte) - 0x80]) }
            return String(decoding: units, as: UTF16.self)
        }
    }

    static func isValidUTF8<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func isASCII<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        bytes.allSatisfy { $0 < 0x80 }
    }

    /// Decodes text labelled `label` (nil: no label), tolerating the common mislabellings: 8-bit
    /// bytes under US-ASCII, Latin-1 or Windows-1252 that form valid UTF-8 are read as UTF-8;
    /// invalid UTF-8 is read as Windows-1252; an unknown label as Latin-1. Each is a defect.
    static func decodeText<Bytes: Collection<UInt8>>(_ bytes: Bytes, label: String?, defects: inout [String]) -> String {
        let charset = label.flatMap(named)
        if Charset.isASCII(bytes) { return Charset.ascii.decode(bytes) }
        switch charset {
        case .utf8:
            if isValidUTF8(bytes) { return Charset.utf8.decode(bytes) }
            defects.append("invalid UTF-8 in a part labelled \(label ?? "utf-8"), read as Windows-1252")
            return windows1252.decode(bytes)
        case .ascii, .latin1, .table("windows-1252", _), nil:
            if isValidUTF8(bytes) {
                if let label {
                    if charset == nil {
                        defects.append("unknown charset \(label.debugDescription), read as UTF-8")
                    } else {
                        defects.append("8-bit text labelled \(label) is valid UTF-8 and was read as UTF-8")
                    }
                }
                return Charset.utf8.decode(bytes)
            }
            if let charset, charset != .ascii { return charset.decode(bytes) }
            if let label, charset == nil {
                defects.append("unknown charset \(label.debugDescription), read as Latin-1")
                return Charset.latin1.decode(bytes)
            }
            defects.append("8-bit text \(label == nil ? "without a charset" : "labelled us-ascii"), read as Windows-1252")
            return windows1252.decode(bytes)
        case .some(let charset):
            return charset.decode(bytes)
        }
    }
}
