import Foundation
import HummingbirdTesting
import SupportService
import Testing

@testable import EventLog
@testable import SupportServer

/// `support-replay verify / export / backup` and `Tools/verify-export.py` against logs written
/// through the API and then tampered with through raw LMDB.
@Suite("Audit: support-replay and verify-export.py")
struct AuditReplayCLITests {
    /// A closed log written by ``auditScenario(_:clock:)``; returns its directory (under `root`)
    /// and the head GET /v1/events/head published.
    func scenarioLog(_ root: TemporaryDirectory) async throws -> (data: String, head: (seq: Int64, hash: String)) {
        let data = root.path + "/data"
        let head = try await withAuditServer(in: data) { _, client in
            try await auditScenario(client, clock: ManualClock())
            return try await auditHead(client)
        }
        return (data, head)
    }

    func verify(_ data: String, expectHead: String? = nil) async throws -> AuditToolResult {
        var arguments = ["verify", "--data-dir", data]
        if let expectHead { arguments += ["--expect-head", expectHead] }
        let r = try await supportReplay(arguments)
        #expect(!r.timedOut, "verify timed out")
        return r
    }

    /// Exports the log and runs the Python verifier on the export when the export succeeds.
    func exportAndScript(_ root: TemporaryDirectory, _ data: String, _ extra: [String] = []) async throws -> AuditToolResult? {
        let export = try await supportReplay(["export", "--data-dir", data])
        guard export.status == 0 else { return nil }
        let file = try auditWriteFile(export.stdout, in: root, named: "export-\(UUID().uuidString).ndjson")
        return try await verifyExportScript([file] + extra)
    }

