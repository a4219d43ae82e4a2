import Hummingbird
import Logging

/// The per-request context: Hummingbird's core storage plus the authenticated principal.
public struct SupportRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthenticationMiddleware`` on `/v1` routes.
    public var principal: Principal?
    /// The request id echoed as `X-Request-Id`.
    public var requestID: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        requestID = ""
    }
}
