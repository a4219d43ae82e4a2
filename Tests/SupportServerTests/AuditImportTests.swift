import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportService
import Synchronization
import Testing

@testable import EventLog
@testable import SupportServer

/// Export, import (CLI and POST /v1/import) and export again; bad lines; re-runs.
@Suite("Audit: export and import")
struct AuditImportTests {
    /// An import server's clock: after every scenario event, before nothing that matters.
    static let importClock = "2026-03-10T12:00:00.000Z"

    /// A closed scenario log and its export.
    func scenarioExport(_ root: TemporaryDirectory) async throws -> (data: String, export: [UInt8], tickets: AuditScenarioTickets) {
        let data = root.path + "/source"
        let tickets = try await withAuditServer(in: data) { _, client in try await auditScenario(client, clock: ManualClock()) }
        return (data, try await auditExport(data), tickets)
    }

    func postImport(_ client: some TestClientProtocol, _ bytes: [UInt8], as who: Who? = .admin) async throws -> Reply {
        try await client.send(.post, "/v1/import", as: who, raw: bytes, headers: [.contentType: "application/x-ndjson"])
    }

    func lines(_ bytes: [UInt8]) -> [[UInt8]] { bytes.split(separator: 0x0A).map(Array.init) }
    func joined(_ lines: [[UInt8]]) -> [UInt8] { Array(lines.map { $0 + [0x0A] }.joined()) }

    // MARK: Round trips

    @Test func exportImportExportThroughTheCLIGivesTheSameEvents() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (_, exportA, _) = try await scenarioExport(root)
        let fileA = try auditWriteFile(exportA, in: root, named: "a.ndjson")
        let scriptA = try await verifyExportScript([fileA])
        #expect(scriptA.status == 0, "\(scriptA)")

