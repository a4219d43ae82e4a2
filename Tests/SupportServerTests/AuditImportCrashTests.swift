import Foundation
import HTTPTypes
import SupportService
import Synchronization
import Testing

@testable import EventLog
@testable import SupportServer

/// POST /v1/import against the real `supportd`: SIGKILL in the middle of an import, restart,
/// re-run; and a chunked upload larger than the 1 MiB command limit.
@Suite("Audit: import against supportd", .serialized)
struct AuditImportCrashTests {
    struct Setup {
        let root = TemporaryDirectory()
        var data: String { root.path + "/data" }
        var tokens: String { root.path + "/tokens.json" }
        init() throws { try Who.tokensFileJSON.write(toFile: root.path + "/tokens.json", atomically: true, encoding: .utf8) }
    }

    @Test(.timeLimit(.minutes(8)))
    func sigkillDuringAnImportThenARerunGivesTheCompleteLogOnce() async throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let lines = auditGeneratedImport(tickets: 2500)
        let total = Int64(lines.count)
        let body = lines.joined(separator: "\n") + "\n"

        // First run: kill -9 once some chunks are in the log and before the import is done.
        // Small chunks (many commits), so the kill lands mid-import however fast the machine is.
        // On a loaded machine the polling task may not run while the whole import lands; then
        // the round proves nothing about a cut, and it is run again on a fresh directory.
        var cutAt: Int64 = 0
        for round in 1...5 {
            try? FileManager.default.removeItem(atPath: setup.data)
            let first = try SupportdProcess(
                dataDirectory: setup.data, tokensFile: setup.tokens,
                extraArguments: ["--rate-limit", "0", "--import-chunk", "10"])
            var answer: Reply?
            do {
                let port = try await first.waitForPort()
                // Watch the head straight from the LMDB file (read-only, beside the server): cheap
                // enough to poll every millisecond, so the kill lands between two chunks.
                let watcher = try openReadOnly(setup.data)
                let upload = Task { await call(port: port, .post, "/v1/import", as: .admin, body: body, timeout: .seconds(150)) }
                // The whole body is uploaded and validated before the first chunk is appended: on a
                // loaded machine that takes a while.
                let deadline = ContinuousClock.now + .seconds(140)
                while ContinuousClock.now < deadline {
                    if let seq = try? watcher.head.seq, seq > 0 {
                        first.send(SIGKILL)
                        break
                    }
                    try await Task.sleep(for: .milliseconds(1))
                }
                watcher.close()
                _ = await first.waitForExit(within: .seconds(60))
                answer = await upload.value
                await first.terminate()
                #expect(first.terminationReason == .uncaughtSignal, "supportd was not killed: \(first.stderr.text.suffix(1000))")
            } catch {
                await first.terminate()
                throw error
            }
            do {
                let store = try openReadOnly(setup.data)
                defer { store.close() }
                cutAt = Int64(try store.head.seq)
                #expect(try store.verify().isIntact, "the log is damaged after SIGKILL")
            }
            if cutAt < total {
                #expect(answer == nil || answer?.status != .ok, "the import answered 200 but was cut: \(String(describing: answer))")
                break
            }
            print("round \(round): the import finished before the kill; again")
        }
        #expect(cutAt > 0 && cutAt < total, "the kill did not cut the import (\(cutAt) of \(total) events in the log)")
        let openedBefore = min(cutAt, Int64(2500))

        // Restart on the same directory and post the same file again.
        let second = try SupportdProcess(dataDirectory: setup.data, tokensFile: setup.tokens)
        do {
            let port = try await second.waitForPort()
            let r = try #require(
                await call(port: port, .post, "/v1/import", as: .admin, body: body, timeout: .seconds(150)),
                "no answer to the re-run")
            #expect(r.status == .ok, "\(r)")
            #expect(r.json["imported"]?.intValue == total - cutAt, "\(r) after a cut at \(cutAt)")
            #expect(r.json["tickets"]?.intValue == 2500 - openedBefore, "\(r) after a cut at \(cutAt)")
            #expect(r.json["lastSeq"]?.intValue == total, "\(r)")
            // A third run finds everything there.
            let again = try #require(await call(port: port, .post, "/v1/import", as: .admin, body: body, timeout: .seconds(150)))
            #expect(again.status == .ok && again.json["imported"]?.intValue == 0 && again.json["lastSeq"]?.intValue == total, "\(again)")
            second.send(SIGTERM)
            #expect(await second.waitForExit(within: .seconds(60)), "supportd did not exit after SIGTERM")
            await second.terminate()
        } catch {
            await second.terminate()
            throw error
        }

        let export = try await auditExport(setup.data)
        expectExportHoldsLines(ndjsonLines(export), lines)
        let verify = try await supportReplay(["verify", "--data-dir", setup.data])
        #expect(verify.status == 0, "\(verify)")
        let exportFile = try auditWriteFile(export, in: setup.root, named: "export.ndjson")
        let script = try await verifyExportScript([exportFile])
        #expect(script.status == 0, "\(script)")
    }

    @Test(.timeLimit(.minutes(8)))
    func aChunkedImportLargerThanTheCommandLimitIsStreamed() async throws {
        let setup = try Setup()
        defer { setup.root.remove() }
        let lines = auditGeneratedImport(tickets: 1000, prefix: "CH-")
        let body = lines.joined(separator: "\n") + "\n"
        try #require(body.utf8.count > 1 << 20)
        let file = try auditWriteFile(Array(body.utf8), in: setup.root, named: "chunked.ndjson")
        let server = try SupportdProcess(dataDirectory: setup.data, tokensFile: setup.tokens)
        do {
            let port = try await server.waitForPort()
            let curl = try await auditRun(
                "/usr/bin/env",
                [
                    "curl", "-sS", "-X", "POST", "-H", "Authorization: Bearer \(Who.admin.token)",
                    "-H", "Content-Type: application/x-ndjson", "-H", "Transfer-Encoding: chunked",
                    "--data-binary", "@\(file)", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)/v1/import",
                ], timeout: .seconds(150))
            let parts = curl.out.split(separator: "\n")
            #expect(curl.status == 0 && parts.last == "200", "\(curl)")
            let answer = (try? JSONParser.parse(Array((parts.first ?? "").utf8))) ?? .null
            #expect(answer["imported"]?.intValue == Int64(lines.count) && answer["tickets"]?.intValue == 1000, "\(curl)")
            // A command body of the same size is refused (413): the import alone streams.
            let big = await call(
                port: port, .post, "/v1/tickets", as: .c1,
                body: Bodies.open(body: String(repeating: "x", count: (1 << 20) + 10)))
            #expect(big?.status == .contentTooLarge, "\(String(describing: big))")
            await server.terminate()
        } catch {
            await server.terminate()
            throw error
        }
        expectExportHoldsLines(ndjsonLines(try await auditExport(setup.data)), lines)
    }
}
