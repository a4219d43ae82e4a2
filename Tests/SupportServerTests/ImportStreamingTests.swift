import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportService
import Testing

@testable import EventLog
@testable import SupportServer

/// POST /v1/import and `support-replay import` stream: lines are validated as they arrive, a
/// line has a length limit, and validated lines wait in an owner-only spool file in the data
/// directory (removed afterwards, on failure, and at the next start after a crash).
@Suite("Import streaming")
struct ImportStreamingTests {
    func postImport(_ client: some TestClientProtocol, _ bytes: [UInt8]) async throws -> Reply {
        try await client.send(.post, "/v1/import", as: .admin, raw: bytes, headers: [.contentType: "application/x-ndjson"])
    }

    /// A backend on a fresh directory, without the HTTP layer.
    func withBackend<T>(_ body: (SupportBackend, TemporaryDirectory) async throws -> T) async throws -> T {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = try SupportBackend(dataDirectory: directory.path, clock: ManualClock().read)
        defer { backend.close() }
        return try await body(backend, directory)
    }

    func spools(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }
    }

    @Test func anOverLongLineIs400NamingItAndAppendsNothing() async throws {
        let good = auditGeneratedImport(tickets: 2)
        let long = auditImportLine(
            ticket: "G-1", version: 2, type: "note.added", at: ManualClock.start, kind: "agent", id: "alice",
            data: "{\"body\":\"\(String(repeating: "x", count: LogImporter.maximumLineLength))\"}")
        let body = Array(([good[0], good[1], long] + good[2...]).joined(separator: "\n").utf8)
        try await withServer { server, client in
            let r = try await postImport(client, body)
            expectProblem(r, .badRequest, detail: "longer than \(LogImporter.maximumLineLength) bytes")
            #expect(r.json["line"]?.intValue == 3, "\(r)")
            #expect(try server.head == .empty, "a refused import appended events")
        }
        // The CLI refuses it the same way.
        let root = TemporaryDirectory()
        defer { root.remove() }
        let file = try auditWriteFile(body, in: root, named: "long.ndjson")
        let cli = try await supportReplay(["import", "--data-dir", root.path + "/cli", file])
        #expect(cli.status != 0 && cli.out.contains("line 3: longer than"), "\(cli)")
        #expect(try await auditExport(root.path + "/cli").isEmpty)
    }

    @Test func aLineOfExactlyTheLimitPassesAndOneByteMoreIsRefused() async throws {
        let line = auditGeneratedImport(tickets: 1)[0]
        let limit = line.utf8.count
        try await withBackend { backend, _ in
            // A CR before the newline does not count.
            let exact = try LogImporter(backend: backend).session(maximumLineLength: limit)
            try exact.feed(Array((line + "\r\n").utf8))
            #expect(try await exact.finish().imported == 1)
            let over = try LogImporter(backend: backend).session(maximumLineLength: limit - 1)
            #expect(throws: ServiceError(.badRequest, "line 1: longer than \(limit - 1) bytes", line: 1)) {
                try over.feed(Array((line + "\n").utf8))
            }
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aBadLineAtTheEndOfALargeInputAppendsNothingAndNamesIt() async throws {
        var lines = auditGeneratedImport(tickets: 3000)
        try #require(lines.count == 21_000)
        // The very last line rates a ticket with a score out of range.
        lines[lines.count - 1] = lines[lines.count - 1].replacingOccurrences(of: "\"score\":", with: "\"score\":9")
        let body = Array(lines.joined(separator: "\n").utf8)
        try await withServer { server, client in
            let r = try await postImport(client, body)
            expectProblem(r, .badRequest, detail: "line 21000")
            #expect(r.json["line"]?.intValue == 21_000, "\(r)")
            #expect(try server.head == .empty, "a refused import appended events")
            #expect(try spools(in: server.directory.path).isEmpty, "the spool of a refused import was left behind")
        }
    }

    /// However the input is cut into chunks (lines straddling them, CRLF endings, blank lines),
    /// the same lines are imported.
    @Test(arguments: [1, 2, 3])
    func anyChunkingOfTheInputImportsTheSameLines(seed: UInt64) async throws {
        let lines = auditGeneratedImport(tickets: 30)
        let text = lines.joined(separator: seed == 2 ? "\r\n" : "\n") + "\n\n  \n"
        let bytes = Array(text.utf8)
        try await withBackend { backend, directory in
            let session = try LogImporter(backend: backend).session()
            var offset = 0, k = 0
            while offset < bytes.count {
                // Chunk sizes from 1 to 97 bytes, in an order that differs per seed.
                k += 1
                let n = min(bytes.count - offset, (k * 37 + Int(seed) * 11) % 97 + 1)
                try session.feed(bytes[offset..<(offset + n)])
                offset += n
            }
            let summary = try await session.finish()
            #expect(summary == ImportSummary(imported: lines.count, tickets: 30, lastSeq: UInt64(lines.count)))
            expectExportHoldsLines(ndjsonLines(try await auditExport(directory.path)), lines)
        }
    }

    /// Good lines are read member by member without the envelope object; whatever the line, the
    /// answer (the line read, or the problem) is the one reading the whole envelope object gives.
    @Test func aLineReadMemberByMemberIsReadAsTheWholeEnvelopeReadsIt() throws {
        let actor = #""actor": {"kind": "agent", "id": "alice"}"#
        let data = #""data": {"body": "caf\u00e9 \"x\"", "n": [1, 2.5, null, {"k": true}]}"#
        let lines: [String] = [
            #"{"ticket": "T-1", "type": "note.added", "at": "2026-03-02T09:30:00.000Z", \#(actor), \#(data)}"#,
            #" {"ticket":"T-1","version":3,"type":"note.added","at":"2026-03-02T09:30:00Z",\#(actor),\#(data)}  "#,
            #"{"seq": 7, "recorded": "x", "prev": null, "hash": "h", "ticket": "T-1", "version": null, "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": null}"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", "actor": {"id": "a", "kind": "agent"}, "data": 1}"#,
            // A good line with an escaped name (read through the whole envelope), then escaped, non-ASCII,
            // repeated or unknown names; wrong types; missing members; malformed text.
            #"{"tick\u0065t": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}}"#,
            #"{"ticket": "T-1", "ticket": "T-2", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}}"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}, "extra": 1}"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}, "\u212a": 1}"#,
            #"{"ticket": 1, "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}}"#,
            #"{"ticket": "T-1", "type": "t", "at": "yesterday", \#(actor), "data": {}}"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", "actor": {"kind": "agent"}, "data": {}}"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", "actor": {"kind": "agent", "id": "a", "x": 1}, "data": {}}"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor)}"#,
            #"{"ticket": "T-1", "version": 0, "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}}"#,
            #"{"ticket": "T-1", "version": 2.0, "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}}"#,
            #"{"ticket": "T-1", "seq": "1", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}}"#,
            #"{"ticket": "T-1", "hash": 5, "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}}"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {"a": 1, "a": 2}}"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}} x"#,
            #"{"ticket": "T-1", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {},}"#,
            #"{"ticket": "T-\ud800", "type": "t", "at": "2026-03-02T09:30:00Z", \#(actor), "data": {}}"#,
            #"["ticket"]"#, "{}", "", "{",
        ]
        func read(_ line: String, whole: Bool) -> String {
            let bytes = Array(line.utf8)
            return bytes.withUnsafeBytes { raw in
                do {
                    let l = whole ? try LogImporter.parseWholeEnvelope(line: raw, number: 4) : try LogImporter.parse(line: raw, number: 4)
                    let data = String(decoding: CanonicalJSON.encode(l.data), as: UTF8.self)
                    return "\(l.ticket)|\(l.type)|\(l.at)|\(l.actor)|\(String(describing: l.version))|\(data)"
                } catch {
                    return "\(error)"
                }
            }
        }
        for (k, line) in lines.enumerated() {
            #expect(read(line, whole: false) == read(line, whole: true), "line \(k): \(line)")
            #expect(read(line, whole: false).hasPrefix("T-1|") == (k < 5), "line \(k): \(read(line, whole: false))")
        }
    }

    /// Feeds `text` to a fresh session on `backend` in one piece (lines parsed and pre-checked on
    /// both cores) or one line per feed, and returns the problem it was refused with, if any.
    func refusal(
        of text: String, onePiece: Bool, backend: SupportBackend, maximumLineLength: Int = LogImporter.maximumLineLength
    )
        async throws -> ServiceError?
    {
        let session = try LogImporter(backend: backend).session(maximumLineLength: maximumLineLength)
        do {
            if onePiece {
                try session.feed(Array(text.utf8))
            } else {
                for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                    try session.feed(Array((line + "\n").utf8))
                }
            }
            _ = try await session.finish()
            return nil
        } catch {
            return error
        }
    }

    /// The same input refused the same way fed in one piece and line by line, and nothing appended.
    func expectSameRefusal(
        _ lines: [String], line: Int, kind: ServiceError.Kind, maximumLineLength: Int = LogImporter.maximumLineLength
    )
        async throws
    {
        let text = lines.joined(separator: "\n") + "\n"
        var problems: [ServiceError?] = []
        for onePiece in [true, false] {
            try await withBackend { backend, _ in
                problems.append(try await refusal(of: text, onePiece: onePiece, backend: backend, maximumLineLength: maximumLineLength))
                #expect(try backend.store.head == .empty, "a refused import appended events")
            }
        }
        #expect(
            problems[0] == problems[1], "one piece: \(String(describing: problems[0])); line by line: \(String(describing: problems[1]))")
        #expect(problems[0]?.line == line && problems[0]?.kind == kind, "\(String(describing: problems[0]))")
    }

    /// Lines fed together are parsed and given their own checks ahead, on both cores; the first bad
    /// line in input order is still the one reported, whichever check finds it.
    @Test func inOnePieceTheFirstBadLineIsReportedWhicheverCheckFindsIt() async throws {
        let good = auditGeneratedImport(tickets: 30)
        try #require(good.count == 210)
        let malformed = #"{"ticket": "G-1", "type": "#
        let unknownTicket =
            #"{"ticket": "T-999", "type": "note.added", "at": "2026-01-05T09:30:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x"}}"#
        let badScore = good[200].replacingOccurrences(of: "\"score\":", with: "\"score\":9")
        let unknownMember =
            #"{"ticket": "G-2", "type": "note.added", "at": "2026-01-05T09:30:00.000Z", "actor": {"kind": "agent", "id": "alice"}, "data": {"body": "x", "color": "red"}}"#
        // (first bad line, second bad line, what the first is)
        let cases: [(String, String, ServiceError.Kind)] = [
            (unknownTicket, malformed, .conflict), (malformed, unknownTicket, .badRequest),
            (unknownTicket, badScore, .conflict), (badScore, unknownTicket, .badRequest),
            (unknownMember, malformed, .badRequest), (unknownTicket, unknownMember, .conflict),
        ]
        for (first, second, kind) in cases {
            var lines = good
            lines[100] = first
            lines[149] = second
            try await expectSameRefusal(lines, line: 101, kind: kind)
        }
    }

    @Test func aLineTooLongAfterABadLineInTheSamePieceIsNotTheOneReported() async throws {
        let good = auditGeneratedImport(tickets: 30)
        // Lines 61-90 post a message, line 121 too (a customer's answer).
        let long = good[70].replacingOccurrences(of: "\"body\":\"", with: "\"body\":\"" + String(repeating: "x", count: 600))
        func unknownTicket(_ line: String) -> String { line.replacingOccurrences(of: "\"ticket\":\"G-", with: "\"ticket\":\"Z-") }
        var lines = good
        lines[89] = unknownTicket(lines[89])
        lines[120] = long
        try await expectSameRefusal(lines, line: 90, kind: .conflict, maximumLineLength: 500)
        // And the other way round.
        lines = good
        lines[89] = long
        lines[120] = unknownTicket(lines[120])
        try await expectSameRefusal(lines, line: 90, kind: .badRequest, maximumLineLength: 500)
    }

    /// A line whose version is already in the log is compared with the stored event before its own
    /// checks run: other content is a conflict, even when the line's data is also malformed.
    @Test func aVersionedLineAlreadyInTheLogIsJudgedByTheLogBeforeItsOwnChecks() async throws {
        let first = auditGeneratedImport(tickets: 10)
        var second = auditGeneratedImport(tickets: 20, prefix: "H-")
        try #require(second.count >= 2 * 64)
        second[100] = first[0].replacingOccurrences(of: "\"channel\":", with: "\"color\":\"red\",\"channel\":")
        let text = second.joined(separator: "\n") + "\n"
        var problems: [ServiceError?] = []
        for onePiece in [true, false] {
            try await withBackend { backend, _ in
                let session = try LogImporter(backend: backend).session()
                try session.feed(Array((first.joined(separator: "\n") + "\n").utf8))
                #expect(try await session.finish().imported == first.count)
                problems.append(try await refusal(of: text, onePiece: onePiece, backend: backend))
                #expect(try backend.store.head.seq == UInt64(first.count), "a refused import appended events")
            }
        }
        #expect(problems[0] == problems[1])
        #expect(problems[0]?.line == 101 && problems[0]?.kind == .conflict, "\(String(describing: problems[0]))")
        #expect(problems[0]?.detail.contains("already in the log with other content") == true, "\(String(describing: problems[0]))")
    }

    @Test func theSpoolIsOwnerOnlyInTheDataDirectoryAndRemovedAfterSuccessOrFailure() async throws {
        let lines = auditGeneratedImport(tickets: 5)
        try await withBackend { backend, directory in
            let session = try LogImporter(backend: backend).session()
            try session.feed(Array((lines.joined(separator: "\n") + "\n").utf8))
            let path = session.spoolPath
            #expect(
                URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
                    == URL(fileURLWithPath: directory.path).standardizedFileURL.path)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
            #expect(mode & 0o777 == 0o600, "spool mode \(String(mode, radix: 8))")
            #expect(try await session.finish().imported == lines.count)
            #expect(!FileManager.default.fileExists(atPath: path), "the spool outlived a finished import")

            // A refused import drops its spool too.
            var failedPath = ""
            do {
                let failing = try LogImporter(backend: backend).session()
                failedPath = failing.spoolPath
                #expect(FileManager.default.fileExists(atPath: failedPath))
                #expect(throws: ServiceError.self) { try failing.feed(Array("{\"ticket\": 1}\n".utf8)) }
            }
            #expect(!FileManager.default.fileExists(atPath: failedPath), "the spool of a refused import was left behind")
            #expect(try spools(in: directory.path).isEmpty)
        }
    }

    @Test func aSpoolLeftByACrashIsRemovedAtStart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let first = try SupportBackend(dataDirectory: directory.path)
            first.close()
        }
        let leftover = directory.path + "/import-0A1B2C3D.spool"
        let unrelated = directory.path + "/notes.txt"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data("stale".utf8)))
        #expect(FileManager.default.createFile(atPath: unrelated, contents: Data("keep".utf8)))
        let second = try SupportBackend(dataDirectory: directory.path)
        defer { second.close() }
        #expect(!FileManager.default.fileExists(atPath: leftover), "a leftover spool survived the start")
        #expect(FileManager.default.fileExists(atPath: unrelated))
    }
}
