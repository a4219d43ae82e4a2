import Testing

@testable import MailMessage

/// Seeded mutations of every corpus message: none may crash the parser; each parses or gives a
/// `MailParseError` (the typed throw makes any other error impossible).
@Suite("Mail parser: fuzzing")
struct FuzzTests {
    static let runsPerMessage = 120

    @Test("Mutated corpus messages never crash the parser")
    func mutationsNeverCrash() {
        var generator = SeededGenerator(seed: 0x6D69_6D65)
        var parsed = 0
        var refused = 0
        for name in Corpus.names {
            let original = Corpus.bytes(name)
            for _ in 0..<Self.runsPerMessage {
                let mutated = Self.mutate(original, using: &generator)
                do {
                    let mail = try MailParser.parse(mutated)
                    _ = (mail.text, mail.newText, mail.attachments.count, mail.kind)
                    parsed += 1
                } catch {
                    #expect(!error.detail.isEmpty)
                    refused += 1
                }
            }
        }
        #expect(parsed + refused == Corpus.names.count * Self.runsPerMessage)
        #expect(parsed > refused)
    }

    @Test("Deep nesting is refused with a typed error, not a stack overflow")
    func deepNesting() {
        for depth in [MailParser.maximumDepth, MailParser.maximumDepth + 1, 500] {
            var message = "From: a@b.example\r\n"
            for level in 0..<depth {
                message += "Content-Type: multipart/mixed; boundary=\"b\(level)\"\r\n\r\n--b\(level)\r\n"
            }
            message += "Content-Type: text/plain\r\n\r\ndeep\r\n"
            for level in (0..<depth).reversed() { message += "--b\(level)--\r\n" }
            do {
                let mail = try MailParser.parse(Array(message.utf8))
                #expect(depth <= MailParser.maximumDepth)
                #expect(mail.text == "deep")
            } catch {
                #expect(depth > MailParser.maximumDepth)
                #expect(error.detail == "more than \(MailParser.maximumDepth) MIME levels")
            }
        }
    }

    @Test("Too many parts are refused with a typed error")
    func tooManyParts() {
        var message = "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
        for _ in 0...MailParser.maximumParts { message += "--x\r\n\r\npart\r\n" }
        message += "--x--\r\n"
        #expect(throws: MailParseError(detail: "more than \(MailParser.maximumParts) MIME parts")) {
            try MailParser.parse(Array(message.utf8))
        }
    }

    /// One to four mutations: byte flips, truncation, duplicated or removed boundary lines,
    /// inserted nesting, random garbage, CRLF/LF swaps.
    static func mutate(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            guard !bytes.isEmpty else { return bytes }
            switch Int.random(in: 0..<8, using: &generator) {
            case 0:
                for _ in 0..<Int.random(in: 1...16, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            case 1:
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
            case 2:
                // Duplicate a line starting with "--" (a boundary) somewhere else.
                let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                if let line = lines.filter({ $0.starts(with: [0x2D, 0x2D]) }).randomElement(using: &generator) {
                    let position = Int.random(in: 0...bytes.count, using: &generator)
                    bytes.insert(contentsOf: Array(line) + [0x0A], at: position)
                }
            case 3:
                // Remove a random range.
                let start = Int.random(in: 0..<bytes.count, using: &generator)
                let end = min(bytes.count, start + Int.random(in: 1...200, using: &generator))
                bytes.removeSubrange(start..<end)
            case 4:
                // Insert nesting: a multipart header and an opening boundary.
                let depth = Int.random(in: 1...30, using: &generator)
                var insert: [UInt8] = []
                for level in 0..<depth {
                    insert += Array("Content-Type: multipart/mixed; boundary=\"n\(level)\"\n\n--n\(level)\n".utf8)
                }
                bytes.insert(contentsOf: insert, at: Int.random(in: 0...bytes.count, using: &generator))
            case 5:
                let alphabet: [UInt8] = Array("=?<\";%*-\n\r\0".utf8) + [0xC3, 0xFF]
                var garbage: [UInt8] = []
                for _ in 0..<Int.random(in: 1...64, using: &generator) { garbage.append(alphabet.randomElement(using: &generator) ?? 0) }
                bytes.insert(contentsOf: garbage, at: Int.random(in: 0...bytes.count, using: &generator))
            case 6:
                bytes = bytes.filter { $0 != 0x0D }
            default:
                // Repeat a random slice many times (long lines, many parts).
                let start = Int.random(in: 0..<bytes.count, using: &generator)
                let slice = bytes[start..<min(bytes.count, start + Int.random(in: 1...80, using: &generator))]
                var repeated: [UInt8] = []
                for _ in 0..<Int.random(in: 2...100, using: &generator) { repeated += slice }
                bytes.insert(contentsOf: repeated, at: start)
            }
        }
        return bytes
    }
}
