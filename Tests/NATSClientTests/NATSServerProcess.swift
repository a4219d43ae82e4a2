import Foundation
import Logging
import NATSClient
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One `nats-server` process with JetStream on a free loopback port and its own temp dir; killed
/// (SIGKILL) by `kill()` or when the test's helper returns or throws.
final class NATSServerProcess: Sendable {
    let name: String
    let port: Int
    let clusterPort: Int?
    let directory: URL
    private let arguments: [String]
    private let pid = Mutex<pid_t?>(nil)

    init(name: String, port: Int, clusterPort: Int?, routes: [Int], directory: URL) {
        self.name = name
        self.port = port
        self.clusterPort = clusterPort
        self.directory = directory
        var arguments = [
            "-js", "-sd", directory.appendingPathComponent("js").path, "-a", "127.0.0.1", "-p", "\(port)", "-n", name,
            "-l", directory.appendingPathComponent("server.log").path,
        ]
        if let clusterPort {
            arguments += [
                "--cluster_name", "ledgerdesk-test", "--cluster", "nats://127.0.0.1:\(clusterPort)",
                "--routes", routes.map { "nats://127.0.0.1:\($0)" }.joined(separator: ","),
            ]
        }
        self.arguments = arguments
    }

    var url: NATSServerURL { NATSServerURL(host: "127.0.0.1", port: port) }

    /// Starts the process (again, after a kill: same port, same dir) and waits until it accepts TCP connections.
    func start() async throws {
        let serverPID = try spawn(try Self.executable(), arguments)
        pid.withLock { $0 = serverPID }
        // A watchdog kills the server when the test process is gone without killing it (a test
        // abandoned at its time limit, a crash): no nats-server outlives the test run.
        _ = try spawn(
            "/bin/sh",
            [
                "-c",
                "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(serverPID) 2>/dev/null; do sleep 0.5; done; kill -9 \(serverPID) 2>/dev/null",
            ])
        try await eventually("nats-server \(name) accepts connections on \(port)") { acceptsConnections(port: port) }
    }

    /// SIGKILL, and reaps the process.
    func kill() {
        guard
            let pid = pid.withLock({ value -> pid_t? in
                defer { value = nil }
                return value
            })
        else { return }
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    var isRunning: Bool { pid.withLock { $0 != nil } }

    static func executable() throws -> String {
        for path in ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        Issue.record("nats-server is not installed (Tools/scripts/ensure-deps.sh installs it)")
        throw CancellationError()
    }
}

/// Starts `path` with `arguments`, its output to /dev/null, and returns its pid (reaped by
/// ``NATSServerProcess/kill()``). `posix_spawn` rather than Foundation's `Process`, whose `run()`
/// crashed (a bad pointer in its memcpy) when the whole suite started a dozen servers at once.
private func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
    var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, &actions, nil, &argv, environ)
    guard result == 0 else {
        Issue.record("cannot start \(path): \(String(cString: strerror(result)))")
        throw CancellationError()
    }
    return pid
}

/// The next port ``freePort()`` tries: below the kernel's ephemeral range (32768-60999 here), so
/// that no socket of the rest of the test run (clients, servers on port 0) is handed it meanwhile;
/// from a random start, so two test processes rarely try the same ones.
private let nextPort = Mutex(Int.random(in: 20_000..<30_000))

/// A loopback TCP port nobody listens on, for a nats-server to take. A port handed out once is
/// never handed out again by this process (a port bound to 0, released and later bound by the
/// server, could be given to another socket in between, and a test would then talk to it).
func freePort() -> Int {
    while true {
        let port = nextPort.withLock { next -> Int in
            defer { next = next >= 31_999 ? 20_000 : next + 1 }
            return next
        }
        if canBind(port: port) { return port }
    }
}

/// Whether a loopback socket can be bound to `port` now.
private func canBind(port: Int) -> Bool {
    withLoopbackSocket(port: port) { fd, address, length in bind(fd, address, length) } == 0
}

/// Whether something accepts TCP connections on loopback `port`.
func acceptsConnections(port: Int) -> Bool {
    withLoopbackSocket(port: port) { fd, address, length in connect(fd, address, length) } == 0
}

/// Runs `body` with a fresh TCP socket and the address 127.0.0.1:`port`; closes the socket after.
private func withLoopbackSocket(port: Int, _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nats-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs `body` with one JetStream server; kills it and removes its dir afterwards, also on failure.
func withNATSServer(_ body: (NATSServerProcess) async throws -> Void) async throws {
    let directory = try temporaryDirectory()
    let server = NATSServerProcess(name: "solo", port: freePort(), clusterPort: nil, routes: [], directory: directory)
    defer {
        server.kill()
        try? FileManager.default.removeItem(at: directory)
    }
    try await server.start()
    do {
        try await body(server)
    } catch {
        // What the server said, for a failure that is the server's (kept in the issue).
        let log = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? "(no log)"
        Issue.record("nats-server on \(server.port) (running: \(server.isRunning)) logged:\n\(log.suffix(3000))")
        throw error
    }
}

/// Runs `body` with a three-server JetStream cluster (routes on loopback) whose meta leader is
/// elected; kills every server and removes their dirs afterwards, also on failure.
func withNATSCluster(_ body: ([NATSServerProcess]) async throws -> Void) async throws {
    let directory = try temporaryDirectory()
    let clusterPorts = (0..<3).map { _ in freePort() }
    let servers = (0..<3).map { index in
        NATSServerProcess(
            name: "n\(index + 1)", port: freePort(), clusterPort: clusterPorts[index], routes: clusterPorts,
            directory: directory.appendingPathComponent("n\(index + 1)"))
    }
    defer {
        for server in servers { server.kill() }
        try? FileManager.default.removeItem(at: directory)
    }
    for server in servers {
        try FileManager.default.createDirectory(at: server.directory, withIntermediateDirectories: true)
        try await server.start()
    }
    try await waitForJetStream(servers.map(\.url))
    try await body(servers)
}

/// Waits until the JetStream API answers (a cluster's meta leader is elected).
func waitForJetStream(_ urls: [NATSServerURL]) async throws {
    let connection = try await NATSConnection.connect(to: urls, name: "readiness", logger: testLogger)
    let ready = Mutex(false)
    do {
        try await eventually("JetStream answers", within: .seconds(60)) {
            ready.withLock { $0 }
        } poll: {
            if let answer = try? await connection.request("$JS.API.INFO", payload: [], timeout: .seconds(1)),
                !String(decoding: answer.payload, as: UTF8.self).contains("\"error\"")
            {
                ready.withLock { $0 = true }
            }
        }
    } catch {
        await connection.close()
        throw error
    }
    await connection.close()
}

let testLogger = Logger(label: "NATSClientTests")

/// Polls `condition` until it holds (a hang guard, not a timed assertion: the limit is generous).
func eventually(
    _ what: String, within limit: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool, poll: () async -> Void = {}
) async throws {
    let deadline = ContinuousClock.now + limit
    while true {
        await poll()
        if condition() { return }
        guard ContinuousClock.now < deadline else {
            Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A loopback TCP port that accepts connections (the kernel's backlog) and never says anything.
final class SilentListener: Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw CancellationError()
        }
    }

    func stop() { close(fd) }
}
