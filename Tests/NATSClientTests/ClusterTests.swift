import Foundation
import NATSClient
import Synchronization
import Testing

@Suite("NATS cluster: replicas 3, reconnect after a SIGKILL, requests failing without quorum", .serialized)
struct ClusterTests {
    @Test(.timeLimit(.minutes(5)))
    func afterTheConnectedServerIsKilledTheClientReconnectsElsewhereAndResubscribes() async throws {
        try await withNATSCluster { servers in
            let configuration = NATSConnection.Configuration(reconnectWait: .milliseconds(100))
            let connection = try await NATSConnection.connect(
                to: [servers[0].url], name: "moving", configuration: configuration, logger: testLogger)
            let observer = try await NATSConnection.connect(to: [servers[2].url], name: "observer", logger: testLogger)
            let js = JetStream(connection: connection, timeout: .seconds(2))
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log"], replicas: 3))
            let info = try #require(try await js.streamInfo("LOG"))
            #expect(info.config.replicas == 3)
            #expect(info.cluster?.replicas.count == 2)
            #expect(connection.connectedServer == servers[0].url)
            try await eventually("the cluster's other servers are announced") { connection.knownServers.count == 3 }
            _ = try await js.publish("log", payload: [1], expectedLastSequence: 0)
            let reader = try await js.reader(stream: "LOG", from: 1)
            #expect(try await reader.next(max: 10, wait: .seconds(5)).map(\.sequence) == [1])

            let subscription = try await connection.subscribe("news")
            // "silent" never answers; "ready" answers once the route carried both interests to
            // servers[0] (in the order they were made, over the one route between the two servers).
            let silent = try await observer.subscribe("silent")
            let ready = try await observer.subscribe("ready")
            try await observer.flush(timeout: .seconds(10))
            let silentSeen = Mutex(0)
            let silentReading = Task {
                for await _ in silent { silentSeen.withLock { $0 += 1 } }
            }
            let readyServing = Task {
                for await request in ready {
                    if let replyTo = request.replyTo { try? await observer.publish(replyTo, payload: []) }
                }
            }
            nonisolated(unsafe) var answered = false
            try await eventually("the observer's interest reached servers[0]") {
                answered
            } poll: {
                answered = (try? await connection.request("ready", payload: [], timeout: .seconds(1))) != nil
            }
            let received = Mutex(0)
            let reading = Task {
                for await _ in subscription { received.withLock { $0 += 1 } }
            }
            // A request in flight when the connection drops fails with connectionClosed, not a timeout.
            async let inFlight: Result<NATSMessage, NATSError> = {
                do throws(NATSError) {
                    return .success(try await connection.request("silent", payload: [1], timeout: .seconds(120)))
                } catch {
                    return .failure(error)
                }
            }()
            try await eventually("the request reached the silent subscriber") { silentSeen.withLock { $0 > 0 } }
            servers[0].kill()
            let outcome = await inFlight
            #expect(outcome.failure == .connectionClosed)

            try await eventually("reconnected to another server") {
                connection.isConnected && connection.connectedServer != servers[0].url
            }
            try await eventually("the subscription receives again after the reconnect") {
                received.withLock { $0 > 0 }
            } poll: {
                try? await observer.publish("news", payload: [1])
            }
            nonisolated(unsafe) var stored: PubAck?
            try await eventually("JetStream accepts writes on two of three servers") {
                stored != nil
            } poll: {
                stored = try? await js.publish("log", payload: [2], messageID: "second", expectedLastSequence: 1)
            }
            #expect(stored?.sequence == 2)
            nonisolated(unsafe) var readAgain: [UInt64] = []
            try await eventually("the reader goes on after the reconnect") {
                !readAgain.isEmpty
            } poll: {
                readAgain = (try? await reader.next(max: 10, wait: .milliseconds(500)).map(\.sequence)) ?? []
            }
            #expect(readAgain == [2])
            await reader.close()
            await subscription.unsubscribe()
            await reading.value
            await observer.close()
            await silentReading.value
            await readyServing.value
            await connection.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func withTwoOfThreeServersDownJetStreamCallsFailAsUnavailableAndRecoverAfterARestart() async throws {
        try await withNATSCluster { servers in
            let connection = try await NATSConnection.connect(to: [servers[0].url], name: "alone", logger: testLogger)
            let js = JetStream(connection: connection, timeout: .seconds(1))
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log"], replicas: 3))
            let kv = try await KeyValue.create(js, bucket: "leader", ttl: .seconds(10), replicas: 3)
            _ = try await js.publish("log", payload: [1], expectedLastSequence: 0)
            _ = try await kv.create("lease", value: Array("n1".utf8))
            for expected: UInt64 in [0, 5] {
                do throws(JetStreamError) {
                    _ = try await js.publish("log", payload: [9], expectedLastSequence: expected)
                    Issue.record("a replicated stream accepted a write expecting \(expected)")
                } catch {
                    #expect(error.isWrongLastSequence)
                }
            }
            servers[1].kill()
            servers[2].kill()
            do throws(JetStreamError) {
                _ = try await js.publish("log", payload: [2], expectedLastSequence: 1)
                Issue.record("a write was acknowledged without a quorum")
            } catch {
                #expect(error.isUnavailable)
            }
            do throws(JetStreamError) {
                _ = try await kv.update("lease", value: Array("n1".utf8), expectedRevision: 1)
                Issue.record("a lease refresh was acknowledged without a quorum")
            } catch {
                #expect(error.isUnavailable)
            }
            #expect(connection.isConnected)
            try await servers[1].start()
            // A write that timed out may still be stored once the quorum is back (the leader had
            // proposed it): the next write expects whatever the stream holds then.
            nonisolated(unsafe) var stored: (expected: UInt64, ack: PubAck)?
            try await eventually("writes resume with two of three servers", within: .seconds(120)) {
                stored != nil
            } poll: {
                guard let info = (try? await js.streamInfo("LOG")) ?? nil else { return }
                let expected = info.state.lastSequence
                if let ack = try? await js.publish("log", payload: [3], expectedLastSequence: expected) { stored = (expected, ack) }
            }
            #expect(stored.map { $0.ack.sequence == $0.expected + 1 } == true)
            #expect((stored?.expected ?? 0) >= 1)
            await connection.close()
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
