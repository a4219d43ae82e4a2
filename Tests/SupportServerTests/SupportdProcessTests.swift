import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SupportService
import Synchronization
import Testing

@testable import SupportServer

// MARK: - The real `supportd`, as a child process

/// Bytes a pipe delivered so far.
final class OutputBuffer: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    func append(_ data: Data) { bytes.withLock { $0.append(contentsOf: data) } }
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}

struct SupportdError: Error, CustomStringConvertible {
    var description: String
}

/// `supportd --data-dir DIR --host 127.0.0.1 --port 0 --tokens FILE`, built beside this test bundle.
final class SupportdProcess: @unchecked Sendable {
    static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("supportd")
    }

    private let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    let stdout = OutputBuffer()
    let stderr = OutputBuffer()

    /// `extraArguments` default to no rate limit: the load tests send hundreds of requests per
    /// token a second (the rate limit has its own tests).
    init(dataDirectory: String, tokensFile: String, extraArguments: [String] = ["--rate-limit", "0"]) throws {
        process.executableURL = Self.executable
        process.arguments =
            [
                "--data-dir", dataDirectory, "--host", "127.0.0.1", "--port", "0", "--tokens", tokensFile,
                "--log-level", "warning",
            ] + extraArguments
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        let (out, err) = (stdout, stderr)
        stdoutPipe.fileHandleForReading.readabilityHandler = { handle in out.append(handle.availableData) }
        stderrPipe.fileHandleForReading.readabilityHandler = { handle in err.append(handle.availableData) }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var terminationStatus: Int32 { process.terminationStatus }
    var terminationReason: Process.TerminationReason { process.terminationReason }

    /// The port of the `supportd listening on http://127.0.0.1:PORT` line (bounded wait).
    func waitForPort(within limit: Duration = .seconds(30)) async throws -> Int {
        let marker = "supportd listening on http://127.0.0.1:"
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let text = stdout.text
            if let range = text.range(of: marker) {
                let rest = text[range.upperBound...]
                let digits = rest.prefix { $0.isASCII && $0.isNumber }
                if rest.dropFirst(digits.count).first == "\n", let port = Int(digits), port > 0 { return port }
            }
            if !process.isRunning {
                throw SupportdError(description: "supportd exited early (\(process.terminationStatus)): \(stdout.text) \(stderr.text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SupportdError(description: "supportd did not report a port within \(limit): \(stdout.text) \(stderr.text)")
    }

    func send(_ signal: Int32) { if process.isRunning { kill(process.processIdentifier, signal) } }

    /// Polls until the process has exited, at most `limit`; true when it did.
    func waitForExit(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }

    /// Makes sure the process is gone (SIGKILL if needed) and stops reading its pipes.
    func terminate() async {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            _ = await waitForExit(within: .seconds(60))
        }
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        stderrPipe.fileHandleForReading.readabilityHandler = nil
    }
}

/// One request over a fresh loopback connection (`Connection: close`), bounded by `timeout` (a hang
/// guard: a debug supportd beside the whole suite on two cores may take seconds to answer);
/// nil when the connection failed (refused, reset, timed out).
func call(
    port: Int, _ method: HTTPRequest.Method, _ path: String, as who: Who, body: String? = nil,
    headers: HTTPFields = [:], timeout: Duration = .seconds(60)
) async -> Reply? {
    let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: timeout))
    client.connect()
    var fields = headers
    fields[.authorization] = "Bearer \(who.token)"
    fields[.connection] = "close"
    if body != nil { fields[.contentType] = "application/json" }
    let request = TestClient.Request(
        path, method: method, authority: "127.0.0.1:\(port)", headers: fields,
        body: body.map { ByteBuffer(string: $0) })
    let reply: Reply?
    do {
        let response = try await client.execute(request)
        reply = Reply(status: response.status, headers: response.headers, bytes: response.body.map { Array(buffer: $0) } ?? [])
    } catch {
        reply = nil
    }
    try? await client.shutdown()
    return reply
}

