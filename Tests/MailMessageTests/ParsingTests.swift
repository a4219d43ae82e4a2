import Testing

@testable import MailMessage

@Suite("Mail parser: headers, encodings, charsets")
struct ParsingTests {
    static func parse(_ text: String) throws -> ParsedMail {
        try MailParser.parse(Array(text.utf8))
    }

    @Test("Folded headers are unfolded, bare LF works as CRLF does")
    func foldingAndLineEnds() throws {
        for lineEnd in ["\r\n", "\n"] {
            let mail = try Self.parse(
                ["From: Jane", " <jane@Customer.EXAMPLE>", "Subject: a long", "\tsubject", "X-Empty:", "", "body"].joined(
                    separator: lineEnd))
            #expect(mail.from == MailAddress(address: "jane@customer.example", displayName: "Jane"))
            #expect(mail.subject == "a long\tsubject")
            #expect(mail.header("x-empty") == "")
            #expect(mail.header("SUBJECT") == "a long\tsubject")
            #expect(mail.text == "body")
        }
    }

    @Test("Encoded words: B and Q, adjacent ones joined, bad ones kept verbatim")
    func encodedWords() {
        #expect(EncodedWords.decode("=?UTF-8?B?w6k=?= =?utf-8?q?=C3=A9_x?=", defects: nil) == "éé x")
        #expect(EncodedWords.decode("a =?utf-8?q?b?= c", defects: nil) == "a b c")
        #expect(EncodedWords.decode("=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", defects: nil) == "€")
        #expect(EncodedWords.decode("=?iso-8859-1?q?caf=E9?= =?koi8-r?b?wQ==?=", defects: nil) == "caféа")
        #expect(EncodedWords.decode("=?utf-8?x?abc?=", defects: nil) == "=?utf-8?x?abc?=")
        #expect(EncodedWords.decode("=?utf-8?b?!!!?=", defects: nil) == "=?utf-8?b?!!!?=")
        #expect(EncodedWords.decode("=?utf-8*en?q?hi?=", defects: nil) == "hi")
        #expect(EncodedWords.decode("\"=?utf-8?q?M=C3=BCller?=\" <m@x>", defects: nil) == "\"Müller\" <m@x>")
        let log = DefectLog()
        #expect(EncodedWords.decode("=?x-unknown?q?caf=E9?=", defects: log) == "café")
        #expect(log.list.count == 1)
    }

    @Test("Content-Type parameters: quoted strings, RFC 2231 continuations and charsets")
    func parameters() {
        let simple = HeaderParameters.parse("Text/Plain; Charset=\"ISO-8859-1\"; format=flowed (comment)", defects: nil)
        #expect(simple.value == "text/plain")
        #expect(simple["charset"] == "ISO-8859-1")
        let continued = HeaderParameters.parse(
            "attachment; filename*0*=utf-8''%E2%82%AC%20; filename*1=\"rate; 2026.txt\"; size=12", defects: nil)
        #expect(continued.value == "attachment")
        #expect(continued["filename"] == "€ rate; 2026.txt")
        #expect(continued["size"] == "12")
        let escaped = HeaderParameters.parse("inline; filename=\"a \\\"b\\\".txt\"", defects: nil)
        #expect(escaped["filename"] == "a \"b\".txt")
    }

    @Test(
        "Every generated charset decodes its characteristic letters",
        arguments: [
            ("iso-8859-2", [0xB1, 0xE6], "ąć"), ("iso-8859-5", [0xB0], "А"), ("iso-8859-7", [0xE1], "α"), ("iso-8859-15", [0xA4], "€"),
            ("iso-8859-16", [0xAA], "Ș"), ("windows-1250", [0x9A], "š"), ("windows-1251", [0xC0, 0xFF], "Ая"), ("cp1252", [0x80], "€"),
            ("windows-1253", [0xE1], "α"), ("windows-1254", [0xF0], "ğ"), ("windows-1255", [0xE0], "א"), ("windows-1256", [0xC7], "ا"),
            ("windows-1257", [0xE0], "ą"), ("windows-1258", [0x80], "€"), ("koi8-r", [0xC1], "а"), ("KOI8-U", [0xA4], "є"),
            ("latin1", [0xE9], "é"), ("iso-8859-9", [0xF0], "ğ"), ("iso-8859-11", [0xA1], "ก"), ("iso-8859-13", [0xE0], "ą"),
            ("ISO_8859-2:1987", [0xB1], "ą"), ("iso8859-15", [0xA4], "€"), ("latin2", [0xB1], "ą"), ("x-cp1251", [0xC0], "А"),
        ])
    func charsetTables(label: String, bytes: [UInt8], expected: String) {
        var defects: [String] = []
        #expect(Charset.decodeText(bytes, label: label, defects: &defects) == expected)
        #expect(defects.isEmpty)
    }

    @Test("Quoted-printable and base64 tolerate broken input")
    func transferEncodings() {
        var defects: [String] = []
        #expect(TransferEncoding.decodeQuotedPrintable(Array("a=3Db=\r\nc =\nd=ZZ=4".utf8), defects: &defects) == Array("a=bc d=ZZ=4".utf8))
        #expect(defects.count == 1)
        defects = []
        #expect(TransferEncoding.decodeBase64(Array("aGk".utf8), defects: &defects) == Array("hi".utf8))
        #expect(defects.isEmpty)
        #expect(TransferEncoding.decodeBase64(Array("aG*k=\n".utf8), defects: &defects) == Array("hi".utf8))
        #expect(defects.count == 1)
    }

