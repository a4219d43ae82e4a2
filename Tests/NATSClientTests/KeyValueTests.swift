import Foundation
import NATSClient
import Testing

@Suite("KeyValue: create, update with the expected revision, delete, expiry by TTL")
struct KeyValueTests {
    @Test(.timeLimit(.minutes(5)))
    func createRefusesAPresentKeyAndUpdateNeedsTheCurrentRevision() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "kv", logger: testLogger)
            let js = JetStream(connection: connection)
            let kv = try await KeyValue.create(js, bucket: "leader", ttl: .seconds(30), replicas: 1)
            _ = try await KeyValue.create(js, bucket: "leader", ttl: .seconds(30), replicas: 1)
            let info = try #require(try await js.streamInfo("KV_leader"))
            #expect(info.config.subjects == ["$KV.leader.>"])
            #expect(info.config.maxAge == .seconds(30))
            #expect(info.config.allowRollup && info.config.denyDelete && info.config.allowDirect)
            #expect(info.config.discard == .new)

            #expect(try await kv.get("lease") == nil)
            let first = try await kv.create("lease", value: Array("n1".utf8))
            #expect(try await kv.get("lease") == KeyValueEntry(key: "lease", value: Array("n1".utf8), revision: first))
            do throws(JetStreamError) {
                _ = try await kv.create("lease", value: Array("n2".utf8))
                Issue.record("created a present key")
            } catch {
                #expect(error.isKeyExists)
            }
            let second = try await kv.update("lease", value: Array("n1 again".utf8), expectedRevision: first)
            #expect(second > first)
            do throws(JetStreamError) {
                _ = try await kv.update("lease", value: Array("n2".utf8), expectedRevision: first)
                Issue.record("updated with a stale revision")
            } catch {
                #expect(error.isWrongLastSequence)
            }
            #expect(try await kv.get("lease")?.value == Array("n1 again".utf8))
            try await kv.delete("lease")
            #expect(try await kv.get("lease") == nil)
            let third = try await kv.create("lease", value: Array("n2".utf8))
            #expect(try await kv.get("lease") == KeyValueEntry(key: "lease", value: Array("n2".utf8), revision: third))
            do throws(JetStreamError) {
                _ = try await kv.get("bad key")
                Issue.record("read an invalid key")
            } catch {
                #expect(!error.isUnavailable)
            }
            await connection.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aKeyNotRefreshedWithinTheTTLExpiresAndCanBeCreatedAgain() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "kv", logger: testLogger)
            let js = JetStream(connection: connection)
            let kv = try await KeyValue.create(js, bucket: "short", ttl: .seconds(1), replicas: 1)
            // (Whether it is still there when read back depends on how busy the machine is.)
            let first = try await kv.create("lease", value: Array("n1".utf8))
            #expect(first > 0)
            nonisolated(unsafe) var present = true
            try await eventually("the key expires") {
                !present
            } poll: {
                present = ((try? await kv.get("lease")) ?? nil) != nil
            }
            // Created anew (the expired key is gone): a later revision. Reading it back would again
            // depend on how busy the machine is (a one-second TTL).
            let again = try await kv.create("lease", value: Array("n2".utf8))
            #expect(again > first)
            await connection.close()
        }
    }
}
