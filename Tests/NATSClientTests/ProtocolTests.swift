import NIOCore
import Testing

@testable import NATSClient

@Suite("NATS protocol: frames in pieces, headers, server addresses")
struct ProtocolTests {
    /// Feeds `bytes` one chunk at a time and collects every operation parsed.
    private func parse(_ bytes: [UInt8], chunk: Int) throws -> [ServerOperation] {
        let parser = NATSFrameParser()
        var buffer = ByteBuffer()
        var operations: [ServerOperation] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            while let operation = try parser.next(&buffer) { operations.append(operation) }
        }
        #expect(buffer.readableBytes == 0)
        return operations
    }

    @Test func messagesWithAndWithoutHeadersAreReadWhenTheyArriveOneByteAtATime() throws {
        let wire = Array(
            ("INFO {\"server_id\":\"S\",\"max_payload\":1048576,\"connect_urls\":[\"127.0.0.1:4223\"]}\r\n"
                + "PING\r\nMSG a.b 7 5\r\nhello\r\nMSG a.c 8 _INBOX.x.1 0\r\n\r\n"
                + "HMSG a.d 9 reply.to 30 32\r\nNATS/1.0\r\nKey: v1\r\nkey: v2\r\n\r\nhi\r\n"
                + "HMSG _INBOX.x.2 1 30 30\r\nNATS/1.0 503 No Responders\r\n\r\n\r\n+OK\r\n-ERR 'Unknown Protocol Operation'\r\n").utf8)
        for chunk in [1, 3, 7, wire.count] {
            let operations = try parse(wire, chunk: chunk)
            #expect(operations.count == 8)
            guard operations.count == 8 else { continue }
            if case .info(let info) = operations[0] {
                #expect(info.maxPayload == 1_048_576)
                #expect(info.connectURLs == ["127.0.0.1:4223"])
            } else {
                Issue.record("not INFO")
            }
            if case .message(let sid, let message) = operations[2] {
                #expect(sid == 7)
                #expect(message.subject == "a.b")
                #expect(message.replyTo == nil)
                #expect(message.payload == Array("hello".utf8))
            } else {
                Issue.record("not MSG")
            }
            if case .message(_, let message) = operations[3] {
                #expect(message.replyTo == "_INBOX.x.1")
                #expect(message.payload.isEmpty)
            } else {
                Issue.record("not MSG")
            }
            if case .message(let sid, let message) = operations[4] {
                #expect(sid == 9)
                #expect(message.replyTo == "reply.to")
                #expect(message.headers?.values("KEY") == ["v1", "v2"])
                #expect(message.headers?["key"] == "v1")
                #expect(message.payload == Array("hi".utf8))
            } else {
                Issue.record("not HMSG")
            }
            if case .message(_, let message) = operations[5] {
                #expect(message.headers?.status == 503)
                #expect(message.headers?.statusDescription == "No Responders")
            } else {
                Issue.record("not HMSG")
            }
            if case .error(let text) = operations[7] {
                #expect(text == "Unknown Protocol Operation")
            } else {
                Issue.record("not -ERR")
            }
        }
    }

    @Test func aPayloadOfOverOneMebibyteSplitInPiecesIsReadWhole() throws {
        let payload = (0..<1_200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let wire = Array("MSG big 1 \(payload.count)\r\n".utf8) + payload + Array("\r\nPONG\r\n".utf8)
        let operations = try parse(wire, chunk: 65_536)
        #expect(operations.count == 2)
        if case .message(_, let message) = operations.first {
            #expect(message.payload == payload)
        } else {
            Issue.record("not MSG")
        }
    }

    @Test func malformedFramesAreProtocolErrors() {
        for text in ["BOGUS\r\n", "MSG a 1\r\n", "MSG a x 1\r\nz\r\n", "MSG a 1 2\r\nabc\r\n", "HMSG a 1 9 3\r\nabc\r\n", "INFO {\r\n"] {
            let parser = NATSFrameParser()
            var buffer = ByteBuffer(string: text)
            #expect(throws: NATSError.self) { _ = try parser.next(&buffer) }
        }
    }

    @Test func headersEncodeAndDecodeInOrderWithCaseInsensitiveNames() throws {
        var headers = NATSHeaders()
        headers["Nats-Msg-Id"] = "a"
        headers.append("X-Multi", "1")
        headers.append("x-multi", "2")
        headers["NATS-MSG-ID"] = "b"
        #expect(headers["nats-msg-id"] == "b")
        let decoded = try NATSHeaders.decode(try headers.encoded())
        #expect(decoded == headers)
        #expect(decoded.values("X-MULTI") == ["1", "2"])
        headers["x-multi"] = nil
        #expect(headers.fields.count == 1)
        var bad = NATSHeaders()
        bad["Bad Name"] = "x"
        #expect(throws: NATSError.self) { _ = try bad.encoded() }
    }

    @Test func serverAddressesParseWithSchemeOrWithoutAndDefaultPort() {
        #expect(NATSServerURL(string: "nats://127.0.0.1:4223") == NATSServerURL(host: "127.0.0.1", port: 4223))
        #expect(NATSServerURL(string: "example.org:5000") == NATSServerURL(host: "example.org", port: 5000))
        #expect(NATSServerURL(string: "example.org")?.port == 4222)
        #expect(NATSServerURL(string: "[::1]:4222")?.host == "::1")
        #expect(NATSServerURL(string: "http://x:1") == nil)
        #expect(NATSServerURL(string: "x:0") == nil)
        #expect(NATSServerURL(string: "") == nil)
        #expect(NATSServerURL.list("nats://a:1,nats://b:2")?.map(\.port) == [1, 2])
        #expect(NATSServerURL.list("nats://a:1,,b") == nil)
        #expect(NATSServerURL(host: "a", port: 1).description == "nats://a:1")
    }

    @Test func pulledMessagesTakeTheirSequenceAndTimeFromTheAckSubject() throws {
        let v1 = try #require(StreamReader.parseAckSubject("$JS.ACK.LOG.c1.1.42.40.1764800000123456700.7"))
        #expect(v1.0 == 42)
        #expect(v1.1 == "2025-12-03T22:13:20.1234567Z")
        let v2 = try #require(StreamReader.parseAckSubject("$JS.ACK.domain.hash.LOG.c1.1.43.41.1764800000000000000.7.r"))
        #expect(v2.0 == 43)
        #expect(v2.1 == "2025-12-03T22:13:20Z")
        #expect(StreamReader.parseAckSubject("$JS.ACK.LOG.c1") == nil)
        #expect(StreamReader.parseAckSubject("other.subject.a.b.c.d.e.f.g") == nil)
    }
}
