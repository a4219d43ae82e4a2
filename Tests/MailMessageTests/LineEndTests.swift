import Testing

@testable import MailMessage

/// Mail on the wire has CRLF line ends (a webhook's `message/rfc822`, an MTA that does not
/// convert): its text must read as the same LF text, quoted history and flowed lines included.
@Suite struct LineEndTests {
    static let reply = """
        From: Dana <dana@customer.test>
        To: support@desk.test
        Subject: Re: [T-4] VPS down
        Message-ID: <crlf@customer.test>
        Content-Type: text/plain; charset=utf-8

        Thanks, it works.

        On Mon, Dec 1, 2026 at 10:00 AM Support <support@desk.test>
        wrote:

        > We restarted it.
        > Tell us if it fails again.

        """

    static func crlf(_ text: String) -> [UInt8] {
        Array(text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n").utf8)
    }

    @Test func aCRLFReplyHasItsQuotedHistorySplitOffLikeTheLFOne() throws {
        let lf = try MailParser.parse(Array(Self.reply.utf8))
        let crlf = try MailParser.parse(Self.crlf(Self.reply))
        #expect(crlf.newText == "Thanks, it works.")
        #expect(crlf.quoted == lf.quoted)
        #expect(crlf.quoted?.hasPrefix("On Mon, Dec 1, 2026") == true)
        #expect(crlf.text == lf.text)
        #expect(!crlf.text.unicodeScalars.contains("\r"))
    }

    @Test func aCRLFOutlookReplyIsSplitAtItsOriginalMessageSeparator() throws {
        let message = """
            From: bob@customer.test
            Subject: RE: [T-1]
            Content-Type: text/plain; charset=windows-1252

            New text.

            -----Original Message-----
            From: Support <support@desk.test>
            Sent: Monday

            old text
            """
        let parsed = try MailParser.parse(Self.crlf(message))
        #expect(parsed.newText == "New text.")
        #expect(parsed.quoted == "-----Original Message-----\nFrom: Support <support@desk.test>\nSent: Monday\n\nold text")
    }

    @Test func aCRLFFlowedTextIsUnflowed() throws {
        let message = """
            From: erin@customer.test
            Subject: flowed
            Content-Type: text/plain; charset=utf-8; format=flowed

            One long line that was \nwrapped by the client.
            Next paragraph.
            """
        let parsed = try MailParser.parse(Self.crlf(message))
        #expect(parsed.text == "One long line that was wrapped by the client.\nNext paragraph.")
    }

    @Test func aLoneCarriageReturnIsKept() {
        #expect(MailBody.lfLineEnds(Array("a\r\nb\rc\r".utf8)) == Array("a\nb\rc\r".utf8))
        #expect(MailBody.lfLineEnds(Array("\r\n\r\n".utf8)) == Array("\n\n".utf8))
    }
}
