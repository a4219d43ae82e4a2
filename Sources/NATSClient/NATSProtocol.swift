import Foundation
import NIOCore

/// One operation the server sends.
enum ServerOperation: Sendable {
    case info(ServerInfo)
    case message(sid: UInt64, NATSMessage)
    case ping
    case pong
    case ok
    case error(String)
}

/// What the server says of itself in `INFO` (only what this client uses).
struct ServerInfo: Sendable, Decodable {
    var serverID: String?
    var serverName: String?
    var maxPayload: Int?
    var headers: Bool?
    var connectURLs: [String]?
    var jetStream: Bool?

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id"
        case serverName = "server_name"
        case maxPayload = "max_payload"
        case headers
        case connectURLs = "connect_urls"
        case jetStream = "jetstream"
    }
}

/// Reads server operations from a byte stream that arrives in arbitrary pieces: it takes nothing
/// from the buffer until a whole operation (control line and payload) is there.
struct NATSFrameParser {
    /// The longest control line accepted (a subject, a reply subject and numbers; INFO may be long).
    static let maxControlLine = 64 * 1024
    /// The largest payload accepted (the server refuses bigger ones anyway).
    static let maxPayload = 64 * 1024 * 1024

    /// The next operation, or nil when the buffer does not hold a whole one yet.
    func next(_ buffer: inout ByteBuffer) throws(NATSError) -> ServerOperation? {
        let view = buffer.readableBytesView
        guard let lineEnd = Self.lineEnd(view) else {
            if view.count > Self.maxControlLine { throw .protocolError("control line longer than \(Self.maxControlLine) bytes") }
            return nil
        }
        let lineLength = lineEnd - view.startIndex
        let line = view[view.startIndex..<lineEnd]
        let opEnd = line.firstIndex(where: { $0 == 0x20 || $0 == 0x09 }) ?? line.endIndex
        let op = String(decoding: line[line.startIndex..<opEnd], as: UTF8.self).uppercased()
        let arguments = line[opEnd...]
        switch op {
        case "MSG", "HMSG":
            let fields = arguments.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map { String(decoding: $0, as: UTF8.self) }
            let hasHeaders = op == "HMSG"
            let numbers = hasHeaders ? 2 : 1
            guard fields.count == 2 + numbers || fields.count == 3 + numbers else { throw .protocolError("malformed \(op) line") }
            let subject = fields[0]
            guard let sid = UInt64(fields[1]) else { throw .protocolError("malformed \(op) sid") }
            let replyTo = fields.count == 3 + numbers ? fields[2] : nil
            guard let total = Int(fields[fields.count - 1]), total >= 0, total <= Self.maxPayload else {
                throw .protocolError("malformed \(op) size")
            }
            var headerLength = 0
            if hasHeaders {
                guard let value = Int(fields[fields.count - 2]), value >= 0, value <= total else {
                    throw .protocolError("malformed HMSG header size")
                }
                headerLength = value
            }
            let needed = lineLength + 2 + total + 2
            guard view.count >= needed else { return nil }
            let bodyStart = view.startIndex + lineLength + 2
            let crlf = view[(bodyStart + total)..<(bodyStart + total + 2)]
            guard crlf.elementsEqual([0x0D, 0x0A]) else { throw .protocolError("\(op) payload not followed by CRLF") }
            var headers: NATSHeaders?
            if hasHeaders {
                headers = try NATSHeaders.decode(view[bodyStart..<(bodyStart + headerLength)])
            }
            let payload = Array(view[(bodyStart + headerLength)..<(bodyStart + total)])
            buffer.moveReaderIndex(forwardBy: needed)
            return .message(sid: sid, NATSMessage(subject: subject, replyTo: replyTo, headers: headers, payload: payload))
        case "PING":
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .ping
        case "PONG":
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .pong
        case "+OK":
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .ok
        case "-ERR":
            var text = String(decoding: arguments, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .error(text)
        case "INFO":
            let info: ServerInfo
            do {
                info = try JSONDecoder().decode(ServerInfo.self, from: Data(arguments))
            } catch {
                throw .protocolError("unreadable INFO")
            }
            buffer.moveReaderIndex(forwardBy: lineLength + 2)
            return .info(info)
        default:
            throw .protocolError("unknown operation \(op.prefix(16).debugDescription)")
        }
    }

    /// The index of the CR of the first CRLF.
    private static func lineEnd(_ view: ByteBufferView) -> ByteBufferView.Index? {
        var index = view.startIndex
        let limit = min(view.endIndex, view.startIndex + maxControlLine + 2)
        while index < limit - 1 {
            if view[index] == 0x0D, view[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }
}

/// The NIO decoder around ``NATSFrameParser``.
struct NATSFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ServerOperation
    private let parser = NATSFrameParser()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let operation = try parser.next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(operation))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Writes client operations.
enum ClientOperation {
    /// Subjects may not be empty nor hold white space or control characters.
    static func validate(subject: String) throws(NATSError) {
        guard !subject.isEmpty, subject.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw .protocolError("invalid subject \(subject.debugDescription)")
        }
    }

    static func connect(name: String) -> String {
        let fields: [String: Any] = [
            "verbose": false, "pedantic": false, "tls_required": false, "name": name, "lang": "swift", "version": "1.0.0",
            "protocol": 1, "headers": true, "no_responders": true,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return "CONNECT \(String(decoding: data, as: UTF8.self))\r\nPING\r\n"
    }

    /// `PUB` or `HPUB` (when there are headers) into `buffer`.
    static func publish(
        _ subject: String, replyTo: String?, headers: NATSHeaders?, payload: [UInt8], maxPayload: Int, into buffer: inout ByteBuffer
    ) throws(NATSError) {
        try validate(subject: subject)
        if let replyTo { try validate(subject: replyTo) }
        let reply = replyTo.map { " \($0)" } ?? ""
        if let headers {
            let block = try headers.encoded()
            let total = block.count + payload.count
            guard total <= maxPayload else { throw .protocolError("message of \(total) bytes over the server's max_payload \(maxPayload)") }
            buffer.writeString("HPUB \(subject)\(reply) \(block.count) \(total)\r\n")
            buffer.writeBytes(block)
        } else {
            guard payload.count <= maxPayload else {
                throw .protocolError("payload of \(payload.count) bytes over the server's max_payload \(maxPayload)")
            }
            buffer.writeString("PUB \(subject)\(reply) \(payload.count)\r\n")
        }
        buffer.writeBytes(payload)
        buffer.writeString("\r\n")
    }

    static func subscribe(_ subject: String, sid: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeString("SUB \(subject) \(sid)\r\n")
    }

    static func unsubscribe(sid: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeString("UNSUB \(sid)\r\n")
    }
}
