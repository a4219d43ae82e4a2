import EventLog
import HTTPTypes
import Hummingbird
import NIOCore

/// The answer to a write, exactly as it was sent the first time: what an idempotent retry gets
/// back byte for byte (status, body, ETag, Location). Stored with the append, atomically.
struct WriteAnswer: Sendable, Equatable {
    var status: Int
    var version: UInt64
    var location: String?
    var body: [UInt8]

    func encoded() -> [UInt8] {
        var out: [UInt8] = [1]
        out.append(UInt8(status >> 8)); out.append(UInt8(status & 0xFF))
        withUnsafeBytes(of: version.bigEndian) { out.append(contentsOf: $0) }
        let loc = Array((location ?? "").utf8)
        out.append(location == nil ? 0 : 1)
        out.append(UInt8(loc.count >> 8)); out.append(UInt8(loc.count & 0xFF))
        out.append(contentsOf: loc)
        out.append(contentsOf: body)
        return out
    }

    init(status: Int, version: UInt64, location: String?, body: [UInt8]) {
        self.status = status
        self.version = version
        self.location = location
        self.body = body
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 14, bytes[0] == 1 else { return nil }
        status = Int(bytes[1]) << 8 | Int(bytes[2])
        version = bytes[3..<11].reduce(0) { $0 << 8 | UInt64($1) }
        let hasLocation = bytes[11] == 1
        let n = Int(bytes[12]) << 8 | Int(bytes[13])
        guard bytes.count >= 14 + n else { return nil }
        location = hasLocation ? String(decoding: bytes[14..<(14 + n)], as: UTF8.self) : nil
        body = Array(bytes[(14 + n)...])
    }

    var response: Response {
        var headers: HTTPFields = [.eTag: "\"\(version)\""]
        if let location { headers[.location] = location }
        return JSONResponse.make(bytes: body, status: HTTPResponse.Status(code: status), headers: headers)
    }
}
