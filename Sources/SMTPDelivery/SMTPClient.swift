import MailMessage
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Hands one message at a time to an SMTP relay over a fresh connection (RFC 5321): EHLO (HELO
/// when EHLO is refused), STARTTLS and EHLO again, AUTH, MAIL, RCPT per recipient, DATA, QUIT.
///
/// Each ``send(_:)`` opens its own connection and closes it on every path, success or failure.
/// Waiting never blocks an event loop: the connection is a `NIOAsyncChannel`, and a reply that
/// does not come within the configured timeout closes the channel from the event loop.
package struct SMTPClient: Sendable {
    package let configuration: SMTPConfiguration
    private let eventLoopGroup: any EventLoopGroup

    package init(configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sends one message; returns the server's final reply to DATA (e.g. "250 2.0.0 Ok: queued as 4F1A2").
    ///
    /// Every recipient must be accepted: a refused RCPT ends the transaction without DATA and
    /// throws (permanent for 5xx, transient for 4xx).
    package func send(_ envelope: MailEnvelope) async throws(MailDeliveryError) -> String {
        try Self.validate(envelope)
        let configuration = self.configuration
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(configuration.timeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw .transient("cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
        let deadline = ReplyDeadline()
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var session = SMTPSession(
                    configuration: configuration, channel: channel.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound,
                    deadline: deadline)
                return try await session.run(envelope)
            }
        } catch let error as MailDeliveryError {
            throw error
        } catch {
            throw .transient("connection to \(configuration.host):\(configuration.port) failed: \(error)")
        }
    }

    private static func validate(_ envelope: MailEnvelope) throws(MailDeliveryError) {
        guard !envelope.recipients.isEmpty else { throw MailDeliveryError(permanent: true, detail: "the envelope has no recipient") }
        for address in [envelope.from] + envelope.recipients {
            let bad = address.unicodeScalars.contains { $0.value < 0x21 || $0 == "<" || $0 == ">" || $0.value == 0x7F }
            guard !bad, address.utf8.count <= 320 else {
                throw MailDeliveryError(permanent: true, detail: "the envelope address \(address.debugDescription) cannot be sent")
            }
        }
        guard envelope.recipients.allSatisfy({ !$0.isEmpty }) else {
            throw MailDeliveryError(permanent: true, detail: "the envelope has an empty recipient")
        }
    }
}

/// Whether the last reply wait ran out; set from the event loop, read by the session.
final class ReplyDeadline: Sendable {
    private let expired = Mutex(false)
    var hasExpired: Bool { expired.withLock { $0 } }
    func expire() { expired.withLock { $0 = true } }
}

/// One connection's conversation.
struct SMTPSession {
    let configuration: SMTPConfiguration
    let channel: any Channel
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let deadline: ReplyDeadline
    private var reader = SMTPReplyReader()
    private var tlsActive = false

    init(
        configuration: SMTPConfiguration, channel: any Channel, inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, deadline: ReplyDeadline
    ) {
        self.configuration = configuration
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
        self.deadline = deadline
    }

    mutating func run(_ envelope: MailEnvelope) async throws(MailDeliveryError) -> String {
        let greeting = try await readReply(after: "the greeting")
        guard greeting.code == 220 else { throw .transient("\(greeting.text) (greeting)") }
        var extensions = try await hello()
        if configuration.tls != .never, extensions.startTLS {
            try await write("STARTTLS\r\n")
            let reply = try await readReply(after: "STARTTLS")
            if reply.code == 220 {
                try await startTLS()
                extensions = try await hello()
            } else if configuration.tls == .startTLSRequired || reply.code == 421 {
                throw .transient("\(reply.text) (STARTTLS)")
            }
        }
        if configuration.tls == .startTLSRequired, !tlsActive {
            throw .transient("\(configuration.host):\(configuration.port) does not offer STARTTLS, which the configuration requires")
        }
        if let credentials = configuration.credentials {
            try await authenticate(user: credentials.user, password: credentials.password, extensions: extensions)
        }
        let reply = try await transaction(envelope, extensions: extensions)
        await quit()
        return reply
    }

    /// EHLO, or HELO when the server refuses EHLO with 5xx (then no extension is known).
    private mutating func hello() async throws(MailDeliveryError) -> SMTPExtensions {
        try await write("EHLO \(configuration.heloName)\r\n")
        let ehlo = try await readReply(after: "EHLO")
        if ehlo.code == 250 { return SMTPExtensions(ehlo: ehlo) }
        guard ehlo.isPermanentFailure else { throw .transient("\(ehlo.text) (EHLO)") }
        try await write("HELO \(configuration.heloName)\r\n")
        let helo = try await readReply(after: "HELO")
        guard helo.code == 250 else { throw .transient("\(helo.text) (HELO)") }
        return SMTPExtensions()
    }

    private mutating func startTLS() async throws(MailDeliveryError) {
        guard !reader.hasBufferedBytes else { throw .transient("the server sent more after its STARTTLS reply (possible injection)") }
        let host = configuration.host
        let channel = self.channel
        do {
            // The context (which reads the system's trust roots) is made here, off the event loop;
            // only the handler is made and added on it.
            var tls = TLSConfiguration.makeClientConfiguration()
            if !configuration.verifyCertificates { tls.certificateVerification = .none }
            let context = try NIOSSLContext(configuration: tls)
            let serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
            try await channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
        } catch {
            throw .transient("cannot start TLS with \(host): \(error)")
        }
        tlsActive = true
    }

    private mutating func authenticate(user: String, password: String, extensions: SMTPExtensions) async throws(MailDeliveryError) {
        guard tlsActive || isLoopbackPeer else {
            throw .transient("refusing to send credentials to \(configuration.host) without TLS")
        }
        if extensions.authMechanisms.contains("PLAIN") {
            let token = base64(Array("\u{0}\(user)\u{0}\(password)".utf8))
            try await write("AUTH PLAIN \(token)\r\n", shown: "AUTH PLAIN")
            let reply = try await readReply(after: "AUTH PLAIN")
            guard reply.code == 235 else { throw .transient("\(reply.text) (AUTH PLAIN)") }
        } else if extensions.authMechanisms.contains("LOGIN") {
            try await write("AUTH LOGIN\r\n")
            var reply = try await readReply(after: "AUTH LOGIN")
            guard reply.code == 334 else { throw .transient("\(reply.text) (AUTH LOGIN)") }
            try await write(base64(Array(user.utf8)) + "\r\n", shown: "AUTH LOGIN user")
            reply = try await readReply(after: "AUTH LOGIN user")
            guard reply.code == 334 else { throw .transient("\(reply.text) (AUTH LOGIN)") }
            try await write(base64(Array(password.utf8)) + "\r\n", shown: "AUTH LOGIN password")
            reply = try await readReply(after: "AUTH LOGIN password")
            guard reply.code == 235 else { throw .transient("\(reply.text) (AUTH LOGIN)") }
        } else {
            throw .transient("\(configuration.host) offers no AUTH mechanism this client speaks (PLAIN, LOGIN)")
        }
    }

    private var isLoopbackPeer: Bool {
        guard let address = channel.remoteAddress?.ipAddress else { return false }
        return address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }

    private mutating func transaction(_ envelope: MailEnvelope, extensions: SMTPExtensions) async throws(MailDeliveryError) -> String {
        let (payload, size) = dataPayloadAndSize(envelope.message)
        var mail = "MAIL FROM:<\(envelope.from)>"
        if extensions.size != nil {
            if let limit = extensions.size, limit > 0, size > limit {
                throw MailDeliveryError(
                    permanent: true, detail: "the message (\(size) bytes) exceeds the server's SIZE limit of \(limit) bytes")
            }
            mail += " SIZE=\(size)"
        }
        if extensions.eightBitMIME, envelope.message.contains(where: { $0 >= 0x80 }) { mail += " BODY=8BITMIME" }
        try await write(mail + "\r\n")
        try await expect(250, after: "MAIL FROM")
        for recipient in envelope.recipients {
            try await write("RCPT TO:<\(recipient)>\r\n")
            try await expect([250, 251], after: "RCPT TO")
        }
        try await write("DATA\r\n")
        try await expect(354, after: "DATA")
        try await write(payload)
        let final = try await readReply(after: "end of data")
        guard final.code == 250 else { throw refusal(final, after: "DATA") }
        return final.text
    }

    /// QUIT and its reply; a failure here changes nothing (the message was taken).
    private mutating func quit() async {
        do {
            try await write("QUIT\r\n")
            _ = try await readReply(after: "QUIT")
        } catch {}
    }

    private mutating func expect(_ code: Int, after command: String) async throws(MailDeliveryError) {
        try await expect([code], after: command)
    }

    private mutating func expect(_ codes: Set<Int>, after command: String) async throws(MailDeliveryError) {
        let reply = try await readReply(after: command)
        guard codes.contains(reply.code) else { throw refusal(reply, after: command) }
    }

    /// A refusal of MAIL, RCPT or DATA: permanent for 5xx, transient otherwise.
    private func refusal(_ reply: SMTPReply, after command: String) -> MailDeliveryError {
        MailDeliveryError(permanent: reply.isPermanentFailure, detail: "\(reply.text) (\(command))")
    }

    private func write(_ line: String, shown: String? = nil) async throws(MailDeliveryError) {
        try await write(Array(line.utf8), shown: shown ?? String(line.dropLast(2)))
    }

    private func write(_ bytes: [UInt8], shown: String = "the message") async throws(MailDeliveryError) {
        do {
            try await outbound.write(ByteBuffer(bytes: bytes))
        } catch {
            throw .transient("cannot send \(shown) to \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// The next reply, within the timeout: the channel is closed from the event loop when it runs
    /// out, which ends the inbound stream.
    private mutating func readReply(after command: String) async throws(MailDeliveryError) -> SMTPReply {
        if let reply = try reader.nextReply() {
            if reply.code == 421 { throw .transient("\(reply.text) (\(command))") }
            return reply
        }
        let channel = self.channel
        let deadline = self.deadline
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(configuration.timeout)) {
            deadline.expire()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await inbound.next()
            } catch {
                if deadline.hasExpired { throw timedOut(command) }
                throw .transient(
                    "connection to \(configuration.host):\(configuration.port) failed waiting for the reply to \(command): \(error)")
            }
            guard let chunk else {
                if deadline.hasExpired { throw timedOut(command) }
                if Task.isCancelled { throw .transient("cancelled while waiting for the reply to \(command)") }
                throw .transient("\(configuration.host):\(configuration.port) closed the connection before replying to \(command)")
            }
            reader.append(chunk.readableBytesView)
            if let reply = try reader.nextReply() {
                if reply.code == 421 { throw .transient("\(reply.text) (\(command))") }
                return reply
            }
        }
    }

    private func timedOut(_ command: String) -> MailDeliveryError {
        .transient("no reply to \(command) from \(configuration.host):\(configuration.port) within \(configuration.timeout)")
    }
}

/// `bytes` in base64, as SMTP AUTH sends credentials.
private func base64(_ bytes: [UInt8]) -> String { String(decoding: TransferEncoding.encodeBase64(bytes), as: UTF8.self) }
