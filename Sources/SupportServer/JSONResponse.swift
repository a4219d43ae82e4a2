import EventLog
import HTTPTypes
import Hummingbird
import NIOCore
import SupportService

/// Answers are written as RFC 8785 canonical JSON: members sorted, so the same state always
/// gives the same bytes (a rebuilt projection answers byte for byte what it answered before).
enum JSONResponse {
    static func make(_ body: some JSONAnswer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        make(bytes: body.canonicalJSON, status: status, headers: headers)
    }

    static func make(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Strict query parameters: only known names, each at most once; bad values are 400.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ request: Request, allowed: Set<String>) throws(Problem) {
        for (name, value) in request.uri.queryParameters {
            let key = String(name)
            guard allowed.contains(key) else {
                let list = allowed.sorted().joined(separator: ", ")
                throw .badRequest("unknown query parameter \"\(key)\"" + (list.isEmpty ? "" : " (allowed: \(list))"))
            }
            guard values[key] == nil else { throw .badRequest("query parameter \"\(key)\" is given twice") }
            values[key] = String(value)
        }
    }

    func string(_ name: String) -> String? { values[name] }

    /// An instant with any offset (`2026-03-01T11:00:00+01:00`).
    func instant(_ name: String) throws(Problem) -> Timestamp? {
        guard let text = values[name] else { return nil }
        guard let t = Timestamp(rfc3339: text, allowOffset: true) else {
            throw .badRequest("\"\(name)\" must be an RFC 3339 instant such as 2026-03-01T10:22:33Z, not \"\(text)\"")
        }
        return t
    }

    /// One of an enumeration's raw values.
    func enumeration<E: RawRepresentable & CaseIterable>(_ name: String, _: E.Type) throws(Problem) -> E? where E.RawValue == String {
        guard let text = values[name] else { return nil }
        guard let value = E(rawValue: text) else {
            throw .badRequest("\"\(name)\" must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(text)\"")
        }
        return value
    }

    /// A non-negative integer (a seq).
    func unsigned(_ name: String) throws(Problem) -> UInt64? {
        guard let text = values[name] else { return nil }
        guard text.utf8.allSatisfy({ (48...57).contains($0) }), let v = UInt64(text) else {
            throw .badRequest("\"\(name)\" must be a non-negative integer, not \"\(text)\"")
        }
        return v
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(Problem) -> Int? {
        guard let text = values[name] else { return nil }
        guard let v = Int(text), range.contains(v), text.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw .badRequest("\"\(name)\" must be an integer from \(range.lowerBound) to \(range.upperBound), not \"\(text)\"")
        }
        return v
    }
}
