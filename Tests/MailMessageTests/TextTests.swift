import Testing

@testable import MailMessage

@Suite("Mail text: quoted history and HTML")
struct TextTests {
    @Test("History starts at the attribution, the original-message separator or a German attribution")
    func historyMarkers() {
        let cases: [(String, String, String?)] = [
            ("Fine now.\n\nOn Tue, Dec 1, 2026 Support wrote:\n> old", "Fine now.", "On Tue, Dec 1, 2026 Support wrote:\n> old"),
            (
                "Danke!\n\nAm 01.12.2026 um 10:00 schrieb Support <s@x>:\n> alt", "Danke!",
                "Am 01.12.2026 um 10:00 schrieb Support <s@x>:\n> alt"
            ),
            (
                "Yes.\n-----Original Message-----\nFrom: S\nSent: now\n\nold", "Yes.",
                "-----Original Message-----\nFrom: S\nSent: now\n\nold"
            ),
            ("Top.\n\n> quoted\n> more\n", "Top.", "> quoted\n> more"),
            ("No history here.\nJust text.", "No history here.\nJust text.", nil),
        ]
        for (text, new, quoted) in cases {
            let split = QuotedHistory.split(text)
            #expect(split.new == new)
            #expect(split.quoted == quoted)
        }
    }

    @Test("Interleaved answers are new text, not history; a forwarded message is not history")
    func notHistory() {
        let interleaved = "On Mon, Support wrote:\n> Is it down?\nYes.\n> Since when?\nSince 9:00."
        #expect(QuotedHistory.split(interleaved).quoted == nil)
        let forwarded = "FYI\n\n---------- Forwarded message ---------\nFrom: X <x@y>\nDate: Mon\nSubject: s\n\nbody"
        #expect(QuotedHistory.split(forwarded).quoted == nil)
    }

    @Test("HTML: paragraphs, breaks, lists, links, entities; scripts, styles and comments dropped")
    func html() {
        let html = """
            <html><head><style>p{}</style></head><body><!-- hidden --><p>One&nbsp;two &amp; three</p>
            <p>Line<br>break</p><ol><li>first</li><li>second</li></ol><script>var x = "<p>no</p>";</script>
            <p><a href="https://x.example/a">link</a> <a href="mailto:a@b.example">a@b.example</a></p>
            <pre>  keep
              spaces</pre><table><tr><td>a</td><td>b</td></tr></table>&#x41;&#66;&unknown;</body></html>
            """
        #expect(
            HTMLText.text(html) == """
                One two & three

                Line
                break

                - first
                - second

                link (https://x.example/a) a@b.example

                  keep
                  spaces

                a b

                AB&unknown;
                """)
    }

    @Test("Broken HTML never fails")
    func brokenHTML() {
        for html in ["<", "<<a href=", "<p", "&#xFFFFFFFF;", "<a href='x'>", "</a></b></blockquote>", "<script>", "<!--"] {
            _ = HTMLText.text(html)
        }
    }
}

@Suite("Mail text: HTML-only replies")
struct HTMLReplyTests {
    @Test("An HTML-only Outlook reply: its From/Sent block starts the history")
    func outlookHTML() throws {
        let message = """
            From: a@b.example
            Content-Type: text/html; charset=utf-8

            <html><body><p>Still broken.</p><div style="border-top:solid #E1E1E1 1.0pt"><p><b>From:</b> Support \
            &lt;support@ledgerdesk.example&gt;<br><b>Sent:</b> Monday, 30 November 2026 17:00<br><b>To:</b> A<br>\
            <b>Subject:</b> [T-3] Answer</p></div><p>Please restart.</p></body></html>
            """
        let mail = try MailParser.parse(Array(message.utf8))
        #expect(mail.newText == "Still broken.")
        #expect(mail.quoted?.hasPrefix("From: Support <support@ledgerdesk.example>\nSent: Monday") == true)
        #expect(mail.quoted?.hasSuffix("Please restart.") == true)
    }

    @Test("An HTML-only Gmail reply: the attribution and the blockquote are history")
    func gmailHTML() throws {
        let message = """
            From: a@b.example
            Content-Type: text/html; charset=utf-8

            <div dir="ltr">Thanks!</div><br><div class="gmail_quote"><div class="gmail_attr">On Mon, 30 Nov 2026 at 17:00, \
            Support wrote:<br></div><blockquote class="gmail_quote">Fixed.<br>Regards</blockquote></div>
            """
        let mail = try MailParser.parse(Array(message.utf8))
        #expect(mail.newText == "Thanks!")
        #expect(mail.quoted == "On Mon, 30 Nov 2026 at 17:00, Support wrote:\n> Fixed.\n> Regards")
    }
}
