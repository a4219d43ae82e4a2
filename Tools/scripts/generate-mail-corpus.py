#!/usr/bin/env python3
"""Writes the generated part of Tests/MailMessageTests/Corpus: messages shaped as common mail
clients, MTAs and broken senders write them, made with Python's `email` package (and by hand
where the point is to be broken). Deterministic: fixed dates, ids and boundaries. The messages
copied from CPython's test data (msg_*.txt) are not written here; see Corpus/README.md.

    python3 Tools/scripts/generate-mail-corpus.py
"""
import base64
import os
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.header import Header
from email import policy

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "MailMessageTests", "Corpus")
CRLF = policy.SMTP
LF = policy.default

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n" + bytes(range(256))


def write(name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(OUT, name), "wb") as out:
        out.write(data)


def base_headers(msg, subject, sender="Jane Customer <jane@customer.example>", msgid="<c1@customer.example>"):
    msg["From"] = sender
    msg["To"] = "Support <support@ledgerdesk.example>"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 +0100"
    msg["Message-ID"] = msgid


def thunderbird():
    msg = EmailMessage()
    base_headers(msg, "Re: [T-42] Mail server down", msgid="<tb1@customer.example>")
    msg["In-Reply-To"] = "<reply-7@ledgerdesk.example>"
    msg["References"] = "<c0@customer.example> <reply-7@ledgerdesk.example>"
    msg["User-Agent"] = "Mozilla Thunderbird"
    plain = ("Thanks, it works again after the restart. The queue is empty \n"
             "now.\n\n"
             "On 30.11.26 18:02, Support wrote:\n"
             "> Hello Jane,\n"
             ">\n"
             "> we restarted the service.\n")
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="8bit")
    msg.replace_header("Content-Type", 'text/plain; charset="UTF-8"; format=flowed')
    msg.add_alternative("<html><body><p>Thanks, it works again after the restart. The queue is empty now.</p>"
                        "<div class=\"moz-cite-prefix\">On 30.11.26 18:02, Support wrote:</div>"
                        "<blockquote type=\"cite\">Hello Jane,<br><br>we restarted the service.</blockquote></body></html>",
                        subtype="html")
    msg.set_boundary("------------tb0123456789")
    write("thunderbird-alternative.eml", msg.as_bytes(policy=CRLF))


def outlook():
    msg = MIMEMultipart("alternative", boundary="_000_outlook_boundary_")
    base_headers(msg, "RE: Invoice 2026-11 – wrong amount", sender="\"Müller, Hans\" <hans.mueller@firma.example>",
                 msgid="<AM0PR01MB1234@eurprd01.prod.outlook.com>")
    msg.replace_header("Subject", Header("RE: Invoice 2026-11 – wrong amount", "utf-8").encode())
    msg.replace_header("From", "=?iso-8859-1?Q?M=FCller=2C_Hans?= <hans.mueller@firma.example>")
    msg["Thread-Index"] = "AQHZ1234567890"
    plain = ("Hello,\r\n\r\nthe amount is still wrong: 119,00 € instead of 99,00 €.\r\n\r\nRegards\r\nHans\r\n\r\n"
             "________________________________\r\nFrom: Support <support@ledgerdesk.example>\r\n"
             "Sent: Monday, November 30, 2026 5:00 PM\r\nTo: Müller, Hans <hans.mueller@firma.example>\r\n"
             "Subject: Invoice 2026-11\r\n\r\nDear customer, your invoice is attached.\r\n")
    msg.attach(MIMEText(plain, "plain", "windows-1252"))
    html = ("<html><head><style>p {margin:0}</style></head><body><p>Hello,</p><p>the amount is still wrong: "
            "119,00&nbsp;&euro; instead of 99,00&nbsp;&euro;.</p><p>Regards<br>Hans</p>"
            "<hr><p><b>From:</b> Support</p></body></html>")
    msg.attach(MIMEText(html, "html", "windows-1252"))
    write("outlook-alternative.eml", msg.as_bytes(policy=CRLF))


def gmail():
    msg = EmailMessage()
    base_headers(msg, "Re: Backup restore", sender="Carlos Pérez <carlos@gmail.example>", msgid="<CAF=abc123@mail.gmail.com>")
    msg["In-Reply-To"] = "<reply-9@ledgerdesk.example>"
    msg["References"] = "<reply-9@ledgerdesk.example>"
    msg.set_content("Yes, please restore yesterday's backup.\n\n"
                    "On Mon, 30 Nov 2026 at 17:00, Support <support@ledgerdesk.example>\nwrote:\n\n"
                    "> Should we restore the backup?\n>\n")
    msg.add_alternative('<div dir="ltr">Yes, please restore yesterday&#39;s backup.</div><br>'
                        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 30 Nov 2026 at 17:00, Support '
                        '&lt;<a href="mailto:support@ledgerdesk.example">support@ledgerdesk.example</a>&gt; wrote:<br></div>'
                        '<blockquote class="gmail_quote">Should we restore the backup?</blockquote></div>', subtype="html")
    msg.set_boundary("000000000000abcdef0123456789")
    write("gmail-alternative.eml", msg.as_bytes(policy=CRLF))