    @Test func anIntactLogVerifiesAndItsHeadIsThePublishedOne() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, head) = try await scenarioLog(root)
        #expect(head.seq == Int64(auditScenarioEventCount))
        let r = try await verify(data)
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("OK: \(auditScenarioEventCount) events, head \(head.seq):\(head.hash)"), "\(r)")
        let withHead = try await verify(data, expectHead: "\(head.seq):\(head.hash)")
        #expect(withHead.status == 0, "\(withHead)")
        let script = try #require(try await exportAndScript(root, data, ["--expect-head", "\(head.seq):\(head.hash)"]))
        #expect(script.status == 0, "\(script)")
        #expect(script.out.contains("OK: \(auditScenarioEventCount) events, head \(head.seq):\(head.hash)"), "\(script)")
    }

    @Test func theSharedVectorsVerifyWithThePythonScript() async throws {
        let r = try await verifyExportScript([AuditPaths.vectors])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.hasPrefix("OK: 10 events"), "\(r)")
    }

    /// Offsets into the stored record of seq 6 (the customer's message "Still broken"): the
    /// format byte, the seq, the version, `at`, `prev`, `hash`, and the last byte of `data`.
    @Test(arguments: [0, 1, 10, 20, 50, 80, -1])
    func flippingOneByteOfAnEventFailsVerifyAndNamesItsSeq(offset: Int) async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, _) = try await scenarioLog(root)
        try withAuditRawLog(data) { storage, txn in
            var value = try auditRawRecord(storage, txn, seq: 6)
            try #require(value.count > 100)
            let index = offset >= 0 ? offset : value.count + offset
            value[index] ^= 0x01
            try auditPutRecord(storage, txn, seq: 6, value)
        }
        let r = try await verify(data)
        #expect(r.status != 0, "verify passed a log with a flipped byte at offset \(offset): \(r)")
        #expect(r.out.contains("seq 6:"), "verify does not name seq 6: \(r)")
        // Where the export can still be written, the Python verifier names the same event.
        if let script = try await exportAndScript(root, data) {
            #expect(script.status == 1, "verify-export.py passed an altered export (offset \(offset)): \(script)")
            #expect(script.out.contains("seq 6") || script.out.contains("line 6"), "verify-export.py: \(script)")
        }
    }

    @Test func deletingAnEventFailsVerifyAndNamesItsSeq() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, _) = try await scenarioLog(root)
        try withAuditRawLog(data) { storage, txn in
            try StorageKeys.seq(5).withUnsafeBytes { _ = try txn.delete(storage.events, key: $0) }
        }
        let r = try await verify(data)
        #expect(r.status != 0, "\(r)")
        #expect(r.out.contains("seq 5:"), "\(r)")
        let script = try #require(try await exportAndScript(root, data), "export of a log with a gap failed")
        #expect(script.status == 1, "\(script)")
        #expect(script.out.contains("expected 5"), "\(script)")
    }

    @Test func swappingTwoEventsFailsVerifyAndNamesTheFirst() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, _) = try await scenarioLog(root)
        try withAuditRawLog(data) { storage, txn in
            let a = try auditRawRecord(storage, txn, seq: 4), b = try auditRawRecord(storage, txn, seq: 7)
            try auditPutRecord(storage, txn, seq: 4, b)
            try auditPutRecord(storage, txn, seq: 7, a)
        }
        let r = try await verify(data)
        #expect(r.status != 0, "\(r)")
        #expect(r.out.contains("seq 4:"), "\(r)")
        if let script = try await exportAndScript(root, data) {
            #expect(script.status == 1, "\(script)")
            #expect(script.out.contains("line 4"), "\(script)")
        }
    }

    @Test func alteringOneCharacterOfAnExportIsCaughtByThePythonScript() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, _) = try await scenarioLog(root)
        var lines = try await auditExport(data).split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        let line = String(decoding: lines[5], as: UTF8.self)
        try #require(line.contains("Still broken"))
        lines[5] = Array(line.replacingOccurrences(of: "Still broken", with: "Still brokem").utf8)
        let file = try auditWriteFile(Array(lines.joined(separator: [0x0A])), in: root, named: "altered.ndjson")
        let script = try await verifyExportScript([file])
        #expect(script.status == 1, "\(script)")
        #expect(script.out.contains("line 6 (seq 6): hash mismatch"), "\(script)")
    }

    @Test func expectHeadCatchesATruncatedLog() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, head) = try await scenarioLog(root)
        let events = try auditAllEvents(data)
        try auditTruncate(data, to: 15, events: events)

        let alone = try await verify(data)
        #expect(alone.status == 0, "a consistent truncation passes on its own: \(alone)")
        let r = try await verify(data, expectHead: "\(head.seq):\(head.hash)")
        #expect(r.status != 0, "verify --expect-head passed a truncated log: \(r)")
        #expect(r.out.contains("seq \(head.seq)"), "\(r)")
        let earlier = try await verify(data, expectHead: "15:\(events[14].hash.hex)")
        #expect(earlier.status == 0, "\(earlier)")

        let script = try #require(try await exportAndScript(root, data, ["--expect-head", "\(head.seq):\(head.hash)"]))
        #expect(script.status == 1, "\(script)")
        #expect(script.out.contains("truncated"), "\(script)")
    }

    @Test func expectHeadCatchesARechainedSuffix() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, _) = try await scenarioLog(root)
        let events = try auditAllEvents(data)
        let noted = "20:\(events[19].hash.hex)"
        try auditTruncate(data, to: 15, events: events)
        // The attacker writes a different history after seq 15 through the server itself.
        let rewritten = try await withAuditServer(in: data, clock: ManualClock(instant("2026-03-02T12:00:00.000Z"))) { _, client in
            let id = events[0].stream
            try await client.command(id, "notes", as: .alice, #"{"body": "nothing happened here"}"#)
            for k in 0..<7 { try await client.command(id, "notes", as: .bob, "{\"body\": \"filler \(k)\"}") }
            return try await auditHead(client)
        }
        #expect(rewritten.seq == 23)

        let alone = try await verify(data)
        #expect(alone.status == 0, "a re-chained log is internally consistent: \(alone)")
        let r = try await verify(data, expectHead: noted)
        #expect(r.status != 0, "verify --expect-head passed a re-chained log: \(r)")
        #expect(r.out.contains("seq 20"), "\(r)")
        let before = try await verify(data, expectHead: "15:\(events[14].hash.hex)")
        #expect(before.status == 0, "\(before)")

        let script = try #require(try await exportAndScript(root, data, ["--expect-head", noted]))
        #expect(script.status == 1, "\(script)")
        #expect(script.out.contains("seq 20"), "\(script)")
    }

    /// Identifiers are compared by code point with no normalisation (SPEC §2.1): "T-é" written
    /// precomposed and decomposed are two tickets, and a log holding both is intact.
    @Test func canonicallyEquivalentTicketIdsAreTwoStreamsForVerify() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let nfc = "T-\u{E9}", nfd = "T-e\u{301}"
        try #require(!Array(nfc.unicodeScalars).elementsEqual(Array(nfd.unicodeScalars)))
        let base = instant("2026-03-02T09:00:00.000Z")
        let lines =
            [nfc, nfd].enumerated().flatMap { k, id in
                [
                    auditImportLine(
                        ticket: id, version: 1, type: "ticket.opened", at: Timestamp(milliseconds: base.milliseconds + Int64(k) * 1000),
                        kind: "customer", id: "c-1",
                        data:
                            "{\"customer\":\"c-1\",\"subject\":\"ticket \(k)\",\"body\":\"b\",\"channel\":\"web\",\"product\":\"email\",\"priority\":\"low\"}"
                    )
                ]
            } + [
                auditImportLine(
                    ticket: nfd, version: 2, type: "note.added", at: Timestamp(milliseconds: base.milliseconds + 5000),
                    kind: "agent", id: "alice", data: "{\"body\":\"second event of the decomposed one\"}")
            ]
        let file = try auditWriteFile(Array((lines.joined(separator: "\n") + "\n").utf8), in: root, named: "ids.ndjson")
        let data = root.path + "/data"
        let imported = try await supportReplay(["import", "--data-dir", data, file])
        try #require(imported.status == 0, "\(imported)")
        let export = try await auditExport(data)
        let script = try await verifyExportScript([try auditWriteFile(export, in: root, named: "export.ndjson")])
        #expect(script.status == 0, "the export itself is valid: \(script)")
        let r = try await verify(data)
        #expect(r.status == 0, "support-replay verify rejects an intact log holding \"T-\\u{E9}\" and \"T-e\\u{301}\": \(r)")
        let store = try openReadOnly(data)
        defer { store.close() }
        let report = try store.verify()
        #expect(report.isIntact, "EventStore.verify: \(String(describing: report.failure))")
        #expect(try store.events(inStream: nfc).count == 1 && store.events(inStream: nfd).count == 2)
    }

    @Test func aMalformedExpectedHeadIsRefused() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, _) = try await scenarioLog(root)
        for bad in ["23", "23:abc", "x:\(String(repeating: "0", count: 64))"] {
            let r = try await verify(data, expectHead: bad)
            #expect(r.status != 0, "--expect-head \(bad) accepted: \(r)")
        }
    }

    @Test func exportFromASeqIsTheTailOfTheFullExportAndVerifiesFromItsPrev() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, head) = try await scenarioLog(root)
        let full = try await auditExport(data)
        let lines = full.split(separator: 0x0A).map(Array.init)
        #expect(lines.count == auditScenarioEventCount)
        let tail = try await auditExport(data, from: 10)
        #expect(tail == Array(lines[9...].map { $0 + [0x0A] }.joined()), "export --from 10 is not lines 10... of the full export")
        let prev = try #require(ndjsonLines(tail).first?["prev"]?.stringValue)
        #expect(prev == ndjsonLines(full)[8]["hash"]?.stringValue)
        let file = try auditWriteFile(tail, in: root, named: "tail.ndjson")
        let script = try await verifyExportScript([file, "--from-prev", prev, "--expect-head", "\(head.seq):\(head.hash)"])
        #expect(script.status == 0, "\(script)")
        let unanchored = try await verifyExportScript([file])
        #expect(unanchored.status == 1, "a partial export must not verify from the zero hash: \(unanchored)")
        let past = try await auditExport(data, from: 1000)
        #expect(past.isEmpty)
    }

    @Test func aBackupVerifiesAndExportsTheSameBytes() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (data, head) = try await scenarioLog(root)
        for compact in [false, true] {
            let destination = root.path + "/backup-\(compact)"
            let r = try await supportReplay(["backup", "--data-dir", data, destination] + (compact ? ["--compact"] : []))
            #expect(r.status == 0, "\(r)")
            let v = try await verify(destination, expectHead: "\(head.seq):\(head.hash)")
            #expect(v.status == 0, "\(v)")
            let original = try await auditExport(data)
            let copy = try await auditExport(destination)
            #expect(copy == original, "the backup's export differs (compact: \(compact))")
        }
    }
}
