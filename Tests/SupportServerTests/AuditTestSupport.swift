import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SupportDomain
import SupportService
import Testing

@testable import EventLog
@testable import SupportServer

// Helpers shared by the Audit* tests: the real `support-replay` binary and `verify-export.py`
// as child processes, raw LMDB access for tampering, and export comparisons.

// MARK: - Paths

enum AuditPaths {
    /// The repository root (this file is Tests/SupportServerTests/AuditTestSupport.swift).
    static let repository: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A binary built beside this test bundle (`support-replay`, `supportd`).
    static func binary(_ name: String) -> URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name)
    }

    static var verifyScript: String { repository.appendingPathComponent("Tools/verify-export.py").path }
    /// The SPEC's hash-chain vectors, copied into the repository as a test fixture.
    static var vectors: String { repository.appendingPathComponent("Tests/Fixtures/vectors/hash-chain.ndjson").path }
}

// MARK: - Child processes

/// What a finished child process left: its exit status and its output.
struct AuditToolResult: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var timedOut: Bool

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    var description: String { "exit \(status)\(timedOut ? " (timed out)" : ""); stdout: \(out.prefix(800)); stderr: \(err.prefix(800))" }
}

/// Runs `executable args` to completion (killed after `timeout`), its output captured in files
/// so that a large export never blocks on a full pipe.
func auditRun(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(20)) async throws -> AuditToolResult {
    let scratch = TemporaryDirectory()
    defer { scratch.remove() }
    let outPath = scratch.path + "/stdout", errPath = scratch.path + "/stderr"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + timeout
    var timedOut = false
    while process.isRunning {
        if ContinuousClock.now > deadline {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            break
        }
        try await Task.sleep(for: .milliseconds(10))
    }
    process.waitUntilExit()
    try outHandle.close()
    try errHandle.close()
    return AuditToolResult(
        status: process.terminationStatus,
        stdout: Array(try Data(contentsOf: URL(fileURLWithPath: outPath))),
        stderr: Array(try Data(contentsOf: URL(fileURLWithPath: errPath))), timedOut: timedOut)
}

