import NIOCore

/// The messages of one subscription, in the order the server sent them. Ends after
/// ``unsubscribe()`` or ``NATSConnection/close()``; survives reconnects (the connection subscribes
/// again on the new server; messages published while it was disconnected are lost, as in core NATS).
package struct NATSSubscription: AsyncSequence, Sendable {
    package typealias Element = NATSMessage
    /// The subject (or wildcard) subscribed to.
    package let subject: String
    let sid: UInt64
    let connection: NATSConnection
    let stream: AsyncStream<NATSMessage>

    package func makeAsyncIterator() -> AsyncStream<NATSMessage>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Stops the subscription (UNSUB) and ends the sequence.
    package func unsubscribe() async {
        await connection.unsubscribe(sid: sid)
    }
}

extension NATSConnection {
    /// Subscribes to `subject` (wildcards `*` and `>` allowed). Throws ``NATSError/notConnected`` while
    /// disconnected. Call ``flush(timeout:)`` after it when another connection is to publish at once.
    package func subscribe(_ subject: String) async throws(NATSError) -> NATSSubscription {
        let (stream, continuation) = AsyncStream.makeStream(of: NATSMessage.self)
        let sid = try await subscribe(subject, sink: .stream(continuation))
        continuation.onTermination = { [weak self] _ in _ = self?.removeSubscription(sid: sid) }
        return NATSSubscription(subject: subject, sid: sid, connection: self, stream: stream)
    }

    /// Subscribes with a callback called on the connection's event loop for every message, in order,
    /// and `finished` when the subscription ends (unsubscribe or close).
    func subscribe(_ subject: String, sink: MessageSink) async throws(NATSError) -> UInt64 {
        try ClientOperation.validate(subject: subject)
        let (sid, written) = try state.withLock { state throws(NATSError) -> (UInt64, EventLoopFuture<Void>) in
            guard case .connected(let link) = state.phase else { throw .notConnected }
            let sid = state.allocateSID()
            state.subscriptions[sid] = SubscriptionEntry(subject: subject, sink: sink)
            var buffer = link.channel.allocator.buffer(capacity: subject.utf8.count + 32)
            ClientOperation.subscribe(subject, sid: sid, into: &buffer)
            return (sid, link.send(buffer))
        }
        do {
            try await written.get()
        } catch {
            // The link dropped: the subscription stays and is sent again on reconnect.
        }
        return sid
    }

    /// Removes a subscription: UNSUB when connected, and ends its messages.
    func unsubscribe(sid: UInt64) async {
        _ = try? await removeSubscription(sid: sid)?.get()
    }

    /// Removes a subscription without waiting: returns the UNSUB's write, if one was sent.
    @discardableResult
    func removeSubscription(sid: UInt64) -> EventLoopFuture<Void>? {
        let (entry, written) = state.withLock { state -> (SubscriptionEntry?, EventLoopFuture<Void>?) in
            guard let entry = state.subscriptions.removeValue(forKey: sid) else { return (nil, nil) }
            guard case .connected(let link) = state.phase else { return (entry, nil) }
            var buffer = link.channel.allocator.buffer(capacity: 32)
            ClientOperation.unsubscribe(sid: sid, into: &buffer)
            return (entry, link.send(buffer))
        }
        entry?.sink.finish()
        return written
    }
}
