import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import SupportService
import Testing

@testable import SupportServer

extension TestClientProtocol {
    /// POST /v1/attachments with `bytes` as the body.
    func upload(_ bytes: [UInt8], as who: Who?, contentType: String = "application/pdf", query: String = "") async throws -> Reply {
        try await send(.post, "/v1/attachments" + query, as: who, raw: bytes, headers: [.contentType: contentType])
    }

    /// Uploads `bytes` as `who` (201 required); returns the digest.
    func uploaded(_ bytes: [UInt8], as who: Who, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let r = try await upload(bytes, as: who)
        try #require(r.status == .created, "upload as \(who) failed: \(r)", sourceLocation: sourceLocation)
        return try #require(r.json["sha256"]?.stringValue, sourceLocation: sourceLocation)
    }
}

/// A message body naming one attachment.
func messageNaming(
    _ sha256: String, name: String, size: Int, contentType: String = "application/pdf", body: String = "see attached"
)
    -> String
{
    let attachment =
        "{\"name\": \(Bodies.quote(name)), \"size\": \(size), \"contentType\": \(Bodies.quote(contentType)), \"sha256\": \"\(sha256)\"}"
    return "{\"body\": \(Bodies.quote(body)), \"attachments\": [\(attachment)]}"
}

/// Bytes that are no text: every byte value, twice.
let pdfBytes: [UInt8] = Array("%PDF-1.7\n".utf8) + (0..<512).map { UInt8(truncatingIfNeeded: $0) }

@Suite("Attachments: upload, name in a message, download")
struct AttachmentRouteTests {
    @Test func anUploadAnswers201WithTheDigestAndSizeOnly() async throws {
        try await withServer { server, client in
            try await expectLogUnchanged(server) {
                let r = try await client.upload(Array("abc".utf8), as: .c1, contentType: "text/plain")
                #expect(r.status == .created, "\(r)")
                #expect(r.contentType == "application/json")
                #expect(r.text == #"{"sha256":"\#(abcDigest)","size":3}"#)
            }
            #expect(try server.backend.attachments.get(sha256: abcDigest) == Array("abc".utf8))
            // Again, as an agent, with another content type: the same name, stored once.
            let again = try await client.upload(Array("abc".utf8), as: .alice, contentType: "application/octet-stream")
            #expect(again.status == .created && again.json["sha256"]?.stringValue == abcDigest)
        }
    }