def apple_mail():
    msg = MIMEMultipart("mixed", boundary="Apple-Mail=_11111111-2222-3333-4444-555555555555")
    base_headers(msg, "Screenshot of the error", msgid="<A1B2C3D4@customer.example>")
    msg["X-Mailer"] = "Apple Mail (2.3774.200.91.1.1)"
    msg.attach(MIMEText("Here is what I see:\n", "plain", "us-ascii"))
    image = MIMEImage(PNG, "png")
    image.add_header("Content-Disposition", "inline", filename="Screenshot 2026-12-01.png")
    msg.attach(image)
    msg.attach(MIMEText("\nIt happens every time I log in.\n", "plain", "us-ascii"))
    write("apple-mail-mixed.eml", msg.as_bytes(policy=LF))


def html_only():
    msg = EmailMessage()
    base_headers(msg, "HTML only", msgid="<html1@customer.example>")
    msg.set_content("<html><head><title>x</title><style>.a{color:red}</style><script>alert(1)</script></head><body>"
                    "<h1>Order&nbsp;#17</h1><p>Items:</p><ul><li>Domain &amp; hosting</li><li>VPS &lt;large&gt;</li></ul>"
                    "<p>See <a href=\"https://status.example/incident/5\">the status page</a> and "
                    "<a href=\"https://example.org\">https://example.org</a>.</p>"
                    "<blockquote>quoted line</blockquote><p>Caf&eacute; &#8364; &#x263A;</p></body></html>", subtype="html")
    write("html-only.eml", msg.as_bytes(policy=CRLF))


def forwarded(only):
    inner = EmailMessage()
    base_headers(inner, "Your contract", sender="Sales <sales@vendor.example>", msgid="<inner-1@vendor.example>")
    inner.set_content("Please sign the contract.\n")
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="contract.pdf")
    inner.set_boundary("inner-boundary")
    outer = MIMEMultipart("mixed", boundary="outer-boundary")
    base_headers(outer, "Fwd: Your contract", msgid="<fwd-%s@customer.example>" % ("only" if only else "att"))
    if not only:
        outer.attach(MIMEText("Can you check this contract?\n", "plain", "utf-8"))
    outer.attach(MIMEMessage(inner))
    write("forwarded-%s.eml" % ("only" if only else "attached"), outer.as_bytes(policy=CRLF))


def charsets():
    cases = [
        ("iso-8859-1", "Grüße aus Köln", "Sehr geehrte Damen und Herren,\nbitte prüfen Sie die Rechnung über 50 €uro.\n".replace("€", "E"), "quoted-printable", "q"),
        ("iso-8859-2", "Zażółć gęślą jaźń", "Dzień dobry,\nproszę o pomoc z kontem.\n", "8bit", "b"),
        ("iso-8859-15", "Facture 15 €", "Bonjour,\nle montant est de 15 € et non 20 €.\n", "quoted-printable", "q"),
        ("windows-1251", "Проблема с почтой", "Здравствуйте,\nпочта не работает с утра.\n", "base64", "b"),
        ("windows-1252", "“Quoted” subject — dash", "It’s broken – again… please “fix” it.\n", "8bit", "q"),
    ]
    for charset, subject, body, cte, header_encoding in cases:
        msg = MIMEText(body, "plain", charset)
        if cte != msg["Content-Transfer-Encoding"]:
            del msg["Content-Transfer-Encoding"]
            payload = body.encode(charset)
            if cte == "base64":
                msg.set_payload(base64.encodebytes(payload).decode("ascii"))
            elif cte == "quoted-printable":
                import quopri
                msg.set_payload(quopri.encodestring(payload).decode("ascii"))
            else:
                msg.set_payload(payload.decode(charset))
                msg.set_charset(None)
            msg["Content-Transfer-Encoding"] = cte
            msg.replace_header("Content-Type", "text/plain; charset=\"%s\"" % charset)
        base_headers(msg, "x", msgid="<%s@customer.example>" % charset)
        encoded = Header(subject, charset).encode() if header_encoding == "b" else \
            "=?%s?q?%s?=" % (charset, "".join(c if c.isalnum() and ord(c) < 128 else "=%02X" % b for c in subject
                                               for b in ([ord(c)] if c.isalnum() and ord(c) < 128 else c.encode(charset))))
        msg.replace_header("Subject", encoded.replace("=?q?", "?q?"))
        data = msg.as_bytes(policy=CRLF) if cte != "8bit" else None
        if data is None:
            head = msg.as_string(policy=CRLF).split("\r\n\r\n", 1)[0]
            data = head.encode("ascii") + b"\r\n\r\n" + body.replace("\n", "\r\n").encode(charset)
        write("charset-%s.eml" % charset, data)


