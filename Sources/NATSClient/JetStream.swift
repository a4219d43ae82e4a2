import Foundation

/// The JetStream API over one ``NATSConnection`` (prefix `$JS.API`): streams, publishing with
/// acknowledgements and expectations, reading stored messages, and ordered stream readers.
package struct JetStream: Sendable {
    /// The connection the calls go through.
    package let connection: NATSConnection
    /// How long a call waits for the API's answer unless told otherwise.
    package let timeout: Duration
    /// `$JS.API`.
    package let apiPrefix = "$JS.API"

    /// JetStream over `connection`; each call waits `timeout` for its answer.
    package init(connection: NATSConnection, timeout: Duration = .seconds(5)) {
        self.connection = connection
        self.timeout = timeout
    }

    // MARK: Streams

    /// The stream's configuration, state and cluster; nil when it does not exist.
    package func streamInfo(_ name: String) async throws(JetStreamError) -> StreamInfo? {
        do {
            let answer = try await call("STREAM.INFO.\(name)", payload: [], as: StreamInfoAnswer.self)
            return answer.streamInfo
        } catch {
            if error.errorCode == JetStreamError.streamNotFoundCode { return nil }
            throw error
        }
    }

    /// Creates a stream; an existing one whose configuration is the one asked for is fine (its info is
    /// returned), another one with that name is an API error (10058).
    package func addStream(_ config: StreamConfig) async throws(JetStreamError) -> StreamInfo {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(config))
        } catch {
            throw .unexpected("cannot encode the stream configuration: \(error)")
        }
        do {
            return try await call("STREAM.CREATE.\(config.name)", payload: body, as: StreamInfoAnswer.self).streamInfo
        } catch {
            guard error.errorCode == JetStreamError.streamNameExistsCode, let existing = try await streamInfo(config.name),
                config.isSatisfied(by: existing.config)
            else { throw error }
            return existing
        }
    }

    /// Deletes a stream and its messages.
    package func deleteStream(_ name: String) async throws(JetStreamError) {
        let answer = try await call("STREAM.DELETE.\(name)", payload: [], as: SuccessAnswer.self)
        guard answer.success else { throw .unexpected("stream \(name) not deleted") }
    }

    // MARK: Publishing

    /// Publishes one message and waits for the stream's acknowledgement (timeout: the call's, else the
    /// JetStream's). With `expectedLastSequence` the stream refuses it (``JetStreamError/isWrongLastSequence``)
    /// unless its last sequence is that one: the fencing of a deposed writer.
    package func publish(
        _ subject: String, payload: [UInt8], headers: NATSHeaders? = nil, messageID: String? = nil, expectedLastSequence: UInt64? = nil,
        expectedLastSubjectSequence: UInt64? = nil, timeout: Duration? = nil
    ) async throws(JetStreamError) -> PubAck {
        let publication = JetStreamPublication(
            subject: subject, payload: payload, headers: headers, messageID: messageID, expectedLastSequence: expectedLastSequence,
            expectedLastSubjectSequence: expectedLastSubjectSequence)
        return try await publishAll([publication], timeout: timeout)[0].get()
    }

    /// Pipelined publishing: writes every message at once (in order), then waits for every
    /// acknowledgement; the results are in the order of `messages`. The stream stores them in that
    /// order, so when message k carries `Nats-Expected-Last-Sequence = first - 1 + k`, a refusal of
    /// one refuses every later one too.
    package func publishAll(_ messages: [JetStreamPublication], timeout: Duration? = nil) async -> [Result<PubAck, JetStreamError>] {
        let outgoing = messages.map { NATSOutgoingMessage(subject: $0.subject, headers: $0.allHeaders, payload: $0.payload) }
        let answers = await connection.requestAll(outgoing, timeout: timeout ?? self.timeout)
        return answers.map { answer in
            switch answer {
            case .failure(let error): return .failure(.transport(error))
            case .success(let message):
                do throws(JetStreamError) {
                    let ack = try Self.decode(message, as: PubAckAnswer.self)
                    guard let stream = ack.stream, let sequence = ack.seq else {
                        return .failure(.unexpected("an acknowledgement without a sequence"))
                    }
                    return .success(PubAck(stream: stream, sequence: sequence, duplicate: ack.duplicate ?? false))
                } catch {
                    return .failure(error)
                }
            }
        }
    }

    // MARK: Reading

    /// The message stored at `sequence` (`$JS.API.STREAM.MSG.GET`, answered by the stream's leader);
    /// nil when there is none (never stored, deleted or expired).
    package func message(stream: String, sequence: UInt64) async throws(JetStreamError) -> StoredMessage? {
        try await getMessage(stream: stream, request: ["seq": sequence])
    }

    /// The last message stored on `subject`; nil when there is none.
    package func lastMessage(stream: String, subject: String) async throws(JetStreamError) -> StoredMessage? {
        try await getMessage(stream: stream, request: ["last_by_subj": subject])
    }

    /// A reader of the stream in order from `sequence` (an ephemeral pull consumer).
    package func reader(stream: String, from sequence: UInt64) async throws(JetStreamError) -> StreamReader {
        try await StreamReader.open(self, stream: stream, from: sequence)
    }

    private func getMessage(stream: String, request: [String: any Sendable]) async throws(JetStreamError) -> StoredMessage? {
        let body = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
        let answer: MessageAnswer
        do {
            answer = try await call("STREAM.MSG.GET.\(stream)", payload: Array(body), as: MessageAnswer.self)
        } catch {
            if error.errorCode == JetStreamError.noMessageFoundCode { return nil }
            throw error
        }
        guard let message = answer.message else { throw .unexpected("STREAM.MSG.GET without a message") }
        var headers: NATSHeaders?
        if let hdrs = message.hdrs, !hdrs.isEmpty {
            guard let bytes = Data(base64Encoded: hdrs) else { throw .unexpected("undecodable stored headers") }
            do {
                headers = try NATSHeaders.decode(bytes)
            } catch {
                throw .unexpected("unreadable stored headers: \(error)")
            }
        }
        var payload: [UInt8] = []
        if let data = message.data, !data.isEmpty {
            guard let bytes = Data(base64Encoded: data) else { throw .unexpected("undecodable stored payload") }
            payload = Array(bytes)
        }
        return StoredMessage(subject: message.subject, sequence: message.seq, headers: headers, payload: payload, time: message.time)
    }

    // MARK: The API call

    /// Sends `payload` to `$JS.API.<api>` and decodes the answer (an API error is thrown as such).
    func call<Answer: Decodable>(
        _ api: String, payload: [UInt8], as type: Answer.Type, timeout: Duration? = nil
    ) async throws(JetStreamError) -> Answer {
        let message: NATSMessage
        do {
            message = try await connection.request("\(apiPrefix).\(api)", payload: payload, timeout: timeout ?? self.timeout)
        } catch {
            throw .transport(error)
        }
        return try Self.decode(message, as: type)
    }

    static func decode<Answer: Decodable>(_ message: NATSMessage, as type: Answer.Type) throws(JetStreamError) -> Answer {
        if let status = message.headers?.status, message.payload.isEmpty {
            if status == 503 { throw .transport(.noResponders) }
            throw .init(.api(code: status, errorCode: 0, description: message.headers?.statusDescription ?? "status \(status)"))
        }
        let decoder = JSONDecoder()
        if let envelope = try? decoder.decode(ErrorEnvelope.self, from: Data(message.payload)), let error = envelope.error {
            throw .init(.api(code: error.code ?? 0, errorCode: error.errCode ?? 0, description: error.description ?? ""))
        }
        do {
            return try decoder.decode(type, from: Data(message.payload))
        } catch {
            throw .unexpected("\(type): \(String(decoding: message.payload.prefix(200), as: UTF8.self))")
        }
    }
}