/// A write the server acknowledged with a 2xx: the ticket, the version its ETag named, the event
/// type that version must hold, and the unique text it carried.
struct Ack: Sendable, Hashable {
    var ticket: String
    var version: UInt64
    var type: String
    var marker: String
}

/// What the load clients saw.
final class LoadRecord: Sendable {
    private let acks = Mutex<[Ack]>([])
    private let statuses = Mutex<[UInt: Int]>([:])
    private let unreadable2xx = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)

    func acknowledge(_ ack: Ack) { acks.withLock { $0.append(ack) } }
    func saw(_ status: HTTPResponse.Status) { statuses.withLock { $0[UInt(status.code), default: 0] += 1 } }
    func sawUnreadable2xx() { unreadable2xx.add(1, ordering: .relaxed) }
    var acknowledged: [Ack] { acks.withLock { $0 } }
    var count: Int { acks.withLock { $0.count } }
    var statusCounts: [UInt: Int] { statuses.withLock { $0 } }
    var unreadable: Int { unreadable2xx.load(ordering: .relaxed) }
}

/// One load client: opens tickets (as c-1) and posts agent messages to the seed tickets, until
/// told to stop, the server is gone (3 failed connections in a row) or 400 requests are done.
func runWriter(_ worker: Int, port: Int, seeds: [String], record: LoadRecord) async {
    var failures = 0
    for i in 0..<400 {
        if record.stop.load(ordering: .relaxed) { break }
        let marker = "load-w\(worker)-i\(i)"
        let opening = i % 3 == 0
        let ticket = seeds[(worker + i) % seeds.count]
        let reply =
            opening
            ? await call(port: port, .post, "/v1/tickets", as: .c1, body: Bodies.open(subject: marker, body: marker))
            : await call(port: port, .post, "/v1/tickets/\(ticket)/messages", as: .alice, body: Bodies.message(marker))
        guard let reply else {
            failures += 1
            if failures >= 3 { break }
            try? await Task.sleep(for: .milliseconds(30))
            continue
        }
        failures = 0
        record.saw(reply.status)
        guard reply.status == .ok || reply.status == .created else { continue }
        guard let version = reply.etagVersion, let id = opening ? reply.json["id"]?.stringValue : ticket,
            !opening || reply.location == "/v1/tickets/\(id)"
        else {
            record.sawUnreadable2xx()
            continue
        }
        record.acknowledge(Ack(ticket: id, version: version, type: opening ? "ticket.opened" : "message.posted", marker: marker))
    }
}

/// Every acknowledged write is in the log at its ticket and version, with its own text.
func expectAcknowledgedWritesPresent(
    _ acks: [Ack], in events: (String) throws -> [RecordedEvent],
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var streams: [String: [UInt64: RecordedEvent]] = [:]
    var lost: [Ack] = []
    for ack in acks {
        if streams[ack.ticket] == nil {
            streams[ack.ticket] = Dictionary(uniqueKeysWithValues: try events(ack.ticket).map { ($0.version, $0) })
        }
        let event = streams[ack.ticket]?[ack.version]
        let text = ack.type == "ticket.opened" ? event?.data["subject"]?.stringValue : event?.data["body"]?.stringValue
        if event?.type != ack.type || text != ack.marker { lost.append(ack) }
    }
    #expect(lost.isEmpty, "\(lost.count) acknowledged writes are missing or different: \(lost.prefix(5))", sourceLocation: sourceLocation)
    #expect(
        Set(acks.map { "\($0.ticket)#\($0.version)" }).count == acks.count, "two acknowledgements named the same version",
        sourceLocation: sourceLocation)
}

func openReadOnly(_ directory: String) throws -> EventStore {
    try EventStore(EventLogConfiguration(directory: directory, envelope: EnvelopeFormat(streamField: "ticket"), readOnly: true))
}

// MARK: - Tests