/// `support-replay <arguments>`.
func supportReplay(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> AuditToolResult {
    try await auditRun(AuditPaths.binary("support-replay").path, arguments, timeout: timeout)
}

/// `python3 Tools/verify-export.py <arguments>`.
func verifyExportScript(_ arguments: [String]) async throws -> AuditToolResult {
    try await auditRun("/usr/bin/env", ["python3", AuditPaths.verifyScript] + arguments)
}

/// `support-replay export --data-dir DIR [--from SEQ]`, required to succeed; the NDJSON bytes.
func auditExport(_ directory: String, from: UInt64? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [UInt8] {
    var arguments = ["export", "--data-dir", directory]
    if let from { arguments += ["--from", "\(from)"] }
    let r = try await supportReplay(arguments)
    try #require(r.status == 0 && !r.timedOut, "export failed: \(r)", sourceLocation: sourceLocation)
    return r.stdout
}

/// Writes bytes to a new file under `directory`; returns its path.
func auditWriteFile(_ bytes: [UInt8], in directory: TemporaryDirectory, named name: String) throws -> String {
    let path = directory.path + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

// MARK: - NDJSON

/// The non-blank lines of an NDJSON text, parsed (a line that does not parse is recorded as an issue).
func ndjsonLines(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> [JSONValue] {
    bytes.split(separator: 0x0A).compactMap { raw -> JSONValue? in
        guard raw.contains(where: { $0 != 0x20 && $0 != 0x0D }) else { return nil }
        do { return try JSONParser.parse(Array(raw)) } catch {
            Issue.record("unparsable NDJSON line: \(String(decoding: raw, as: UTF8.self))", sourceLocation: sourceLocation)
            return .null
        }
    }
}

/// An envelope without the members that depend on when it was appended (`recorded`, `prev`, `hash`).
func withoutAppendTime(_ envelope: JSONValue) -> JSONValue {
    guard var o = envelope.objectValue else { return envelope }
    o["recorded"] = nil
    o["prev"] = nil
    o["hash"] = nil
    return .object(o)
}

/// Expects two exports to hold the same events, all but `recorded`, `prev` and `hash`; names the first difference.
func expectSameEvents(_ a: [JSONValue], _ b: [JSONValue], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) events", sourceLocation: sourceLocation)
    for (k, (x, y)) in zip(a, b).enumerated() where withoutAppendTime(x) != withoutAppendTime(y) {
        Issue.record("\(what): event \(k + 1) differs:\n  \(auditText(x))\n  \(auditText(y))", sourceLocation: sourceLocation)
        return
    }
}

func auditText(_ value: JSONValue) -> String { String(decoding: CanonicalJSON.encode(value), as: UTF8.self) }

/// Every event of the log through GET /v1/events (pages of 1000).
func auditFeed(_ client: some TestClientProtocol, as who: Who = .auditor) async throws -> [JSONValue] {
    var all: [JSONValue] = []
    var after: Int64 = 0
    for _ in 0..<1000 {
        let r = try await client.get("/v1/events?after=\(after)&limit=1000", as: who)
        try #require(r.status == .ok, "feed: \(r)")
        let events = r.json["events"]?.arrayValue ?? []
        if events.isEmpty { break }
        all += events
        after = try #require(r.json["last"]?.intValue)
    }
    return all
}

func auditHead(_ client: some TestClientProtocol) async throws -> (seq: Int64, hash: String) {
    let r = try await client.get("/v1/events/head", as: .auditor)
    try #require(r.status == .ok, "head: \(r)")
    return (try #require(r.json["seq"]?.intValue), try #require(r.json["hash"]?.stringValue))
}

// MARK: - A server whose data directory outlives it

/// Runs `body` against `buildRouter` over the log in `directory` (created or reopened), then
/// closes the log; the directory is left for the caller (CLI tools, tampering, reopening).
func withAuditServer<T: Sendable>(
    in directory: String, clock: ManualClock = ManualClock(), policy: Policy = .default,
    _ body: @Sendable (SupportBackend, any TestClientProtocol) async throws -> T
) async throws -> T {
    let backend = try SupportBackend(
        dataDirectory: directory, policy: policy, durability: .durable, limits: testLimits, clock: clock.read)
    let projector = Task { await backend.projections.run() }
    let app = Application(router: buildRouter(backend: backend, tokens: Who.tokens))
    let result: Result<T, any Error>
    do { result = .success(try await app.test(.router) { client in try await body(backend, client) }) } catch { result = .failure(error) }
    projector.cancel()
    backend.close()
    await projector.value
    return try result.get()
}

// MARK: - Raw LMDB

/// The log's LMDB environment opened directly, for tampering as an attacker with file access would.
func withAuditRawLog(_ directory: String, _ body: (LogStorage, LMDBTransaction) throws -> Void) throws {
    let storage = try LogStorage(directory: directory, mapSize: 1 << 30, readOnly: false, sync: .full)
    try storage.environment.withTransaction(readOnly: false) { txn in try body(storage, txn) }
}

func auditRawRecord(_ storage: LogStorage, _ txn: LMDBTransaction, seq: UInt64) throws -> [UInt8] {
    let key = StorageKeys.seq(seq)
    return Array(try key.withUnsafeBytes { try txn.get(storage.events, key: $0) } ?? UnsafeRawBufferPointer(start: nil, count: 0))
}

func auditPutRecord(_ storage: LogStorage, _ txn: LMDBTransaction, seq: UInt64, _ value: [UInt8]) throws {
    let key = StorageKeys.seq(seq)
    try key.withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(storage.events, key: k, value: $0) } }
}

/// Cuts the log back to `seq` consistently (events, stream index entries and the stored head),
/// as an attacker covering their tracks would.
func auditTruncate(_ directory: String, to seq: UInt64, events: [RecordedEvent]) throws {
    try withAuditRawLog(directory) { storage, txn in
        for e in events where e.seq > seq {
            try StorageKeys.seq(e.seq).withUnsafeBytes { _ = try txn.delete(storage.events, key: $0) }
            if let key = try storage.streamEntryKey(txn, stream: e.stream, version: e.version) {
                try key.withUnsafeBytes { _ = try txn.delete(storage.streamIndex, key: $0) }
            }
        }
        // A stream that began after the cut loses its number too (once its entries are gone).
        for e in events where e.seq > seq && e.version == 1 {
            _ = try txn.delete(storage.streamNumbers, key: StorageKeys.streamDigest(e.stream))
        }
        var head: [UInt8] = []
        head.appendBigEndian(seq)
        events[Int(seq) - 1].hash.appendBytes(to: &head)
        try StorageKeys.metaHead.withUnsafeBytes { k in try head.withUnsafeBytes { try txn.put(storage.meta, key: k, value: $0) } }
    }
}

/// Every event of a closed log, read-only.
func auditAllEvents(_ directory: String) throws -> [RecordedEvent] {
    let store = try openReadOnly(directory)
    defer { store.close() }
    return try store.events(after: 0, limit: 1_000_000)
}

// MARK: - A scenario touching every event type

/// The tickets of ``auditScenario(_:clock:)``.
struct AuditScenarioTickets: Sendable {
    var first: String
    var second: String
    var merged: String
}

/// Writes, through the API, a log that uses every event type and the optional fields
/// (context, attachments, message + status, team moves, an unassign, tags added and removed,
/// a merge, ratings with and without `reply`, a rating after `closed`).
@discardableResult
func auditScenario(_ client: some TestClientProtocol, clock: ManualClock) async throws -> AuditScenarioTickets {
    let sha = String(repeating: "ab", count: 32)
    let opened = try await client.post(
        "/v1/tickets", as: .c1,
        """
        {"customer": "c-1", "subject": "Boîte pleine — quota ✉️", "body": "Je ne reçois plus rien.", "channel": "email",
         "product": "email", "priority": "normal", "context": "panel/mail/quota",
         "attachments": [{"name": "quota.png", "size": 2048, "contentType": "image/png", "sha256": "\(sha)"}]}
        """)
    try #require(opened.status == .created, "\(opened)")
    let t1 = try #require(opened.json["id"]?.stringValue)
    clock.advance(seconds: 60)
    let t2 = try await client.open(as: .alice, customer: "c-2", subject: "Site down", product: "hosting", priority: "urgent")
    clock.advance(seconds: 60)
    try await client.command(t1, "assign", as: .alice, #"{"agent": "alice"}"#)
    try await client.command(
        t1, "messages", as: .alice,
        """
        {"body": "Looking into it", "status": "pending",
         "attachments": [{"name": "howto.pdf", "size": 0, "contentType": "application/pdf", "sha256": "\(sha)"}]}
        """)
    clock.advance(seconds: 600)
    try await client.command(t1, "messages", as: .c1, Bodies.message("Still broken"))
    try await client.command(t1, "notes", as: .bob, #"{"body": "Customer is on the old cluster"}"#)
    try await client.command(t1, "tags", as: .alice, #"{"added": ["quota", "vip"]}"#)
    try await client.command(t1, "tags", as: .alice, #"{"removed": ["vip"]}"#)
    try await client.command(t1, "priority", as: .manager, #"{"priority": "high"}"#)
    try await client.command(t1, "escalate", as: .alice, #"{"team": "tier2", "reason": "needs storage"}"#)
    try await client.command(t1, "assign", as: .manager, #"{"agent": "bob", "team": "billing"}"#)
    try await client.command(t1, "assign", as: .admin, #"{"agent": null}"#)
    clock.advance(seconds: 600)
    try await client.command(t2, "messages", as: .bob, Bodies.message("On it"))
    try await client.command(t2, "status", as: .bob, #"{"status": "on_hold"}"#)
    clock.advance(seconds: 3600)
    let t3 = try await client.open(as: .c1, subject: "Same quota problem", product: "email", priority: "low")
    try await client.command(t3, "merge", as: .alice, "{\"into\": \"\(t1)\"}")
    try await client.command(t1, "messages", as: .alice, #"{"body": "Fixed", "status": "solved"}"#)
    clock.advance(seconds: 60)
    try await client.command(t1, "rating", as: .c1, #"{"score": 5, "comment": "merci"}"#)
    try await client.command(t1, "rating", as: .c1, #"{"score": 3, "reply": 3}"#)
    try await client.command(t1, "status", as: .alice, #"{"status": "closed"}"#)
    clock.advance(seconds: 60)
    try await client.command(t1, "rating", as: .c1, #"{"score": 4, "comment": null}"#)
    return AuditScenarioTickets(first: t1, second: t2, merged: t3)
}

/// The number of events ``auditScenario(_:clock:)`` appends.
let auditScenarioEventCount = 23

// MARK: - Generated imports

/// One NDJSON import line (with `version`).
func auditImportLine(ticket: String, version: Int, type: String, at: Timestamp, kind: String, id: String, data: String) -> String {
    "{\"ticket\":\"\(ticket)\",\"version\":\(version),\"type\":\"\(type)\",\"at\":\"\(at.rfc3339)\","
        + "\"actor\":{\"kind\":\"\(kind)\",\"id\":\"\(id)\"},\"data\":\(data)}"
}

/// A valid import of `tickets` tickets (`G-1`...) with 7 events each, interleaved in log order
/// (all tickets' first events, then all second events...): opened by a customer, assigned, an
/// agent reply, pending, the customer's answer (reopens), solved, a rating.
func auditGeneratedImport(
    tickets: Int, prefix: String = "G-",
    base: Timestamp = Timestamp(rfc3339: "2026-01-05T08:00:00.000Z")!
) -> [String] {
    var lines: [String] = []
    lines.reserveCapacity(tickets * 7)
    for round in 0..<7 {
        for i in 1...tickets {
            let ticket = "\(prefix)\(i)", customer = "c-\(i % 50)", agent = "agent-\(i % 7)"
            let at = Timestamp(milliseconds: base.milliseconds + Int64(round) * 3_600_000 + Int64(i) * 10)
            let version = round + 1
            switch round {
            case 0:
                lines.append(
                    auditImportLine(
                        ticket: ticket, version: version, type: "ticket.opened", at: at, kind: "customer", id: customer,
                        data:
                            "{\"customer\":\"\(customer)\",\"subject\":\"Generated ticket \(i)\",\"body\":\"Please help with case \(i).\",\"channel\":\"web\",\"product\":\"hosting\",\"priority\":\"normal\"}"
                    ))
            case 1:
                lines.append(
                    auditImportLine(
                        ticket: ticket, version: version, type: "ticket.assigned", at: at, kind: "agent", id: agent,
                        data: "{\"agent\":\"\(agent)\"}"))
            case 2:
                lines.append(
                    auditImportLine(
                        ticket: ticket, version: version, type: "message.posted", at: at, kind: "agent", id: agent,
                        data: "{\"body\":\"Reply to case \(i).\"}"))
            case 3:
                lines.append(
                    auditImportLine(
                        ticket: ticket, version: version, type: "status.changed", at: at, kind: "agent", id: agent,
                        data: "{\"status\":\"pending\"}"))
            case 4:
                lines.append(
                    auditImportLine(
                        ticket: ticket, version: version, type: "message.posted", at: at, kind: "customer", id: customer,
                        data: "{\"body\":\"Thanks, case \(i) works.\"}"))
            case 5:
                lines.append(
                    auditImportLine(
                        ticket: ticket, version: version, type: "status.changed", at: at, kind: "agent", id: agent,
                        data: "{\"status\":\"solved\"}"))
            default:
                lines.append(
                    auditImportLine(
                        ticket: ticket, version: version, type: "satisfaction.rated", at: at, kind: "customer", id: customer,
                        data: "{\"score\":\(1 + i % 5)}"))
            }
        }
    }
    return lines
}

/// Expects an export to hold exactly the import lines, once each, in order, at seq 1, 2, 3...
/// (ticket, version, type, `at`, actor and data compared as JSON).
func expectExportHoldsLines(_ export: [JSONValue], _ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(export.count == lines.count, "the log holds \(export.count) events for \(lines.count) lines", sourceLocation: sourceLocation)
    var seen = Set<String>()
    for (k, event) in export.enumerated() {
        let key = "\(event["ticket"]?.stringValue ?? "?")#\(event["version"]?.intValue ?? -1)"
        if !seen.insert(key).inserted {
            Issue.record("\(key) appears twice in the log (seq \(event["seq"]?.intValue ?? -1))", sourceLocation: sourceLocation)
            return
        }
        if event["seq"]?.intValue != Int64(k + 1) {
            Issue.record("event \(k + 1) has seq \(String(describing: event["seq"]))", sourceLocation: sourceLocation)
            return
        }
        guard k < lines.count, let line = try? JSONParser.parse(Array(lines[k].utf8)) else { continue }
        for field in ["ticket", "version", "type", "at", "actor", "data"] where event[field] != line[field] {
            Issue.record(
                "seq \(k + 1): \(field) is \(auditText(event[field] ?? .null)), the line has \(auditText(line[field] ?? .null))",
                sourceLocation: sourceLocation)
            return
        }
    }
}
