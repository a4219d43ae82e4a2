import Foundation
import NATSClient
import Synchronization
import Testing

@Suite("NATS core: pub/sub with headers, request-reply, no responders, closing")
struct CoreTests {
    @Test(.timeLimit(.minutes(5)))
    func aSubscriberReceivesSubjectReplyHeadersAndALargePayload() async throws {
        try await withNATSServer { server in
            let subscriber = try await NATSConnection.connect(to: [server.url], name: "sub", logger: testLogger)
            let publisher = try await NATSConnection.connect(to: [server.url], name: "pub", logger: testLogger)
            let subscription = try await subscriber.subscribe("orders.*")
            try await subscriber.flush(timeout: .seconds(10))
            var headers = NATSHeaders()
            headers["Ledgerdesk-Test"] = "yes"
            headers.append("Multi", "1")
            headers.append("Multi", "2")
            let large = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try await publisher.publish("orders.one", headers: headers, payload: Array("first".utf8))
            try await publisher.publish("orders.two", replyTo: "answers.here", payload: large)
            try await publisher.publish("ignored.subject", payload: [1])
            try await publisher.publish("orders.three", payload: [])
            var received: [NATSMessage] = []
            for await message in subscription {
                received.append(message)
                if received.count == 3 { break }
            }
            #expect(received.map(\.subject) == ["orders.one", "orders.two", "orders.three"])
            #expect(received[0].headers?["ledgerdesk-test"] == "yes")
            #expect(received[0].headers?.values("multi") == ["1", "2"])
            #expect(received[0].payload == Array("first".utf8))
            #expect(received[1].headers == nil)
            #expect(received[1].replyTo == "answers.here")
            #expect(received[1].payload == large)
            #expect(received[2].payload.isEmpty)
            await subscription.unsubscribe()
            await publisher.close()
            await subscriber.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func requestsGetTheirOwnAnswersAndNobodyListeningIsNoResponders() async throws {
        try await withNATSServer { server in
            let responder = try await NATSConnection.connect(to: [server.url], name: "responder", logger: testLogger)
            let client = try await NATSConnection.connect(to: [server.url], name: "client", logger: testLogger)
            let service = try await responder.subscribe("echo")
            try await responder.flush(timeout: .seconds(10))
            let serving = Task {
                for await request in service {
                    guard let replyTo = request.replyTo else { continue }
                    var headers = NATSHeaders()
                    headers["Echoed"] = request.headers?["Id"] ?? "none"
                    try? await responder.publish(replyTo, headers: headers, payload: request.payload.reversed())
                }
            }
            let answers = try await withThrowingTaskGroup(of: (Int, NATSMessage).self) { group in
                for index in 0..<50 {
                    group.addTask {
                        var headers = NATSHeaders()
                        headers["Id"] = "\(index)"
                        return (
                            index,
                            try await client.request("echo", headers: headers, payload: Array("\(index)-x".utf8), timeout: .seconds(120))
                        )
                    }
                }
                var answers: [Int: NATSMessage] = [:]
                for try await (index, answer) in group { answers[index] = answer }
                return answers
            }
            #expect(answers.count == 50)
            for (index, answer) in answers {
                #expect(answer.headers?["echoed"] == "\(index)")
                #expect(answer.payload == Array("\(index)-x".utf8).reversed())
            }
            let nobody = await #expect(throws: NATSError.noResponders) {
                _ = try await client.request("nobody.listens", payload: [1], timeout: .seconds(30))
            }
            _ = nobody
            let silent = try await responder.subscribe("silent")
            try await responder.flush(timeout: .seconds(10))
            await #expect(throws: NATSError.timeout) {
                _ = try await client.request("silent", payload: [1], timeout: .milliseconds(200))
            }
            await silent.unsubscribe()
            await service.unsubscribe()
            await serving.value
            await client.close()
            await responder.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func afterCloseEverythingFailsAtOnceAndSubscriptionsEnd() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "closing", logger: testLogger)
            #expect(connection.isConnected)
            #expect(connection.connectedServer == server.url)
            let subscription = try await connection.subscribe("anything")
            await connection.close()
            #expect(!connection.isConnected)
            var count = 0
            for await _ in subscription { count += 1 }
            #expect(count == 0)
            await #expect(throws: NATSError.notConnected) { try await connection.publish("a", payload: []) }
            await #expect(throws: NATSError.notConnected) { _ = try await connection.request("a", payload: [], timeout: .seconds(5)) }
            await #expect(throws: NATSError.notConnected) { try await connection.flush(timeout: .seconds(5)) }
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func connectingWhereNobodyListensIsCannotConnectAndBadSubjectsAreRefused() async throws {
        let port = freePort()
        do {
            _ = try await NATSConnection.connect(to: [NATSServerURL(host: "127.0.0.1", port: port)], name: "x", logger: testLogger)
            Issue.record("connected to a closed port")
        } catch {
            if case .cannotConnect = error {} else { Issue.record("unexpected \(error)") }
        }
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(
                to: [NATSServerURL(host: "127.0.0.1", port: port), server.url], name: "second", logger: testLogger)
            #expect(connection.connectedServer == server.url)
            await #expect(throws: NATSError.protocolError("invalid subject \"a b\"")) { try await connection.publish("a b", payload: []) }
            await #expect(throws: NATSError.self) { _ = try await connection.subscribe("") }
            try await connection.flush(timeout: .seconds(10))
            await connection.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aServerThatNeverSaysInfoIsGivenUpAfterTheConnectTimeout() async throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        let configuration = NATSConnection.Configuration(connectTimeout: .milliseconds(300))
        do {
            _ = try await NATSConnection.connect(
                to: [NATSServerURL(host: "127.0.0.1", port: silent.port)], name: "x", configuration: configuration, logger: testLogger)
            Issue.record("connected to a server that never answered")
        } catch {
            if case .cannotConnect = error {} else { Issue.record("unexpected \(error)") }
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func pipelinedRequestsAnswerInTheOrderAskedEachWithItsOwnOutcome() async throws {
        try await withNATSServer { server in
            let responder = try await NATSConnection.connect(to: [server.url], name: "responder", logger: testLogger)
            let client = try await NATSConnection.connect(to: [server.url], name: "client", logger: testLogger)
            let service = try await responder.subscribe("double")
            try await responder.flush(timeout: .seconds(10))
            let serving = Task {
                for await request in service {
                    guard let replyTo = request.replyTo else { continue }
                    try? await responder.publish(replyTo, payload: request.payload + request.payload)
                }
            }
            let results = await client.requestAll(
                [
                    NATSOutgoingMessage(subject: "double", payload: [1]),
                    NATSOutgoingMessage(subject: "nobody", payload: [2]),
                    NATSOutgoingMessage(subject: "bad subject", payload: [3]),
                    NATSOutgoingMessage(subject: "double", payload: [4]),
                ], timeout: .seconds(30))
            #expect(results.count == 4)
            #expect((try? results[0].get())?.payload == [1, 1])
            #expect(results[1].failure == .noResponders)
            if case .failure(.protocolError) = results[2] {} else { Issue.record("a bad subject was sent") }
            #expect((try? results[3].get())?.payload == [4, 4])
            await service.unsubscribe()
            await serving.value
            await client.close()
            await responder.close()
        }
    }
}
