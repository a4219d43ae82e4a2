import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SupportDomain
import SupportService

/// The agent console (server-rendered HTML under `/console`, docs/console.md): an agent's
/// queue, Take next, the ticket page with a form for every agent command, the hand-off at
/// shift change, and finding a ticket.
///
/// - Sign-in as the dashboard's: a token in a POST form, a session cookie (shared with the
///   dashboard), never a token in a URL. Agents act; managers and admins look; customers,
///   auditors and gateways cannot sign in.
/// - Every form that writes carries the session's CSRF token, a fresh idempotency key and (on a
///   ticket) the version it was rendered at; it runs the very command the API runs for the same
///   action (``ConsoleTicketForm``), so the log records exactly what the API would have appended.
/// - Every answer is a page: an error reads as a sentence next to its field, never as a problem
///   document.
struct ConsoleRoutes: Sendable {
    let backend: SupportBackend
    let tokens: TokenStore
    let sessions: WebSessions

    /// The roles that may sign in: agents act, managers and admins look.
    static let viewers: Set<Role> = [.agent, .manager, .admin]
    static let landing = "/console/queue"
    /// A form's body: a reply of the largest command body, percent-encoded.
    static let maximumFormBytes = 3 * TicketCommands.maximumBody + 8192

    init(backend: SupportBackend, tokens: TokenStore, sessions: WebSessions) {
        self.backend = backend
        self.tokens = tokens
        self.sessions = sessions
    }

    func register(on router: Router<SupportRequestContext>) {
        router.get("console") { request, _ in
            user(request) == nil ? Self.signInRedirect(Self.landing) : WebResponse.redirect(to: Self.landing)
        }
        router.get("console/login") { request, _ in loginForm(request) }
        router.post("console/login") { request, _ in await login(request) }
        router.post("console/logout") { request, _ in await logout(request) }
        router.get("console/console.js") { _, _ in
            WebResponse.asset(ConsoleScript.source, contentType: "text/javascript; charset=utf-8")
        }

        let queues = ConsoleQueuePages(backend: backend)
        router.get("console/queue") { request, _ in
            await page(request) { user in try queues.myQueue(request, user: user) }
        }
        router.get("console/queues/:team") { request, context in
            await page(request) { user in try queues.teamQueue(request, team: try context.pathIdentifier("team"), user: user) }
        }
        router.post("console/queues/:team/claim") { request, context in
            await post(request) { user, form in try await queues.claim(team: try context.pathIdentifier("team"), form: form, user: user) }
        }

        let tickets = ConsoleTicketPages(backend: backend, agents: tokens.agents)
        router.get("console/tickets/:id") { request, context in
            await page(request) { user in try tickets.show(request, id: try context.pathIdentifier("id"), user: user) }
        }
        router.get("console/tickets/:id/attachments/:sha256") { request, context in
            await backend.attachmentShelf.fetchIfMissing(context.parameters.get("sha256") ?? "")
            return await page(request) { user in
                try AttachmentRoutes(backend: backend).download(
                    ticketID: try context.pathIdentifier("id"), digest: { () throws(Problem) in try context.pathIdentifier("sha256") },
                    principal: user.principal, checkQuery: { () throws(Problem) in _ = try QueryParameters(request, allowed: []) })
            }
        }
        router.post("console/tickets/:id/:action") { request, context in
            await post(request) { user, form in
                let id = try context.pathIdentifier("id")
                let action = try context.pathIdentifier("action")
                guard let kind = ConsoleTicketForm(rawValue: action) else { throw Problem.notFound("there is no form \"\(action)\"") }
                return try await tickets.submit(kind, id: id, form: form, user: user)
            }
        }

        let handOff = ConsoleHandOff(backend: backend, agents: tokens.agents)
        router.get("console/handoff") { request, _ in
            await page(request) { user in try handOff.show(request, user: user) }
        }
        router.post("console/handoff") { request, _ in
            await post(request) { user, form in try await handOff.submit(form: form, user: user) }
        }

        let find = ConsoleFind(backend: backend)
        router.get("console/find") { request, _ in
            await page(request) { user in try find.show(request, user: user) }
        }
    }

    // MARK: Sessions

    /// The signed-in user of the request: a live session of any role (the role is checked by
    /// ``page(_:_:)`` and ``post(_:_:)``), or nil.
    func user(_ request: Request) -> ConsoleUser? {
        guard let id = WebResponse.sessionID(request), let session = sessions.session(id) else { return nil }
        return ConsoleUser(principal: session.principal, csrf: session.csrf)
    }

    /// Where a request without a session goes: the sign-in form, then back to `path`.
    static func signInRedirect(_ path: String) -> Response {
        WebResponse.redirect(to: "/console/login?next=\(DashboardHTML.percentEncode(path))")
    }

