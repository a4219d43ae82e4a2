import EventLog
import SupportDomain

/// The customers: ids `c-1001`…, a Zipf-like share of tickets (a few resellers open many, most
/// customers one or two), a language, and the domain and server their tickets are about.
struct CustomerBase {
    let actors: [SupportActor]
    let languages: [Language]
    let domains: [String]
    let hosts: [String]
    private let popularity: WeightedChoice
    /// Customers whose rank makes them key accounts (tagged `vip`).
    let keyAccounts: Int

    private static let firstWords = [
        "boulangerie", "atelier", "cabinet", "studio", "garage", "fromagerie", "librairie", "hotel",
        "agence", "ferme", "maison", "cave", "bistrot", "pharmacie", "clinique", "ecole",
        "nordic", "alpine", "blue", "green", "smart", "urban", "pixel", "cloud",
    ]
    private static let secondWords = [
        "martin", "dupont", "leroy", "moreau", "lefebvre", "garnier", "rousseau", "bernard",
        "petit", "durand", "soleil", "lumiere", "lavande", "ocean", "montagne", "riviera",
        "labs", "works", "shop", "design", "media", "tech", "events", "immo",
    ]
    private static let domainEndings = [".fr", ".fr", ".com", ".com", ".eu", ".net", ".org", ".io", ".de", ".ru"]

    init(count: Int) {
        let count = max(1, count)
        // Rank k (0-based) has weight 1/(k + 10): the top customer opens ~2 % of the tickets.
        popularity = WeightedChoice((0..<count).map { 1_000_000_000 / ($0 + 10) })
        keyAccounts = max(1, count / 50)
        // Spread the ranks over the id range so that c-1001 is not always the busiest customer.
        var stride = max(1, count * 618 / 1000)
        while Self.greatestCommonDivisor(stride, count) != 1 { stride += 1 }
        var actors: [SupportActor] = []
        var languages: [Language] = []
        var domains: [String] = []
        var hosts: [String] = []
        actors.reserveCapacity(count)
        for rank in 0..<count {
            let number = 1001 + (rank * stride) % count
            actors.append(SupportActor(kind: .customer, id: "c-\(number)"))
            var hash = SeededRandom(seed: UInt64(number))
            let roll = hash.below(100)
            let language: Language = roll < 58 ? .french : (roll < 92 ? .english : .russian)
            languages.append(language)
            let ending = language == .russian ? ".ru" : hash.element(of: Self.domainEndings)
            domains.append(hash.element(of: Self.firstWords) + "-" + hash.element(of: Self.secondWords) + ending)
            hosts.append("vps-\(number).ledgerdesk-cloud.net")
        }
        self.actors = actors
        self.languages = languages
        self.domains = domains
        self.hosts = hosts
    }

    var count: Int { actors.count }

    /// A customer drawn by popularity (an index into the arrays).
    func pick(_ random: inout SeededRandom) -> Int { popularity.pick(&random) }

    private static func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}
