/// An address (an RFC 5322 addr-spec, `local@domain`) with its display name. The domain is
/// lowercased; the local part keeps its case.
package struct MailAddress: Sendable, Hashable {
    /// `local@domain`.
    package var address: String
    /// The display name, decoded (RFC 2047), without quotes; nil when there is none.
    package var displayName: String?

    package init(address: String, displayName: String? = nil) {
        self.address = MailAddress.normalized(address)
        let name = displayName?.trimmingWhitespace()
        self.displayName = (name?.isEmpty ?? true) ? nil : name
    }

    /// The first address of `text`: `Name <local@domain>`, `"Name" <local@domain>`,
    /// `local@domain (Name)` or `local@domain`; nil when it holds no valid address.
    package static func parse(_ text: String) -> MailAddress? {
        AddressListParser.parse(text).first
    }

    /// The local part (before the last `@`).
    package var localPart: String {
        guard let at = address.lastIndex(of: "@") else { return address }
        return String(address[..<at])
    }

    /// The domain (after the last `@`), lowercased.
    package var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return String(address[address.index(after: at)...])
    }

    static func normalized(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return address }
        return String(address[..<at]) + "@" + address[address.index(after: at)...].lowercased()
    }
}

extension MailAddress {
    /// Parses every address of an address-list header value (`To`, `Cc`, ...), skipping the
    /// entries that hold no valid address and group names (`undisclosed-recipients:;`).
    package static func parseList(_ text: String) -> [MailAddress] {
        AddressListParser.parse(text)
    }
}

/// The tolerant reader of RFC 5322 address lists, on the raw (still RFC 2047 encoded) value.
enum AddressListParser {
    /// A generous bound: a header naming more addresses is cut there.
    static let maximumAddresses = 1_000

    static func parse(_ text: String) -> [MailAddress] {
        var result: [MailAddress] = []
        for item in split(text) {
            if result.count >= maximumAddresses { break }
            if let address = single(item) { result.append(address) }
        }
        return result
    }

    /// Splits on the commas outside quoted strings, comments and angle brackets.
    static func split(_ text: String) -> [Substring] {
        var items: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        var inQuote = false
        var comment = 0
        var angle = false
        while index < text.endIndex {
            let character = text[index]
            if inQuote {
                if character == "\\" {
                    index = text.index(after: index)
                    if index == text.endIndex { break }
                } else if character == "\"" {
                    inQuote = false
                }
            } else if comment > 0 {
                if character == "\\" {
                    index = text.index(after: index)
                    if index == text.endIndex { break }
                } else if character == "(" {
                    comment += 1
                } else if character == ")" {
                    comment -= 1
                }
            } else {
                switch character {
                case "\"": inQuote = true
                case "(": comment = 1
                case "<": angle = true
                case ">": angle = false
                case "," where !angle, ";" where !angle:
                    items.append(text[start..<index])
                    start = text.index(after: index)
                default: break
                }
            }
            index = text.index(after: index)
        }
        items.append(text[start..<text.endIndex])
        return items
    }

    /// One mailbox: `phrase <addr>`, `addr (comment)` or `addr`, possibly after a group name.
    static func single(_ raw: Substring) -> MailAddress? {
        var phrase = ""
        var bare = ""
        var angleAddress: String?
        var commentText = ""
        var index = raw.startIndex
        var sawGroupColon = false
        while index < raw.endIndex {
            let character = raw[index]
            switch character {
            case "\"":
                var quoted = ""
                index = raw.index(after: index)
                while index < raw.endIndex, raw[index] != "\"" {
                    if raw[index] == "\\" {
                        index = raw.index(after: index)
                        if index == raw.endIndex { break }
                    }
                    quoted.append(raw[index])
                    index = raw.index(after: index)
                }
                phrase += quoted
                bare += "\"" + quoted + "\""
                if index < raw.endIndex { index = raw.index(after: index) }
                continue
            case "(":
                var depth = 1
                index = raw.index(after: index)
                var text = ""
                while index < raw.endIndex, depth > 0 {
                    let inner = raw[index]
                    if inner == "\\" {
                        index = raw.index(after: index)
                        if index == raw.endIndex { break }
                        text.append(raw[index])
                    } else if inner == "(" {
                        depth += 1
                        text.append(inner)
                    } else if inner == ")" {
                        depth -= 1
                        if depth > 0 { text.append(inner) }
                    } else {
                        text.append(inner)
                    }
                    index = raw.index(after: index)
                }
                if commentText.isEmpty { commentText = text }
                continue
            case "<":
                var inner = ""
                index = raw.index(after: index)
                while index < raw.endIndex, raw[index] != ">" {
                    inner.append(raw[index])
                    index = raw.index(after: index)
                }
                if angleAddress == nil { angleAddress = inner }
                if index < raw.endIndex { index = raw.index(after: index) }
                continue
            case ":" where angleAddress == nil && !sawGroupColon && !bare.contains("@"):
                // A group's name: what came before is not part of this mailbox.
                sawGroupColon = true
                phrase = ""
                bare = ""
            default:
                phrase.append(character)
                if !character.isWhitespace { bare.append(character) }
            }
            index = raw.index(after: index)
        }
        let address: String
        let name: String
        if let angleAddress {
            // A source route (`<@a,@b:x@y>`) keeps only its last part.
            let routeless = angleAddress.split(separator: ":").last.map(String.init) ?? ""
            address = routeless.filter { !$0.isWhitespace }
            name = phrase
        } else {
            address = bare
            name = commentText
        }
        guard isValid(address) else { return nil }
        let decodedName = EncodedWords.decode(name.trimmingWhitespace(), defects: nil).trimmingWhitespace()
        return MailAddress(address: address, displayName: decodedName.isEmpty ? nil : decodedName)
    }

    static func isValid(_ address: String) -> Bool {
        guard let at = address.lastIndex(of: "@") else { return false }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty, address.utf8.count <= 512 else { return false }
        for scalar in address.unicodeScalars where scalar.value < 0x21 || scalar == "<" || scalar == ">" || scalar == "," {
            return false
        }
        return !domain.contains("@") || domain.hasPrefix("[")
    }
}
