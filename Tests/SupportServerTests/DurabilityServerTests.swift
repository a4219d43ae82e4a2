import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SupportService
import Synchronization
import Testing

@testable import SupportServer

/// What readers see of the log is what a power loss cannot undo; a storage fault stops writes,
/// not reads. Both driven through the log's flush seam (`FlushSwitch`).
@Suite("Durability at the HTTP edge")
struct DurabilityServerTests {
    @Test func aWriteThatIsCommittedButNotDurableIsNeitherInTheFeedNorReplayedToARetry() async throws {
        let flushes = FlushSwitch()
        try await withServer(faults: flushes.faults) { server, client in
            let id = try await client.open()
            let feed = try await client.get("/v1/events?after=0", as: .auditor)
            let head = try await client.get("/v1/events/head", as: .auditor)
            let history = try await client.get("/v1/tickets/\(id)/history", as: .alice)
            #expect(feed.status == .ok && head.status == .ok && history.status == .ok)

            // The writer commits the message, then is held in the flush that would acknowledge it.
            flushes.hold([.segment])
            let key: HTTPFields = [.idempotencyKey: "reply-0001"]
            let path = "/v1/tickets/\(id)/messages"
            let first = Task { try await client.post(path, as: .c1, Bodies.message("any news?"), headers: key) }
            try #require(await flushes.waitUntilHeld())
            #expect(
                try server.backend.store.read { try $0.idempotencyRecord(key: "customer\u{0}c-1\u{0}reply-0001") } != nil,
                "the write is committed")

            // Readers see the log as it was.
            #expect(try await client.get("/v1/events?after=0", as: .auditor).bytes == feed.bytes)
            #expect(try await client.get("/v1/events/head", as: .auditor).bytes == head.bytes)
            #expect(try await client.get("/v1/tickets/\(id)/history", as: .alice).bytes == history.bytes)
            #expect(try await client.get("/v1/tickets/\(id)", as: .c1).version == 1)

            // A retry of the write finds its stored answer, but may not give it out yet.
            final class Order: Sendable { let steps = Mutex<[String]>([]) }
            let order = Order()
            let retry = Task {
                let reply = try await client.post(path, as: .c1, Bodies.message("any news?"), headers: key)
                order.steps.withLock { $0.append("retry") }
                return reply
            }
            // Give a wrong implementation the moment it needs to answer early (the order below is
            // what is checked, not the time).
            try await Task.sleep(for: .milliseconds(300))
            order.steps.withLock { $0.append("durable") }
            flushes.release()
            let firstReply = try await first.value
            let retryReply = try await retry.value
            #expect(order.steps.withLock { $0 } == ["durable", "retry"], "the retry was answered before the write was durable")
            #expect(firstReply.status == .ok && retryReply.status == .ok)
            #expect(firstReply.bytes == retryReply.bytes)

            // Durable now: every reader shows it.
            let after = try await client.get("/v1/events?after=0", as: .auditor)
            #expect(after.json["events"]?.arrayValue?.count == (feed.json["events"]?.arrayValue?.count ?? 0) + 1)
            #expect(try await client.get("/v1/tickets/\(id)", as: .c1).version == 2)
        }
    }

    @Test func afterAFailedFlushWritesAnswer503AndReadsGoOn() async throws {
        let flushes = FlushSwitch()
        try await withServer(faults: flushes.faults) { server, client in
            let id = try await client.open()
            try await client.command(id, "messages", as: .c1, Bodies.message("still broken"))
            flushes.fail([.commit, .sync])
            let failed = try await client.post("/v1/tickets/\(id)/messages", as: .c1, Bodies.message("hello?"))
            expectProblem(failed, .serviceUnavailable, detail: "restarts")
            // A flush would succeed again now: the log still refuses writes until a restart.
            flushes.fail([])
            expectProblem(
                try await client.post("/v1/tickets", as: .c1, Bodies.open(subject: "another")),
                .serviceUnavailable, detail: "restarts")
            let ticket = try await client.get("/v1/tickets/\(id)", as: .c1)
            #expect(ticket.status == .ok && ticket.version == 2)
            let queue = try await client.get("/v1/queues/email", as: .alice)
            #expect(queue.status == .ok)
            #expect(queue.json["entries"]?.arrayValue?.count == 1)
            #expect(try await client.get("/v1/events?after=0", as: .auditor).status == .ok)
            #expect(try server.head.seq == 2)
        }
    }
}
