/// Reading msg-id lists (`Message-ID`, `In-Reply-To`, `References`).
enum MessageIDs {
    /// A bound on the ids read from one field.
    static let maximumIDs = 500

    /// The `<...>` ids of a field value, whitespace inside removed; when there is none, the
    /// whitespace-separated words holding an `@`, given brackets.
    static func parse(_ value: String) -> [String] {
        var ids: [String] = []
        var index = value.startIndex
        while index < value.endIndex, ids.count < maximumIDs {
            guard value[index] == "<" else {
                index = value.index(after: index)
                continue
            }
            guard let close = value[index...].firstIndex(of: ">") else { break }
            let inner = value[value.index(after: index)..<close].filter { !$0.isWhitespace && $0 != "<" }
            if !inner.isEmpty, inner.utf8.count <= 900 { ids.append("<" + inner + ">") }
            index = value.index(after: close)
        }
        if ids.isEmpty {
            for word in value.split(whereSeparator: \.isWhitespace) where word.contains("@") && word.utf8.count <= 900 {
                let trimmed = word.trimmingPrefix("<")
                ids.append("<" + trimmed.filter { $0 != ">" } + ">")
                if ids.count >= maximumIDs { break }
            }
        }
        return ids
    }
}
