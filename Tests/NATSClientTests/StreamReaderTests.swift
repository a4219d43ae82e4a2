import Foundation
import NATSClient
import Testing

@Suite("StreamReader: a stream in order from a sequence, waiting for new messages")
struct StreamReaderTests {
    @Test(.timeLimit(.minutes(5)))
    func tenThousandMessagesAreReadInOrderThenTheReaderWaitsForNewOnes() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "reader", logger: testLogger)
            let js = JetStream(connection: connection)
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log"]))
            for batch in 0..<20 {
                let group = (0..<500).map { k in
                    let sequence = batch * 500 + k + 1
                    return JetStreamPublication(
                        subject: "log", payload: Array("event \(sequence)".utf8), expectedLastSequence: UInt64(sequence - 1))
                }
                for result in await js.publishAll(group) { _ = try result.get() }
            }
            let reader = try await js.reader(stream: "LOG", from: 1)
            var read: [StoredMessage] = []
            while read.count < 10_000 {
                let messages = try await reader.next(max: 1000, wait: .seconds(5))
                #expect(!messages.isEmpty)
                guard !messages.isEmpty else { break }
                read += messages
            }
            #expect(read.map(\.sequence) == Array(1...10_000))
            #expect(read.allSatisfy { $0.payload == Array("event \($0.sequence)".utf8) })
            #expect(read.allSatisfy { $0.subject == "log" && $0.time != nil })
            let stored = try await js.message(stream: "LOG", sequence: 10_000)
            #expect(stored == read.last)
            #expect(try await reader.next(max: 10, wait: .milliseconds(100)).isEmpty)
            #expect(reader.nextSequence == 10_001)

            async let waited = reader.next(max: 10, wait: .seconds(60))
            try await Task.sleep(for: .milliseconds(200))
            _ = try await js.publish("log", payload: Array("event 10001".utf8), expectedLastSequence: 10_000)
            let fresh = try await waited
            #expect(fresh.first?.sequence == 10_001)
            #expect(fresh.first?.payload == Array("event 10001".utf8))
            await reader.close()
            await connection.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aReaderStartsAtTheGivenSequenceAndKeepsHeaders() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "reader", logger: testLogger)
            let js = JetStream(connection: connection)
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log"], storage: .memory))
            for k in 1...10 {
                var headers = NATSHeaders()
                headers["Seq"] = "\(k)"
                _ = try await js.publish("log", payload: [UInt8(k)], headers: headers)
            }
            let reader = try await js.reader(stream: "LOG", from: 6)
            let first = try await reader.next(max: 3, wait: .seconds(5))
            #expect(first.map(\.sequence) == [6, 7, 8])
            #expect(first.map { $0.headers?["seq"] } == ["6", "7", "8"])
            let rest = try await reader.next(max: 100, wait: .seconds(5))
            #expect(rest.map(\.sequence) == [9, 10])
            await reader.close()
            do throws(JetStreamError) {
                _ = try await reader.next(max: 1, wait: .seconds(1))
                Issue.record("a closed reader read")
            } catch {
                #expect(error.kind == .transport(.connectionClosed))
            }
            await connection.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aReaderWhoseConsumerWasDeletedCreatesAnotherAndSkipsNothing() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "reader", logger: testLogger)
            let js = JetStream(connection: connection)
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log"]))
            for k in 1...5 { _ = try await js.publish("log", payload: [UInt8(k)]) }
            let reader = try await js.reader(stream: "LOG", from: 1)
            #expect(try await reader.next(max: 2, wait: .seconds(5)).map(\.sequence) == [1, 2])
            let names = try await connection.request("$JS.API.CONSUMER.NAMES.LOG", payload: [], timeout: .seconds(5))
            let consumers = try #require(
                (try JSONSerialization.jsonObject(with: Data(names.payload)) as? [String: Any])?["consumers"] as? [String])
            #expect(consumers.count == 1)
            for name in consumers {
                _ = try await connection.request("$JS.API.CONSUMER.DELETE.LOG.\(name)", payload: [], timeout: .seconds(5))
            }
            #expect(try await reader.next(max: 10, wait: .seconds(5)).map(\.sequence) == [3, 4, 5])
            await reader.close()
            await connection.close()
        }
    }
}
