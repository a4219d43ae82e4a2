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
        guard utf8.contains(UInt8(ascii: "{")) else { return self }
        return replacing("{d}", with: domain).replacing("{h}", with: host)
    }
}
