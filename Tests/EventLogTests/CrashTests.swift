import Foundation
import Synchronization
import Testing

@testable import EventLog

@Suite("SIGKILL during appends")
struct CrashTests {
    /// The `eventlog-writer` tool built beside this test bundle.
    static var writerExecutable: URL {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("eventlog-writer")
    }

    struct Ack: Hashable { var seq: UInt64; var stream: String; var version: UInt64 }

    /// Runs the writer until it has acknowledged something, kills it with SIGKILL `milliseconds`
    /// later (mid-flight), and returns what it acknowledged. Waiting for the first
    /// acknowledgement rather than a fixed time keeps the test meaningful on a loaded machine.
    func runAndKill(dataDir: String, milliseconds: Int) async throws -> [Ack] {
        let process = Process()
        process.executableURL = Self.writerExecutable
        process.arguments = ["--data-dir", dataDir, "--tasks", "16", "--streams", "24"]
        let pipe = Pipe()
        process.standardOutput = pipe
        let output = Mutex([UInt8]())
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            output.withLock { $0.append(contentsOf: chunk) }
        }
        try process.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline, process.isRunning,
            !output.withLock({ String(decoding: $0, as: UTF8.self).contains("ack ") })
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(milliseconds))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        let bytes = output.withLock { $0 } + Array(rest)
        #expect(process.terminationReason == .uncaughtSignal)
        // Only whole lines count: the kill may cut the last one.
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        return lines.compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 4, parts[0] == "ack", let seq = UInt64(parts[1]), let version = UInt64(parts[3]) else { return nil }
            return Ack(seq: seq, stream: String(parts[2]), version: version)
        }
    }

    @Test func everyAcknowledgedEventSurvivesSIGKILLAndTheLogStaysIntact() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.writerExecutable.path), "build eventlog-writer first")
        let dir = TemporaryDirectory()
        var acknowledged: [Ack] = []
        var generator = SystemRandomNumberGenerator()
        for round in 0..<6 {
            let acks = try await runAndKill(dataDir: dir.path, milliseconds: Int.random(in: 20...500, using: &generator))
            #expect(!acks.isEmpty, "round \(round) acknowledged nothing")
            acknowledged += acks
            let store = try openStore(dir)
            let report = try store.verify()
            #expect(report.isIntact, "round \(round): \(String(describing: report.failure))")
            let maxAck = acknowledged.map(\.seq).max() ?? 0
            #expect(report.head.seq >= maxAck)
            for ack in acknowledged {
                let event = try store.read { try $0.event(seq: ack.seq) }
                #expect(event?.stream == ack.stream && event?.version == ack.version, "seq \(ack.seq) lost")
            }
            store.close()
        }
        #expect(Set(acknowledged).count == acknowledged.count, "no seq acknowledged twice")
    }
}
