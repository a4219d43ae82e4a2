import Crypto
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Projections
import ServiceLifecycle
import SupportDomain
import SupportService
import Synchronization
import Testing

@testable import SupportServer

/// A webhook receiver on 127.0.0.1 (a Hummingbird app on a free port): records every POST and
/// answers with the statuses it is given, in turn (200 once they run out).
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var headers: HTTPFields
        var body: [UInt8]
        var delivery: UInt64 { UInt64(headers[HTTPField.Name("X-Ledgerdesk-Delivery")!] ?? "") ?? 0 }
        var event: String { headers[HTTPField.Name("X-Ledgerdesk-Event")!] ?? "" }
        var signature: String { headers[HTTPField.Name("X-Ledgerdesk-Signature")!] ?? "" }
    }

    /// What the receiver's handler and the test share.
    final class State: Sendable {
        let received = Mutex<[Received]>([])
        let script = Mutex<[Int]>([])
        let always = Mutex<Int?>(nil)
        let port = Mutex<Int?>(nil)
    }

    private let state = State()
    private let group: ServiceGroup

    init() {
        let router = Router()
        let state = self.state
        router.post("in") { request, _ -> Response in
            var request = request
            let body = Array(buffer: try await request.collectBody(upTo: 1 << 20))
            state.received.withLock { $0.append(Received(headers: request.headers, body: body)) }
            let status = state.always.withLock { $0 } ?? state.script.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            return Response(status: .init(code: status))
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in state.port.withLock { $0 = channel.localAddress?.port } }, logger: logger)
        group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    }

    /// Starts listening; returns the URL to register.
    func start() async throws -> (url: String, task: Task<Void, any Error>) {
        let group = self.group
        let task = Task { try await group.run() }
        let state = self.state
        try await eventually("the receiver listening", within: .seconds(90)) { state.port.withLock { $0 } != nil }
        return ("http://127.0.0.1:\(state.port.withLock { $0 } ?? 0)/in", task)
    }

    func stop(_ task: Task<Void, any Error>) async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    var requests: [Received] { state.received.withLock { $0 } }
    func answer(_ statuses: [Int]) { state.script.withLock { $0 = statuses } }
    func answerAlways(_ status: Int?) { state.always.withLock { $0 = status } }
}

/// A retry policy for tests: waits of milliseconds, a cool-down long enough never to end in a test.
func quickRetry(coolDown: Duration = .seconds(3600)) -> WebhookRetryPolicy {
    var retry = WebhookRetryPolicy()
    retry.firstWait = .milliseconds(1)
    retry.longestWait = .milliseconds(4)
    retry.coolDown = coolDown
    retry.longestCoolDown = coolDown
    retry.timeout = .seconds(10)
    return retry
}

let loopbackAllowed = WebhookAddressPolicy(allow: [CIDR("127.0.0.0/8")!])

