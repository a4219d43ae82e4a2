import Foundation
import MailMessage
import NIOCore
import NIOPosix
import Testing

@testable import SMTPDelivery

/// The client against a real SMTP server: Tools/scripts/smtp-sink.py on aiosmtpd, started per test.
@Suite(.serialized)
struct SMTPClientTests {
    static let message = Array(
        ("From: Ledgerdesk <support@desk.test>\r\nTo: carol@customer.test\r\nSubject: Your VPS\r\n"
            + "Message-ID: <r1@desk.test>\r\n\r\nHello Carol,\n.a line that begins with a dot\r\n..two dots\n.\n"
            + "caf\u{E9} in UTF-8\rlast line without an ending").utf8)

    static func envelope(to recipients: [String] = ["carol@customer.test"]) -> MailEnvelope {
        MailEnvelope(from: "support@desk.test", recipients: recipients, message: message)
    }

    static func configuration(_ port: Int, _ change: (inout SMTPConfiguration) -> Void = { _ in }) -> SMTPConfiguration {
        var configuration = SMTPConfiguration(host: "127.0.0.1", port: port)
        configuration.timeout = .seconds(120)
        change(&configuration)
        return configuration
    }

    @Test func plainDeliveryArrivesIntactWithDotStuffingAndCRLFLines() async throws {
        let sink = try SMTPSink()
        let reply = try await SMTPClient(configuration: Self.configuration(sink.port)).send(Self.envelope())
        #expect(reply == "250 2.0.0 Ok: queued as S1")
        let messages = try sink.messages()
        try #require(messages.count == 1)
        let expected = Array(
            ("From: Ledgerdesk <support@desk.test>\r\nTo: carol@customer.test\r\nSubject: Your VPS\r\n"
                + "Message-ID: <r1@desk.test>\r\n\r\nHello Carol,\r\n.a line that begins with a dot\r\n..two dots\r\n.\r\n"
                + "caf\u{E9} in UTF-8\r\nlast line without an ending\r\n").utf8)
        #expect(messages[0].bytes == expected)
        #expect(messages[0].envelope["mail_from"] as? String == "support@desk.test")
        #expect(messages[0].envelope["rcpt_tos"] as? [String] == ["carol@customer.test"])
        let options = messages[0].envelope["mail_options"] as? [String] ?? []
        #expect(options.contains("BODY=8BITMIME"))
        #expect(options.contains("SIZE=\(expected.count)"))
        #expect(messages[0].envelope["tls"] as? Bool == false)
    }

    @Test func aSevenBitMessageIsSentWithoutBody8BitMIMEToSeveralRecipients() async throws {
        let sink = try SMTPSink()
        let envelope = MailEnvelope(from: "", recipients: ["a@x.test", "b@x.test"], message: Array("Subject: x\n\nplain\n".utf8))
        _ = try await SMTPClient(configuration: Self.configuration(sink.port)).send(envelope)
        let messages = try sink.messages()
        try #require(messages.count == 1)
        #expect(messages[0].bytes == Array("Subject: x\r\n\r\nplain\r\n".utf8))
        #expect(messages[0].envelope["rcpt_tos"] as? [String] == ["a@x.test", "b@x.test"])
        #expect(messages[0].envelope["mail_from"] as? String == "<>")
        #expect(!(messages[0].envelope["mail_options"] as? [String] ?? []).contains("BODY=8BITMIME"))
    }

    @Test func fallsBackToHeloWhenEhloIsRefused() async throws {
        let sink = try SMTPSink(arguments: ["--refuse-ehlo"])
        _ = try await SMTPClient(configuration: Self.configuration(sink.port)).send(Self.envelope())
        let messages = try sink.messages()
        try #require(messages.count == 1)
        #expect(messages[0].envelope["mail_options"] as? [String] == [])
        #expect(messages[0].bytes.count > 100)
    }

    @Test func startTLSWhenOfferedEncryptsTheSession() async throws {
        let certificate = try SelfSignedCertificate()
        let sink = try SMTPSink(arguments: ["--starttls", certificate.certificate, certificate.key])
        let configuration = Self.configuration(sink.port) { $0.verifyCertificates = false }
        _ = try await SMTPClient(configuration: configuration).send(Self.envelope())
        let messages = try sink.messages()
        try #require(messages.count == 1)
        #expect(messages[0].envelope["tls"] as? Bool == true)
        #expect(messages[0].bytes.count > 100)
    }

