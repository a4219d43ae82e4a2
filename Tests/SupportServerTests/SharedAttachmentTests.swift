import EventLog
import Foundation
import HTTPTypes
import HummingbirdTesting
import LogReplication
import SupportService
import Testing

@testable import SupportServer

/// A replicated desk's attachments: content taken on one node is shared before anything can
/// name it, and a node that did not take it fetches it (checked) before serving it.
@Suite("Attachments shared by the nodes of a replicated desk")
struct SharedAttachmentTests {
    @Test func anUploadIsSharedBeforeItIsAnswered() async throws {
        let shared = InMemorySharedAttachments()
        try await withServer(sharedAttachments: shared) { _, client in
            let sha = try await client.uploaded(pdfBytes, as: .c1)
            #expect(try await shared.fetch(sha256: sha) == pdfBytes)
        }
    }

    @Test func aNodeThatDidNotTakeTheContentFetchesItBeforeServingIt() async throws {
        let shared = InMemorySharedAttachments()
        let sha = AttachmentDigest.hex(of: pdfBytes)
        try await shared.share(pdfBytes, sha256: sha)
        try await withServer(sharedAttachments: shared) { server, client in
            // The event naming the content came from the leader: this node holds no bytes yet.
            let id = try await client.open()
            #expect(!server.backend.attachments.contains(sha256: sha))
            try await client.command(id, "messages", as: .c1, messageNaming(sha, name: "a.pdf", size: pdfBytes.count))
            let r = try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: .alice)
            #expect(r.status == .ok, "\(r)")
            #expect(r.bytes == pdfBytes)
            #expect(server.backend.attachments.contains(sha256: sha))
        }
    }

    @Test func sharedContentThatDoesNotHashToItsNameIsNeverKeptOrServed() async throws {
        let shared = InMemorySharedAttachments()
        let sha = AttachmentDigest.hex(of: pdfBytes)
        shared.replace(sha, with: Array("not the pdf".utf8))
        try await withServer(sharedAttachments: shared) { server, client in
            let id = try await client.open()
            try await client.command(id, "messages", as: .c1, messageNaming(sha, name: "a.pdf", size: pdfBytes.count))
            let r = try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: .alice)
            expectProblem(r, .notFound, detail: "not stored")
            #expect(!server.backend.attachments.contains(sha256: sha))
            // Another customer's look fetches nothing it may not see, and learns nothing either.
            expectProblem(try await client.get("/v1/tickets/\(id)/attachments/\(sha)", as: .c2), .notFound)
        }
    }

    @Test func anAttachmentShelfKeepsOnItsDiskAndSharesOnce() async throws {
        let shared = InMemorySharedAttachments()
        let a = AttachmentShelf(local: InMemoryAttachmentStore(), shared: shared)
        let b = AttachmentShelf(local: InMemoryAttachmentStore(), shared: shared)
        let stored = try await a.keep(Array("abc".utf8))
        #expect(try a.local.get(sha256: stored.sha256) == Array("abc".utf8))
        #expect(try b.local.get(sha256: stored.sha256) == nil)
        await b.fetchIfMissing(stored.sha256)
        #expect(try b.local.get(sha256: stored.sha256) == Array("abc".utf8))
        await b.fetchIfMissing("not-a-digest")
        await b.fetchIfMissing(String(repeating: "0", count: 64))
        #expect(!b.local.contains(sha256: String(repeating: "0", count: 64)))
    }
}
