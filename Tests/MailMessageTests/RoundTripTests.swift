import Foundation
import Testing

@testable import MailMessage

@Suite("Mail composer: what we write, we read back")
struct RoundTripTests {
    static let pieces = [
        "Hello", "world", "Grüße", "naïve", "Zażółć", "Проблема", "日本語のテキスト", "😀", "👩‍💻", "€100", "a=b", "=?utf-8?q?x?=",
        "\"quoted\"", "back\\slash", "dots...", "[T-42]", "Re:", "<angle>", "comma,", "semi;", "(paren)", "tab\tnot", "ü",
        String(repeating: "x", count: 90), String(repeating: "é", count: 50), "From", ".", "--", "=_ledgerdesk_",
    ]

    static func sentence(_ generator: inout SeededGenerator, words: ClosedRange<Int>) -> String {
        (0..<Int.random(in: words, using: &generator)).map { _ in pieces.randomElement(using: &generator) ?? "" }
            .joined(separator: Bool.random(using: &generator) ? " " : "  ")
    }

    static func address(_ generator: inout SeededGenerator, named: Bool) -> MailAddress {
        let local = ["jane", "john.doe", "a+tag", "x_y", "o'brien"].randomElement(using: &generator) ?? "a"
        let domain = ["customer.example", "mail.example.org", "b.example"].randomElement(using: &generator) ?? "b.example"
        let name = named ? sentence(&generator, words: 1...3).trimmingWhitespace() : nil
        return MailAddress(address: "\(local)\(Int.random(in: 0..<100, using: &generator))@\(domain)", displayName: name)
    }

