import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `support-mailgate`: hands one RFC 5322 message from standard input to supportd
/// (`POST <url>/v1/mail`, `Content-Type: message/rfc822`), the way an MTA's pipe alias calls it:
///
///     support: "|/usr/local/bin/support-mailgate --url http://127.0.0.1:8080 --token-file /etc/ledgerdesk/gateway.token"
///
/// The exit code is sendmail's (sysexits.h), so the MTA knows what to do with the message:
/// 0 only after supportd answered 2xx (the message is in the log); 65 (EX_DATAERR) for a message
/// that can never be taken (over `--max-size`, or supportd answered 400, 413, 415 or 422: the
/// answer's `detail` goes to standard error, which the MTA puts into its bounce); 75
/// (EX_TEMPFAIL) for everything else (supportd unreachable, a timeout, 401, 403, 429, 5xx, a
/// malformed answer, a token file that cannot be used), so the MTA keeps the message and retries;
/// 64 (EX_USAGE) for bad flags. The tool never retries itself: the MTA does.
@main
struct SupportMailgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-mailgate",
        abstract: "Hands one RFC 5322 message on standard input to supportd (POST /v1/mail).",
        discussion: """
            Exit codes (sysexits.h): 0 the message was taken (2xx); 65 EX_DATAERR it can never be \
            taken (too large, or supportd answered 400, 413, 415 or 422; the reason is on standard \
            error); 75 EX_TEMPFAIL try again later (supportd unreachable or busy, a timeout, 401, \
            403, 429, 5xx, a token file that cannot be used); 64 EX_USAGE bad flags.
            """)

    @Option(help: "supportd's base URL, such as http://127.0.0.1:8080 (the message goes to <url>/v1/mail).")
    var url: String

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp(
            "The gateway's bearer token: a file holding the token alone, or a supportd tokens file "
                + "({\"tokens\": [...]}, the first entry whose role is gateway). It must not be readable by group or others."))
    var tokenFile: String

    @Option(help: "Seconds the whole exchange with supportd may take.")
    var timeout: Int = 60

    @Option(name: .customLong("max-size"), help: "The largest message taken, in bytes (larger is exit 65).")
    var maxSize: Int = Gate.defaultMaximumSize

    @Flag(help: "Print the answer's outcome on standard output when the message was taken.")
    var verbose = false

    func validate() throws {
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 second") }
        guard maxSize >= 1 else { throw ValidationError("--max-size must be at least 1 byte") }
        guard Gate.endpoint(url) != nil else {
            throw ValidationError("--url must be an http:// or https:// URL with a host, such as http://127.0.0.1:8080")
        }
    }

    func run() async throws {
        let outcome = await Gate(
            url: url, tokenFile: tokenFile, timeout: timeout, maxSize: maxSize, verbose: verbose
        ).deliver()
        if let message = outcome.message {
            FileHandle.standardError.write(Data("support-mailgate: \(message)\n".utf8))
        }
        if let output = outcome.output {
            FileHandle.standardOutput.write(Data("\(output)\n".utf8))
        }
        if outcome.code != .ok { throw ExitCode(outcome.code.rawValue) }
    }
}

/// sendmail's exit codes (sysexits.h) that the gate uses.
enum SysExit: Int32, Sendable {
    case ok = 0
    /// EX_USAGE: bad flags (ArgumentParser answers it for validation errors).
    case usage = 64
    /// EX_DATAERR: the message can never be taken; the MTA bounces it.
    case dataError = 65
    /// EX_TEMPFAIL: try again later; the MTA keeps the message in its queue.
    case tempFail = 75
}

/// What the gate did: the exit code, a line for standard error, a line for standard output.
struct Outcome: Sendable {
    var code: SysExit
    var message: String?
    var output: String? = nil

    static func tempFail(_ message: String) -> Outcome { Outcome(code: .tempFail, message: message) }
    static func dataError(_ message: String) -> Outcome { Outcome(code: .dataError, message: message) }
}

/// One delivery: the token, the message, the POST, the exit code.
struct Gate: Sendable {
    static let defaultMaximumSize = 25 * 1024 * 1024
    /// The most of an answer's body read (problem documents and outcomes are small).
    static let maximumAnswer = 64 * 1024

    var url: String
    var tokenFile: String
    var timeout: Int
    var maxSize: Int
    var verbose: Bool

    /// `<url>/v1/mail` when `url` is an http(s) URL with a host.
    static func endpoint(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else { return nil }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/v1/mail"
    }

