/// Splits a reply's text into the new text and the quoted history below it.
///
/// The history starts at the earliest of:
/// - an attribution line: `On ... wrote:` (also over two lines, as Gmail wraps it), `Am ...
///   schrieb ...:`, `Le ... a écrit :`, `El ... escribió:`, `Op ... schreef ...:`, `Il ... ha
///   scritto:`, when what follows is quoted (`>` lines) or not quoted at all (top-posting), not
///   when answers are interleaved with the quote;
/// - a separator: `-----Original Message-----`, `----- Original Message -----`,
///   `-----Ursprüngliche Nachricht-----`, `-------- Message original --------`, or a line of
///   underscores directly above an Outlook header block;
/// - an Outlook header block: a `From:` line followed within four lines by `Sent:` or `Date:`
///   (and their German and French names);
/// - the trailing run of `>` lines (and blank lines) that ends the text.
///
/// A forwarded message (`---------- Forwarded message ---------`) is not history: it stays new
/// text.
enum QuotedHistory {
    static func split(_ text: String) -> (new: String, quoted: String?) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = historyStart(lines) else { return (text, nil) }
        let new = lines[..<start].joined(separator: "\n").trimmingBlankLines()
        let quoted = lines[start...].joined(separator: "\n").trimmingBlankLines()
        return quoted.isEmpty ? (text, nil) : (new, quoted)
    }

    static func historyStart(_ lines: [String]) -> Int? {
        for index in lines.indices {
            let line = lines[index].trimmingWhitespace()
            if line.isEmpty || line.hasPrefix(">") { continue }
            if isForwardMarker(line) { return nil }
            if isSeparator(line) { return index }
            if isOutlookBlock(lines, at: index) {
                if index > 0, isUnderscoreRule(lines[index - 1]) { return index - 1 }
                return index
            }
            if let length = attributionLength(lines, at: index), followedByQuoteOnly(lines, after: index + length) {
                return index
            }
        }
        // The trailing run of quoted lines.
        var start: Int?
        var index = lines.count - 1
        while index >= 0 {
            let line = lines[index].trimmingWhitespace()
            if line.hasPrefix(">") {
                start = index
            } else if !line.isEmpty {
                break
            }
            index -= 1
        }
        guard var found = start else { return nil }
        // Take the blank lines above it out of the new text too.
        while found > 0, lines[found - 1].trimmingWhitespace().isEmpty { found -= 1 }
        return found
    }

    private static func isSeparator(_ line: String) -> Bool {
        let lowered = line.lowercased()
        guard lowered.hasPrefix("--") || lowered.hasPrefix("__") else { return false }
        let words = lowered.filter { $0 != "-" && $0 != "_" }.trimmingWhitespace()
        return [
            "original message", "ursprüngliche nachricht", "message original", "mensaje original", "messaggio originale",
            "oorspronkelijk bericht", "original meddelelse", "alkuperäinen viesti",
        ].contains(words)
    }

    /// `---------- Forwarded message ---------` (Gmail), `Begin forwarded message:` (Apple Mail),
    /// `-------- Weitergeleitete Nachricht --------` (Thunderbird, German), and the like.
    private static func isForwardMarker(_ line: String) -> Bool {
        let lowered = line.lowercased()
        if lowered.hasPrefix("begin forwarded message") { return true }
        guard lowered.hasPrefix("--") else { return false }
        return ["forwarded message", "weitergeleitete nachricht", "message transféré", "mensaje reenviado", "messaggio inoltrato"]
            .contains { lowered.contains($0) }
    }

    private static func isUnderscoreRule(_ line: String) -> Bool {
        let trimmed = line.trimmingWhitespace()
        return trimmed.count >= 10 && trimmed.allSatisfy { $0 == "_" || $0 == "-" }
    }

    private static let fromNames = ["from:", "von:", "de :", "de:", "van:", "da:"]
    private static let sentNames = [
        "sent:", "date:", "gesendet:", "datum:", "envoyé :", "envoyé:", "verzonden:", "inviato:", "enviado el:",
    ]

    private static func isOutlookBlock(_ lines: [String], at index: Int) -> Bool {
        let line = lines[index].trimmingWhitespace().lowercased()
        guard fromNames.contains(where: { line.hasPrefix($0) }) else { return false }
        for next in lines[(index + 1)..<min(lines.count, index + 5)] {
            let lowered = next.trimmingWhitespace().lowercased()
            if sentNames.contains(where: { lowered.hasPrefix($0) }) { return true }
        }
        return false
    }

    /// The number of lines (1 or 2) of the attribution line at `index`, or nil when there is none.
    private static func attributionLength(_ lines: [String], at index: Int) -> Int? {
        let line = lines[index].trimmingWhitespace()
        if isAttribution(line) { return 1 }
        if index + 1 < lines.count {
            let joined = line + " " + lines[index + 1].trimmingWhitespace()
            if isAttribution(joined), !isAttribution(lines[index + 1].trimmingWhitespace()) { return 2 }
        }
        return nil
    }

    private static func isAttribution(_ line: String) -> Bool {
        guard line.count <= 300, line.hasSuffix(":") else { return false }
        let lowered = line.lowercased()
        let patterns: [(prefix: String, verb: String)] = [
            ("on ", " wrote:"), ("am ", " schrieb"), ("le ", " a écrit"), ("el ", " escribió:"), ("op ", " schreef"),
            ("il ", " ha scritto:"), ("em ", " escreveu:"), ("den ", " skrev"),
        ]
        return patterns.contains { lowered.hasPrefix($0.prefix) && lowered.contains($0.verb) }
    }

    /// True when the lines after the attribution are quoted throughout (blank lines allowed), or
    /// not quoted at all; false when quoted lines and answers alternate.
    private static func followedByQuoteOnly(_ lines: [String], after index: Int) -> Bool {
        var sawQuote = false
        var sawAnswerAfterQuote = false
        for line in lines[min(index, lines.count)...] {
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix(">") {
                sawQuote = true
            } else if sawQuote {
                sawAnswerAfterQuote = true
            }
        }
        return !sawAnswerAfterQuote
    }
}

extension String {
    func trimmingBlankLines() -> String {
        var lines = split(separator: "\n", omittingEmptySubsequences: false)
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        while let first = lines.first, first.allSatisfy(\.isWhitespace) { lines.removeFirst() }
        return lines.joined(separator: "\n")
    }
}
