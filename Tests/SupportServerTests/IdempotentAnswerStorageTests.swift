import EventLog
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportServer

/// An idempotency key stores the first answer once, without the ticket's thread (which the log
/// already holds): the record does not grow with the thread, and a retry still gets the first
/// answer byte for byte, after later commands, across restarts, and for customers (no notes).
@Suite("Idempotent answers: compact storage")
struct IdempotentAnswerStorageTests {
    func expectSameAnswer(_ a: Reply, _ b: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            a.status == b.status && a.etag == b.etag && a.location == b.location && a.contentType == b.contentType,
            "\(a) vs \(b)", sourceLocation: sourceLocation)
        #expect(a.bytes == b.bytes, "bodies differ:\n\(a.text)\n\(b.text)", sourceLocation: sourceLocation)
    }

    /// The stored answer's size for `who`'s key.
    func storedAnswerSize(_ backend: SupportBackend, _ who: Who, key: String) throws -> Int {
        let record = try backend.store.read { try $0.idempotencyRecord(key: "\(who.role.rawValue)\u{0}\(who.id)\u{0}\(key)") }
        return try #require(record?.response).count
    }

    @Test func theStoredAnswerDoesNotGrowWithTheThread() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let p = "/v1/tickets/\(id)/messages"
            let early = try await client.post(p, as: .alice, Bodies.message("early"), headers: [.idempotencyKey: "early"])
            expectTicketAnswer(early, viewer: .alice)
            let earlySize = try storedAnswerSize(server.backend, .alice, key: "early")
            for k in 0..<200 {
                try await client.command(
                    id, k % 2 == 0 ? "messages" : "notes", as: .bob,
                    Bodies.message("message \(k): " + String(repeating: "lorem ipsum ", count: 20)))
            }
            let late = try await client.post(p, as: .alice, Bodies.message("late"), headers: [.idempotencyKey: "late"])
            expectTicketAnswer(late, viewer: .alice)
            #expect(late.bytes.count > 40_000, "the answer itself carries the whole thread")
            let lateSize = try storedAnswerSize(server.backend, .alice, key: "late")
            #expect(lateSize < 1024, "the stored answer holds \(lateSize) bytes")
            #expect(lateSize - earlySize < 16, "the stored answer grew from \(earlySize) to \(lateSize) bytes with the thread")
            // Both still replay byte for byte.
            server.clock.advance(seconds: 600)
            expectSameAnswer(early, try await client.post(p, as: .alice, Bodies.message("early"), headers: [.idempotencyKey: "early"]))
            expectSameAnswer(late, try await client.post(p, as: .alice, Bodies.message("late"), headers: [.idempotencyKey: "late"]))
        }
    }

    @Test func theFirstAnswerIsTheTicketAsAReadShowsIt() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            try await client.command(id, "notes", as: .bob, "{\"body\": \"internal \\\"quoted\\\" — ünïcödé\"}")
            for (who, route, body) in [
                (Who.alice, "messages", Bodies.message("for the customer")),
                (.c1, "messages", Bodies.message("from the customer")),
                (.alice, "tags", "{\"added\": [\"zeta\", \"alpha\"]}"),
            ] {
                let r = try await client.post("/v1/tickets/\(id)/\(route)", as: who, body, headers: [.idempotencyKey: "k-\(route)-\(who)"])
                // Same clock, same version: the command's answer and a read are the same bytes.
                let read = try await client.get("/v1/tickets/\(id)", as: who)
                #expect(r.status == .ok && r.bytes == read.bytes, "\(r)\n\(read)")
            }
        }
    }

    @Test func aCustomerReplayAfterLaterCommandsAndARestartIsByteIdenticalAndHasNoNotes() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        func run<T: Sendable>(_ body: @Sendable (SupportBackend, any TestClientProtocol) async throws -> T) async throws -> T {
            let backend = try SupportBackend(dataDirectory: directory.path, clock: clock.read)
            defer { backend.close() }
            return try await Application(router: buildRouter(backend: backend, tokens: Who.tokens)).test(.router) { client in
                try await body(backend, client)
            }
        }
        let openKey: HTTPFields = [.idempotencyKey: "open-1"], replyKey: HTTPFields = [.idempotencyKey: "reply-1"]
        let (opened, replied, noted) = try await run { _, client in
            let opened = try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "compact"), headers: openKey)
            let id = try #require(opened.json["id"]?.stringValue)
            try await client.command(id, "notes", as: .alice, "{\"body\": \"secret note\"}")
            try await client.command(id, "messages", as: .alice, Bodies.message("we are on it"))
            let replied = try await client.post("/v1/tickets/\(id)/messages", as: .c1, Bodies.message("thanks"), headers: replyKey)
            let noted = try await client.post("/v1/tickets/\(id)/notes", as: .bob, "{\"body\": \"another note\"}", headers: openKey)
            // Later commands move the ticket on.
            clock.advance(seconds: 120)
            try await client.command(id, "notes", as: .alice, "{\"body\": \"later note\"}")
            try await client.command(id, "messages", as: .alice, Bodies.message("later message"))
            try await client.command(id, "priority", as: .bob, "{\"priority\": \"urgent\"}")
            return (opened, replied, noted)
        }
        expectTicketAnswer(opened, .created, viewer: .c1)
        expectTicketAnswer(replied, viewer: .c1)
        #expect(!replied.text.contains("secret note"), "a customer's answer shows a note")
        #expect(noted.text.contains("secret note"), "an agent's answer shows the notes")
        let id = try #require(opened.json["id"]?.stringValue)
        clock.advance(seconds: 3600)
        try await run { backend, client in
            let head = try backend.store.head
            expectSameAnswer(opened, try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "compact"), headers: openKey))
            expectSameAnswer(
                replied, try await client.post("/v1/tickets/\(id)/messages", as: .c1, Bodies.message("thanks"), headers: replyKey))
            expectSameAnswer(
                noted, try await client.post("/v1/tickets/\(id)/notes", as: .bob, "{\"body\": \"another note\"}", headers: openKey))
            #expect(try backend.store.head == head, "a replay appended")
        }
    }

    @Test func anAnswerStoredWholeByAnEarlierVersionStillReplays() throws {
        let answer = WriteAnswer(status: 201, version: 3, location: "/v1/tickets/T-9", body: .complete(Array("{\"id\":\"T-9\"}".utf8)))
        let decoded = try #require(WriteAnswer(decoding: answer.encoded()))
        #expect(decoded == answer)
        let compact = WriteAnswer(
            status: 200, version: 7, location: nil,
            body: .aroundThread(
                ticket: "T-é 1", messagesOnly: true, head: Array("{\"a\":1,\"thread\":".utf8),
                tail: Array(",\"z\":2}".utf8)))
        #expect(WriteAnswer(decoding: compact.encoded()) == compact)
    }

    /// Records stored before the answer format moved to the package's byte writer (formats 1
    /// and 2, big-endian) are still read, so an old key's retry still gets its first answer.
    @Test func answersStoredInTheEarlierBigEndianFormatsStillDecode() throws {
        // Format 1: status 201, version 3, location "/v1/tickets/T-9", the whole body.
        let location = Array("/v1/tickets/T-9".utf8), body = Array("{\"id\":\"T-9\"}".utf8)
        let whole: [UInt8] = [1, 0, 201, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, UInt8(location.count)] + location + body
        #expect(
            WriteAnswer(decoding: whole)
                == WriteAnswer(status: 201, version: 3, location: "/v1/tickets/T-9", body: .complete(body)))
        // Format 2: status 200, version 7, no location, the body cut around the thread of "T-1".
        let head = Array("{\"a\":1,\"thread\":".utf8), tail = Array(",\"z\":2}".utf8)
        let around: [UInt8] =
            [2, 0, 200, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 3] + Array("T-1".utf8)
            + [0, 0, 0, UInt8(head.count)] + head + tail
        #expect(
            WriteAnswer(decoding: around)
                == WriteAnswer(
                    status: 200, version: 7, location: nil,
                    body: .aroundThread(ticket: "T-1", messagesOnly: true, head: head, tail: tail)))
        #expect(WriteAnswer(decoding: Array(around.prefix(20))) == nil, "a truncated record decodes")
    }
}
