import Testing

@testable import MailMessage

@Suite("Mail corpus: real-world-shaped messages")
struct CorpusTests {
    @Test("Every corpus message parses")
    func everyMessageParses() throws {
        #expect(Corpus.names.count >= 40)
        for name in Corpus.names {
            do {
                _ = try Corpus.parse(name)
            } catch {
                Issue.record("\(name): \(error.detail)")
            }
        }
    }

    @Test("Thunderbird: flowed text is joined, the attribution and its quote are history, threading ids are read")
    func thunderbird() throws {
        let mail = try Corpus.parse("thunderbird-alternative.eml")
        #expect(mail.subject == "Re: [T-42] Mail server down")
        #expect(mail.newText == "Thanks, it works again after the restart. The queue is empty now.")
        #expect(mail.quoted == "On 30.11.26 18:02, Support wrote:\n> Hello Jane,\n>\n> we restarted the service.")
        #expect(mail.inReplyTo == ["<reply-7@ledgerdesk.example>"])
        #expect(mail.references == ["<c0@customer.example>", "<reply-7@ledgerdesk.example>"])
        #expect(mail.messageID == "<tb1@customer.example>")
        #expect(mail.kind == .personal)
        #expect(mail.attachments.isEmpty)
        #expect(mail.defects.isEmpty)
    }

    @Test("Outlook: Windows-1252 quoted-printable, the From/Sent block below underscores is history")
    func outlook() throws {
        let mail = try Corpus.parse("outlook-alternative.eml")
        #expect(mail.from == MailAddress(address: "hans.mueller@firma.example", displayName: "Müller, Hans"))
        #expect(mail.subject == "RE: Invoice 2026-11 – wrong amount")
        #expect(mail.newText == "Hello,\n\nthe amount is still wrong: 119,00 € instead of 99,00 €.\n\nRegards\nHans")
        #expect(mail.quoted?.hasPrefix("________________________________\nFrom: Support <support@ledgerdesk.example>\nSent:") == true)
    }

    @Test("Gmail: plain text is preferred, the two-line attribution starts the history")
    func gmail() throws {
        let mail = try Corpus.parse("gmail-alternative.eml")
        #expect(mail.from?.displayName == "Carlos Pérez")
        #expect(mail.text.hasPrefix("Yes, please restore yesterday's backup.\n\nOn Mon, 30 Nov 2026"))
        #expect(mail.newText == "Yes, please restore yesterday's backup.")
        #expect(mail.quoted?.hasPrefix("On Mon, 30 Nov 2026 at 17:00, Support <support@ledgerdesk.example>\nwrote:") == true)
        #expect(mail.messageID == "<CAF=abc123@mail.gmail.com>")
    }

    @Test("Apple Mail: the text parts around an inline image are joined, the image is an attachment")
    func appleMail() throws {
        let mail = try Corpus.parse("apple-mail-mixed.eml")
        #expect(mail.text == "Here is what I see:\n\nIt happens every time I log in.")
        #expect(mail.attachments.count == 1)
        #expect(mail.attachments.first?.filename == "Screenshot 2026-12-01.png")
        #expect(mail.attachments.first?.contentType == "image/png")
        #expect(mail.attachments.first?.bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true)
    }

