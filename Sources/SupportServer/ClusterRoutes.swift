import HTTPTypes
import Hummingbird
import LogReplication
import SupportService

extension HTTPField.Name {
    /// On every answer: the seq this node's answer reflects (its projections applied it).
    static let ledgerdeskSeq = Self("Ledgerdesk-Seq")!
    /// On a request: answer only once this node has applied that seq (read your writes).
    static let ledgerdeskMinSeq = Self("Ledgerdesk-Min-Seq")!
    /// On every answer of a cluster's node: its name.
    static let ledgerdeskNode = Self("Ledgerdesk-Node")!
}

/// GET /v1/cluster: how this node stands (agent, manager, auditor, admin).
struct ClusterRoutes {
    let backend: SupportBackend

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.get("cluster") { request, context in
            _ = try context.reader([.agent, .manager, .auditor, .admin], "the cluster's status")
            _ = try QueryParameters(request, allowed: [])
            return JSONResponse.make(ClusterAnswer(status: backend.cluster?.status, appliedSeq: backend.projections.appliedSeq))
        }
    }
}

/// What a node of a replicated desk does around every request (a single node too, but for the
/// redirects):
/// - `Ledgerdesk-Min-Seq: N` holds the request until this node's projections have applied seq N
///   (a client reading on a follower what it wrote on the leader), 503 after
///   ``ServerLimits/longestSeqWait`` (10 s);
/// - a write to `/v1` on a follower is redirected to the leader (307, which keeps the method and
///   the body), or 503 with `Retry-After` while no node leads;
/// - every answer says the seq it reflects (`Ledgerdesk-Seq`) and, in a cluster, the node
///   (`Ledgerdesk-Node`).
///
/// It sits outside the request-id middleware, so it writes its own problems.
struct ReplicaMiddleware: RouterMiddleware {
    typealias Context = SupportRequestContext
    let backend: SupportBackend

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if let problem = await hold(request) {
            response = try problem.response(from: request, context: context)
        } else {
            response = try await next(request, context)
        }
        response.headers[.ledgerdeskSeq] = String(backend.projections.appliedSeq)
        if let cluster = backend.cluster { response.headers[.ledgerdeskNode] = cluster.status.node }
        return response
    }

    /// Why the request is not served here and now, or nil when it is.
    private func hold(_ request: Request) async -> Problem? {
        if let raw = request.headers[.ledgerdeskMinSeq] {
            guard let seq = UInt64(raw), String(seq) == raw else {
                return .badRequest("Ledgerdesk-Min-Seq must be a seq (a whole number, 0 or more), not \"\(raw.prefix(40))\"")
            }
            let deadline = ContinuousClock.now + backend.limits.longestSeqWait
            while backend.projections.appliedSeq < seq {
                guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(10))) != nil else {
                    return .retryLater(
                        .serviceUnavailable, seconds: 1,
                        "this node has applied seq \(backend.projections.appliedSeq), not yet \(seq); try again, or ask the leader")
                }
            }
        }
        guard let cluster = backend.cluster, Self.writes(request), request.uri.path.hasPrefix("/v1/") else { return nil }
        let status = cluster.status
        guard !status.leading else { return nil }
        guard let leader = status.leader else {
            return .retryLater(
                .serviceUnavailable, seconds: 1, "no node leads the cluster now (node \(status.node) follows); try again shortly")
        }
        var redirect = Problem(
            .temporaryRedirect, "node \(status.node) follows; writes go to the leader, node \(leader.node) at \(leader.url)",
            headers: [.location: leader.url + request.uri.description])
        redirect.members["leader"] = .object(["node": .string(leader.node), "url": .string(leader.url)])
        return redirect
    }

    /// Whether the request may write (any method but the reading ones).
    static func writes(_ request: Request) -> Bool {
        switch request.method {
        case .get, .head, .options: false
        default: true
        }
    }
}
