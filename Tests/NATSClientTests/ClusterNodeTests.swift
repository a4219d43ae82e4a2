import EventLog
import Foundation
import NATSClient
import Testing

@testable import LogReplication

/// The replicated log end to end in one process: `ClusterNode`s over a real nats-server, each
/// with its own LMDB log (LogReplication's tests live here, beside the nats-server they need).
@Suite("LogReplication: nodes that follow and lead over a real nats-server")
struct ClusterNodeTests {
    /// A node and its log in a directory of its own.
    struct Node {
        let node: ClusterNode
        let store: EventStore
        let directory: URL

        init(_ name: String, servers: [NATSServerURL], directory: URL) throws {
            self.directory = directory
            node = ClusterNode(
                // A lease long enough that a starved test process (the whole suite on two cores) keeps
                // it; these tests hand the lead over by a graceful stop, not by expiry.
                configuration: ClusterConfiguration(
                    servers: servers, node: name, advertisedURL: "http://\(name).test", lease: .seconds(30)),
                logger: testLogger)
            var log = EventLogConfiguration(directory: directory.path, envelope: EnvelopeFormat(streamField: "ticket"), mapSize: 1 << 30)
            log.replicator = node.replicator
            store = try EventStore(log)
        }

        func run() -> Task<Void, Never> {
            let node = self.node, store = self.store
            return Task { await node.run(store: store) {} }
        }

        func records() throws -> [RecordedEvent] { try store.read { try $0.events(after: 0, limit: 10_000) } }

