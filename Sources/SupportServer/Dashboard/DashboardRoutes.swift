import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SupportDomain
import SupportService

/// The management dashboard (server-rendered HTML with inline SVG charts, no JavaScript):
///
/// - `GET /login` the sign-in form; `POST /login` (form body `token`, `next`) signs in
///   managers, auditors and admins with a session cookie; `POST /logout` signs out.
/// - `GET /` → the satisfaction page; `GET /satisfaction`, `/response-times`, `/queues`,
///   `/agents`, each with a `.csv` variant (`?chart=<id>` plus the page's parameters) that
///   downloads one chart's or table's data.
/// - `GET /response-times/tickets` (and `.csv`): the values behind one bar or point of the
///   response-times page (`metric`, `groupBy` + `group`, `week`, `weeks`, `clock`).
/// - `GET /what-if` (and `.csv`): a policy form prefilled with the current policy; with `run`,
///   both policies' SLA compliance and first-reply times side by side (`SupportBackend.whatIf`).
/// - `GET /tickets/{id}/sla` (and `.csv`, `asOf` optional): a ticket's clocks explained, from
///   the answer of `GET /v1/tickets/{id}/sla`.
///
/// Tokens travel only in the sign-in form's body, never in a URL; pages need the session
/// cookie (`ledgerdesk_session`, HttpOnly, SameSite=Strict).
struct DashboardRoutes: Sendable {
    let backend: SupportBackend
    let tokens: TokenStore
    let sessions: WebSessions
    var content: DashboardContentBuilder { DashboardContentBuilder(backend: backend) }

    /// The roles that may sign in.
    static let readers: Set<Role> = [.manager, .auditor, .admin]
    static let landing = "/satisfaction"
    static let pagePaths: Set<String> = Set(DashboardPages.navigation.map(\.path)).union(["/response-times/tickets"])

    init(backend: SupportBackend, tokens: TokenStore, sessions: WebSessions) {
        self.backend = backend
        self.tokens = tokens
        self.sessions = sessions
    }

    func register(on router: Router<SupportRequestContext>) {
        router.get("/") { request, _ in
            WebResponse.redirect(to: principal(request) == nil ? "/login" : Self.landing)
        }
        router.get("login") { request, _ in loginForm(request) }
        router.post("login") { request, _ in await login(request) }
        router.post("logout") { request, _ in logout(request) }
        router.get("assets/ledgerdesk.css") { _, _ in WebResponse.asset(WebStyle.stylesheet, contentType: "text/css; charset=utf-8") }

        router.get("satisfaction") { request, _ in
            await page(request, path: "/satisfaction", allowed: DashboardContentBuilder.satisfactionParameters, build: content.satisfaction)
        }
        router.get("satisfaction.csv") { request, _ in
            await csv(request, path: "/satisfaction", allowed: DashboardContentBuilder.satisfactionParameters, build: content.satisfaction)
        }
        router.get("response-times") { request, _ in
            await page(
                request, path: "/response-times", allowed: DashboardContentBuilder.responseTimeParameters, build: content.responseTimes)
        }
        router.get("response-times.csv") { request, _ in
            await csv(
                request, path: "/response-times", allowed: DashboardContentBuilder.responseTimeParameters, build: content.responseTimes)
        }
        router.get("response-times/tickets") { request, _ in
            await page(
                request, path: "/response-times/tickets", active: "/response-times", allowed: DashboardContentBuilder.ticketsParameters,
                build: content.responseTimeTickets)
        }
        router.get("response-times/tickets.csv") { request, _ in
            await csv(
                request, path: "/response-times/tickets", allowed: DashboardContentBuilder.ticketsParameters,
                build: content.responseTimeTickets)
        }
        router.get("tickets/:id/sla") { request, context in
            let raw = context.parameters.get("id") ?? ""
            return await page(
                request, path: "/tickets/\(raw)/sla", active: "/response-times", allowed: DashboardContentBuilder.clockParameters
            ) { query throws(Problem) in try await content.clocks(ticket: try Self.ticketID(raw), query) }
        }
        router.get("tickets/:id/sla.csv") { request, context in
            let raw = context.parameters.get("id") ?? ""
            return await csv(request, path: "/tickets/\(raw)/sla", allowed: DashboardContentBuilder.clockParameters) {
                query throws(Problem) in
                try await content.clocks(ticket: try Self.ticketID(raw), query)
            }
        }
        router.get("what-if") { request, _ in
            await page(request, path: "/what-if", allowed: WhatIfForm.parameters, build: content.whatIf)
        }
        router.get("what-if.csv") { request, _ in
            await csv(request, path: "/what-if", allowed: WhatIfForm.parameters, build: content.whatIf)
        }
        router.get("queues") { request, _ in
            await page(request, path: "/queues", allowed: DashboardContentBuilder.queueParameters, build: content.queues)
        }
        router.get("queues.csv") { request, _ in
            await csv(request, path: "/queues", allowed: DashboardContentBuilder.queueParameters, build: content.queues)
        }
        router.get("agents") { request, _ in
            await page(request, path: "/agents", allowed: DashboardContentBuilder.agentParameters, build: content.agents)
        }
        router.get("agents.csv") { request, _ in
            await csv(request, path: "/agents", allowed: DashboardContentBuilder.agentParameters, build: content.agents)
        }
    }

    // MARK: Sessions

    /// The signed-in principal of the request (a live session of a dashboard role), or nil.
    func principal(_ request: Request) -> Principal? {
        guard let id = WebResponse.sessionID(request), let principal = sessions.principal(forSession: id),
            Self.readers.contains(principal.role)
        else { return nil }
        return principal
    }