@Suite("supportd end to end", .serialized)
struct SupportdProcessTests {
    /// A temporary directory with a tokens file and an (empty) data directory path.
    struct Setup {
        let root = TemporaryDirectory()
        var data: String { root.path + "/data" }
        var tokens: String { root.path + "/tokens.json" }
        init() throws { try Who.tokensFileJSON.write(toFile: root.path + "/tokens.json", atomically: true, encoding: .utf8) }
    }

    /// Starts `supportd` on the setup's data directory and makes sure it is gone afterwards.
    func withSupportd<T>(_ setup: Setup, _ body: (SupportdProcess, Int) async throws -> T) async throws -> T {
        let server = try SupportdProcess(dataDirectory: setup.data, tokensFile: setup.tokens)
        do {
            let port = try await server.waitForPort()
            let value = try await body(server, port)
            await server.terminate()
            return value
        } catch {
            await server.terminate()
            throw error
        }
    }

    func seedTickets(port: Int, count: Int) async throws -> [String] {
        var seeds: [String] = []
        for k in 0..<count {
            let r = await call(port: port, .post, "/v1/tickets", as: .alice, body: Bodies.open(subject: "seed \(k)"))
            let reply = try #require(r, "no answer while seeding")
            try #require(reply.status == .created, "seeding: \(reply)")
            seeds.append(try #require(reply.json["id"]?.stringValue))
        }
        return seeds
    }

    /// Runs 16 writers until `acknowledgements` writes are acknowledged (or 8 s), then calls `interrupt`.
    func loadThenInterrupt(
        port: Int, seeds: [String], record: LoadRecord, acknowledgements: Int,
        interrupt: @Sendable () async -> Void
    ) async {
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<16 {
                group.addTask { await runWriter(w, port: port, seeds: seeds, record: record) }
            }
            let deadline = ContinuousClock.now + .seconds(8)
            while record.count < acknowledgements, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            await interrupt()
            record.stop.store(true, ordering: .relaxed)
            await group.waitForAll()
        }
    }

