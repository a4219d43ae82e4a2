import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import SupportService
import Synchronization
import Testing

@testable import SupportServer

/// Holds point-in-time folds on their threads until released (the test seam of
/// ``PointInTimeFolds``), and counts how many it holds.
final class FoldGate: Sendable {
    private let condition = NSCondition()
    private let state = Mutex<(holding: Int, released: Bool)>((0, false))

    /// Called on a fold's thread: waits until released (at most 4 minutes, so a broken test ends).
    var hold: @Sendable () -> Void {
        { [self] in
            state.withLock { $0.holding += 1 }
            let deadline = Date().addingTimeInterval(240)
            condition.lock()
            while !released, condition.wait(until: deadline) {}
            condition.unlock()
            state.withLock { $0.holding -= 1 }
        }
    }

    /// Folds held now (a fold lets go when released or after its 4 minutes).
    var holding: Int { state.withLock { $0.holding } }
    var released: Bool { state.withLock { $0.released } }

    func release() {
        condition.lock()
        state.withLock { $0.released = true }
        condition.broadcast()
        condition.unlock()
    }
}

/// Polls `condition` until it holds (a bounded wait that only guards against a hang).
func eventually(
    _ what: String, within limit: Duration = .seconds(120), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

@Suite("Edge limits: point-in-time folds, rate limits, long-polls, idle connections, metric labels")
struct EdgeLimitTests {
    // MARK: Point in time

    // The limits guard against a hang; a full run on two cores with the automations' and webhooks' suites
    // beside it starves these tests for minutes, so they are generous.
    @Test(.timeLimit(.minutes(5)))
    func queueReadsAnswerWhileAsOfFoldsRunAndAFoldBeyondTheLimitIs503WithRetryAfter() async throws {
        // More folds than the cooperative pool has threads: were they run on it, nothing else could run.
        let folds = ProcessInfo.processInfo.activeProcessorCount + 1
        try await withServer(limits: ServerLimits(requestsPerSecond: 0, concurrentPointInTimeFolds: folds)) { server, client in
            let id = try await client.open(product: "hosting")
            try await client.command(id, "assign", as: .alice, #"{"agent": "alice"}"#)
            let gate = FoldGate()
            server.backend.pointInTime.willFold.withLock { $0 = .init(gate.hold) }
            let asOf = "2026-03-02T10:00:00Z"
            try await withThrowingTaskGroup(of: Reply.self) { group in
                let routes = [
                    "/v1/queues", "/v1/queues/hosting", "/v1/agents/alice/queue", "/v1/agents",
                    "/v1/metrics/response-times", "/v1/satisfaction",
                ]
                for k in 0..<folds {
                    group.addTask { try await client.get("\(routes[k % routes.count])?asOf=\(asOf)", as: .manager) }
                }
                try await eventually("\(folds) folds running") { gate.holding == folds }

                let team = try await client.get("/v1/queues/hosting", as: .alice)
                let agent = try await client.get("/v1/agents/alice/queue", as: .alice)
                let answeredWhileFolding = gate.holding == folds
                #expect(team.status == .ok && team.json["entries"]?.arrayValue?.count == 1, "\(team)")
                #expect(agent.status == .ok && agent.json["entries"]?.arrayValue?.first?["id"]?.stringValue == id, "\(agent)")
                #expect(answeredWhileFolding, "the live reads waited for the folds")

                for route in routes {
                    let refused = try await client.get("\(route)?asOf=\(asOf)", as: .manager)
                    expectProblem(refused, .serviceUnavailable, detail: "asOf")
                    #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1, "Retry-After of \(refused.headers)")
                }
                // One ticket as of an instant folds its own stream only: not limited.
                #expect(try await client.get("/v1/tickets/\(id)?asOf=\(asOf)", as: .alice).status == .ok)

                gate.release()
                for try await reply in group { #expect(reply.status == .ok, "\(reply)") }
            }
            #expect(server.backend.pointInTime.gate.inUse == 0)
            #expect(try await client.get("/v1/queues?asOf=\(asOf)", as: .manager).status == .ok)
        }
    }

    @Test func retryAfterOfAFoldGrowsWithTheLog() {
        #expect(PointInTimeFolds.retryAfter(events: 0) == 1)
        #expect(PointInTimeFolds.retryAfter(events: 1_000_000) == 2)
        #expect(PointInTimeFolds.retryAfter(events: 10_000_000) == 15)
        #expect(PointInTimeFolds.retryAfter(events: UInt64(1) << 40) == 60)
    }

    // MARK: Rate limits

    @Test func aTokenBeyondItsBucketGets429WithRetryAfterWhileOtherTokensAndHealthAndMetricsGoOn() async throws {
        let monotonic = ManualMonotonicClock()
        try await withServer(limits: ServerLimits(requestsPerSecond: 2, burst: 3), monotonic: monotonic) { _, client in
            for _ in 0..<3 { #expect(try await client.get("/v1/queues", as: .alice).status == .ok) }
            let refused = try await client.get("/v1/queues", as: .alice)
            expectProblem(refused, .tooManyRequests, detail: "rate limit")
            #expect(refused.headers[.retryAfter] == "1", "\(refused.headers)")
            let write = try await client.post("/v1/tickets/T-1/notes", as: .alice, Bodies.message("x"))
            expectProblem(write, .tooManyRequests)

            // Another token has its own bucket; health and metrics are not counted per token.
            for _ in 0..<3 { #expect(try await client.get("/v1/queues", as: .bob).status == .ok) }
            for _ in 0..<20 {
                #expect(try await client.get("/healthz", as: .alice).status == .ok)
                #expect(try await client.get("/metrics", as: .alice).status == .ok)
            }
            // Unauthenticated requests are 401, not counted against anyone.
            expectProblem(try await client.get("/v1/queues", as: nil), .unauthorized)

            // Half a second refills one request (2 per second), not two.
            monotonic.advance(milliseconds: 500)
            #expect(try await client.get("/v1/queues", as: .alice).status == .ok)
            expectProblem(try await client.get("/v1/queues", as: .alice), .tooManyRequests)
            // The bucket refills up to the burst, no further.
            monotonic.advance(milliseconds: 60_000)
            for _ in 0..<3 { #expect(try await client.get("/v1/queues", as: .alice).status == .ok) }
            expectProblem(try await client.get("/v1/queues", as: .alice), .tooManyRequests)
        }
    }

    @Test func retryAfterNamesTheWholeSecondsUntilTheNextRequest() {
        let clock = ManualMonotonicClock()
        let limiter = RateLimiter(requestsPerSecond: 0.25, burst: 1, clock: clock.read)
        let p = Principal(role: .agent, id: "a")
        #expect(limiter.admit(p) == nil)
        #expect(limiter.admit(p) == 4)
        clock.advance(milliseconds: 2_500)
        #expect(limiter.admit(p) == 2)
        clock.advance(milliseconds: 1_500)
        #expect(limiter.admit(p) == nil)
        #expect(RateLimiter(requestsPerSecond: 0, burst: 1, clock: clock.read).admit(p) == nil, "0 turns the limit off")
    }

    // MARK: Long-polls

    @Test(.timeLimit(.minutes(5)))
    func aLongPollBeyondTheCapIs503WithRetryAfterWhileOrdinaryPollsGoOn() async throws {
        try await withServer(limits: ServerLimits(requestsPerSecond: 0, concurrentLongPolls: 1)) { server, client in
            let head = try server.head.seq
            let waiting = Task { try await client.get("/v1/events?after=\(head)&wait=60", as: .auditor) }
            try await eventually("one long-poll waiting") { server.backend.longPolls.inUse == 1 }

            let refused = try await client.get("/v1/events?after=\(head)&wait=5", as: .admin)
            expectProblem(refused, .serviceUnavailable, detail: "long-poll")
            #expect(refused.headers[.retryAfter] == "1")
            let plain = try await client.get("/v1/events?after=\(head)", as: .admin)
            #expect(plain.status == .ok && plain.json["events"]?.arrayValue?.isEmpty == true, "\(plain)")

            _ = try await client.open()
            let answered = try await waiting.value
            #expect(answered.status == .ok && answered.json["events"]?.arrayValue?.count == 1, "\(answered)")
            #expect(server.backend.longPolls.inUse == 0)
        }
    }

    // MARK: Idle connections

    @Test(.timeLimit(.minutes(5)))
    func anIdleConnectionIsClosedByTheServer() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = try SupportBackend(
            dataDirectory: directory.path,
            limits: ServerLimits(requestsPerSecond: 0, idleTimeout: .milliseconds(200)))
        let port = Mutex<Int?>(nil)
        var logger = Logger(label: "edge-test")
        logger.logLevel = .warning
        let app = buildApplication(backend: backend, tokens: Who.tokens, host: "127.0.0.1", port: 0, logger: logger) { bound in
            port.withLock { $0 = bound }
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let running = Task { try await group.run() }
        do {
            // Starting is no part of what this test measures: at the start of a full run, with a
            // hundred suites starting on two cores, it can take a while.
            try await eventually("the server listening", within: .seconds(90)) { port.withLock { $0 } != nil }
            let bound = try #require(port.withLock { $0 })
            // One request on a kept-alive connection, then silence: the server must hang up.
            let outcome = await idleConnectionOutcome(port: bound)
            #expect(outcome.response.hasPrefix("HTTP/1.1 200"), "\(outcome.response)")
            #expect(outcome.closedByServer, "the server kept the idle connection open for 20 s")
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// Connects to 127.0.0.1:`port`, sends `GET /healthz` (keep-alive), then reads until the server
    /// closes the connection or 20 s pass with nothing (a guard against a hang). Runs on its own thread.
    func idleConnectionOutcome(port: Int) async -> (response: String, closedByServer: Bool) {
        await withCheckedContinuation { continuation in
            Thread {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var timeout = timeval(tv_sec: 20, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { continuation.resume(returning: ("connect failed", false)); return }
                let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n".utf8)
                _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n > 0 { received += buffer[0..<n]; continue }
                    // A signal (a child process of another test ending: SIGCHLD) interrupts a
                    // receive with a timeout whatever SA_RESTART says: that is not an answer.
                    if n < 0, errno == EINTR { continue }
                    continuation.resume(returning: (String(decoding: received, as: UTF8.self), n == 0))
                    return
                }
            }.start()
        }
    }

    // MARK: Metric labels

    /// The `ledgerdesk_queue_depth` samples of an exposition, by team label.
    func depths(_ exposition: String) -> [String: Int] {
        var result: [String: Int] = [:]
        for line in exposition.split(separator: "\n") where line.hasPrefix("ledgerdesk_queue_depth{team=\"") {
            let rest = line.dropFirst("ledgerdesk_queue_depth{team=\"".count)
            guard let end = rest.range(of: "\"}") else { continue }
            result[String(rest[..<end.lowerBound])] = Int(Double(rest[end.upperBound...].trimmingCharacters(in: .whitespaces)) ?? -1)
        }
        return result
    }

    @Test func teamLabelsAreBoundedWithTheRestSummedUnderOther() async throws {
        try await withServer(limits: ServerLimits(requestsPerSecond: 0, metricsTeams: 3)) { _, client in
            // Team k has k tickets waiting: 12 teams, 78 tickets.
            for k in 1...12 {
                for _ in 0..<k { _ = try await client.open(product: "team-\(k)") }
            }
            let exposition = try await client.get("/metrics", as: nil).text
            let seen = depths(exposition)
            #expect(seen == ["team-12": 12, "team-11": 11, "team-10": 10, "(other)": 45], "\(seen)")
            #expect(exposition.components(separatedBy: "ledgerdesk_queue_breached{team=").count - 1 == 4)
        }
    }

    @Test func gaugesOfATeamThatLeftAreDropped() async throws {
        try await withServer { _, client in
            let leaving = try await client.open(product: "night-shift")
            _ = try await client.open(product: "hosting")
            #expect(depths(try await client.get("/metrics", as: nil).text) == ["night-shift": 1, "hosting": 1])
            try await client.command(leaving, "escalate", as: .alice, #"{"team": "hosting", "reason": "shift ended"}"#)
            let after = try await client.get("/metrics", as: nil).text
            #expect(depths(after) == ["hosting": 2], "\(after)")
            #expect(!after.contains("night-shift"), "the departed team's gauges are gone: \(after)")
        }
    }

    @Test func canonicallyEquivalentTeamsShareOneSeriesThatSurvivesScrapes() async throws {
        try await withServer { _, client in
            _ = try await client.open(product: "é")
            _ = try await client.open(product: "e\u{301}")
            _ = try await client.open(product: "e\u{301}")
            for _ in 0..<3 {
                let seen = depths(try await client.get("/metrics", as: nil).text)
                #expect(seen.count == 1 && seen.values.first == 3, "\(seen)")
            }
        }
    }

    @Test func aTeamNamedLikeTheRestIsCountedWithTheRest() {
        let queues = [(team: "a", depth: 3, breached: 0), (team: "(other)", depth: 5, breached: 1), (team: "b", depth: 1, breached: 1)]
        let labelled = ServerMetrics.labelled(queues, limit: 5)
        #expect(labelled.map(\.team) == ["a", "b", "(other)"])
        #expect(labelled.last?.depth == 5 && labelled.last?.breached == 1)
        #expect(ServerMetrics.labelled(Array(queues.prefix(1)), limit: 5).map(\.team) == ["a"], "no (other) when all fit")
    }
}