    /// A page path to return to after signing in: only the dashboard's own pages.
    private static func safeNext(_ next: String?) -> String? {
        guard let next else { return nil }
        if pagePaths.contains(next) { return next }
        // A clock explanation: `/tickets/<percent-encoded id>/sla`, nothing else.
        let parts = next.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 4, parts[0].isEmpty, parts[1] == "tickets", parts[3] == "sla",
            let id = PercentDecoding.decode(String(parts[2])), StreamName.isTicket(id),
            DashboardHTML.percentEncode(id) == parts[2]
        {
            return next
        }
        return nil
    }

    /// The ticket id of a clock explanation's path segment.
    static func ticketID(_ raw: String) throws(Problem) -> String {
        guard let id = PercentDecoding.decode(raw) else {
            throw .badRequest("the path's id \"\(raw)\" is not percent-encoded UTF-8 (a % must be followed by two hex digits)")
        }
        return id
    }

    // MARK: Sign-in

    func loginForm(_ request: Request) -> Response {
        let names = Set(request.uri.queryParameters.map { String($0.key) })
        if names.contains("token") {
            // A token in a URL ends up in histories and logs: refuse it outright.
            return WebResponse.html(DashboardPages.signIn(message: WebSignIn.tokenInLink, next: nil), status: .badRequest)
        }
        let next = Self.safeNext(request.uri.queryParameters["next"].map(String.init))
        if principal(request) != nil { return WebResponse.redirect(to: next ?? Self.landing) }
        return WebResponse.html(DashboardPages.signIn(next: next))
    }

    func login(_ request: Request) async -> Response {
        let principal: Principal, next: String?
        switch await WebSignIn.read(request, tokens: tokens, safeNext: Self.safeNext) {
        case .crossSite:
            return WebResponse.html(
                DashboardPages.error(title: "Refused", message: "Signing in from another site is not allowed.", principal: nil),
                status: .forbidden)
        case .refused(let message, let status, let page):
            return WebResponse.html(DashboardPages.signIn(message: message, next: page), status: status)
        case .signedIn(let who, let page):
            principal = who
            next = page
        }
        guard Self.readers.contains(principal.role) else {
            return WebResponse.html(
                DashboardPages.error(
                    title: "Not for this role",
                    message:
                        "A \(principal.role.rawValue) cannot sign in to the dashboard: it is for managers, auditors and administrators."
                        + (principal.role == .agent ? " Agents work in the agent console at /console." : ""),
                    principal: nil), status: .forbidden)
        }
        let id = sessions.create(for: principal)
        return WebResponse.redirect(
            to: next ?? Self.landing,
            headers: [.setCookie: WebResponse.sessionCookie(id, maxAge: WebSessions.lifetimeSeconds, request: request)])
    }

    func logout(_ request: Request) -> Response {
        if WebResponse.isCrossSite(request) {
            return WebResponse.html(
                DashboardPages.error(title: "Refused", message: "Signing out from another site is not allowed.", principal: nil),
                status: .forbidden)
        }
        if let id = WebResponse.sessionID(request) { sessions.remove(id) }
        return WebResponse.redirect(to: "/login", headers: [.setCookie: WebResponse.sessionCookie("", maxAge: 0, request: request)])
    }

    // MARK: Pages

    /// Where a request without a session goes: the sign-in form, then back to `path`.
    private static func signInRedirect(_ path: String) -> Response {
        WebResponse.redirect(to: "/login?next=\(DashboardHTML.percentEncode(path))")
    }

    func page(
        _ request: Request, path: String, active: String? = nil, allowed: Set<String>,
        build: (QueryParameters) async throws(Problem) -> DashboardContent
    ) async -> Response {
        guard let principal = principal(request) else { return Self.signInRedirect(path) }
        do throws(Problem) {
            let content = try await build(try QueryParameters(request, allowed: allowed))
            return WebResponse.html(
                DashboardPages.page(
                    title: content.title, principal: principal, active: active ?? path,
                    refreshSeconds: content.refreshSeconds, body: content.html),
                status: content.status)
        } catch {
            return Self.errorPage(error, principal: principal)
        }
    }

    func csv(
        _ request: Request, path: String, allowed: Set<String>,
        build: (QueryParameters) async throws(Problem) -> DashboardContent
    ) async -> Response {
        guard let principal = principal(request) else { return Self.signInRedirect(path) }
        do throws(Problem) {
            let query = try QueryParameters(request, allowed: allowed.union(["chart"]))
            guard let id = query.string("chart") else { throw Problem.badRequest("\"chart\" names the chart to download") }
            let content = try await build(query)
            guard let document = content.csv[id] else {
                throw Problem.badRequest("\"chart\" must be one of \(content.csv.keys.sorted().joined(separator: ", ")), not \"\(id)\"")
            }
            var headers = WebResponse.securityHeaders
            headers[.contentType] = "text/csv; charset=utf-8; header=present"
            headers[.contentDisposition] = "attachment; filename=\"ledgerdesk-\(id).csv\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: document.text)))
        } catch {
            return Self.errorPage(error, principal: principal)
        }
    }

    /// The page of a problem: its status and headers (`Retry-After`), its detail in words.
    static func errorPage(_ problem: Problem, principal: Principal) -> Response {
        let title =
            switch problem.status {
            case .notFound: "Not found"
            case .serviceUnavailable: "Busy"
            case .badRequest: "Bad request"
            default: problem.status.reasonPhrase
            }
        return WebResponse.html(
            DashboardPages.error(title: title, message: problem.detail, principal: principal), status: problem.status,
            headers: problem.headers)
    }
}