// MARK: The API's answers

struct ErrorEnvelope: Decodable {
    struct APIError: Decodable {
        var code: Int?
        var errCode: Int?
        var description: String?
        enum CodingKeys: String, CodingKey {
            case code, description
            case errCode = "err_code"
        }
    }
    var error: APIError?
}

struct SuccessAnswer: Decodable {
    var success: Bool
}

struct PubAckAnswer: Decodable {
    var stream: String?
    var seq: UInt64?
    var duplicate: Bool?
}

struct StreamInfoAnswer: Decodable {
    struct State: Decodable {
        var messages: UInt64
        var firstSeq: UInt64
        var lastSeq: UInt64
        enum CodingKeys: String, CodingKey {
            case messages
            case firstSeq = "first_seq"
            case lastSeq = "last_seq"
        }
    }
    struct Cluster: Decodable {
        struct Peer: Decodable {
            var name: String
            var current: Bool?
            var lag: UInt64?
        }
        var leader: String?
        var replicas: [Peer]?
    }
    var config: StreamConfig
    var state: State
    var cluster: Cluster?

    var streamInfo: StreamInfo {
        StreamInfo(
            config: config,
            state: .init(messages: state.messages, firstSequence: state.firstSeq, lastSequence: state.lastSeq),
            cluster: cluster.map { cluster in
                .init(
                    leader: cluster.leader,
                    replicas: (cluster.replicas ?? []).map { .init(name: $0.name, current: $0.current ?? false, lag: $0.lag) })
            })
    }
}

struct MessageAnswer: Decodable {
    struct Message: Decodable {
        var subject: String
        var seq: UInt64
        var hdrs: String?
        var data: String?
        var time: String?
    }
    var message: Message?
}
