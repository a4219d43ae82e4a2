/// The limits the HTTP edge enforces (docs/operations.md, "Edge limits"): what one token may
/// ask, how much expensive work runs at once, and how long an idle connection is kept.
package struct ServerLimits: Sendable, Equatable {
    /// Requests per second each principal (bearer token) may make on `/v1`, sustained; beyond
    /// its bucket a request is 429 with `Retry-After`. 0 turns rate limiting off.
    package var requestsPerSecond: Double
    /// How many requests a principal may make at once before the sustained rate applies.
    package var burst: Int
    /// `GET /v1/events` long-polls (`wait` > 0 with nothing new) waiting at once; beyond, 503.
    package var concurrentLongPolls: Int
    /// Point-in-time answers (`asOf` on queues, agents, metrics, the ticket list) computed at once,
    /// each on its own thread off the request pool; beyond, 503.
    package var concurrentPointInTimeFolds: Int
    /// How long a connection may sit with no request in progress before it is closed; nil keeps
    /// idle connections open.
    package var idleTimeout: Duration?
    /// Teams labelled one by one in the queue gauges of `GET /metrics`; the rest are summed
    /// under `team="(other)"`.
    package var metricsTeams: Int
    /// Events appended per commit by an import: larger chunks load faster; a graceful shutdown
    /// stops an import at a chunk boundary.
    package var importChunkEvents: Int
    /// Longest a request carrying `Ledgerdesk-Min-Seq` waits for this node to apply that seq.
    package var longestSeqWait: Duration = .seconds(10)

    package init(
        requestsPerSecond: Double = 20, burst: Int = 100, concurrentLongPolls: Int = 64,
        concurrentPointInTimeFolds: Int = 2, idleTimeout: Duration? = .seconds(60), metricsTeams: Int = 100,
        importChunkEvents: Int = 2000
    ) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.concurrentLongPolls = concurrentLongPolls
        self.concurrentPointInTimeFolds = concurrentPointInTimeFolds
        self.idleTimeout = idleTimeout
        self.metricsTeams = metricsTeams
        self.importChunkEvents = max(1, importChunkEvents)
    }

    /// The defaults `supportd` runs with.
    package static let `default` = ServerLimits()
}
