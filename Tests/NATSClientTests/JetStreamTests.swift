import Foundation
import NATSClient
import Testing

@Suite("JetStream: streams, expected sequences, de-duplication, pipelined publishing, stored messages")
struct JetStreamTests {
    @Test(.timeLimit(.minutes(5)))
    func aStreamIsCreatedOnceDescribedAndDeleted() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "js", logger: testLogger)
            let js = JetStream(connection: connection)
            #expect(try await js.streamInfo("LOG") == nil)
            let config = StreamConfig(
                name: "LOG", subjects: ["log.>"], maxMessagesPerSubject: 1000, duplicateWindow: .seconds(60), allowDirect: true)
            let created = try await js.addStream(config)
            #expect(created.config.name == "LOG")
            #expect(created.config.subjects == ["log.>"])
            #expect(created.config.maxMessagesPerSubject == 1000)
            #expect(created.config.duplicateWindow == .seconds(60))
            #expect(created.config.allowDirect)
            #expect(created.state.lastSequence == 0)
            #expect(created.cluster?.leader != nil || created.cluster == nil)
            let again = try await js.addStream(config)
            #expect(again.config == created.config)
            var other = config
            other.subjects = ["other.>"]
            do throws(JetStreamError) {
                _ = try await js.addStream(other)
                Issue.record("a different configuration under the same name was accepted")
            } catch {
                #expect(error.errorCode == 10058)
            }
            _ = try await js.publish("log.a", payload: [1])
            let info = try #require(try await js.streamInfo("LOG"))
            #expect(info.state.messages == 1)
            #expect(info.state.firstSequence == 1)
            #expect(info.state.lastSequence == 1)
            try await js.deleteStream("LOG")
            #expect(try await js.streamInfo("LOG") == nil)
            await connection.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func expectedLastSequenceFencesAndMessageIDsDeduplicate() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "js", logger: testLogger)
            let js = JetStream(connection: connection)
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log"]))
            let first = try await js.publish("log", payload: Array("one".utf8), expectedLastSequence: 0)
            #expect(first == PubAck(stream: "LOG", sequence: 1, duplicate: false))
            let second = try await js.publish("log", payload: Array("two".utf8), expectedLastSequence: 1)
            #expect(second.sequence == 2)
            do throws(JetStreamError) {
                _ = try await js.publish("log", payload: Array("stale".utf8), expectedLastSequence: 1)
                Issue.record("a stale expected sequence was accepted")
            } catch {
                #expect(error.isWrongLastSequence)
                #expect(!error.isUnavailable)
            }
            do throws(JetStreamError) {
                _ = try await js.publish("log", payload: Array("first again".utf8), expectedLastSequence: 0)
                Issue.record("an expected empty stream was accepted on a stream that is not")
            } catch {
                #expect(error.isWrongLastSequence)
            }
            let withID = try await js.publish("log", payload: Array("three".utf8), messageID: "m-3")
            let repeated = try await js.publish("log", payload: Array("three again".utf8), messageID: "m-3")
            #expect(withID == PubAck(stream: "LOG", sequence: 3, duplicate: false))
            #expect(repeated == PubAck(stream: "LOG", sequence: 3, duplicate: true))
            do throws(JetStreamError) {
                _ = try await js.publish("log", payload: [], expectedLastSubjectSequence: 0)
                Issue.record("a subject expected empty was accepted")
            } catch {
                #expect(error.isWrongLastSequence)
            }
            #expect(try await js.streamInfo("LOG")?.state.lastSequence == 3)
            do throws(JetStreamError) {
                _ = try await js.publish("in.no.stream", payload: [1])
                Issue.record("a publish outside every stream was acknowledged")
            } catch {
                #expect(error.isUnavailable)
                #expect(error.kind == .transport(.noResponders))
            }
            await connection.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func publishAllPipelinesInOrderAndARefusalInTheMiddleRefusesWhatFollows() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "js", logger: testLogger)
            let js = JetStream(connection: connection)
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log"]))
            let group = (1...200).map { k in
                JetStreamPublication(
                    subject: "log", payload: Array("event \(k)".utf8), messageID: "id-\(k)", expectedLastSequence: UInt64(k - 1))
            }
            let acks = await js.publishAll(group)
            #expect(try acks.map { try $0.get().sequence } == Array(1...200))
            var refused = (0..<5).map { k in
                JetStreamPublication(subject: "log", payload: Array("late \(k)".utf8), expectedLastSequence: UInt64(200 + k))
            }
            refused[2].expectedLastSequence = 999
            let results = await js.publishAll(refused)
            #expect(try results[0].get().sequence == 201)
            #expect(try results[1].get().sequence == 202)
            for result in results[2...] {
                if case .failure(let error) = result {
                    #expect(error.isWrongLastSequence)
                } else {
                    Issue.record("accepted after a refusal")
                }
            }
            #expect(await js.publishAll([]).isEmpty)
            await connection.close()
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func storedMessagesAreReadBySequenceAndLastBySubject() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(to: [server.url], name: "js", logger: testLogger)
            let js = JetStream(connection: connection)
            _ = try await js.addStream(StreamConfig(name: "LOG", subjects: ["log.*"]))
            var headers = NATSHeaders()
            headers["Ledgerdesk-Hash"] = "abc"
            _ = try await js.publish("log.a", payload: Array("a1".utf8), headers: headers)
            _ = try await js.publish("log.b", payload: Array("b1".utf8))
            _ = try await js.publish("log.a", payload: [], messageID: "x")
            let first = try #require(try await js.message(stream: "LOG", sequence: 1))
            #expect(first.subject == "log.a")
            #expect(first.sequence == 1)
            #expect(first.payload == Array("a1".utf8))
            #expect(first.headers?["ledgerdesk-hash"] == "abc")
            #expect(first.time != nil)
            let second = try #require(try await js.message(stream: "LOG", sequence: 2))
            #expect(second.headers == nil)
            let last = try #require(try await js.lastMessage(stream: "LOG", subject: "log.a"))
            #expect(last.sequence == 3)
            #expect(last.payload.isEmpty)
            #expect(try await js.message(stream: "LOG", sequence: 4) == nil)
            #expect(try await js.lastMessage(stream: "LOG", subject: "log.c") == nil)
            do throws(JetStreamError) {
                _ = try await js.message(stream: "NOPE", sequence: 1)
                Issue.record("a message of a missing stream")
            } catch {
                #expect(error.errorCode == 10059)
            }
            await connection.close()
        }
    }
}