    @Test("Address lists: quoted names with commas, comments, groups, invalid entries skipped")
    func addresses() {
        let list = MailAddress.parseList(
            "\"Doe, John\" <john@X.org>, jane@y.org (Jane Y), team: a@z.org, b@z.org;, not-an-address, <@route:r@w.org>")
        #expect(list.map(\.address) == ["john@x.org", "jane@y.org", "a@z.org", "b@z.org", "r@w.org"])
        #expect(list.first?.displayName == "Doe, John")
        #expect(list[1].displayName == "Jane Y")
        #expect(
            MailAddress.parse("=?utf-8?q?J=C3=B6rg?= <jorg@example.org>") == MailAddress(address: "jorg@example.org", displayName: "Jörg"))
        #expect(MailAddress.parse("nobody") == nil)
    }

    @Test("Refused messages: empty, and without a header section")
    func refusals() {
        #expect(throws: MailParseError(detail: "the message is empty")) { try MailParser.parse([]) }
        #expect(throws: MailParseError(detail: "the message is empty")) { try MailParser.parse(Array(" \r\n\r\n".utf8)) }
        #expect(throws: MailParseError(detail: "the message has no header section")) { try Self.parse("Hello, this is not mail\n") }
        #expect(throws: MailParseError(detail: "the message has no header section")) { try Self.parse("\r\nbody only") }
    }

    @Test("An mbox From line is skipped; a non-field line ends the header section as a defect")
    func headerOddities() throws {
        let mail = try Self.parse("From someone Tue Dec  1 10:00:00 2026\nFrom: a@b.example\nSubject: s\nthis is body\nmore\n")
        #expect(mail.from?.address == "a@b.example")
        #expect(mail.text == "this is body\nmore")
        #expect(mail.defects == ["a line in the header section is not a header field; the body starts there"])
    }

    @Test("Message ids are read with brackets, tolerating missing ones and comments")
    func messageIDs() throws {
        let mail = try Self.parse(
            "Message-ID: abc@host\nIn-Reply-To: <x@y> (comment)\nReferences: <a@b>\n <c@d>\t<e\n @f>\n\n")
        #expect(mail.messageID == "<abc@host>")
        #expect(mail.inReplyTo == ["<x@y>"])
        #expect(mail.references == ["<a@b>", "<c@d>", "<e@f>"])
    }

    @Test("Auto-Submitted: no is a person's mail; a null Return-Path alone is a bounce; List-Id is not automatic")
    func kinds() throws {
        #expect(try Self.parse("From: a@b.example\nAuto-Submitted: no\n\nhi").kind == .personal)
        #expect(try Self.parse("From: a@b.example\nList-Id: <support.groups.example>\n\nhi").kind == .personal)
        #expect(try Self.parse("From: a@b.example\nX-Autoreply: yes\n\nhi").kind == .autoReply(reason: "X-Autoreply: yes"))
        #expect(
            try Self.parse("Return-Path: <>\nFrom: a@b.example\nIn-Reply-To: <r1@ledgerdesk.example>\n\nsorry").kind
                == .bounce(MailBounce(originalMessageID: "<r1@ledgerdesk.example>")))
    }
}

@Suite("Mail parser: attachments and hostile input")
struct HostileInputTests {
    @Test("Attachment names lose their directories and control characters; unnamed parts are part-N")
    func attachmentNames() throws {
        let message = """
            From: a@b.example
            Content-Type: multipart/mixed; boundary=x

            --x
            Content-Type: text/plain

            text
            --x
            Content-Type: application/octet-stream
            Content-Disposition: attachment; filename="../../etc/passwd"

            one
            --x
            Content-Type: image/png

            two
            --x
            Content-Type: application/pdf; name="C:\\\\Users\\\\x\\\\bill\u{7}.pdf"

            three
            --x--
            """
        let mail = try MailParser.parse(Array(message.utf8))
        #expect(mail.text == "text")
        #expect(mail.attachments.map(\.filename) == ["passwd", "part-4", "bill.pdf"])
        #expect(mail.attachments.map(\.bytes) == [Array("one".utf8), Array("two".utf8), Array("three".utf8)])
    }

    @Test("Inputs built to be slow (unclosed tags, endless encoded words, many parameters) are read in one pass")
    func pathologicalInputs() throws {
        let html = "From: a@b.example\nContent-Type: text/html\n\n" + String(repeating: "<a href=\"x", count: 40_000)
        #expect(try MailParser.parse(Array(html.utf8)).text.isEmpty == false)
        let words = "From: a@b.example\nSubject: " + String(repeating: "=?utf-8?q?", count: 40_000) + "\n\nbody"
        #expect(try MailParser.parse(Array(words.utf8)).text == "body")
        let parameters = "From: a@b.example\nContent-Type: text/plain; " + String(repeating: "x*1=\"a\"; ", count: 40_000) + "\n\nbody"
        #expect(try MailParser.parse(Array(parameters.utf8)).text == "body")
        let ids = "From: a@b.example\nReferences: " + String(repeating: "<", count: 200_000) + "\n\nbody"
        #expect(try MailParser.parse(Array(ids.utf8)).references.isEmpty)
        let addresses = "From: a@b.example\nTo: " + String(repeating: "(", count: 100_000) + "\n\nbody"
        #expect(try MailParser.parse(Array(addresses.utf8)).to.isEmpty)
    }
}