/// Verifies `X-Ledgerdesk-Signature` as docs/webhooks.md tells a receiver to.
func signatureHolds(_ header: String, body: [UInt8], secret: String) -> Bool {
    let parts = Dictionary(
        uniqueKeysWithValues: header.split(separator: ",").compactMap { part -> (String, String)? in
            let kv = part.split(separator: "=", maxSplits: 1)
            return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
        })
    guard let t = parts["t"], let v1 = parts["v1"] else { return false }
    let mac = HMAC<SHA256>.authenticationCode(for: Array("\(t).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
    return mac.map { String(format: "%02x", $0) }.joined() == v1
}

@Suite struct WebhookDeliveryTests {
    static let secret = "receiver-secret-0123456789"

    /// Runs the webhook runner over `server`'s backend while `body` runs.
    static func withRunner<T: Sendable>(
        _ server: TestServer, transport: any WebhookTransport = HTTPWebhookTransport(),
        retry: WebhookRetryPolicy = quickRetry(), _ body: (WebhookRunner) async throws -> T
    ) async throws -> T {
        try await withRunner(server.backend, transport: transport, retry: retry, body)
    }

    /// Runs the webhook runner over `backend` while `body` runs.
    static func withRunner<T: Sendable>(
        _ backend: SupportBackend, transport: any WebhookTransport = HTTPWebhookTransport(),
        retry: WebhookRetryPolicy = quickRetry(), _ body: (WebhookRunner) async throws -> T
    ) async throws -> T {
        let runner = backend.makeWebhooks(transport: transport, addresses: loopbackAllowed, retry: retry)
        let task = Task { await runner.run() }
        let result: Result<T, any Error>
        do { result = .success(try await body(runner)) } catch { result = .failure(error) }
        task.cancel()
        await task.value
        return try result.get()
    }

    @Test(.timeLimit(.minutes(10)))
    func signedEnvelopesArriveInLogOrderWithTheirHeadersAndNotesOnlyWhereAskedFor() async throws {
        let receiver = WebhookReceiver()
        let (url, listening) = try await receiver.start()
        defer { Task { await receiver.stop(listening) } }
        try await withServer { server, client in
            try await Self.withRunner(server) { runner in
                let plain = try await client.post("/v1/webhooks", as: .admin, #"{"url": "\#(url)", "secret": "\#(Self.secret)"}"#)
                #expect(plain.status == .created, "\(plain)")
                let id = try await client.open()
                try await client.command(id, "messages", as: .alice, Bodies.message("Looking into it"))
                try await client.command(id, "notes", as: .alice, Bodies.message("internal: quota script broken"))
                let other = try await client.open(subject: "Second")
                try await client.command(other, "messages", as: .alice, Bodies.message("On it"))
                // Every ticket event but the note: four.
                try await eventually("four deliveries", within: .seconds(300)) { receiver.requests.count >= 4 }
                try await eventually("four deliveries logged", within: .seconds(300)) { (runner.progress(of: "W-1")?.log.count ?? 0) >= 4 }
                let got = receiver.requests
                #expect(got.count == 4)
                #expect(got.map(\.event) == ["ticket.opened", "message.posted", "ticket.opened", "message.posted"])
                #expect(got.map(\.delivery) == got.map(\.delivery).sorted())
                // The bodies are the envelopes exactly as GET /v1/events writes them.
                let feed = try await client.get("/v1/events?limit=1000", as: .admin)
                let envelopes = (feed.json["events"]?.arrayValue ?? []).filter {
                    $0["ticket"]?.stringValue != StreamName.webhooks && $0["type"]?.stringValue != "note.added"
                }
                #expect(got.compactMap { try? JSONParser.parse($0.body) } == envelopes)
                for r in got {
                    #expect(feed.text.contains(String(decoding: r.body, as: UTF8.self)), "not byte for byte the feed's envelope")
                }
                for r in got {
                    #expect(signatureHolds(r.signature, body: r.body, secret: Self.secret), "\(r.signature)")
                    #expect(!signatureHolds(r.signature, body: r.body + [0x20], secret: Self.secret))
                    #expect(r.headers[.contentType] == "application/json")
                    #expect(r.headers[HTTPField.Name("X-Ledgerdesk-Webhook")!] == "W-1")
                    let envelope = try JSONParser.parse(r.body)
                    #expect(envelope["seq"]?.intValue.map { UInt64($0) } == r.delivery && envelope["type"]?.stringValue == r.event)
                }
                // An endpoint that asks for notes gets the note too (from its registration on: nothing before).
                let noted = try await client.post(
                    "/v1/webhooks", as: .admin, #"{"url": "\#(url)", "notes": true, "secret": "\#(Self.secret)"}"#)
                #expect(noted.status == .created)
                try await client.command(id, "notes", as: .bob, Bodies.message("second note"))
                try await eventually("the note to W-2", within: .seconds(300)) {
                    receiver.requests.contains { $0.event == "note.added" && $0.headers[HTTPField.Name("X-Ledgerdesk-Webhook")!] == "W-2" }
                }
                #expect(
                    !receiver.requests.contains { $0.event == "note.added" && $0.headers[HTTPField.Name("X-Ledgerdesk-Webhook")!] == "W-1" }
                )
                #expect(receiver.requests.filter { $0.headers[HTTPField.Name("X-Ledgerdesk-Webhook")!] == "W-2" }.count == 1)
                // The delivery log, newest first.
                let log = try await client.get("/v1/webhooks/W-1/deliveries", as: .admin)
                let entries = log.json["deliveries"]?.arrayValue ?? []
                #expect(
                    entries.count == 4 && entries.allSatisfy { $0["delivered"] == .bool(true) && $0["status"]?.intValue == 200 }, "\(log)")
                #expect(entries.first?["seq"]?.intValue == Int64(got.last?.delivery ?? 0))
            }
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func aFailedDeliveryIsRetriedUntilTheEndpointTakesItAndLaterEventsWait() async throws {
        let receiver = WebhookReceiver()
        let (url, listening) = try await receiver.start()
        defer { Task { await receiver.stop(listening) } }
        try await withServer { server, client in
            try await Self.withRunner(server) { runner in
                receiver.answer([500, 503])
                _ = try await client.post("/v1/webhooks", as: .admin, #"{"url": "\#(url)", "secret": "\#(Self.secret)"}"#)
                let id = try await client.open()
                try await client.command(id, "messages", as: .alice, Bodies.message("Looking into it"))
                try await eventually("both events delivered", within: .seconds(300)) { receiver.requests.count >= 4 }
                try await eventually("four attempts logged", within: .seconds(300)) { (runner.progress(of: "W-1")?.log.count ?? 0) >= 4 }
                let got = receiver.requests
                // The first event three times (500, 503, 200), then the second: in order, never skipped.
                #expect(got.map(\.delivery) == [got[0].delivery, got[0].delivery, got[0].delivery, got[3].delivery])
                #expect(got[3].delivery > got[0].delivery)
                let log = try await client.get("/v1/webhooks/W-1/deliveries", as: .admin)
                let statuses = (log.json["deliveries"]?.arrayValue ?? []).map { $0["status"]?.intValue ?? 0 }
                #expect(statuses == [200, 200, 503, 500], "\(log)")
                let state = try await client.get("/v1/webhooks/W-1", as: .admin)
                #expect(state.json["delivery"]?["failures"]?.intValue == 0 && state.json["delivery"]?["circuit"]?.stringValue == "closed")
            }
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func theCircuitOpensAfterFiveFailuresAndARedeliveryClosesIt() async throws {
        let receiver = WebhookReceiver()
        let (url, listening) = try await receiver.start()
        defer { Task { await receiver.stop(listening) } }
        try await withServer { server, client in
            try await Self.withRunner(server) { runner in
                receiver.answerAlways(500)
                _ = try await client.post("/v1/webhooks", as: .admin, #"{"url": "\#(url)", "secret": "\#(Self.secret)"}"#)
                let id = try await client.open()
                try await eventually("the circuit open", within: .seconds(300)) { runner.progress(of: "W-1")?.circuit == .open }
                let state = try await client.get("/v1/webhooks/W-1", as: .admin)
                #expect(
                    state.json["delivery"]?["circuit"]?.stringValue == "open" && state.json["delivery"]?["failures"]?.intValue == 5,
                    "\(state)")
                #expect(receiver.requests.count == 5)
                // Open for an hour: nothing is attempted meanwhile, whatever is appended.
                try await client.command(id, "messages", as: .alice, Bodies.message("Looking into it"))
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.requests.count == 5)
                // The endpoint is fixed; a redelivery from the ticket's first event closes the circuit.
                receiver.answerAlways(nil)
                let opened = try #require(receiver.requests.first?.delivery)
                let redeliver = try await client.post("/v1/webhooks/W-1/redeliver", as: .admin, #"{"from": \#(opened)}"#)
                #expect(redeliver.status == .accepted, "\(redeliver)")
                try await eventually("both events delivered", within: .seconds(300)) { receiver.requests.count >= 7 }
                #expect(receiver.requests.suffix(2).map(\.event) == ["ticket.opened", "message.posted"])
                let after = try await client.get("/v1/webhooks/W-1", as: .admin)
                #expect(after.json["delivery"]?["circuit"]?.stringValue == "closed", "\(after)")
            }
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func aRedeliveryRewindsTheEndpointToTheGivenSeq() async throws {
        let receiver = WebhookReceiver()
        let (url, listening) = try await receiver.start()
        defer { Task { await receiver.stop(listening) } }
        try await withServer { server, client in
            try await Self.withRunner(server) { _ in
                _ = try await client.post("/v1/webhooks", as: .admin, #"{"url": "\#(url)", "secret": "\#(Self.secret)"}"#)
                let id = try await client.open()
                try await client.command(id, "messages", as: .alice, Bodies.message("one"))
                try await client.command(id, "messages", as: .alice, Bodies.message("two"))
                try await eventually("three deliveries", within: .seconds(300)) { receiver.requests.count >= 3 }
                let first = receiver.requests.map(\.delivery)
                let r = try await client.post("/v1/webhooks/W-1/redeliver", as: .admin, #"{"from": \#(first[1])}"#)
                #expect(r.status == .accepted)
                try await eventually("two more deliveries", within: .seconds(300)) { receiver.requests.count >= 5 }
                #expect(receiver.requests.map(\.delivery) == first + [first[1], first[2]])
            }
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func aLinkLocalEndpointIsNeverContactedAndItsRefusalIsLogged() async throws {
        let transport = InMemoryWebhookTransport()
        try await withServer { server, client in
            try await Self.withRunner(server, transport: transport) { runner in
                for url in ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]:8080/in", "http://0.0.0.0/in"] {
                    let r = try await client.post("/v1/webhooks", as: .admin, #"{"url": "\#(url)"}"#)
                    #expect(r.status == .created, "\(r)")
                }
                _ = try await client.open()
                try await eventually("three refusals", within: .seconds(300)) {
                    ["W-1", "W-2", "W-3"].allSatisfy { (runner.progress(of: $0)?.log.count ?? 0) >= 1 }
                }
                for id in ["W-1", "W-2", "W-3"] {
                    let log = try await client.get("/v1/webhooks/\(id)/deliveries", as: .admin)
                    let entry = log.json["deliveries"]?.arrayValue?.last
                    #expect(entry?["delivered"] == .bool(false) && entry?["error"]?.stringValue?.contains("refused") == true, "\(log)")
                }
                #expect(transport.requests.isEmpty)
            }
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func aRemovedEndpointGetsNothingMoreAndItsClientIsReleased() async throws {
        let transport = InMemoryWebhookTransport()
        try await withServer { server, client in
            try await Self.withRunner(server, transport: transport) { _ in
                _ = try await client.post("/v1/webhooks", as: .admin, #"{"url": "http://127.0.0.1:9/in"}"#)
                _ = try await client.open()
                try await eventually("one delivery", within: .seconds(300)) { transport.requests.count == 1 }
                #expect(transport.requests[0].address == IPAddress("127.0.0.1"))
                let removed = try await client.send(.delete, "/v1/webhooks/W-1", as: .admin)
                #expect(removed.status == .noContent)
                try await eventually("the endpoint released", within: .seconds(300)) { transport.closedEndpoints == ["W-1"] }
                _ = try await client.open()
                try await Task.sleep(for: .milliseconds(200))
                #expect(transport.requests.count == 1)
            }
        }
    }

    /// A backend on `directory` with a webhook runner, closed after `body`.
    static func session(
        directory: String, clock: ManualClock, _ body: (SupportBackend, WebhookRunner) async throws -> Void
    ) async throws {
        let backend = try SupportBackend(dataDirectory: directory, limits: testLimits, clock: clock.read)
        defer { backend.close() }
        try await withRunner(backend) { runner in try await body(backend, runner) }
    }

    @Test(.timeLimit(.minutes(10)))
    func aRestartResumesFromTheCheckpointWithoutLosingOrRepeatingEvents() async throws {
        let receiver = WebhookReceiver()
        let (url, listening) = try await receiver.start()
        defer { Task { await receiver.stop(listening) } }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()

        func session(_ body: (SupportBackend, WebhookRunner) async throws -> Void) async throws {
            try await Self.session(directory: directory.path, clock: clock, body)
        }
        func open(_ backend: SupportBackend, _ subject: String) async throws {
            let command = try TicketCommand.parse(
                route: .open, body: try JSONParser.parse(Array(Bodies.open(subject: subject).utf8)),
                actor: SupportActor(kind: .customer, id: "c-1"), limits: backend.levels.policy.limits)
            _ = try await backend.commands.run(
                command, on: nil, principal: Principal(role: .customer, id: "c-1"), idempotency: nil, expectedVersion: nil)
        }

        try await session { backend, runner in
            _ = try await backend.webhooks.register(
                try WebhookCommands.Registration(body: Array(#"{"url": "\#(url)", "secret": "\#(Self.secret)"}"#.utf8)), admin: "admin")
            try await open(backend, "one")
            try await open(backend, "two")
            try await eventually("two deliveries", within: .seconds(300)) { receiver.requests.count >= 2 }
            let head = try backend.store.head.seq
            try await eventually("both recorded as delivered", within: .seconds(300)) { runner.progress(of: "W-1")?.seq == head }
        }
        // Written while no runner runs: delivered after the restart.
        do {
            let backend = try SupportBackend(dataDirectory: directory.path, limits: testLimits, clock: clock.read)
            defer { backend.close() }
            try await open(backend, "three")
        }
        try await session { backend, _ in
            try await open(backend, "four")
            try await eventually("four deliveries", within: .seconds(300)) { receiver.requests.count >= 4 }
        }
        let seqs = receiver.requests.map(\.delivery)
        #expect(seqs.count == 4 && seqs == seqs.sorted() && Set(seqs).count == 4, "\(seqs)")
    }
}