        let target = root.path + "/target"
        let imported = try await supportReplay(["import", "--data-dir", target, fileA])
        #expect(imported.status == 0, "\(imported)")
        #expect(
            imported.out.contains("imported \(auditScenarioEventCount) events, 3 tickets, last seq \(auditScenarioEventCount)"),
            "\(imported)")
        let exportB = try await auditExport(target)
        expectSameEvents(ndjsonLines(exportA), ndjsonLines(exportB), "CLI round trip")
        let fileB = try auditWriteFile(exportB, in: root, named: "b.ndjson")
        let scriptB = try await verifyExportScript([fileB])
        #expect(scriptB.status == 0, "\(scriptB)")
        let verify = try await supportReplay(["verify", "--data-dir", target])
        #expect(verify.status == 0, "\(verify)")

        // The imported log re-imports into yet another empty directory to the same events again.
        let third = root.path + "/third"
        let again = try await supportReplay(["import", "--data-dir", third, fileB])
        #expect(again.status == 0, "\(again)")
        expectSameEvents(ndjsonLines(exportA), ndjsonLines(try await auditExport(third)), "second CLI round trip")
    }

    @Test func exportImportThroughHTTPGivesTheSameEventsAndTheSameTickets() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (source, exportA, tickets) = try await scenarioExport(root)
        let asOf = "2026-03-02T12:00:00.000Z"
        let ids = [tickets.first, tickets.second, tickets.merged]
        let originals = try await withAuditServer(in: source, clock: ManualClock(instant(Self.importClock))) { _, client in
            var bodies: [JSONValue] = []
            for id in ids { bodies.append(try await client.get("/v1/tickets/\(id)?asOf=\(asOf)", as: .auditor).json) }
            return bodies
        }
        let target = root.path + "/target"
        try await withAuditServer(in: target, clock: ManualClock(instant(Self.importClock))) { _, client in
            let r = try await postImport(client, exportA)
            #expect(r.status == .ok, "\(r)")
            #expect(r.json["imported"]?.intValue == Int64(auditScenarioEventCount), "\(r)")
            #expect(r.json["tickets"]?.intValue == 3, "\(r)")
            #expect(r.json["lastSeq"]?.intValue == Int64(auditScenarioEventCount), "\(r)")
            expectSameEvents(ndjsonLines(exportA), try await auditFeed(client), "HTTP import, then the feed")
            for (id, original) in zip(ids, originals) {
                let replayed = try await client.get("/v1/tickets/\(id)?asOf=\(asOf)", as: .auditor)
                #expect(replayed.json == original, "\(id) differs after the round trip:\n\(auditText(original))\n\(replayed.text)")
            }
        }
        expectSameEvents(ndjsonLines(exportA), ndjsonLines(try await auditExport(target)), "HTTP round trip, CLI export")
    }

    @Test func theSharedVectorsReimportAsTheyAre() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let vectors = Array(try Data(contentsOf: URL(fileURLWithPath: AuditPaths.vectors)))
        let cli = root.path + "/cli"
        let r = try await supportReplay(["import", "--data-dir", cli, AuditPaths.vectors])
        #expect(r.status == 0, "\(r)")
        expectSameEvents(ndjsonLines(vectors), ndjsonLines(try await auditExport(cli)), "vectors through the CLI")
        try await withAuditServer(in: root.path + "/http", clock: ManualClock(instant(Self.importClock))) { _, client in
            let r = try await postImport(client, vectors)
            #expect(r.status == .ok && r.json["imported"]?.intValue == 10 && r.json["tickets"]?.intValue == 2, "\(r)")
            expectSameEvents(ndjsonLines(vectors), try await auditFeed(client), "vectors through HTTP")
        }
    }

    @Test func theCLIImportsOnlyIntoAnEmptyDirectory() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (source, exportA, _) = try await scenarioExport(root)
        let file = try auditWriteFile(exportA, in: root, named: "a.ndjson")
        let r = try await supportReplay(["import", "--data-dir", source, file])
        #expect(r.status != 0, "\(r)")
        #expect(try await auditExport(source) == exportA, "a refused import changed the log")
    }

    // MARK: Bad lines

    /// A bad line inserted as line 13 of the scenario's export (12 good lines before it, 11 after).
    struct BadLine: Sendable, CustomTestStringConvertible {
        var label: String
        var line: String
        var status: HTTPResponse.Status
        var testDescription: String { label }
    }

    static let badLines: [BadLine] = [
        BadLine(label: "malformed JSON", line: #"{"ticket": "T-1", "type": "note.added", "at": "#, status: .badRequest),
        BadLine(label: "not an object", line: #"["T-1"]"#, status: .badRequest),
        BadLine(
            label: "unknown field",
            line:
                #"{"ticket": "T-1", "type": "note.added", "at": "2026-03-02T09:30:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x"}, "colour": "red"}"#,
            status: .badRequest),
        BadLine(
            label: "unknown field in data",
            line:
                #"{"ticket": "T-1", "type": "note.added", "at": "2026-03-02T09:30:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x", "colour": "red"}}"#,
            status: .badRequest),
        BadLine(
            label: "bad instant",
            line:
                #"{"ticket": "T-1", "type": "note.added", "at": "2026-03-02 09:30:00", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x"}}"#,
            status: .badRequest),
        BadLine(
            label: "unknown actor kind",
            line:
                #"{"ticket": "T-1", "type": "note.added", "at": "2026-03-02T09:30:00.000Z", "actor": {"kind": "robot", "id": "r2"}, "data": {"body": "x"}}"#,
            status: .badRequest),
        BadLine(
            label: "unknown ticket",
            line:
                #"{"ticket": "T-999", "type": "note.added", "at": "2026-03-02T09:30:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x"}}"#,
            status: .conflict),
        BadLine(
            label: "not the next version",
            line:
                #"{"ticket": "T-1", "version": 99, "type": "note.added", "at": "2026-03-02T09:30:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x"}}"#,
            status: .conflict),
        BadLine(
            label: "a customer writing a note",
            line:
                #"{"ticket": "T-1", "type": "note.added", "at": "2026-03-02T09:30:00.000Z", "actor": {"kind": "customer", "id": "c-1"}, "data": {"body": "x"}}"#,
            status: .conflict),
        BadLine(
            label: "after the server clock",
            line:
                #"{"ticket": "T-1", "type": "note.added", "at": "2027-01-01T00:00:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x"}}"#,
            status: .conflict),
        BadLine(
            label: "before the ticket's last at",
            line:
                #"{"ticket": "T-1", "type": "note.added", "at": "2026-03-02T08:00:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x"}}"#,
            status: .conflict),
        BadLine(
            label: "status to the current status",
            line:
                #"{"ticket": "T-1", "type": "status.changed", "at": "2026-03-02T09:30:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"status": "open"}}"#,
            status: .conflict),
    ]

    @Test(arguments: badLines)
    func aBadLineInTheMiddleAppendsNothing(bad: BadLine) async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (_, exportA, tickets) = try await scenarioExport(root)
        try #require(tickets.first == "T-1")
        var all = lines(exportA)
        try #require(all.count == auditScenarioEventCount)
        let good = joined(all)
        all.insert(Array(bad.line.utf8), at: 12)
        let file = joined(all)
        try await withAuditServer(in: root.path + "/http", clock: ManualClock(instant(Self.importClock))) { backend, client in
            let r = try await postImport(client, file)
            expectProblem(r, bad.status)
            #expect(r.json["line"]?.intValue == 13, "the problem should name line 13: \(r)")
            #expect(r.json["detail"]?.stringValue?.contains("13") == true, "\(r)")
            #expect(try backend.store.head == .empty, "a refused import appended events")
            // Nothing of it lingers: the good lines alone import completely afterwards.
            let clean = try await postImport(client, good)
            #expect(clean.status == .ok && clean.json["imported"]?.intValue == Int64(auditScenarioEventCount), "\(clean)")
        }
        // The CLI refuses the same file and leaves the directory empty.
        let path = try auditWriteFile(file, in: root, named: "bad.ndjson")
        let cli = root.path + "/cli"
        let r = try await supportReplay(["import", "--data-dir", cli, path])
        #expect(r.status != 0, "\(r)")
        #expect(r.out.contains("line 13"), "\(r)")
        #expect(try await auditExport(cli).isEmpty, "the CLI appended part of a refused import")
    }

    @Test func aBadLineAfterSeveralChunksOfGoodLinesAppendsNothing() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        var generated = auditGeneratedImport(tickets: 700)
        try #require(generated.count == 4900 && generated.count > 2 * LogImporter.chunkSize)
        // Line 4501 rates a ticket with a score out of range.
        generated[4500] = generated[4500].replacingOccurrences(of: "\"score\":", with: "\"score\":6")
        let body = Array(generated.joined(separator: "\n").utf8)
        try await withAuditServer(in: root.path + "/http", clock: ManualClock(instant(Self.importClock))) { backend, client in
            let r = try await postImport(client, body)
            expectProblem(r, .badRequest)
            #expect(r.json["line"]?.intValue == 4501, "\(r)")
            let head = try backend.store.head
            #expect(head == .empty, "a refused import appended \(head.seq) events")
        }
    }

    // MARK: Re-runs

    @Test func aRerunAfterAPartialImportAppendsOnlyTheRest() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (_, exportA, _) = try await scenarioExport(root)
        let all = lines(exportA)
        try await withAuditServer(in: root.path + "/http", clock: ManualClock(instant(Self.importClock))) { _, client in
            // As if a crash had cut the import after its first 10 lines.
            let first = try await postImport(client, joined(Array(all[..<10])))
            #expect(first.status == .ok && first.json["imported"]?.intValue == 10 && first.json["tickets"]?.intValue == 2, "\(first)")
            let rest = try await postImport(client, exportA)
            #expect(rest.status == .ok, "\(rest)")
            #expect(rest.json["imported"]?.intValue == Int64(auditScenarioEventCount - 10), "\(rest)")
            #expect(rest.json["tickets"]?.intValue == 1, "only the third ticket is opened by the re-run: \(rest)")
            #expect(rest.json["lastSeq"]?.intValue == Int64(auditScenarioEventCount), "\(rest)")
            expectSameEvents(ndjsonLines(exportA), try await auditFeed(client), "after the re-run")
            let again = try await postImport(client, exportA)
            #expect(again.status == .ok, "\(again)")
            #expect(again.json["imported"]?.intValue == 0 && again.json["tickets"]?.intValue == 0, "\(again)")
            #expect(again.json["lastSeq"]?.intValue == Int64(auditScenarioEventCount), "\(again)")
            #expect(try await auditFeed(client).count == auditScenarioEventCount)
        }
    }

    @Test func aRerunMatchesLinesByInstantAndStoredDataNotByText() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (_, exportA, _) = try await scenarioExport(root)
        let all = lines(exportA)
        // The same events written differently: `at` without fraction digits where it has none,
        // no envelope fields, and an optional member given as null (stored without it).
        let rewritten: [[UInt8]] = all.map { raw in
            var o = (try? JSONParser.parse(raw))?.objectValue ?? [:]
            for key in ["seq", "recorded", "prev", "hash"] { o[key] = nil }
            if let at = o["at"]?.stringValue, at.hasSuffix(".000Z") { o["at"] = .string(String(at.dropLast(5)) + "Z") }
            if o["type"]?.stringValue == "ticket.opened", var data = o["data"]?.objectValue, data["context"] == nil {
                data["context"] = .null
                o["data"] = .object(data)
            }
            return CanonicalJSON.encode(.object(o))
        }
        try await withAuditServer(in: root.path + "/http", clock: ManualClock(instant(Self.importClock))) { _, client in
            let first = try await postImport(client, joined(Array(all[..<15])))
            #expect(first.status == .ok && first.json["imported"]?.intValue == 15, "\(first)")
            let rest = try await postImport(client, joined(rewritten))
            #expect(rest.status == .ok, "the re-run did not recognise the lines already in the log: \(rest)")
            #expect(rest.json["imported"]?.intValue == Int64(auditScenarioEventCount - 15), "\(rest)")
            expectSameEvents(ndjsonLines(exportA), try await auditFeed(client), "after a re-run written differently")
        }
    }

    @Test func aLineWhoseVersionIsInTheLogWithOtherContentIsAConflict() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let (_, exportA, _) = try await scenarioExport(root)
        let all = lines(exportA)
        try await withAuditServer(in: root.path + "/http", clock: ManualClock(instant(Self.importClock))) { backend, client in
            let first = try await postImport(client, exportA)
            #expect(first.status == .ok, "\(first)")
            let head = try backend.store.head
            // Line 3 (T-1 version 2, alice's assignment) claims another agent.
            var changed = all
            let third = String(decoding: all[2], as: UTF8.self)
            try #require(third.contains(#""data":{"agent":"alice"}"#))
            changed[2] = Array(third.replacingOccurrences(of: #""data":{"agent":"alice"}"#, with: #""data":{"agent":"bob"}"#).utf8)
            let r = try await postImport(client, joined(changed))
            expectProblem(r, .conflict)
            #expect(r.json["line"]?.intValue == 3, "\(r)")
            #expect(try backend.store.head == head)
            // Lines without `version` are never skipped: the same events again are refused (and append nothing).
            let unversioned: [[UInt8]] = all.map { raw in
                var o = (try? JSONParser.parse(raw))?.objectValue ?? [:]
                o["version"] = nil
                return CanonicalJSON.encode(.object(o))
            }
            let dup = try await postImport(client, joined(unversioned))
            expectProblem(dup, .conflict)
            #expect(dup.json["line"]?.intValue == 1, "\(dup)")
            #expect(try backend.store.head == head)
        }
    }

    // MARK: Ids, roles

    @Test func importedIdsAreKeptAndServerAssignedIdsSkipThem() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let open = { (id: String, at: String) in
            "{\"ticket\": \"\(id)\", \"version\": 1, \"type\": \"ticket.opened\", \"at\": \"\(at)\", \"actor\": {\"kind\": \"customer\", \"id\": \"c-1\"}, "
                + "\"data\": {\"customer\": \"c-1\", \"subject\": \"imported \(id)\", \"body\": \"b\", \"channel\": \"api\", \"product\": \"email\", \"priority\": \"low\"}}"
        }
        let file =
            [open("T-2", "2026-03-01T10:00:00Z"), open("T-5", "2026-03-01T10:00:01.5Z"), open("legacy-77", "2026-03-01T10:00:02.25Z")]
            .joined(separator: "\r\n") + "\r\n\r\n"
        try await withAuditServer(in: root.path + "/http", clock: ManualClock(instant(Self.importClock))) { _, client in
            let r = try await postImport(client, Array(file.utf8))
            #expect(r.status == .ok && r.json["imported"]?.intValue == 3 && r.json["tickets"]?.intValue == 3, "\(r)")
            for id in ["T-2", "T-5", "legacy-77"] {
                let t = try await client.get("/v1/tickets/\(id)", as: .alice)
                #expect(t.status == .ok && t.json["subject"]?.stringValue == "imported \(id)", "\(t)")
            }
            let events = try await auditFeed(client)
            #expect(
                events.map { $0["at"]?.stringValue ?? "" }
                    == ["2026-03-01T10:00:00.000Z", "2026-03-01T10:00:01.500Z", "2026-03-01T10:00:02.250Z"])
            var assigned: [String] = []
            for _ in 0..<4 { assigned.append(try await client.open(as: .c1)) }
            #expect(Set(assigned).isDisjoint(with: ["T-2", "T-5"]), "a server-assigned id reused an imported one: \(assigned)")
            #expect(Set(assigned).count == 4)
        }
    }

    // MARK: Imports beside live writes

    /// Runs `live` repeatedly (at most 3000 times) until `importing` has answered; returns the
    /// import's answer and what `live` returned.
    func importBesideLiveWrites(
        _ client: some TestClientProtocol, _ body: [UInt8],
        live: @escaping @Sendable (Int) async throws -> String?
    ) async throws -> (Reply, [String]) {
        let done = Atomic<Bool>(false)
        let importing = Task {
            defer { done.store(true, ordering: .relaxed) }
            return try await postImport(client, body)
        }
        var results: [String] = []
        for k in 0..<3000 where !done.load(ordering: .relaxed) {
            if let r = try await live(k) { results.append(r) }
            try await Task.sleep(for: .milliseconds(2))
        }
        return (try await importing.value, results)
    }

    /// An import is validated whole before appending: a live write landing on one of its tickets
    /// meanwhile must not leave it half appended.
    @Test(.timeLimit(.minutes(8)))
    func aLiveWriteDuringAnImportNeverLeavesItHalfAppended() async throws {
        try await withServer { server, client in
            let existing = try await client.open()
            // Line 1 is the existing ticket's opening exactly as it is in the log (a re-run skips it).
            let opened = try #require(try server.events(existing).first)
            var lines = [
                auditImportLine(
                    ticket: existing, version: 1, type: opened.type, at: opened.at, kind: opened.actor.kind,
                    id: opened.actor.id, data: auditText(opened.data))
            ]
            lines += auditGeneratedImport(tickets: 2000)
            lines.append(
                "{\"ticket\":\"\(existing)\",\"type\":\"note.added\",\"at\":\"\(ManualClock.start.rfc3339)\","
                    + "\"actor\":{\"kind\":\"agent\",\"id\":\"alice\"},\"data\":{\"body\":\"imported note\"}}")
            let body = Array((lines.joined(separator: "\n") + "\n").utf8)
            let (answer, _) = try await importBesideLiveWrites(client, body) { k in
                let r = try await client.post("/v1/tickets/\(existing)/notes", as: .bob, "{\"body\": \"live \(k)\"}")
                return r.status == .ok ? "ok" : nil
            }
            let generated = try server.backend.store.events(after: 0, limit: 100_000).filter { $0.stream.hasPrefix("G-") }
            if let line = answer.json["line"]?.intValue {
                // Only the last line (the note on the ticket live writes move) can be at fault.
                #expect(line == Int64(lines.count), "the problem names line \(line), the note is line \(lines.count): \(answer)")
            }
            if answer.status == .ok {
                #expect(generated.count == lines.count - 2, "\(answer)")
                #expect(try server.events(existing).contains { $0.data["body"]?.stringValue == "imported note" })
            } else {
                #expect(
                    generated.count == 0,
                    "the import answered \(answer) after appending \(generated.count) of its \(lines.count) events")
            }
        }
    }

    @Test func onlyAdminsImport() async throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let vectors = Array(try Data(contentsOf: URL(fileURLWithPath: AuditPaths.vectors)))
        try await withAuditServer(in: root.path + "/http", clock: ManualClock(instant(Self.importClock))) { backend, client in
            expectProblem(try await postImport(client, vectors, as: nil), .unauthorized)
            for who in [Who.c1, .alice, .manager, .auditor] {
                expectProblem(try await postImport(client, vectors, as: who), .forbidden)
            }
            #expect(try backend.store.head == .empty)
            let unknown = try await client.send(.post, "/v1/import?dryRun=1", as: .admin, raw: vectors)
            expectProblem(unknown, .badRequest)
            #expect(try backend.store.head == .empty)
        }
    }
}
