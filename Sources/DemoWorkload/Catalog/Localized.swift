import EventLog

/// Variants of one text in the customer languages. Russian falls back to English when absent
/// (the desk answers Russian speakers in English).
struct Localized: Sendable {
    let french: [String]
    let english: [String]
    let russian: [String]

    init(french: [String], english: [String], russian: [String] = []) {
        self.french = french
        self.english = english
        self.russian = russian
    }

    /// A random variant in `language`.
    func pick(_ language: Language, _ random: inout SeededRandom) -> String {
        let variants: [String]
        switch language {
        case .french: variants = french
        case .english: variants = english
        case .russian: variants = russian.isEmpty ? english : russian
        }
        return variants.isEmpty ? "…" : random.element(of: variants)
    }
}

extension String {
    /// This template with `{d}` replaced by `domain` and `{h}` by `host`.
    func filled(domain: String, host: String) -> String {
        substituting { $0 == UInt8(ascii: "d") ? domain : ($0 == UInt8(ascii: "h") ? host : nil) }
    }

    /// This template with `{<letter>}` replaced by `value`.
    func filled(_ letter: Unicode.Scalar, with value: String) -> String {
        substituting { $0 == UInt8(ascii: letter) ? value : nil }
    }

    /// Replaces each `{x}` (one ASCII letter) for which `value(x)` is not nil; a byte-level scan,
    /// much cheaper than a general substring search.
    private func substituting(_ value: (UInt8) -> String?) -> String {
        var template = self
        return template.withUTF8 { bytes in
            guard bytes.contains(UInt8(ascii: "{")) else { return self }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 48)
            var index = 0
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "{"), index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "}"),
                    let replacement = value(bytes[index + 1])
                {
                    out.append(contentsOf: replacement.utf8)
                    index += 3
                } else {
                    out.append(bytes[index])
                    index += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
