import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
    static let xForwardedProto = Self("X-Forwarded-Proto")!
}

/// What the web pages (the dashboard and the agent console) answer with, and the checks every
/// one of their form posts goes through.
enum WebResponse {
    /// Nothing is loaded from elsewhere: the one stylesheet and the console's one script come
    /// from this server, no inline style or script runs, no page can be framed.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static let securityHeaders: HTTPFields = [
        .cacheControl: "no-store",
        .contentSecurityPolicy: contentSecurityPolicy,
        .xContentTypeOptions: "nosniff",
        .xFrameOptions: "DENY",
        .referrerPolicy: "same-origin",
    ]

    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        for field in extra { headers.append(field) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(to location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        for field in extra { headers.append(field) }
        return Response(status: .seeOther, headers: headers)
    }

    /// A static asset (the stylesheet, the script): cached briefly, revalidated after.
    static func asset(_ text: String, contentType: String) -> Response {
        var headers = securityHeaders
        headers[.cacheControl] = "max-age=300"
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The session cookie (`Secure` behind a proxy that terminated TLS); an empty value with
    /// `maxAge` 0 clears it.
    static func sessionCookie(_ value: String, maxAge: Int64, request: Request) -> String {
        "\(WebSessions.cookieName)=\(value); Max-Age=\(maxAge); Path=/; HttpOnly; SameSite=Strict" + (isHTTPS(request) ? "; Secure" : "")
    }

    /// The session id of the request's cookie, if it has one.
    static func sessionID(_ request: Request) -> String? {
        request.cookies[WebSessions.cookieName]?.value
    }

    /// Whether the request came through a proxy that terminated TLS (then the cookie is `Secure`).
    static func isHTTPS(_ request: Request) -> Bool {
        request.head.scheme == "https" || request.headers[.xForwardedProto]?.lowercased() == "https"
    }

    /// Refuses form posts from other pages than this server's: by `Sec-Fetch-Site` when the
    /// browser sends it (only `same-origin` and `none` pass), otherwise by an `Origin` that is
    /// not this host. Clients that send neither (scripts, tests) pass; the console's forms also
    /// carry the session's CSRF token, which they cannot know.
    static func isCrossSite(_ request: Request) -> Bool {
        if let site = request.headers[.secFetchSite]?.lowercased() { return site != "same-origin" && site != "none" }
        guard let origin = request.headers[.origin] else { return false }
        guard let authority = request.head.authority else { return true }
        let host = origin.lowercased()
        return host != "http://\(authority.lowercased())" && host != "https://\(authority.lowercased())"
    }

    /// Whether the request's body is declared as a URL-encoded form.
    static func isForm(_ request: Request) -> Bool {
        request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
    }
}

/// The fields of an `application/x-www-form-urlencoded` body (`+` is a space), in order; a
/// name may repeat (the hand-off's ticket checkboxes).
struct FormFields: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    init(_ text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String? { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { continue }
            pairs.append((name, value))
        }
    }

    /// The first value of `name`.
    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }
}