    static func mail(_ generator: inout SeededGenerator) -> OutgoingMail {
        let lines = (0..<Int.random(in: 0...8, using: &generator)).map { _ in
            Bool.random(using: &generator) ? "" : sentence(&generator, words: 1...30)
        }
        let attachments = (0..<Int.random(in: 0...3, using: &generator)).map { index in
            MailAttachment(
                filename: [
                    "report.pdf", "Rechnung März.pdf", "日本語.txt", String(repeating: "long-name-", count: 12) + ".zip",
                    "quote\"d.txt", "x.bin",
                ].randomElement(using: &generator) ?? "x",
                contentType: ["application/pdf", "image/png", "text/plain", "application/octet-stream", "text/csv"].randomElement(
                    using: &generator) ?? "application/pdf",
                bytes: (0..<Int.random(in: 0...3000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        let references = (0..<Int.random(in: 0...12, using: &generator)).map {
            "<ref-\($0)-\(Int.random(in: 0...999_999, using: &generator))@ledgerdesk.example>"
        }
        return OutgoingMail(
            from: address(&generator, named: true),
            to: (0..<Int.random(in: 1...4, using: &generator)).map { _ in address(&generator, named: Bool.random(using: &generator)) },
            subject: sentence(&generator, words: 0...20).trimmingWhitespace(),
            messageID: "<reply-\(Int.random(in: 0...999_999, using: &generator))@ledgerdesk.example>",
            inReplyTo: references.last,
            references: references,
            date: Date(timeIntervalSince1970: Double(Int.random(in: 0...2_000_000_000, using: &generator))),
            text: lines.joined(separator: "\n"),
            attachments: attachments,
            extraHeaders: [
                ("Auto-Submitted", "auto-replied"), ("X-Ledgerdesk-Ticket", "T-\(Int.random(in: 1...99_999, using: &generator))"),
            ])
    }

    @Test("Rendered mail parses back to the same subject, text, addresses, ids and attachments")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 2026)
        for _ in 0..<400 {
            var outgoing = Self.mail(&generator)
            outgoing.subject = outgoing.subject.replacingOccurrences(of: "\t", with: " ")
            let bytes = outgoing.rendered()
            let mail = try MailParser.parse(bytes)
            #expect(mail.subject == outgoing.subject)
            #expect(mail.text == MailBody.normalizeText(outgoing.text))
            // Control characters (the tab among the pieces) in header values are written as spaces.
            let spaced = { (address: MailAddress) in
                MailAddress(address: address.address, displayName: address.displayName?.replacingOccurrences(of: "\t", with: " "))
            }
            #expect(mail.from == spaced(outgoing.from))
            #expect(mail.to == outgoing.to.map(spaced))
            #expect(mail.messageID == outgoing.messageID)
            #expect(mail.inReplyTo == (outgoing.inReplyTo.map { [$0] } ?? []))
            #expect(mail.references == outgoing.references)
            #expect(mail.attachments.map(\.bytes) == outgoing.attachments.map(\.bytes))
            #expect(mail.attachments.map(\.filename) == outgoing.attachments.map(\.filename))
            #expect(mail.attachments.map(\.contentType) == outgoing.attachments.map(\.contentType))
            #expect(mail.header("X-Ledgerdesk-Ticket") == outgoing.extraHeaders.last?.value)
            #expect(mail.kind == .autoReply(reason: "Auto-Submitted: auto-replied"))
            #expect(mail.defects.isEmpty, "\(mail.defects)")
            Self.checkLines(bytes)
        }
    }

    /// CRLF only, no line over 998 octets, header lines within 78 where folding could manage.
    static func checkLines(_ bytes: [UInt8]) {
        var inHeader = true
        var index = 0
        while index < bytes.count {
            var end = index
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            #expect(end < bytes.count, "the message ends with CRLF")
            #expect(end > index && bytes[end - 1] == 0x0D, "every line ends with CRLF")
            let length = end - index - 1
            #expect(length <= 998)
            if length == 0 { inHeader = false }
            if inHeader { #expect(length <= 78, "\(String(decoding: bytes[index..<end], as: UTF8.self))") }
            #expect(!bytes[index..<max(index, end - 1)].contains(0x0D), "no bare CR")
            index = end + 1
        }
    }

    @Test("Pure ASCII text in short lines goes as 7bit, other text as quoted-printable")
    func transferEncodings() throws {
        var mail = OutgoingMail(
            from: MailAddress(address: "support@ledgerdesk.example", displayName: "Support"), to: [MailAddress(address: "a@b.example")],
            subject: "[T-1] Hello", messageID: "<m1@ledgerdesk.example>", date: Date(timeIntervalSince1970: 1_764_579_600),
            text: "Hello,\n\nthe server is back.\n")
        var text = String(decoding: mail.rendered(), as: UTF8.self)
        #expect(text.contains("Content-Transfer-Encoding: 7bit\r\n"))
        #expect(text.contains("Date: Mon, 01 Dec 2025 09:00:00 +0000\r\n"))
        #expect(text.hasSuffix("\r\n\r\nHello,\r\n\r\nthe server is back.\r\n"))
        mail.text = "Grüße\nFrom here"
        text = String(decoding: mail.rendered(), as: UTF8.self)
        #expect(text.contains("Content-Transfer-Encoding: quoted-printable\r\n"))
        #expect(text.hasSuffix("\r\n\r\nGr=C3=BC=C3=9Fe\r\n=46rom here\r\n"))
    }

    @Test("Non-ASCII subjects and display names are RFC 2047 words, folded")
    func encodedHeaders() throws {
        let mail = OutgoingMail(
            from: MailAddress(address: "support@ledgerdesk.example", displayName: "Équipe Support"),
            to: [MailAddress(address: "a@b.example", displayName: "Doe, John")],
            subject: "Ваша заявка [T-7] получена и будет обработана в ближайшее время", messageID: "<m2@ledgerdesk.example>",
            text: "")
        let text = String(decoding: mail.rendered(), as: UTF8.self)
        #expect(text.contains("From: =?utf-8?B?"))
        #expect(text.contains("To: \"Doe, John\" <a@b.example>\r\n"))
        #expect(text.contains("Subject: =?utf-8?B?"))
        #expect(text.contains("?=\r\n =?utf-8?B?"))
        let parsed = try MailParser.parse(mail.rendered())
        #expect(parsed.subject == mail.subject)
        #expect(parsed.from == mail.from)
    }
}