    /// A console path to return to after signing in: a local `/console` path only (never a
    /// scheme, a host or `//`), at most 512 bytes.
    static func safeNext(_ next: String?) -> String? {
        guard let next, next == "/console" || next.hasPrefix("/console/"), next.utf8.count <= 512,
            !next.contains("//"), !next.contains("\\"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        return next
    }

    func loginForm(_ request: Request) -> Response {
        if request.uri.queryParameters.contains(where: { $0.key == "token" }) {
            return WebResponse.html(ConsolePages.signIn(message: WebSignIn.tokenInLink, next: nil), status: .badRequest)
        }
        let next = Self.safeNext(request.uri.queryParameters["next"].map(String.init))
        if let user = user(request), Self.viewers.contains(user.principal.role) { return WebResponse.redirect(to: next ?? Self.landing) }
        return WebResponse.html(ConsolePages.signIn(next: next))
    }

    func login(_ request: Request) async -> Response {
        let principal: Principal, next: String?
        switch await WebSignIn.read(request, tokens: tokens, safeNext: Self.safeNext) {
        case .crossSite:
            return WebResponse.html(
                ConsolePages.error(title: "Refused", message: "Signing in from another site is not allowed.", user: nil), status: .forbidden
            )
        case .refused(let message, let status, let page):
            return WebResponse.html(ConsolePages.signIn(message: message, next: page), status: status)
        case .signedIn(let who, let page):
            principal = who
            next = page
        }
        guard Self.viewers.contains(principal.role) else {
            return WebResponse.html(
                ConsolePages.error(title: "Not for this role", message: Self.refusal(principal.role), user: nil), status: .forbidden)
        }
        let id = sessions.create(for: principal)
        return WebResponse.redirect(
            to: next ?? Self.landing,
            headers: [.setCookie: WebResponse.sessionCookie(id, maxAge: WebSessions.lifetimeSeconds, request: request)])
    }

    /// Why a role cannot use the console, as a sentence.
    static func refusal(_ role: Role) -> String {
        switch role {
        case .auditor:
            "An auditor cannot sign in to the agent console: it is for agents, and for managers and administrators to look. Auditors use the dashboard and the API."
        case .customer:
            "A customer cannot sign in to the agent console: it is for the support desk's agents."
        default:
            "A \(role.rawValue) cannot sign in to the agent console: it is for agents, and for managers and administrators to look."
        }
    }

    func logout(_ request: Request) async -> Response {
        await post(request, anyViewer: true) { _, _ in
            if let id = WebResponse.sessionID(request) { sessions.remove(id) }
            return WebResponse.redirect(
                to: "/console/login", headers: [.setCookie: WebResponse.sessionCookie("", maxAge: 0, request: request)])
        }
    }

    // MARK: Pages and posts

    /// A page for a signed-in viewer: without a session, the sign-in form (then back here);
    /// a role that may not use the console gets a 403 page; an error becomes an error page.
    func page(_ request: Request, _ build: (ConsoleUser) async throws -> Response) async -> Response {
        guard let user = user(request) else {
            return Self.signInRedirect(Self.safeNext(request.uri.path) ?? Self.landing)
        }
        guard Self.viewers.contains(user.principal.role) else {
            return WebResponse.html(
                ConsolePages.error(title: "Not for this role", message: Self.refusal(user.principal.role), user: nil), status: .forbidden)
        }
        do {
            return try await build(user)
        } catch {
            return Self.errorPage(error, user: user)
        }
    }

    /// A form post: a session of a role that may act (agents; `anyViewer` for signing out), sent
    /// from this site, as a form, with the session's CSRF token. Anything else is refused with a
    /// page and writes nothing.
    func post(
        _ request: Request, anyViewer: Bool = false, _ handle: (ConsoleUser, FormFields) async throws -> Response
    ) async -> Response {
        guard let user = user(request) else { return Self.signInRedirect(Self.landing) }
        guard Self.viewers.contains(user.principal.role) else {
            return WebResponse.html(
                ConsolePages.error(title: "Not for this role", message: Self.refusal(user.principal.role), user: nil), status: .forbidden)
        }
        if WebResponse.isCrossSite(request) {
            return WebResponse.html(
                ConsolePages.error(title: "Refused", message: "A form sent from another site is not accepted.", user: user),
                status: .forbidden)
        }
        guard WebResponse.isForm(request) else {
            return WebResponse.html(
                ConsolePages.error(title: "Refused", message: "A form must be sent as application/x-www-form-urlencoded.", user: user),
                status: .unsupportedMediaType)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumFormBytes)
        } catch {
            return WebResponse.html(
                ConsolePages.error(title: "Too large", message: "The form is larger than the desk accepts.", user: user),
                status: .contentTooLarge)
        }
        let form = FormFields(String(buffer: body))
        guard let csrf = form["csrf"], Self.constantTimeEqual(csrf, user.csrf) else {
            return WebResponse.html(
                ConsolePages.error(
                    title: "Form expired",
                    message:
                        "This form does not belong to your current session (it was opened before you signed in again, or on another site). Nothing was saved: open the page again and resend.",
                    user: user), status: .forbidden)
        }
        guard anyViewer || user.mayAct else {
            return WebResponse.html(
                ConsolePages.error(
                    title: "Look only", message: "A \(user.principal.role.rawValue) can look at the console, but only agents act in it.",
                    user: user), status: .forbidden)
        }
        do {
            return try await handle(user, form)
        } catch {
            return Self.errorPage(error, user: user)
        }
    }

    /// Compares a sent token with the session's without stopping at the first difference.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// An error as a page: its status and its detail as a sentence.
    static func errorPage(_ error: any Error, user: ConsoleUser) -> Response {
        let problem: Problem
        switch error {
        case let p as Problem: problem = p
        case let e as ServiceError: problem = Problem(e)
        case let e as DomainError: problem = Problem(e)
        default: problem = Problem(.internalServerError, "\(error)")
        }
        let title =
            switch problem.status {
            case .notFound: "Not found"
            case .forbidden: "Not allowed"
            case .badRequest: "Bad request"
            case .serviceUnavailable: "Unavailable"
            default: problem.status.reasonPhrase
            }
        var headers: HTTPFields = [:]
        if let retry = problem.headers[.retryAfter] { headers[.retryAfter] = retry }
        return WebResponse.html(
            ConsolePages.error(title: title, message: ConsolePages.sentence(problem.detail), user: user), status: problem.status,
            headers: headers)
    }
}

/// Who is signed in to the console, and the CSRF token their forms carry.
struct ConsoleUser: Sendable {
    var principal: Principal
    var csrf: String

    /// Agents act; managers and admins only look.
    var mayAct: Bool { principal.role == .agent }
}