    @Test("An HTML-only message is made readable text")
    func htmlOnly() throws {
        let mail = try Corpus.parse("html-only.eml")
        #expect(
            mail.text == """
                Order #17

                Items:

                - Domain & hosting
                - VPS <large>

                See the status page (https://status.example/incident/5) and https://example.org.

                > quoted line

                Café € ☺
                """)
    }

    @Test("An inline picture of a related HTML alternative is an attachment while the plain text is the body")
    func relatedInlineImage() throws {
        let mail = try Corpus.parse("alternative-related-inline-image.eml")
        #expect(mail.text == "See the picture.")
        #expect(mail.attachments.map(\.filename) == ["diagram.png"])
    }

    @Test("A forwarded message beside text is one attachment, forwarded.eml")
    func forwardedAttached() throws {
        let mail = try Corpus.parse("forwarded-attached.eml")
        #expect(mail.text == "Can you check this contract?")
        #expect(mail.attachments.map(\.filename) == ["forwarded.eml"])
        #expect(mail.attachments.first?.contentType == "message/rfc822")
        let inner = try MailParser.parse(mail.attachments.first?.bytes ?? [])
        #expect(inner.subject == "Your contract")
    }

    @Test("A forwarded message that is the only content becomes the body, its attachments the message's")
    func forwardedOnly() throws {
        let mail = try Corpus.parse("forwarded-only.eml")
        #expect(mail.text.hasPrefix("---------- Forwarded message ----------\nFrom: Sales <sales@vendor.example>\n"))
        #expect(mail.text.hasSuffix("\n\nPlease sign the contract."))
        #expect(mail.quoted == nil)
        #expect(mail.attachments.map(\.filename) == ["contract.pdf"])
        #expect(mail.attachments.first?.bytes.count == 333)
    }

    @Test(
        "8-bit charsets decode in bodies and subjects",
        arguments: [
            ("charset-iso-8859-1.eml", "Grüße aus Köln", "Sehr geehrte Damen und Herren,\nbitte prüfen Sie die Rechnung über 50 Euro."),
            ("charset-iso-8859-2.eml", "Zażółć gęślą jaźń", "Dzień dobry,\nproszę o pomoc z kontem."),
            ("charset-iso-8859-15.eml", "Facture 15 €", "Bonjour,\nle montant est de 15 € et non 20 €."),
            ("charset-windows-1251.eml", "Проблема с почтой", "Здравствуйте,\nпочта не работает с утра."),
            ("charset-windows-1252.eml", "“Quoted” subject — dash", "It’s broken – again… please “fix” it."),
        ])
    func charsets(name: String, subject: String, text: String) throws {
        let mail = try Corpus.parse(name)
        #expect(mail.subject == subject)
        #expect(mail.text == text)
        #expect(mail.defects.isEmpty)
    }

    @Test("A Postfix DSN is a bounce naming the failed recipient, the diagnostic and the bounced Message-ID")
    func postfixBounce() throws {
        let mail = try Corpus.parse("bounce-postfix-dsn.eml")
        guard case .bounce(let bounce) = mail.kind else {
            Issue.record("not a bounce: \(mail.kind)")
            return
        }
        #expect(bounce.failedRecipients == ["nobody@customer.example"])
        #expect(bounce.originalMessageID == "<reply-42-1@ledgerdesk.example>")
        #expect(
            bounce.diagnostic
                == "550 5.1.1 <nobody@customer.example>: Recipient address rejected: User unknown (in reply to RCPT TO command)")
    }

    @Test("A qmail bounce (no DSN) is read from its text")
    func qmailBounce() throws {
        let mail = try Corpus.parse("bounce-qmail.eml")
        #expect(
            mail.kind
                == .bounce(MailBounce(failedRecipients: ["gone@oldhost.example"], originalMessageID: "<reply-17-2@ledgerdesk.example>")))
    }

    @Test("Auto-Submitted and Precedence: bulk make auto-replies")
    func autoReplies() throws {
        #expect(try Corpus.parse("autoreply-auto-submitted.eml").kind == .autoReply(reason: "Auto-Submitted: auto-replied"))
        #expect(try Corpus.parse("vacation-precedence-bulk.eml").kind == .autoReply(reason: "Precedence: bulk"))
    }

    @Test("A multipart without its closing boundary keeps its parts and reports it")
    func missingClosingBoundary() throws {
        let mail = try Corpus.parse("broken-missing-closing-boundary.eml")
        #expect(mail.text == "The text.")
        #expect(
            mail.attachments == [MailAttachment(filename: "data.bin", contentType: "application/octet-stream", bytes: [0, 1, 2, 3, 4])])
        #expect(mail.defects == ["a multipart/mixed part has no closing boundary (part 1)"])
    }

    @Test("Bad base64 skips the stray characters and reports it")
    func badBase64() throws {
        let mail = try Corpus.parse("broken-bad-base64.eml")
        #expect(mail.text == "Hello worldMeh")
        #expect(mail.defects == ["invalid base64 data was skipped (part 1)"])
    }

    @Test("UTF-8 labelled ISO-8859-1 is read as UTF-8; an unknown charset as Latin-1; each a defect")
    func wrongCharsets() throws {
        let wrong = try Corpus.parse("broken-wrong-charset.eml")
        #expect(wrong.text == "Grüße, ça va?")
        #expect(wrong.subject == "Grüße")
        #expect(wrong.defects == ["8-bit text labelled iso-8859-1 is valid UTF-8 and was read as UTF-8"])
        let unknown = try Corpus.parse("broken-unknown-charset.eml")
        #expect(unknown.text == "café")
        #expect(unknown.defects == ["unknown charset \"x-no-such-charset\", read as Latin-1"])
    }

    @Test("A multipart without a boundary is read as text, an unterminated quote is tolerated")
    func nestedWithoutBoundary() throws {
        let mail = try Corpus.parse("broken-nested-no-boundary.eml")
        #expect(mail.text == "no boundary here\n\nunterminated quote in the charset")
        #expect(mail.defects == ["a multipart/alternative part without a boundary (part 2) was read as text/plain"])
    }

    @Test("A message without a body, or without even the blank line, has empty text")
    func noBody() throws {
        for name in ["no-body.eml", "header-only.eml"] {
            let mail = try Corpus.parse(name)
            #expect(mail.text == "")
            #expect(mail.newText == "")
            #expect(mail.quoted == nil)
            #expect(mail.from?.address == "a@customer.example")
        }
        #expect(try Corpus.parse("header-only.eml").subject == "Only headers")
    }

    @Test("RFC 2231 names, split encoded words, groups and raw UTF-8 headers are read")
    func encodings() throws {
        let mail = try Corpus.parse("rfc2231-and-encoded-words.eml")
        #expect(mail.subject == "Späte € Rechnung€")
        #expect(mail.from == MailAddress(address: "bjorn@customer.example", displayName: "Björn"))
        #expect(mail.to.map(\.address) == ["support@ledgerdesk.example", "John.Doe@customer.example"])
        #expect(mail.to.last?.displayName == "Doe, John")
        #expect(mail.cc == [MailAddress(address: "emilie@customer.example", displayName: "Émilie")])
        #expect(mail.text == "Siehe Anhänge. Ein sehr langer Satz, der mit einem weichen Zeilenumbruch weitergeht.")
        #expect(mail.attachments.map(\.filename) == ["Rechnung März.pdf", "übersicht 2026.csv"])
        #expect(mail.attachments.map(\.contentType) == ["application/pdf", "text/csv"])
        #expect(mail.attachments.last?.bytes == Array("a,b\r\n1,2".utf8))
    }

    @Test("The signature of a multipart/signed is not an attachment")
    func signed() throws {
        let mail = try Corpus.parse("signed-pgp.eml")
        #expect(mail.text == "This message is signed.")
        #expect(mail.attachments.isEmpty)
    }

    @Test("CPython's samples: a DSN, a digest, a message/rfc822 message")
    func cpythonSamples() throws {
        guard case .bounce(let bounce) = try Corpus.parse("cpython-msg_16.eml").kind else {
            Issue.record("msg_16 is no bounce")
            return
        }
        #expect(bounce.failedRecipients == ["jangel1@cougar.noc.ucla.edu"])
        #expect(bounce.originalMessageID == "<002001c144a6$8752e060$56104586@oxy.edu>")
        let digest = try Corpus.parse("cpython-msg_02.eml")
        #expect(digest.attachments.count == 5)
        #expect(digest.attachments.allSatisfy { $0.contentType == "message/rfc822" })
        let enclosing = try Corpus.parse("cpython-msg_11.eml")
        #expect(enclosing.text.hasSuffix("Here is the body of the message."))
    }
}
