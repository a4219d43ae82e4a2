import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportServer

/// SPEC §7: "Another customer's ticket is 404 on every route, with nothing of it in the body";
/// customers never see notes (§1, §8).
@Suite("Customers see only their own tickets, never notes")
struct CustomerIsolationTests {
    static let secrets = ["Invoice 4711 secret subject", "my password is hunter2", "INTERNAL-NOTE-SEKRIT", "c-1", "email"]

    /// A 404 that tells nothing of the ticket: same shape as for a ticket that does not exist.
    func expectOpaque404(
        _ r: Reply, id: String, comparedWith missing: Reply, missingID: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        expectProblem(r, .notFound, sourceLocation: sourceLocation)
        for secret in Self.secrets {
            #expect(!r.text.contains(secret), "the 404 leaks \"\(secret)\": \(r)", sourceLocation: sourceLocation)
        }
        // Identical to the answer for a missing ticket, once the requested id is swapped.
        let normalised = r.text.replacingOccurrences(of: id, with: "ID")
        let reference = missing.text.replacingOccurrences(of: missingID, with: "ID")
        #expect(normalised == reference, "\(r) differs from the missing-ticket answer \(missing)", sourceLocation: sourceLocation)
    }

    @Test func anotherCustomersTicketIsA404OnEveryRouteThatLeaksNothingAndWritesNothing() async throws {
        try await withServer { server, client in
            let id = try await client.open(as: .c1, subject: "Invoice 4711 secret subject", body: "my password is hunter2")
            server.clock.advance(seconds: 60)
            try await client.command(id, "notes", as: .alice, "{\"body\": \"INTERNAL-NOTE-SEKRIT\"}")
            try await client.command(id, "messages", as: .alice, Bodies.message("We are looking."))
            let missingID = "T-424242"

            let read = try await client.get("/v1/tickets/\(id)", as: .c2)
            let readMissing = try await client.get("/v1/tickets/\(missingID)", as: .c2)
            expectOpaque404(read, id: id, comparedWith: readMissing, missingID: missingID)
            let asOf = try await client.get("/v1/tickets/\(id)?asOf=2026-03-02T12:00:00Z", as: .c2)
            let asOfMissing = try await client.get("/v1/tickets/\(missingID)?asOf=2026-03-02T12:00:00Z", as: .c2)
            expectOpaque404(asOf, id: id, comparedWith: asOfMissing, missingID: missingID)

            let writes: [(String, String)] = [
                ("messages", Bodies.message("let me in")), ("notes", "{\"body\": \"n\"}"), ("assign", "{\"agent\": \"alice\"}"),
                ("priority", "{\"priority\": \"urgent\"}"), ("status", "{\"status\": \"closed\"}"),
                ("escalate", "{\"team\": \"t\", \"reason\": \"r\"}"), ("tags", "{\"added\": [\"x\"]}"),
                ("merge", "{\"into\": \"T-1\"}"), ("rating", "{\"score\": 1}"),
            ]
            try await expectLogUnchanged(server) {
                for (route, body) in writes {
                    let r = try await client.post("/v1/tickets/\(id)/\(route)", as: .c2, body)
                    let missing = try await client.post("/v1/tickets/\(missingID)/\(route)", as: .c2, body)
                    expectOpaque404(r, id: id, comparedWith: missing, missingID: missingID)
                    // With If-Match and an Idempotency-Key too: still the same 404.
                    let withHeaders = try await client.post(
                        "/v1/tickets/\(id)/\(route)", as: .c2, body,
                        headers: [.ifMatch: "\"3\"", .idempotencyKey: "k-\(route)"])
                    expectOpaque404(withHeaders, id: id, comparedWith: missing, missingID: missingID)
                }
            }
            // Customer c-1 still sees their own ticket.
            #expect(try await client.get("/v1/tickets/\(id)", as: .c1).status == .ok)
        }
    }

    @Test func customersNeverGetNotesInReadsPointInTimeReadsOrAnswersToTheirOwnCommands() async throws {
        try await withServer { server, client in
            let id = try await client.open(as: .c1)
            server.clock.advance(seconds: 60)
            try await client.command(id, "notes", as: .alice, "{\"body\": \"INTERNAL-NOTE-SEKRIT\"}")
            server.clock.advance(seconds: 60)
            try await client.command(id, "messages", as: .alice, Bodies.message("Please check your spam folder."))
            server.clock.advance(seconds: 60)
            try await client.command(id, "notes", as: .manager, "{\"body\": \"INTERNAL-NOTE-SEKRIT 2\"}")

            func expectNoNotes(_ r: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(r.status == .ok || r.status == .created, "\(r)", sourceLocation: sourceLocation)
                #expect(!r.text.contains("INTERNAL-NOTE-SEKRIT"), "a customer got a note: \(r)", sourceLocation: sourceLocation)
                let kinds = r.json["thread"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } ?? []
                #expect(!kinds.isEmpty && kinds.allSatisfy { $0 == "message" }, sourceLocation: sourceLocation)
                expectTicketShape(r.json, viewer: .c1, sourceLocation: sourceLocation)
            }
            let read = try await client.get("/v1/tickets/\(id)", as: .c1)
            expectNoNotes(read)
            #expect(read.json["thread"]?.arrayValue?.compactMap { $0["version"]?.intValue } == [1, 3])
            expectNoNotes(try await client.get("/v1/tickets/\(id)?asOf=2026-03-02T09:01:30Z", as: .c1))
            server.clock.advance(seconds: 60)
            let message = try await client.post(
                "/v1/tickets/\(id)/messages", as: .c1, Bodies.message("Found it, thanks"),
                headers: [.idempotencyKey: "c1-thanks"])
            expectNoNotes(message)
            // The replay of that answer holds no note either.
            let replay = try await client.post(
                "/v1/tickets/\(id)/messages", as: .c1, Bodies.message("Found it, thanks"),
                headers: [.idempotencyKey: "c1-thanks"])
            expectNoNotes(replay)
            #expect(replay.bytes == message.bytes)
            server.clock.advance(seconds: 60)
            expectNoNotes(try await client.post("/v1/tickets/\(id)/rating", as: .c1, "{\"score\": 4}"))
            // Staff see the notes.
            let staff = try await client.get("/v1/tickets/\(id)", as: .auditor)
            #expect(staff.text.contains("INTERNAL-NOTE-SEKRIT"))
            #expect(staff.json["thread"]?.arrayValue?.filter { $0["kind"]?.stringValue == "note" }.count == 2)
        }
    }

    @Test func aCustomerCannotOpenATicketForAnotherCustomer() async throws {
        try await withServer { server, client in
            try await expectLogUnchanged(server) {
                expectProblem(try await client.post("/v1/tickets", as: .c2, Bodies.open(customer: "c-1")), .forbidden)
                // Code points are compared without normalisation: "c-1" is not "c\u{2010}1".
                expectProblem(try await client.post("/v1/tickets", as: .c1, Bodies.open(customer: "c\u{2011}1")), .forbidden)
            }
            let r = try await client.post("/v1/tickets", as: .c2, Bodies.open(customer: "c-2"))
            expectTicketAnswer(r, .created, viewer: .c2)
            // c-1 cannot see c-2's ticket.
            expectProblem(try await client.get(r.location ?? "/v1/tickets/none", as: .c1), .notFound)
        }
    }
}