    @Test func aSelfSignedCertificateIsRefusedWhenCertificatesAreVerified() async throws {
        let certificate = try SelfSignedCertificate()
        let sink = try SMTPSink(arguments: ["--starttls", certificate.certificate, certificate.key])
        let error = await #expect(throws: MailDeliveryError.self) {
            _ = try await SMTPClient(configuration: Self.configuration(sink.port)).send(Self.envelope())
        }
        #expect(error?.permanent == false)
        #expect(try sink.messages().isEmpty)
    }

    @Test func startTLSRequiredFailsTransientlyWhenTheServerDoesNotOfferIt() async throws {
        let sink = try SMTPSink()
        let configuration = Self.configuration(sink.port) { $0.tls = .startTLSRequired }
        let error = await #expect(throws: MailDeliveryError.self) {
            _ = try await SMTPClient(configuration: configuration).send(Self.envelope())
        }
        #expect(error?.permanent == false)
        #expect(error?.detail.contains("STARTTLS") == true)
        #expect(try sink.messages().isEmpty)
    }

    @Test func authenticatesWithPlainBeforeMail() async throws {
        let sink = try SMTPSink(arguments: ["--auth", "desk:s3cret"])
        let configuration = Self.configuration(sink.port) { $0.credentials = (user: "desk", password: "s3cret") }
        _ = try await SMTPClient(configuration: configuration).send(Self.envelope())
        let messages = try sink.messages()
        try #require(messages.count == 1)
        #expect(messages[0].envelope["auth"] as? Bool == true)
    }

    @Test func authenticatesWithLoginWhenPlainIsNotOffered() async throws {
        let sink = try SMTPSink(arguments: ["--auth", "desk:s3cret", "--auth-login-only"])
        let configuration = Self.configuration(sink.port) { $0.credentials = (user: "desk", password: "s3cret") }
        _ = try await SMTPClient(configuration: configuration).send(Self.envelope())
        let messages = try sink.messages()
        try #require(messages.count == 1)
        #expect(messages[0].envelope["auth"] as? Bool == true)
    }

    @Test func authenticatesAfterStartTLS() async throws {
        let certificate = try SelfSignedCertificate()
        let sink = try SMTPSink(arguments: ["--starttls", certificate.certificate, certificate.key, "--auth", "desk:s3cret"])
        let configuration = Self.configuration(sink.port) {
            $0.verifyCertificates = false
            $0.tls = .startTLSRequired
            $0.credentials = (user: "desk", password: "s3cret")
        }
        _ = try await SMTPClient(configuration: configuration).send(Self.envelope())
        let messages = try sink.messages()
        try #require(messages.count == 1)
        #expect(messages[0].envelope["auth"] as? Bool == true)
        #expect(messages[0].envelope["tls"] as? Bool == true)
    }

    @Test func aWrongPasswordIsATransientFailure() async throws {
        let sink = try SMTPSink(arguments: ["--auth", "desk:s3cret"])
        let configuration = Self.configuration(sink.port) { $0.credentials = (user: "desk", password: "wrong") }
        let error = await #expect(throws: MailDeliveryError.self) {
            _ = try await SMTPClient(configuration: configuration).send(Self.envelope())
        }
        #expect(error?.permanent == false)
        #expect(error?.detail.hasPrefix("535") == true)
        #expect(try sink.messages().isEmpty)
    }

    @Test func aRecipientRefusedWith550IsAPermanentFailure() async throws {
        let sink = try SMTPSink(arguments: ["--reject-rcpt", "gone@customer.test"])
        let error = await #expect(throws: MailDeliveryError.self) {
            _ = try await SMTPClient(configuration: Self.configuration(sink.port)).send(Self.envelope(to: ["gone@customer.test"]))
        }
        #expect(error?.permanent == true)
        #expect(error?.detail == "550 5.1.1 <gone@customer.test>: Recipient address rejected (RCPT TO)")
        #expect(try sink.messages().isEmpty)
    }

    @Test func aMessageRefusedAtTheEndOfDataIsAPermanentFailure() async throws {
        let sink = try SMTPSink(arguments: ["--reject-data"])
        let error = await #expect(throws: MailDeliveryError.self) {
            _ = try await SMTPClient(configuration: Self.configuration(sink.port)).send(Self.envelope())
        }
        #expect(error?.permanent == true)
        #expect(error?.detail == "554 5.6.0 Message content rejected (DATA)")
    }

    @Test func aRecipientRefusedWith451IsATransientFailure() async throws {
        let sink = try SMTPSink(arguments: ["--tempfail-rcpt", "busy@customer.test"])
        let error = await #expect(throws: MailDeliveryError.self) {
            _ = try await SMTPClient(configuration: Self.configuration(sink.port)).send(Self.envelope(to: ["busy@customer.test"]))
        }
        #expect(error?.permanent == false)
        #expect(error?.detail.hasPrefix("451") == true)
        #expect(try sink.messages().isEmpty)
    }

    @Test func aRefusedConnectionIsATransientFailure() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        try await server.close()
        let error = await #expect(throws: MailDeliveryError.self) {
            _ = try await SMTPClient(configuration: Self.configuration(port)).send(Self.envelope())
        }
        #expect(error?.permanent == false)
        #expect(error?.detail.contains("cannot connect") == true)
    }

    @Test func aServerThatNeverAnswersIsATransientFailureAfterTheTimeoutAndTheConnectionIsClosed() async throws {
        let closed = ClosedConnections()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(SilentPeer(closed: closed)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        let configuration = Self.configuration(port) { $0.timeout = .seconds(1) }
        let error = await #expect(throws: MailDeliveryError.self) {
            _ = try await SMTPClient(configuration: configuration).send(Self.envelope())
        }
        #expect(error?.permanent == false)
        #expect(error?.detail.contains("no reply to the greeting") == true)
        await closed.waitForOne()
    }

    @Test func anEnvelopeWithoutRecipientsOrWithALineBreakInAnAddressIsRefusedBeforeConnecting() async throws {
        let client = SMTPClient(configuration: Self.configuration(9))
        for envelope in [
            MailEnvelope(from: "a@x.test", recipients: [], message: []),
            MailEnvelope(from: "a@x.test", recipients: ["b@x.test>\r\nRCPT TO:<c@x.test"], message: []),
        ] {
            let error = await #expect(throws: MailDeliveryError.self) { _ = try await client.send(envelope) }
            #expect(error?.permanent == true)
        }
    }
}