    func deliver() async -> Outcome {
        // The token first: a configuration the admin must fix keeps the message (75).
        let token: String
        switch GatewayToken.read(path: tokenFile) {
        case .success(let t): token = t
        case .failure(let problem): return .tempFail(problem.description)
        }
        let message: [UInt8]
        switch StandardInput.readAll(limit: maxSize) {
        case .complete(let bytes): message = bytes
        case .tooLarge: return .dataError("the message is larger than \(maxSize) bytes (--max-size); it cannot be taken")
        case .failed(let reason): return .tempFail("cannot read the message from standard input: \(reason)")
        }
        guard let endpoint = Self.endpoint(url) else { return Outcome(code: .usage, message: "--url \(url) is not an http(s) URL") }
        return await post(message, to: endpoint, token: token)
    }

    /// POSTs the message; the whole exchange (connecting, sending, the answer) is bounded by `timeout`.
    func post(_ message: [UInt8], to endpoint: String, token: String) async -> Outcome {
        let seconds = Int64(timeout)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(seconds), read: .seconds(seconds), write: .seconds(seconds)),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        // A refused connection fails the request at once (the MTA retries, not the client's pool).
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "message/rfc822")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json, application/problem+json")
        request.headers.add(name: "User-Agent", value: "support-mailgate")
        request.body = .bytes(ByteBuffer(bytes: message))
        let prepared = request

        let outcome = await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do {
                    let response = try await client.execute(prepared, deadline: .now() + .seconds(seconds))
                    let status = Int(response.status.code)
                    // The body is only read for what it says; a 2xx stands even if it cannot be read.
                    let body = try? await response.body.collect(upTo: Self.maximumAnswer)
                    return Self.judge(
                        status: status, reason: response.status.reasonPhrase, body: body.map { Array(buffer: $0) }, verbose: verbose)
                } catch {
                    return .tempFail("cannot deliver to \(endpoint): \(error)")
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return .tempFail("supportd did not answer within \(seconds) s (--timeout)")
            }
            let first = await group.next() ?? .tempFail("no answer")
            group.cancelAll()
            return first
        }
        try? await client.shutdown()
        return outcome
    }

    /// The exit code for supportd's answer: 0 for 2xx, 65 for a refusal that will not change, 75 otherwise.
    static func judge(status: Int, reason: String, body: [UInt8]?, verbose: Bool) -> Outcome {
        let answer = body.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        switch status {
        case 200..<300:
            guard verbose else { return Outcome(code: .ok) }
            let outcome = answer?["outcome"] as? String ?? "taken (\(status) \(reason))"
            return Outcome(code: .ok, output: outcome)
        case 400, 413, 415, 422:
            let detail = answer?["detail"] as? String ?? reason
            return .dataError("supportd refused the message (\(status) \(reason)): \(detail)")
        default:
            let detail = (answer?["detail"] as? String).map { ": \($0)" } ?? ""
            return .tempFail("supportd answered \(status) \(reason)\(detail); the message stays with the MTA")
        }
    }
}

/// The gateway's bearer token, from its file.
enum GatewayToken {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The file must be the owner's alone; it holds either the token alone (trimmed of
    /// whitespace) or a supportd tokens file, whose first `gateway` entry is taken.
    static func read(path: String) -> Result<String, Problem> {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return .failure(Problem(description: "token file \(path): \(String(cString: strerror(errno)))"))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(Problem(description: "token file \(path) is not a regular file")) }
        if info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o777, radix: 8)
            return .failure(
                Problem(
                    description:
                        "token file \(path) is readable by group or others (mode \(mode)); make it the owner's alone (chmod 600 \(path)); "
                        + "the message stays with the MTA"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(Problem(description: "token file \(path) cannot be read"))
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        var token = text
        if text.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let entries = object["tokens"] as? [[String: Any]]
            else {
                return .failure(Problem(description: "token file \(path) starts with { but is not a tokens file {\"tokens\": [...]}"))
            }
            guard let entry = entries.first(where: { $0["role"] as? String == "gateway" }), let value = entry["token"] as? String
            else { return .failure(Problem(description: "tokens file \(path) has no entry whose role is gateway")) }
            token = value.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !token.isEmpty else { return .failure(Problem(description: "token file \(path) holds no token")) }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .failure(Problem(description: "token file \(path): the token must be printable ASCII without spaces"))
        }
        return .success(token)
    }
}

/// Standard input, read to its end.
enum StandardInput {
    enum Result {
        case complete([UInt8])
        /// More than the limit arrived (reading stopped there).
        case tooLarge
        case failed(String)
    }

    /// Reads file descriptor 0 to end of file (a closed pipe is end of file, never a wait),
    /// binary-safe, at most `limit` bytes.
    static func readAll(limit: Int) -> Result {
        var bytes: [UInt8] = []
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, chunk) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(String(cString: strerror(errno)))
            }
            if n == 0 { return .complete(bytes) }
            if bytes.count + n > limit { return .tooLarge }
            bytes.append(contentsOf: buffer[0..<n])
        }
    }
}