def dsn():
    text = ("This is the mail system at host mail.ledgerdesk.example.\n\nI'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients. It's attached below.\n\n                   The mail system\n\n"
            "<nobody@customer.example>: host mx.customer.example[192.0.2.1] said: 550 5.1.1\n"
            "    <nobody@customer.example>: Recipient address rejected: User unknown (in reply\n    to RCPT TO command)\n")
    status = ("Reporting-MTA: dns; mail.ledgerdesk.example\nX-Postfix-Queue-ID: 4F1A2B3C4D\n"
              "X-Postfix-Sender: rfc822; support@ledgerdesk.example\nArrival-Date: Tue,  1 Dec 2026 10:00:00 +0100 (CET)\n\n"
              "Final-Recipient: rfc822; nobody@customer.example\nOriginal-Recipient: rfc822;nobody@customer.example\n"
              "Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.customer.example\n"
              "Diagnostic-Code: smtp; 550 5.1.1 <nobody@customer.example>: Recipient address\n"
              "    rejected: User unknown (in reply to RCPT TO command)\n")
    original = ("Return-Path: <support@ledgerdesk.example>\nFrom: Support <support@ledgerdesk.example>\n"
                "To: nobody@customer.example\nSubject: [T-42] Your ticket\nMessage-ID: <reply-42-1@ledgerdesk.example>\n"
                "Date: Tue, 01 Dec 2026 09:59:00 +0100\n")
    raw = ("Return-Path: <>\r\nDate: Tue,  1 Dec 2026 10:00:01 +0100 (CET)\r\n"
           "From: MAILER-DAEMON@mail.ledgerdesk.example (Mail Delivery System)\r\n"
           "Subject: Undelivered Mail Returned to Sender\r\nTo: support@ledgerdesk.example\r\nAuto-Submitted: auto-replied\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n"
           "\tboundary=\"4F1A2B3C4D.1764579601/mail.ledgerdesk.example\"\r\nContent-Transfer-Encoding: 8bit\r\n"
           "Message-Id: <20261201090001.5E6F7A8B9C@mail.ledgerdesk.example>\r\n\r\n"
           "This is a MIME-encapsulated message.\r\n\r\n"
           "--4F1A2B3C4D.1764579601/mail.ledgerdesk.example\r\nContent-Description: Notification\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + text.replace("\n", "\r\n") +
           "\r\n--4F1A2B3C4D.1764579601/mail.ledgerdesk.example\r\nContent-Description: Delivery report\r\n"
           "Content-Type: message/delivery-status\r\n\r\n" + status.replace("\n", "\r\n") +
           "\r\n--4F1A2B3C4D.1764579601/mail.ledgerdesk.example\r\nContent-Description: Undelivered Message Headers\r\n"
           "Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + original.replace("\n", "\r\n") +
           "\r\n--4F1A2B3C4D.1764579601/mail.ledgerdesk.example--\r\n")
    write("bounce-postfix-dsn.eml", raw)
    qmail = ("Return-Path: <>\nFrom: MAILER-DAEMON@mx.oldhost.example\nTo: support@ledgerdesk.example\n"
             "Subject: failure notice\nDate: 1 Dec 2026 09:00:00 -0000\nMessage-ID: <q1@mx.oldhost.example>\n\n"
             "Hi. This is the qmail-send program at mx.oldhost.example.\n"
             "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
             "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
             "<gone@oldhost.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
             "--- Below this line is a copy of the message.\n\nReturn-Path: <support@ledgerdesk.example>\n"
             "Message-ID: <reply-17-2@ledgerdesk.example>\nSubject: [T-17] Answer\n\nHello.\n")
    write("bounce-qmail.eml", qmail)


def auto_replies():
    msg = EmailMessage()
    base_headers(msg, "Automatic reply: [T-42] Your ticket", msgid="<oof1@customer.example>")
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content("I am out of the office until 7 December.\n")
    write("autoreply-auto-submitted.eml", msg.as_bytes(policy=CRLF))
    msg = EmailMessage()
    base_headers(msg, "On vacation", msgid="<vac1@customer.example>")
    msg["Precedence"] = "bulk"
    msg.set_content("I am on vacation and will read your mail later.\n")
    write("vacation-precedence-bulk.eml", msg.as_bytes(policy=LF))