        /// Appends request `n` through this node, again while its replicated log refuses: a node
        /// starved of CPU (the whole suite on two cores) may step down and lead again, and the
        /// request's idempotency key makes a retry of a group JetStream half stored append once.
        func append(_ n: Int) async throws -> AppendResult {
            let deadline = ContinuousClock.now + .seconds(240)
            while true {
                do {
                    return try await store.append(ClusterNodeTests.request(n))
                } catch {
                    guard case .replicationFailed = error, ContinuousClock.now < deadline else { throw error }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    static func request(_ n: Int) -> AppendRequest {
        AppendRequest(
            stream: "T-\(n % 5 + 1)",
            events: [
                ProposedEvent(type: "message.posted", actor: EventActor(kind: "agent", id: "alice"), data: .object(["n": .int(Int64(n))]))
            ],
            expectedVersion: .any, idempotency: IdempotencyKey(key: "test/\(n)"))
    }

    @Test(.timeLimit(.minutes(5)))
    func aFollowerHoldsTheLeadersLogAndTakesTheLeadWhenTheLeaderLeaves() async throws {
        try await withNATSServer { server in
            let base = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: base) }
            let a = try Node("a", servers: [server.url], directory: base.appendingPathComponent("a"))
            let b = try Node("b", servers: [server.url], directory: base.appendingPathComponent("b"))
            let runA = a.run()
            try await eventually("a leads", within: .seconds(240)) { a.node.status.leading }
            let runB = b.run()
            for n in 1...60 { _ = try await a.append(n) }
            // A follower's own log takes no append: the stream is written by the leader only.
            await #expect(throws: EventLogError.self) { try await b.store.append(Self.request(0)) }
            try await eventually("b applied the stream", within: .seconds(240)) { (try? b.store.head) == (try? a.store.head) }
            #expect(try b.records() == a.records())
            #expect(try b.store.verify().failure == nil)
            #expect(b.node.status.leader?.node == "a")
            #expect(!b.node.status.leading)

            // The leader leaves (a graceful stop releases the lease): b leads and the chain goes on.
            runA.cancel()
            await runA.value
            try await eventually("b leads", within: .seconds(240)) { b.node.status.leading }
            #expect(!a.node.status.leading)
            let next = try await b.append(61)
            #expect(next.lastSeq == 61)
            await #expect(throws: EventLogError.self) { try await a.store.append(Self.request(0)) }
            runB.cancel()
            await runB.value
            a.store.close()
            b.store.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aNodeStartedOnAnEmptyDirectoryReadsTheWholeStreamCheckingEveryHash() async throws {
        try await withNATSServer { server in
            let base = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: base) }
            let a = try Node("a", servers: [server.url], directory: base.appendingPathComponent("a"))
            let runA = a.run()
            try await eventually("a leads", within: .seconds(240)) { a.node.status.leading }
            for n in 1...300 { _ = try await a.append(n) }
            let c = try Node("c", servers: [server.url], directory: base.appendingPathComponent("c"))
            let runC = c.run()
            try await eventually("c caught up", within: .seconds(240)) { (try? c.store.head.seq) == 300 }
            #expect(try c.store.head == a.store.head)
            #expect(try c.store.verify(expectedHead: a.store.head).failure == nil)
            #expect(c.node.status.streamSeq.map { $0 >= 300 } ?? true)
            runC.cancel()
            runA.cancel()
            await runC.value
            await runA.value
            a.store.close()
            c.store.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func attachmentsSharedByOneNodeAreFetchedByAnother() async throws {
        try await withNATSServer { server in
            let base = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: base) }
            let a = try Node("a", servers: [server.url], directory: base.appendingPathComponent("a"))
            let b = try Node("b", servers: [server.url], directory: base.appendingPathComponent("b"))
            // Before the node has connected, sharing is refused (the upload answers 503).
            await #expect(throws: ClusterUnavailable.self) { try await StreamAttachments(node: a.node).share([1], sha256: "x") }
            let runA = a.run(), runB = b.run()
            try await eventually("both connected", within: .seconds(240)) { a.node.jetStream != nil && b.node.jetStream != nil }
            let content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let name = String(repeating: "ab", count: 32)
            try await StreamAttachments(node: a.node).share(content, sha256: name)
            try await StreamAttachments(node: a.node).share(content, sha256: name)
            #expect(try await StreamAttachments(node: b.node).fetch(sha256: name) == content)
            #expect(try await StreamAttachments(node: b.node).fetch(sha256: String(repeating: "cd", count: 32)) == nil)
            let info = try await #require(b.node.jetStream).streamInfo(a.node.configuration.attachmentStream)
            #expect(info?.state.messages == 1)
            runA.cancel()
            runB.cancel()
            await runA.value
            await runB.value
            a.store.close()
            b.store.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aSingleNodesLogJoinsAnEmptyStreamAndADivergedLogNeitherFollowsNorLeads() async throws {
        try await withNATSServer { server in
            let base = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: base) }
            // Two single nodes with logs of their own.
            for (name, count) in [("a", 120), ("c", 5)] {
                let single = try EventStore(
                    EventLogConfiguration(
                        directory: base.appendingPathComponent(name).path, envelope: EnvelopeFormat(streamField: "ticket"),
                        mapSize: 1 << 30))
                for n in 1...count { _ = try await single.append(Self.request(n + (name == "c" ? 1000 : 0))) }
                single.close()
            }
            let a = try Node("a", servers: [server.url], directory: base.appendingPathComponent("a"))
            let runA = a.run()
            try await eventually("a published its log and leads", within: .seconds(240)) { a.node.status.leading }
            #expect(a.node.status.streamSeq == 120)
            let b = try Node("b", servers: [server.url], directory: base.appendingPathComponent("b"))
            let runB = b.run()
            _ = try await a.append(121)
            try await eventually("b follows a", within: .seconds(240)) { (try? b.store.head.seq) == 121 }
            #expect(try b.records() == a.records())
            // c's events 1-5 are not the stream's: it takes nothing and appends nothing.
            let c = try Node("c", servers: [server.url], directory: base.appendingPathComponent("c"))
            let before = try c.records()
            let runC = c.run()
            _ = try await a.append(122)
            try await eventually("b follows a", within: .seconds(240)) { (try? b.store.head.seq) == 122 }
            try await eventually("c looked at the stream", within: .seconds(240)) { c.node.status.streamSeq != nil }
            #expect(!c.node.status.leading)
            #expect(try c.records() == before)
            try await eventually("c says what is wrong", within: .seconds(240)) { c.node.status.problem != nil }
            #expect(a.node.status.problem == nil && b.node.status.problem == nil)
            // `support-replay verify --cluster`: b's log is the stream's prefix, c's is not.
            let stream = try #require(a.node.jetStream)
            let name = a.node.configuration.streamName
            let ofB = try await StreamComparison.compare(b.store, with: stream, name: name)
            #expect(ofB.mismatch == nil && ofB.head.seq == 122 && ofB.streamLastSeq == 122)
            let ofC = try await StreamComparison.compare(c.store, with: stream, name: name)
            #expect(ofC.mismatch?.contains("differs") == true)
            for run in [runA, runB, runC] { run.cancel() }
            for run in [runA, runB, runC] { await run.value }
            for node in [a, b, c] { node.store.close() }
        }
    }

    @Test func aLeaderWhoseLeaseLapsedAppendsNothing() async throws {
        let replicator = StreamReplicator(configuration: ClusterConfiguration(servers: [], node: "a", advertisedURL: "http://a"))
        let event = ReplicatedEvent(seq: 1, hash: .zero, record: [1])
        #expect(throws: EventLogError.self) { try replicator.replicate([event]) }
        // Led until a moment already past (a process paused past its lease, then resumed).
        replicator.lead(until: .now - .seconds(1))
        #expect(!replicator.isLeading)
        #expect(throws: EventLogError.self) { try replicator.replicate([]) }
        replicator.lead(until: .now + .seconds(60))
        #expect(replicator.isLeading)
        replicator.stepDown("a test")
        #expect(throws: EventLogError.self) { try replicator.replicate([]) }
    }
}
