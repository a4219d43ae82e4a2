import NIOCore

/// One message of a pipelined batch of requests.
package struct NATSOutgoingMessage: Sendable {
    /// Where it goes.
    package var subject: String
    /// Its headers, if any.
    package var headers: NATSHeaders?
    /// Its payload.
    package var payload: [UInt8]

    /// A message from its parts.
    package init(subject: String, headers: NATSHeaders? = nil, payload: [UInt8]) {
        self.subject = subject
        self.headers = headers
        self.payload = payload
    }
}

extension NATSConnection {
    /// Sends a request and waits for the first answer, on one inbox subscription all requests share
    /// (`_INBOX.<random>.*`). Throws ``NATSError/noResponders`` when nobody subscribes to `subject`,
    /// ``NATSError/timeout`` when no answer came within `timeout`, ``NATSError/notConnected`` at once
    /// while disconnected and ``NATSError/connectionClosed`` when the connection dropped meanwhile.
    package func request(
        _ subject: String, headers: NATSHeaders? = nil, payload: [UInt8], timeout: Duration
    ) async throws(NATSError)
        -> NATSMessage
    {
        let results = await requestAll([NATSOutgoingMessage(subject: subject, headers: headers, payload: payload)], timeout: timeout)
        return try results[0].get()
    }

    /// Pipelined requests: writes every message at once (in order, one flush), then waits for every
    /// answer; the results are in the order of `messages`, each as ``request(_:headers:payload:timeout:)``
    /// would have answered it.
    package func requestAll(_ messages: [NATSOutgoingMessage], timeout: Duration) async -> [Result<NATSMessage, NATSError>] {
        guard !messages.isEmpty else { return [] }
        var results = [Result<NATSMessage, NATSError>?](repeating: nil, count: messages.count)
        let sent = state.withLock {
            state -> (tokens: [String], futures: [(Int, EventLoopFuture<NATSMessage>)], written: EventLoopFuture<Void>)? in
            guard case .connected(let link) = state.phase else { return nil }
            var buffer = link.channel.allocator.buffer(capacity: messages.reduce(256) { $0 + $1.payload.count + 128 })
            if state.inboxSID == nil {
                let sid = state.allocateSID()
                state.inboxSID = sid
                state.subscriptions[sid] = SubscriptionEntry(subject: inboxPrefix + ".*", sink: .inbox)
                ClientOperation.subscribe(inboxPrefix + ".*", sid: sid, into: &buffer)
            }
            var tokens: [String] = []
            var futures: [(Int, EventLoopFuture<NATSMessage>)] = []
            for (index, message) in messages.enumerated() {
                state.nextToken += 1
                let token = String(state.nextToken, radix: 36)
                do throws(NATSError) {
                    try ClientOperation.publish(
                        message.subject, replyTo: inboxPrefix + "." + token, headers: message.headers, payload: message.payload,
                        maxPayload: state.maxPayload, into: &buffer)
                } catch {
                    results[index] = .failure(error)
                    continue
                }
                let promise = link.channel.eventLoop.makePromise(of: NATSMessage.self)
                state.pending[token] = promise
                tokens.append(token)
                futures.append((index, promise.futureResult))
            }
            return (tokens, futures, link.send(buffer))
        }
        guard let sent else { return messages.map { _ in .failure(.notConnected) } }
        let tokens = sent.tokens
        sent.written.whenFailure { [weak self] (_: any Error) in self?.abandon(tokens, with: .connectionClosed) }
        let timer = sent.written.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [weak self] in
            self?.abandon(tokens, with: .timeout)
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            for (index, future) in sent.futures {
                do {
                    results[index] = .success(try await future.get())
                } catch {
                    results[index] = .failure(error as? NATSError ?? .connectionClosed)
                }
            }
        } onCancel: {
            self.abandon(tokens, with: .cancelled)
        }
        return results.map { $0 ?? .failure(.connectionClosed) }
    }

    /// Fails the requests of `tokens` still waiting.
    private func abandon(_ tokens: [String], with error: NATSError) {
        let promises = state.withLock { state in tokens.compactMap { state.pending.removeValue(forKey: $0) } }
        for promise in promises { promise.fail(error) }
    }
}
