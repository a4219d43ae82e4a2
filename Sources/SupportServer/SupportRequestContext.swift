import Hummingbird
import Logging
import SupportDomain
import SupportService

/// The per-request context: Hummingbird's core storage plus the authenticated principal.
package struct SupportRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// Set by ``AuthenticationMiddleware`` on `/v1` routes.
    package var principal: Principal?
    /// The request id echoed as `X-Request-Id`.
    package var requestID: String

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        requestID = ""
    }
}

extension SupportRequestContext {
    /// The signed-in principal, when its role may read `what`: 401 without one, 403 for a role
    /// outside `roles`.
    func reader(_ roles: Set<Role>, _ what: String) throws(Problem) -> Principal {
        guard let principal else { throw Problem(.unauthorized, "not authenticated") }
        guard roles.contains(principal.role) else { throw Problem.forbidden("a \(principal.role.rawValue) may not read \(what)") }
        return principal
    }

    /// A path parameter (`{id}`, `{team}`) as the identifier it names.
    ///
    /// Hummingbird matches routes on the raw path and hands parameters over with their escapes
    /// intact (`Group%203`); identifiers may hold spaces, `/`, `%` and any Unicode (SPEC §2.1),
    /// so they are percent-decoded here, once, for every route. A malformed escape or bytes that
    /// are not UTF-8 are 400.
    /// The path's ticket id; an id starting with `$` names a stream of the system's own
    /// (`$webhooks`), never a ticket: 404.
    func ticketIdentifier(_ name: String = "id") throws(Problem) -> String {
        let id = try pathIdentifier(name)
        guard StreamName.isTicket(id) else { throw .notFound("ticket \(id) not found") }
        return id
    }

    func pathIdentifier(_ name: String) throws(Problem) -> String {
        guard let raw = parameters.get(name) else { throw .badRequest("the path lacks its \(name)") }
        guard let decoded = PercentDecoding.decode(raw) else {
            throw .badRequest("the path's \(name) \"\(raw)\" is not percent-encoded UTF-8 (a % must be followed by two hex digits)")
        }
        return decoded
    }
}

/// RFC 3986 percent-decoding of a path segment: `%XX` becomes the byte XX, everything else
/// stays (`+` is a plus sign in a path); the bytes must form UTF-8.
enum PercentDecoding {
    static func decode(_ text: String) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