    @Test(.timeLimit(.minutes(8)))
    func concurrentClientsWithTheSameIfMatchHaveExactlyOneWinner() async throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let id = try await withSupportd(setup) { server, port in
            let id = try #require(try await seedTickets(port: port, count: 1).first)
            for round in 1...4 {
                let statuses = await withTaskGroup(of: UInt?.self) { group in
                    for k in 0..<8 {
                        group.addTask {
                            let r = await call(
                                port: port, .post, "/v1/tickets/\(id)/notes", as: k % 2 == 0 ? .alice : .bob,
                                body: "{\"body\": \"round \(round) client \(k)\"}", headers: [.ifMatch: "\"\(round)\""])
                            return r.map { UInt($0.status.code) }
                        }
                    }
                    var all: [UInt?] = []
                    for await s in group { all.append(s) }
                    return all
                }
                #expect(statuses.filter { $0 == 200 }.count == 1, "round \(round): \(statuses)")
                #expect(statuses.filter { $0 == 412 }.count == 7, "round \(round): \(statuses)")
            }
            let ticket = await call(port: port, .get, "/v1/tickets/\(id)", as: .auditor)
            #expect(ticket?.etag == "\"5\"" && ticket?.json["thread"]?.arrayValue?.count == 5, "\(String(describing: ticket))")
            server.send(SIGTERM)
            #expect(await server.waitForExit(within: .seconds(60)), "supportd did not exit within 60 s of SIGTERM")
            return id
        }
        let store = try openReadOnly(setup.data)
        defer { store.close() }
        #expect(try store.events(inStream: id).count == 5)
        #expect(try store.verify().isIntact)
    }

    @Test(.timeLimit(.minutes(8)))
    func sigtermDuringConcurrentWritesExitsWithin10SecondsAndKeepsEveryAcknowledgedWrite() async throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let record = LoadRecord()
        try await withSupportd(setup) { server, port in
            let seeds = try await seedTickets(port: port, count: 8)
            let exited = Atomic<Bool>(false)
            await loadThenInterrupt(port: port, seeds: seeds, record: record, acknowledgements: 60) {
                server.send(SIGTERM)
                exited.store(await server.waitForExit(within: .seconds(60)), ordering: .relaxed)
            }
            let exitedInTime = exited.load(ordering: .relaxed)
            #expect(exitedInTime, "supportd did not exit within 60 s of SIGTERM")
            await server.terminate()
            #expect(
                server.terminationReason == .exit && server.terminationStatus == 0,
                "graceful exit expected, got \(server.terminationReason) \(server.terminationStatus): \(server.stderr.text.suffix(2000))")
        }
        let acks = record.acknowledged
        #expect(!acks.isEmpty, "no write was acknowledged: \(record.statusCounts)")
        #expect(record.unreadable == 0, "2xx answers without a usable ETag/Location/id")
        #expect(record.statusCounts.keys.allSatisfy { $0 < 500 }, "server errors under load: \(record.statusCounts)")

        let store = try openReadOnly(setup.data)
        defer { store.close() }
        let report = try store.verify()
        #expect(report.isIntact, "\(String(describing: report.failure))")
        try expectAcknowledgedWritesPresent(acks) { try store.events(inStream: $0) }
    }

    @Test(.timeLimit(.minutes(8)))
    func sigkillDuringConcurrentWritesLosesNoAcknowledgedWriteAndTheServerRestarts() async throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let record = LoadRecord()
        let seeds = try await withSupportd(setup) { first, port in
            let seeds = try await seedTickets(port: port, count: 8)
            await loadThenInterrupt(port: port, seeds: seeds, record: record, acknowledgements: 60) {
                first.send(SIGKILL)
                _ = await first.waitForExit(within: .seconds(60))
            }
            await first.terminate()
            #expect(first.terminationReason == .uncaughtSignal)
            return seeds
        }
        let acks = record.acknowledged
        #expect(!acks.isEmpty, "no write was acknowledged: \(record.statusCounts)")

        // Restart on the same data directory: it starts, serves every acknowledged write, and takes new ones.
        try await withSupportd(setup) { second, port in
            #expect(await call(port: port, .get, "/healthz", as: .auditor)?.status == .ok)
            var missing: [Ack] = []
            var tickets: [String: JSONValue] = [:]
            for ack in acks {
                if tickets[ack.ticket] == nil {
                    tickets[ack.ticket] = await call(port: port, .get, "/v1/tickets/\(ack.ticket)", as: .alice)?.json ?? .null
                }
                let thread = tickets[ack.ticket]?["thread"]?.arrayValue ?? []
                let entry = thread.first { $0["version"]?.intValue == Int64(ack.version) }
                if entry?["body"]?.stringValue != ack.marker { missing.append(ack) }
            }
            #expect(missing.isEmpty, "after restart, \(missing.count) acknowledged writes are not served: \(missing.prefix(5))")
            let after = await call(port: port, .post, "/v1/tickets/\(seeds[0])/messages", as: .alice, body: Bodies.message("after restart"))
            #expect(after?.status == .ok, "\(String(describing: after))")
            let opened = await call(port: port, .post, "/v1/tickets", as: .c1, body: Bodies.open(subject: "after restart"))
            #expect(opened?.status == .created, "\(String(describing: opened))")
            if let location = opened?.location {
                #expect(
                    !acks.contains { "/v1/tickets/\($0.ticket)" == location && $0.type == "ticket.opened" },
                    "a new ticket reused an acknowledged id")
            }
            second.send(SIGTERM)
            #expect(await second.waitForExit(within: .seconds(60)), "restarted supportd did not exit within 60 s of SIGTERM")
        }

        let store = try openReadOnly(setup.data)
        defer { store.close() }
        let report = try store.verify()
        #expect(report.isIntact, "\(String(describing: report.failure))")
        try expectAcknowledgedWritesPresent(acks) { try store.events(inStream: $0) }
    }
}
