import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SupportService

/// Reading a sign-in form, the same for the dashboard and the agent console: the token only in
/// a URL-encoded POST body (never in a link), the `next` page, and the principal the token names.
/// Each UI then checks the role and renders its own pages.
enum WebSignIn {
    /// The largest sign-in form.
    static let maximumFormBytes = 8192

    static let tokenInLink = "A token is never accepted in a link. Paste it into the form below."

    /// What a sign-in form gave.
    enum Outcome {
        /// A known token: its principal, and the page to go to (already checked by `safeNext`).
        case signedIn(Principal, next: String?)
        /// A post from another site (a 403 page).
        case crossSite
        /// A form that cannot sign in: the sentence to show above the form again, its status.
        case refused(String, status: HTTPResponse.Status, next: String?)
    }

    /// Reads a sign-in post; `safeNext` keeps only the UI's own pages as `next`.
    static func read(_ request: Request, tokens: TokenStore, safeNext: (String?) -> String?) async -> Outcome {
        if WebResponse.isCrossSite(request) { return .crossSite }
        if request.uri.queryParameters.contains(where: { $0.key == "token" }) {
            return .refused(tokenInLink, status: .badRequest, next: nil)
        }
        guard WebResponse.isForm(request) else {
            return .refused("The sign-in form must be sent as application/x-www-form-urlencoded.", status: .unsupportedMediaType, next: nil)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maximumFormBytes)
        } catch {
            return .refused("The sign-in form is too large.", status: .contentTooLarge, next: nil)
        }
        let form = FormFields(String(buffer: body))
        let next = safeNext(form["next"])
        guard let token = form["token"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            return .refused("Enter your access token.", status: .badRequest, next: next)
        }
        guard let principal = tokens.principal(forToken: token) else {
            return .refused("This token is not known. Check the tokens file and try again.", status: .unauthorized, next: next)
        }
        return .signedIn(principal, next: next)
    }
}