/// A server side that reads and never writes; it counts the connections the client closed.
final class SilentPeer: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let closed: ClosedConnections
    init(closed: ClosedConnections) { self.closed = closed }
    func channelInactive(context: ChannelHandlerContext) { closed.signal() }
}

final class ClosedConnections: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    init() { (stream, continuation) = AsyncStream.makeStream() }
    func signal() { continuation.yield() }
    func waitForOne() async {
        for await _ in stream { return }
    }
}

struct SMTPProtocolTests {
    @Test func parsesHostAndPort() {
        let cases: [(String, String, Int)?] = [
            ("mail.example.net:587", "mail.example.net", 587), ("[::1]:25", "::1", 25), ("relay", "relay", 25),
            ("127.0.0.1:2525", "127.0.0.1", 2525), ("[2001:db8::1]", "2001:db8::1", 25),
        ]
        for case let (text, host, port)? in cases {
            let configuration = SMTPConfiguration.parse(hostPort: text)
            #expect(configuration?.host == host, "\(text)")
            #expect(configuration?.port == port, "\(text)")
        }
        for bad in ["", ":25", "host:", "host:0", "host:65536", "host:x", "::1", "[::1", "[::1]x", "a b:25", "[host]:25"] {
            #expect(SMTPConfiguration.parse(hostPort: bad) == nil, "\(bad)")
        }
        let defaults = SMTPConfiguration(host: "h", port: 25)
        #expect(defaults.heloName == "localhost" && defaults.tls == .startTLSWhenOffered && defaults.verifyCertificates)
        #expect(defaults.credentials == nil && defaults.timeout == .seconds(60))
    }

    @Test func readsMultiLineRepliesAndTheirExtensions() throws {
        var reader = SMTPReplyReader()
        reader.append(
            Array("250-mail.test greets you\r\n250-SIZE 1000\r\n250-STARTTLS\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n220".utf8))
        let reply = try #require(try reader.nextReply())
        #expect(reply.code == 250 && reply.lines.count == 5)
        let extensions = SMTPExtensions(ehlo: reply)
        #expect(extensions.startTLS && extensions.eightBitMIME && extensions.size == 1000)
        #expect(extensions.authMechanisms == ["LOGIN", "PLAIN"])
        #expect(try reader.nextReply() == nil)
        reader.append(Array(" ready\n".utf8))
        #expect(try reader.nextReply() == SMTPReply(code: 220, lines: ["ready"]))
    }

    @Test func refusesOverlongLinesEndlessRepliesAndGarbage() {
        var long = SMTPReplyReader()
        long.append([UInt8](repeating: UInt8(ascii: "2"), count: SMTPReplyReader.maximumLineLength + 1))
        #expect(throws: MailDeliveryError.self) { _ = try long.nextReply() }
        var endless = SMTPReplyReader()
        endless.append(Array(String(repeating: "250-x\r\n", count: SMTPReplyReader.maximumLines + 1).utf8))
        #expect(throws: MailDeliveryError.self) { _ = try endless.nextReply() }
        var garbage = SMTPReplyReader()
        garbage.append(Array("HTTP/1.1 400 Bad Request\r\n".utf8))
        #expect(throws: MailDeliveryError.self) { _ = try garbage.nextReply() }
        var mixed = SMTPReplyReader()
        mixed.append(Array("250-a\r\n251 b\r\n".utf8))
        #expect(throws: MailDeliveryError.self) { _ = try mixed.nextReply() }
    }

    @Test func dotStuffsAndNormalisesLineEndings() {
        #expect(dataPayload(Array("a\n.b\r\n..c\rd".utf8)) == Array("a\r\n..b\r\n...c\r\nd\r\n.\r\n".utf8))
        #expect(dataPayload(Array(".".utf8)) == Array("..\r\n.\r\n".utf8))
        #expect(dataPayload([]) == Array(".\r\n".utf8))
        #expect(dataPayload(Array("x\r\n".utf8)) == Array("x\r\n.\r\n".utf8))
        #expect(dataPayloadAndSize(Array("a\n.b".utf8)).size == Array("a\r\n.b\r\n".utf8).count)
    }
}
