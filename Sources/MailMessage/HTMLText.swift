/// HTML made readable as plain text: block elements become line breaks, `<br>` a line break,
/// list items `- ` lines, `<blockquote>` `> ` lines, links `text (url)`, entities decoded;
/// `<script>`, `<style>`, `<head>` and comments dropped. Tolerant of any input: it never fails.
enum HTMLText {
    static func text(_ html: String) -> String {
        var writer = Writer()
        let scalars = Array(html.unicodeScalars)
        var index = 0
        var skipUntil: String?  // inside script/style/head/title: the closing tag that ends it
        var preformatted = 0
        var links: [String?] = []  // the open <a> elements' hrefs
        var linkTextStart: [Int] = []
        var nextClose = -1
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<" {
                // A comment, a declaration or processing instruction, or a tag.
                if matches(scalars, index, "<!--") {
                    index = find(scalars, "-->", from: index + 4).map { $0 + 3 } ?? scalars.count
                    continue
                }
                if index + 1 < scalars.count, scalars[index + 1] == "!" || scalars[index + 1] == "?" {
                    index = find(scalars, ">", from: index).map { $0 + 1 } ?? scalars.count
                    continue
                }
                // The next ">" (found once and kept: a run of unclosed "<" stays linear); none: "<" is text.
                if nextClose <= index {
                    nextClose = index + 1
                    while nextClose < scalars.count, scalars[nextClose] != ">" { nextClose += 1 }
                }
                guard nextClose < scalars.count, let tag = Tag.read(scalars, at: index) else {
                    if skipUntil == nil { writer.text("<", preformatted: preformatted > 0) }
                    index += 1
                    continue
                }
                index = tag.end
                if let closing = skipUntil {
                    if tag.closing && tag.name == closing { skipUntil = nil }
                    continue
                }
                switch tag.name {
                case "script", "style", "head", "title", "template", "noscript":
                    if !tag.closing && !tag.selfClosing { skipUntil = tag.name }
                case "br":
                    writer.lineBreak()
                case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "section", "article",
                    "header", "footer", "form", "address", "figure", "main", "nav", "center":
                    writer.blockBoundary(paragraph: ["p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"].contains(tag.name))
                case "tr", "dt", "dd", "caption":
                    writer.blockBoundary(paragraph: false)
                case "li":
                    if !tag.closing {
                        writer.blockBoundary(paragraph: false)
                        writer.text("- ", preformatted: true)
                    } else {
                        writer.blockBoundary(paragraph: false)
                    }
                case "td", "th":
                    if !tag.closing { writer.cellSeparator() }
                case "hr":
                    writer.blockBoundary(paragraph: false)
                    writer.text("---", preformatted: true)
                    writer.blockBoundary(paragraph: false)
                case "pre":
                    writer.blockBoundary(paragraph: true)
                    preformatted = max(0, preformatted + (tag.closing ? -1 : 1))
                case "blockquote":
                    writer.blockBoundary(paragraph: false)
                    writer.quoteDepth = max(0, writer.quoteDepth + (tag.closing ? -1 : 1))
                case "a":
                    if !tag.closing {
                        links.append(tag.attributes["href"].map(decodeEntities))
                        linkTextStart.append(writer.characterCount)
                    } else if let href = links.popLast(), let start = linkTextStart.popLast() {
                        writer.closeLink(href: href, textStart: start)
                    }
                case "img":
                    if let alt = tag.attributes["alt"].map(decodeEntities), !alt.trimmingWhitespace().isEmpty {
                        writer.text("[" + alt.trimmingWhitespace() + "]", preformatted: false)
                    }
                default:
                    break
                }
                continue
            }
            // Text up to the next tag.
            let start = index
            while index < scalars.count, scalars[index] != "<" { index += 1 }
            if skipUntil != nil { continue }
            var chunk = String.UnicodeScalarView()
            chunk.append(contentsOf: scalars[start..<index])
            writer.text(decodeEntities(String(chunk)), preformatted: preformatted > 0)
        }
        return writer.finish()
    }

    private static func matches(_ scalars: [Unicode.Scalar], _ index: Int, _ literal: String) -> Bool {
        var position = index
        for scalar in literal.unicodeScalars {
            guard position < scalars.count, scalars[position] == scalar else { return false }
            position += 1
        }
        return true
    }

    private static func find(_ scalars: [Unicode.Scalar], _ literal: String, from start: Int) -> Int? {
        var index = start
        while index < scalars.count {
            if matches(scalars, index, literal) { return index }
            index += 1
        }
        return nil
    }

    /// A start or end tag: its lowercased name and attributes.
    struct Tag {
        var name: String
        var closing: Bool
        var selfClosing: Bool
        var attributes: [String: String]
        var end: Int

        static let maximumTagLength = 1_024

        static func read(_ scalars: [Unicode.Scalar], at start: Int) -> Tag? {
            // A tag longer than this is no tag (and scanning on would make "<a<a<a..." quadratic).
            let limit = min(scalars.count, start + maximumTagLength)
            var index = start + 1
            var closing = false
            if index < limit, scalars[index] == "/" {
                closing = true
                index += 1
            }
            var name = ""
            while index < limit, scalars[index].properties.isAlphabetic || ("0"..."9").contains(scalars[index]) {
                name.unicodeScalars.append(scalars[index])
                index += 1
            }
            guard !name.isEmpty else { return nil }
            var attributes: [String: String] = [:]
            var selfClosing = false
            while index < limit, scalars[index] != ">" {
                let scalar = scalars[index]
                if scalar == "/" {
                    selfClosing = true
                    index += 1
                    continue
                }
                if scalar.properties.isWhitespace {
                    index += 1
                    continue
                }
                var key = ""
                while index < limit, !scalars[index].properties.isWhitespace, scalars[index] != "=", scalars[index] != ">" {
                    key.unicodeScalars.append(scalars[index])
                    index += 1
                }
                while index < limit, scalars[index].properties.isWhitespace { index += 1 }
                var value = ""
                if index < limit, scalars[index] == "=" {
                    index += 1
                    while index < limit, scalars[index].properties.isWhitespace { index += 1 }
                    if index < limit, scalars[index] == "\"" || scalars[index] == "'" {
                        let quote = scalars[index]
                        index += 1
                        while index < limit, scalars[index] != quote {
                            value.unicodeScalars.append(scalars[index])
                            index += 1
                        }
                        if index < limit { index += 1 }
                    } else {
                        while index < limit, !scalars[index].properties.isWhitespace, scalars[index] != ">" {
                            value.unicodeScalars.append(scalars[index])
                            index += 1
                        }
                    }
                }
                if key.isEmpty {
                    index += 1
                } else if attributes[key.lowercased()] == nil {
                    attributes[key.lowercased()] = value
                }
            }
            if index == limit && limit < scalars.count { return nil }
            return Tag(
                name: name.lowercased(), closing: closing, selfClosing: selfClosing, attributes: attributes,
                end: min(index + 1, scalars.count))
        }
    }

    /// Named (the common ones) and numeric character references; unknown ones stay as they are.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "&" else {
                output.append(scalars[index])
                index += 1
                continue
            }
            var end = index + 1
            while end < scalars.count, end - index < 12, scalars[end] != ";", scalars[end] != "&",
                !scalars[end].properties.isWhitespace
            {
                end += 1
            }
            var name = String.UnicodeScalarView()
            name.append(contentsOf: scalars[(index + 1)..<min(end, scalars.count)])
            let hasSemicolon = end < scalars.count && scalars[end] == ";"
            if let decoded = entity(String(name)), hasSemicolon || decoded.numeric {
                output.append(decoded.scalar)
                index = hasSemicolon ? end + 1 : end
            } else {
                output.append("&")
                index += 1
            }
        }
        return String(output)
    }

    private static func entity(_ name: String) -> (scalar: Unicode.Scalar, numeric: Bool)? {
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value: UInt32?
            if digits.hasPrefix("x") || digits.hasPrefix("X") {
                value = UInt32(digits.dropFirst(), radix: 16)
            } else {
                value = UInt32(digits)
            }
            guard let value, value != 0 else { return nil }
            return (Unicode.Scalar(value) ?? "\u{FFFD}", true)
        }
        return namedEntities[name].flatMap(Unicode.Scalar.init).map { ($0, false) }
    }

    private static let namedEntities: [String: UInt32] = [
        "amp": 0x26, "lt": 0x3C, "gt": 0x3E, "quot": 0x22, "apos": 0x27, "nbsp": 0xA0, "copy": 0xA9, "reg": 0xAE,
        "trade": 0x2122, "euro": 0x20AC, "pound": 0xA3, "yen": 0xA5, "cent": 0xA2, "sect": 0xA7, "deg": 0xB0,
        "hellip": 0x2026, "mdash": 0x2014, "ndash": 0x2013, "lsquo": 0x2018, "rsquo": 0x2019, "ldquo": 0x201C,
        "rdquo": 0x201D, "sbquo": 0x201A, "bdquo": 0x201E, "laquo": 0xAB, "raquo": 0xBB, "bull": 0x2022, "middot": 0xB7,
        "shy": 0xAD, "zwnj": 0x200C, "zwj": 0x200D, "thinsp": 0x2009, "ensp": 0x2002, "emsp": 0x2003, "times": 0xD7,
        "divide": 0xF7, "plusmn": 0xB1, "para": 0xB6, "iexcl": 0xA1, "iquest": 0xBF, "szlig": 0xDF, "auml": 0xE4,
        "ouml": 0xF6, "uuml": 0xFC, "Auml": 0xC4, "Ouml": 0xD6, "Uuml": 0xDC, "eacute": 0xE9, "egrave": 0xE8,
        "ecirc": 0xEA, "euml": 0xEB, "Eacute": 0xC9, "Egrave": 0xC8, "agrave": 0xE0, "aacute": 0xE1, "acirc": 0xE2,
        "atilde": 0xE3, "aring": 0xE5, "aelig": 0xE6, "ccedil": 0xE7, "Ccedil": 0xC7, "igrave": 0xEC, "iacute": 0xED,
        "icirc": 0xEE, "iuml": 0xEF, "ntilde": 0xF1, "Ntilde": 0xD1, "ograve": 0xF2, "oacute": 0xF3, "ocirc": 0xF4,
        "otilde": 0xF5, "oslash": 0xF8, "Oslash": 0xD8, "ugrave": 0xF9, "uacute": 0xFA, "ucirc": 0xFB, "yacute": 0xFD,
        "yuml": 0xFF, "Agrave": 0xC0, "Aacute": 0xC1, "Acirc": 0xC2, "Aring": 0xC5, "AElig": 0xC6, "Oacute": 0xD3,
        "Uacute": 0xDA, "Iacute": 0xCD, "rarr": 0x2192, "larr": 0x2190, "hArr": 0x21D4, "check": 0x2713,
    ]

    /// Collects the text: collapses whitespace (outside `<pre>`), keeps at most one blank line,
    /// prefixes quoted lines.
    struct Writer {
        var lines: [String] = []
        var line = ""
        var lineDepth = 0
        var quoteDepth = 0
        var pendingSpace = false
        var characterCount = 0
        var pendingBreaks = 0  // 1: end the line; 2: and leave a blank line

        mutating func text(_ text: String, preformatted: Bool) {
            for character in text {
                if preformatted {
                    if character == "\n" || character == "\r\n" {
                        flushBreaks()
                        endLine()
                        continue
                    }
                    append(character)
                    continue
                }
                if character.isWhitespace && character != "\u{A0}" {
                    if !line.isEmpty { pendingSpace = true }
                    continue
                }
                append(character == "\u{A0}" ? " " : character)
            }
        }

        private mutating func append(_ character: Character) {
            flushBreaks()
            if line.isEmpty { lineDepth = quoteDepth }
            if pendingSpace && !line.isEmpty { line.append(" ") }
            pendingSpace = false
            line.append(character)
            characterCount += 1
        }

        private mutating func flushBreaks() {
            guard pendingBreaks > 0 else { return }
            if !line.isEmpty { endLine() }
            if pendingBreaks > 1, let last = lines.last, !last.trimmingWhitespace().isEmpty { lines.append("") }
            pendingBreaks = 0
        }

        private func prefix(_ depth: Int) -> String {
            String(repeating: ">", count: depth) + (depth > 0 ? " " : "")
        }

        private mutating func endLine() {
            var finished = line
            while finished.last == " " { finished.removeLast() }
            lines.append(prefix(lineDepth) + finished)
            line = ""
            lineDepth = quoteDepth
            pendingSpace = false
        }

        mutating func lineBreak() {
            flushBreaks()
            endLine()
        }

        mutating func blockBoundary(paragraph: Bool) {
            if line.isEmpty && lines.isEmpty { return }
            pendingBreaks = max(pendingBreaks, paragraph ? 2 : 1)
            pendingSpace = false
        }

        mutating func cellSeparator() {
            if !line.isEmpty { pendingSpace = true }
        }

        mutating func closeLink(href: String?, textStart: Int) {
            guard let href = href?.trimmingWhitespace(), !href.isEmpty, !href.hasPrefix("#"),
                !href.lowercased().hasPrefix("javascript:")
            else { return }
            let shown = line.suffix(max(0, characterCount - textStart))
            let target = href.lowercased().hasPrefix("mailto:") ? String(href.dropFirst(7)) : href
            if characterCount == textStart || shown == target || shown == href { return }
            if line.isEmpty { return }
            line += " (" + target + ")"
        }

        mutating func finish() -> String {
            if !line.isEmpty { endLine() }
            var result: [String] = []
            for line in lines {
                let blank = line.trimmingWhitespace().isEmpty || line.allSatisfy { $0 == ">" || $0 == " " }
                if blank, let last = result.last, last.trimmingWhitespace().isEmpty || last.allSatisfy({ $0 == ">" || $0 == " " }) {
                    continue
                }
                result.append(blank ? String(line.prefix { $0 == ">" }) : line)
            }
            while let first = result.first, first.trimmingWhitespace().isEmpty { result.removeFirst() }
            while let last = result.last, last.trimmingWhitespace().isEmpty { result.removeLast() }
            return result.joined(separator: "\n")
        }
    }
}
