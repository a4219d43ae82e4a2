import Foundation
import Testing

/// Tools/scripts/smtp-sink.py (aiosmtpd) started for one test: it listens on a free port of
/// 127.0.0.1 and saves each message it takes in `directory` as N.eml with N.json beside it.
final class SMTPSink {
    let port: Int
    let directory: URL
    private let process: Process
    private let input: Pipe

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    init(arguments: [String] = []) throws {
        directory = try makeTemporaryDirectory("smtp-sink")
        let python = try findOnPath("python3")
        process = Process()
        process.executableURL = python
        let script = Self.repositoryRoot.appendingPathComponent("Tools/scripts/smtp-sink.py").path
        process.arguments = [script, "0", directory.path, "--stdin-watch"] + arguments
        input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        var line: [UInt8] = []
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(contentsOf: chunk)
            if line.contains(UInt8(ascii: "\n")) { break }
        }
        let text = String(decoding: line, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard let port = Int(text) else {
            process.waitUntilExit()
            let reason = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw SinkError(
                "smtp-sink.py did not start (exit \(process.terminationStatus)): \(reason)"
                    + " — Tools/scripts/ensure-deps.sh installs aiosmtpd (python3 -m pip install aiosmtpd)")
        }
        self.port = port
    }

    /// The messages taken so far, in order: the bytes of DATA and the envelope the sink recorded.
    func messages() throws -> [(bytes: [UInt8], envelope: [String: Any])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".eml") }
        return try names.sorted { Int($0.dropLast(4)) ?? 0 < Int($1.dropLast(4)) ?? 0 }.map { name in
            let base = directory.appendingPathComponent(String(name.dropLast(4)))
            let bytes = try [UInt8](Data(contentsOf: base.appendingPathExtension("eml")))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathExtension("json")))
            return (bytes, json as? [String: Any] ?? [:])
        }
    }

    deinit {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

struct SinkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func makeTemporaryDirectory(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func findOnPath(_ name: String) throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for folder in path.split(separator: ":") {
        let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw SinkError("\(name) is not on PATH")
}

/// A self-signed certificate for 127.0.0.1 and localhost, made by the openssl CLI.
struct SelfSignedCertificate {
    let directory: URL
    var certificate: String { directory.appendingPathComponent("cert.pem").path }
    var key: String { directory.appendingPathComponent("key.pem").path }

    init() throws {
        directory = try makeTemporaryDirectory("smtp-cert")
        let openssl = Process()
        openssl.executableURL = try findOnPath("openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", directory.appendingPathComponent("key.pem").path, "-out", directory.appendingPathComponent("cert.pem").path,
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw SinkError("openssl req failed (exit \(openssl.terminationStatus))") }
    }
}