    @Test func theTicketsCustomerAndStaffDownloadWhatAMessageNamesWithSafeHeaders() async throws {
        try await withServer { _, client in
            let id = try await client.open()
            let sha = try await client.uploaded(pdfBytes, as: .c1)
            try await client.command(id, "messages", as: .c1, messageNaming(sha, name: "Rechnung März 2026.pdf", size: pdfBytes.count))
            for who in [Who.c1, .alice, .bob, .manager, .auditor, .admin] {
                let r = try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: who)
                #expect(r.status == .ok, "\(who): \(r)")
                #expect(r.bytes == pdfBytes, "\(who) got other bytes")
                #expect(r.contentType == "application/pdf")
                #expect(r.headers[.contentDisposition] == "attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz%202026.pdf")
                #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(r.headers[.contentLength] == "\(pdfBytes.count)")
            }
        }
    }

    @Test func anAgentsAttachmentReachesTheCustomerAndAnOpeningsAttachmentIsServedToo() async throws {
        try await withServer { _, client in
            let sha = try await client.uploaded(Array("log lines\n".utf8), as: .alice)
            let opening =
                "{\"customer\": \"c-1\", \"subject\": \"Backups\", \"body\": \"attached\", \"channel\": \"web\", \"product\": \"vps\", "
                + "\"priority\": \"normal\", \"attachments\": [{\"name\": \"a.log\", \"size\": 10, \"contentType\": \"text/plain; charset=utf-8\", "
                + "\"sha256\": \"\(sha)\"}]}"
            let opened = try await client.post("/v1/tickets", as: .c1, opening)
            try #require(opened.status == .created, "\(opened)")
            let id = try #require(opened.json["id"]?.stringValue)
            let first = try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: .alice)
            #expect(first.status == .ok && first.text == "log lines\n")
            #expect(first.contentType == "text/plain; charset=utf-8", "a valid media type with parameters is kept")

            let reply = try await client.uploaded(pdfBytes, as: .alice)
            try await client.command(id, "messages", as: .alice, messageNaming(reply, name: "steps.pdf", size: pdfBytes.count))
            let r = try await client.get("/v1/tickets/\(id)/attachments/\(reply)", as: .c1)
            #expect(r.status == .ok && r.bytes == pdfBytes, "\(r)")
        }
    }

    @Test func anotherCustomerGets404AsForTheTicketItself() async throws {
        try await withServer { _, client in
            let id = try await client.open()
            let sha = try await client.uploaded(pdfBytes, as: .c1)
            try await client.command(id, "messages", as: .c1, messageNaming(sha, name: "a.pdf", size: pdfBytes.count))
            let r = try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: .c2)
            expectProblem(r, .notFound)
            #expect(r.bytes != pdfBytes)
            // 404 before the digest's 400: the ticket is not the caller's to know about.
            expectProblem(try await client.get("/v1/tickets/\(id)/attachments/NOT-A-DIGEST", as: .c2), .notFound)
            expectProblem(try await client.get("/v1/tickets/T-999/attachments/\(sha)", as: .alice), .notFound)
            expectProblem(try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: nil), .unauthorized)
        }
    }

    @Test func storedBytesAreServedOnlyThroughATicketThatNamesThem() async throws {
        try await withServer { _, client in
            let id = try await client.open()
            // Uploaded by another customer and in the store, but not named on c-1's ticket.
            let foreign = try await client.uploaded(Array("secret of c-2".utf8), as: .c2)
            expectProblem(
                try await client.get("/v1/tickets/\(id)/attachments/\(foreign)", as: .alice), .notFound,
                detail: "has no attachment")
            // Named on the ticket but never uploaded.
            let missing = String(repeating: "0", count: 64)
            try await client.command(id, "messages", as: .c1, messageNaming(missing, name: "lost.pdf", size: 5))
            expectProblem(
                try await client.get("/v1/tickets/\(id)/attachments/\(missing)", as: .alice), .notFound, detail: "not stored")
        }
    }

    @Test func aDigestThatIsNot64LowercaseHexDigitsIs400() async throws {
        try await withServer { _, client in
            let id = try await client.open()
            for name in [abcDigest.uppercased(), String(abcDigest.dropLast()), abcDigest + "a", "x"] {
                expectProblem(try await client.get("/v1/tickets/\(id)/attachments/\(name)", as: .alice), .badRequest, detail: "SHA-256")
            }
            expectProblem(try await client.get("/v1/tickets/\(id)/attachments/\(abcDigest)?x=1", as: .alice), .badRequest)
        }
    }

    @Test func aContentTypeThatIsNoMediaTypeIsServedAsOctetStream() async throws {
        try await withServer { _, client in
            let id = try await client.open()
            let sha = try await client.uploaded(Array("<script>alert(1)</script>".utf8), as: .c1)
            try await client.command(id, "messages", as: .c1, messageNaming(sha, name: "x.html", size: 25, contentType: "not a type"))
            let r = try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: .alice)
            #expect(r.status == .ok && r.contentType == "application/octet-stream", "\(r)")
            #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
        }
    }

    @Test func onlyCustomersAndAgentsUpload() async throws {
        try await withServer { server, client in
            for who in [Who.manager, .auditor, .admin] {
                expectProblem(try await client.upload(Array("abc".utf8), as: who), .forbidden)
            }
            expectProblem(try await client.upload(Array("abc".utf8), as: nil), .unauthorized)
            #expect(!server.backend.attachments.contains(sha256: abcDigest))
        }
    }

    @Test func anUploadOver20MiBIs413AndAnEmptyOneIs400() async throws {
        try await withServer { server, client in
            let limit = 20 * 1024 * 1024
            let over = [UInt8](repeating: 0x41, count: limit + 1)
            expectProblem(try await client.upload(over, as: .alice), .contentTooLarge)
            #expect(!server.backend.attachments.contains(sha256: AttachmentDigest.hex(of: over)))
            // 403 comes before 413.
            expectProblem(try await client.upload(over, as: .auditor), .forbidden)
            let exactly = [UInt8](repeating: 0x41, count: limit)
            let r = try await client.upload(exactly, as: .alice)
            #expect(r.status == .created && r.json["size"]?.intValue == Int64(limit), "\(r.status)")
            expectProblem(try await client.upload([], as: .c1), .badRequest, detail: "empty")
            expectProblem(try await client.upload(Array("abc".utf8), as: .c1, query: "?name=a.pdf"), .badRequest)
        }
    }

    /// A file altered on disk is 503 (a problem document, the store's detail), never the
    /// altered bytes: the store checks every read against the digest.
    @Test func aFileAlteredOnDiskAnswers503NotTheAlteredBytes() async throws {
        try await withServer { server, client in
            let id = try await client.open()
            let sha = try await client.uploaded(pdfBytes, as: .c1)
            try await client.command(id, "messages", as: .c1, messageNaming(sha, name: "a.pdf", size: pdfBytes.count))
            let store = try #require(server.backend.attachments as? FileAttachmentStore)
            var altered = pdfBytes
            altered[20] ^= 0xFF
            try Data(altered).write(to: URL(fileURLWithPath: store.path(of: sha)))
            let r = try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: .alice)
            expectProblem(r, .serviceUnavailable, detail: "damaged")
            #expect(r.bytes != altered)
        }
    }
}
