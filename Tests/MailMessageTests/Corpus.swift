import Foundation

@testable import MailMessage

/// The messages of Tests/MailMessageTests/Corpus (see its README.md), read through #filePath.
enum Corpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    static var names: [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return all.filter { $0.hasSuffix(".eml") }.sorted()
    }

    static func bytes(_ name: String) -> [UInt8] {
        FileManager.default.contents(atPath: directory.appendingPathComponent(name).path).map { Array($0) } ?? []
    }

    static func parse(_ name: String) throws(MailParseError) -> ParsedMail {
        try MailParser.parse(bytes(name))
    }
}

/// SplitMix64: the tests' seeded generator.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