def broken():
    write("broken-missing-closing-boundary.eml",
          "From: a@customer.example\r\nTo: support@ledgerdesk.example\r\nSubject: No end\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nThe text.\r\n"
          "--b1\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          "AAECAwQ=\r\n")
    write("broken-bad-base64.eml",
          "From: a@customer.example\nTo: support@ledgerdesk.example\nSubject: Bad base64\nMIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
          "SGVsbG8g!!d29y#bGQ=\nTWVo\n")
    write("broken-wrong-charset.eml",
          b"From: a@customer.example\r\nTo: support@ledgerdesk.example\r\nSubject: =?iso-8859-1?Q?Gr=C3=BC=C3=9Fe?=\r\n"
          b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
          + "Grüße, ça va?\r\n".encode("utf-8"))
    write("broken-unknown-charset.eml",
          b"From: a@customer.example\r\nTo: support@ledgerdesk.example\r\nSubject: Unknown\r\nMIME-Version: 1.0\r\n"
          b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\ncaf\xe9\r\n")
    write("no-body.eml", "From: a@customer.example\r\nTo: support@ledgerdesk.example\r\nSubject: Empty\r\n\r\n")
    write("header-only.eml", "From: a@customer.example\r\nTo: support@ledgerdesk.example\r\nSubject: Only headers")
    write("broken-nested-no-boundary.eml",
          "From: a@customer.example\nSubject: Nested\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\n"
          "Content-Type: multipart/alternative\n\nno boundary here\n--outer\nContent-Type: text/plain; charset=\"utf-8\n\n"
          "unterminated quote in the charset\n--outer--\n")


def encodings():
    # RFC 2231 file names (one with continuations), a subject whose UTF-8 character is split over
    # two encoded words, a folded To with a group, raw 8-bit UTF-8 in a header.
    raw = ("From: =?utf-8?q?Bj=C3=B6rn?= <bjorn@customer.example>\r\n"
           "To: support@ledgerdesk.example, \"Doe, John\" <John.Doe@Customer.EXAMPLE>,\r\n"
           " undisclosed-recipients:;\r\n"
           "Cc: Émilie <emilie@customer.example>\r\n"
           "Subject: =?utf-8?B?U3DDpHRl?= =?utf-8?B?IOKCrA==?=\r\n =?utf-8?Q?_Rechnung=E2?= =?utf-8?Q?=82=AC?=\r\n"
           "Message-ID: <enc1@customer.example>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n"
           "--=_b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           "Siehe Anh=C3=A4nge. Ein sehr langer Satz, der mit einem weichen Zeilenumbruch =\r\nweitergeht.\r\n"
           "--=_b\r\nContent-Type: application/pdf; name=\"=?utf-8?Q?Rechnung_M=C3=A4rz.pdf?=\"\r\n"
           "Content-Disposition: attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PDF).decode("ascii").replace("\n", "\r\n") +
           "--=_b\r\nContent-Type: text/csv\r\n"
           "Content-Disposition: attachment;\r\n filename*0*=iso-8859-1''%FCbersicht%20;\r\n filename*1=\"2026.csv\"\r\n\r\n"
           "a,b\r\n1,2\r\n--=_b--\r\n")
    write("rfc2231-and-encoded-words.eml", raw.encode("utf-8"))


def signed_and_related():
    msg = MIMEMultipart("signed", boundary="sig-boundary", protocol="application/pgp-signature", micalg="pgp-sha256")
    base_headers(msg, "Signed", msgid="<signed1@customer.example>")
    msg.attach(MIMEText("This message is signed.\n", "plain", "utf-8"))
    signature = MIMEApplication(b"-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n", "pgp-signature",
                                name="signature.asc")
    msg.attach(signature)
    write("signed-pgp.eml", msg.as_bytes(policy=CRLF))
    related = MIMEMultipart("related", boundary="rel")
    related.attach(MIMEText('<p>See the picture: <img src="cid:img1" alt="diagram"></p>', "html", "utf-8"))
    image = MIMEImage(PNG, "png")
    image.add_header("Content-ID", "<img1>")
    image.add_header("Content-Disposition", "inline", filename="diagram.png")
    related.attach(image)
    alternative = MIMEMultipart("alternative", boundary="alt")
    alternative.attach(MIMEText("See the picture.\n", "plain", "utf-8"))
    alternative.attach(related)
    base_headers(alternative, "Inline picture", msgid="<related1@customer.example>")
    write("alternative-related-inline-image.eml", alternative.as_bytes(policy=CRLF))


def main():
    os.makedirs(OUT, exist_ok=True)
    thunderbird()
    outlook()
    gmail()
    apple_mail()
    html_only()
    forwarded(False)
    forwarded(True)
    charsets()
    dsn()
    auto_replies()
    broken()
    encodings()
    signed_and_related()


if __name__ == "__main__":
    main()
