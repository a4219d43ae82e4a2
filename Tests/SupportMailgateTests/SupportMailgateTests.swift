import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

// MARK: - The built `support-mailgate`, as a child process

/// What one run of the gate did.
struct GateRun: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var description: String { "exit \(status), stdout \"\(stdout)\", stderr \"\(stderr)\"" }
}

/// Scratch files of one test: the message, the token file.
final class Scratch: Sendable {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mailgate-test-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `bytes` to `name` with `mode`; returns the path.
    func file(_ name: String, _ bytes: [UInt8], mode: Int = 0o600) throws -> String {
        let file = path + "/" + name
        guard FileManager.default.createFile(atPath: file, contents: Data(bytes), attributes: [.posixPermissions: mode]) else {
            throw GateTestError(description: "cannot write \(file)")
        }
        // The umask may have cleared bits the test asks for (a world-readable file).
        guard chmod(file, mode_t(mode)) == 0 else { throw GateTestError(description: "cannot chmod \(file)") }
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

struct GateTestError: Error, CustomStringConvertible {
    var description: String
}

/// `support-mailgate` built beside this test bundle (`swift build` builds it with the tests).
let gateExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent().appendingPathComponent("support-mailgate")

/// Runs the gate with `arguments`, the file `input` as its standard input; waits for it to exit
/// (polling, so no thread of the test's own server is held), killing it after 60 s.
func runGate(_ arguments: [String], input: String) async throws -> GateRun {
    guard let stdin = FileHandle(forReadingAtPath: input) else { throw GateTestError(description: "cannot open \(input)") }
    return try await runGate(arguments, stdin: stdin)
}

/// Runs the gate with `bytes` written into a pipe whose writing end is closed before it starts
/// (an MTA's pipe: the gate must read to its end and not wait for more). `bytes` fit the pipe's buffer.
func runGate(_ arguments: [String], piped bytes: [UInt8]) async throws -> GateRun {
    let pipe = Pipe()
    try pipe.fileHandleForWriting.write(contentsOf: Data(bytes))
    try pipe.fileHandleForWriting.close()
    return try await runGate(arguments, stdin: pipe.fileHandleForReading)
}

func runGate(_ arguments: [String], stdin: FileHandle) async throws -> GateRun {
    let process = Process()
    process.executableURL = gateExecutable
    process.arguments = arguments
    process.standardInput = stdin
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = ContinuousClock.now + .seconds(60)
    while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
    try? stdin.close()
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return GateRun(status: process.terminationStatus, stdout: stdout, stderr: stderr)
}

// MARK: - A stand-in for supportd on loopback

/// One request the stand-in received.
struct ReceivedRequest: Sendable {
    var method: HTTPRequest.Method
    var path: String
    var headers: HTTPFields
    var body: [UInt8]
}

/// Records what reaches `POST /v1/mail` and answers the status the test chose, with a problem
/// document (or `{"outcome": ...}` for a 2xx).
final class StandIn: Sendable {
    private let received = Mutex<[ReceivedRequest]>([])
    let status: Int

    init(answering status: Int) { self.status = status }

    var requests: [ReceivedRequest] { received.withLock { $0 } }

    var application: some ApplicationProtocol {
        let router = Router()
        router.post("v1/mail") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024 * 1024)
            self.received.withLock {
                $0.append(
                    ReceivedRequest(method: request.method, path: request.uri.path, headers: request.headers, body: Array(buffer: body)))
            }
            let answer: String
            let type: String
            if (200..<300).contains(self.status) {
                answer = #"{"outcome":"opened T-42"}"#
                type = "application/json"
            } else {
                answer = #"{"type":"about:blank","title":"refused","status":\#(self.status),"detail":"the stand-in says \#(self.status)"}"#
                type = "application/problem+json"
            }
            return Response(
                status: HTTPResponse.Status(code: self.status), headers: [.contentType: type],
                body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        return Application(router: router)
    }
}

/// A message with CRLF line ends, non-ASCII and a NUL byte: it must arrive byte for byte.
let sampleMessage: [UInt8] =
    Array(
        "From: Ada <ada@example.com>\r\nTo: support@example.net\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <1@example.com>\r\n\r\nHello,\r\nmy mailbox is full.\r\n"
            .utf8) + [0x00, 0xFF, 0xFE, 0x0D, 0x0A] + Array("Bye\r\n".utf8)

let gatewayToken = "gateway-secret-token"

/// A loopback port nothing listens on (bound, then closed).
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw GateTestError(description: "socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw GateTestError(description: "bind failed") }
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw GateTestError(description: "getsockname failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A loopback socket that listens and never accepts: connections complete in the kernel's
/// backlog, the request is sent, and no answer ever comes. Closed by `close()`.
final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw GateTestError(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) } }
        guard bound == 0, listen(socketFD, 8) == 0 else {
            Glibc.close(socketFD)
            throw GateTestError(description: "bind or listen failed")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        fd = socketFD
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}

// MARK: - Tests

@Suite("support-mailgate against a server on loopback")
struct SupportMailgateTests {
    let scratch = Scratch()

    func tokenFile(mode: Int = 0o600) throws -> String { try scratch.file("token", Array("  \(gatewayToken)\n".utf8), mode: mode) }

    /// Runs the gate against a stand-in answering `status`, with `message` on standard input.
    func deliver(
        answering status: Int, message: [UInt8] = sampleMessage, extra: [String] = [], tokenMode: Int = 0o600
    ) async throws -> (GateRun, [ReceivedRequest]) {
        let standIn = StandIn(answering: status)
        let input = try scratch.file("message.eml", message)
        let token = try tokenFile(mode: tokenMode)
        let run = try await standIn.application.test(.live) { client in
            let port = try #require(client.port)
            return try await runGate(["--url", "http://localhost:\(port)/", "--token-file", token] + extra, input: input)
        }
        return (run, standIn.requests)
    }

    @Test(arguments: [200, 201, 202])
    func a2xxAnswerExits0AfterTheMessageArrivedByteForByteWithItsHeaders(status: Int) async throws {
        let (run, requests) = try await deliver(answering: status)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.isEmpty && run.stderr.isEmpty, "nothing is printed without --verbose: \(run)")
        try #require(requests.count == 1)
        let request = requests[0]
        #expect(request.method == .post && request.path == "/v1/mail")
        #expect(request.headers[.contentType] == "message/rfc822")
        #expect(request.headers[.authorization] == "Bearer \(gatewayToken)")
        #expect(request.body == sampleMessage, "the message arrived changed")
    }

    @Test func aMessageFromAClosedPipeIsReadToItsEndAndTaken() async throws {
        let standIn = StandIn(answering: 201)
        let token = try tokenFile()
        let run = try await standIn.application.test(.live) { client in
            let port = try #require(client.port)
            return try await runGate(["--url", "http://localhost:\(port)", "--token-file", token], piped: sampleMessage)
        }
        #expect(run.status == 0, "\(run)")
        #expect(standIn.requests.first?.body == sampleMessage)
    }

    @Test func verbosePrintsTheAnswersOutcome() async throws {
        let (run, _) = try await deliver(answering: 201, extra: ["--verbose"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == "opened T-42\n", "\(run)")
    }

    @Test(arguments: [400, 413, 415, 422])
    func aRefusalThatWillNotChangeExits65WithTheDetailOnStandardError(status: Int) async throws {
        let (run, requests) = try await deliver(answering: status)
        #expect(run.status == 65, "\(run)")
        #expect(run.stderr.contains("the stand-in says \(status)"), "\(run)")
        #expect(requests.count == 1)
    }

    @Test(arguments: [401, 403, 404, 429, 500, 502, 503])
    func anyOtherAnswerExits75SoTheMTAKeepsTheMessage(status: Int) async throws {
        let (run, requests) = try await deliver(answering: status)
        #expect(run.status == 75, "\(run)")
        #expect(run.stderr.contains("\(status)"), "\(run)")
        #expect(requests.count == 1)
    }

    @Test func aClosedPortExits75() async throws {
        let port = try closedPort()
        let run = try await runGate(
            ["--url", "http://127.0.0.1:\(port)", "--token-file", try tokenFile(), "--timeout", "5"],
            input: try scratch.file("message.eml", sampleMessage))
        #expect(run.status == 75, "\(run)")
        #expect(!run.stderr.isEmpty)
    }

    @Test func aServerThatNeverAnswersExits75AfterTheTimeout() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let run = try await runGate(
            ["--url", "http://127.0.0.1:\(silent.port)", "--token-file", try tokenFile(), "--timeout", "1"],
            input: try scratch.file("message.eml", sampleMessage))
        #expect(run.status == 75, "\(run)")
    }

    @Test func aMessageOverTheLimitExits65AndIsNotSent() async throws {
        let message = [UInt8](repeating: UInt8(ascii: "x"), count: 101)
        let (over, sent) = try await deliver(answering: 201, message: message, extra: ["--max-size", "100"])
        #expect(over.status == 65, "\(over)")
        #expect(over.stderr.contains("larger than 100 bytes"), "\(over)")
        #expect(sent.isEmpty)
        let (at, taken) = try await deliver(answering: 201, message: Array(message.dropLast()), extra: ["--max-size", "100"])
        #expect(at.status == 0, "a message of exactly --max-size bytes is taken: \(at)")
        #expect(taken.first?.body.count == 100)
    }

    @Test func aTokenFileOthersMayReadExits75WithAClearMessageAndSendsNothing() async throws {
        let (run, requests) = try await deliver(answering: 201, tokenMode: 0o644)
        #expect(run.status == 75, "\(run)")
        #expect(run.stderr.contains("readable by group or others"), "\(run)")
        #expect(requests.isEmpty)
    }

    @Test func aTokensFileGivesItsFirstGatewayToken() async throws {
        let standIn = StandIn(answering: 201)
        let tokens =
            #"{"tokens": [{"token": "agent-token", "role": "agent", "id": "alice"}, "#
            + #"{"token": "mail-token", "role": "gateway", "id": "mx"}, {"token": "other", "role": "gateway", "id": "mx2"}]}"#
        let file = try scratch.file("tokens.json", Array(tokens.utf8))
        let input = try scratch.file("message.eml", sampleMessage)
        let run = try await standIn.application.test(.live) { client in
            let port = try #require(client.port)
            return try await runGate(["--url", "http://localhost:\(port)", "--token-file", file], input: input)
        }
        #expect(run.status == 0, "\(run)")
        #expect(standIn.requests.first?.headers[.authorization] == "Bearer mail-token")
    }

    @Test func badFlagsExit64() async throws {
        let input = try scratch.file("message.eml", sampleMessage)
        let token = try tokenFile()
        for arguments in [
            ["--token-file", token],
            ["--url", "http://127.0.0.1:1"],
            ["--url", "ftp://127.0.0.1", "--token-file", token],
            ["--url", "http://127.0.0.1:1", "--token-file", token, "--timeout", "0"],
            ["--url", "http://127.0.0.1:1", "--token-file", token, "--bogus"],
        ] {
            let run = try await runGate(arguments, input: input)
            #expect(run.status == 64, "\(arguments): \(run)")
        }
    }
}
