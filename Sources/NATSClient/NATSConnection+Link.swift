import Logging
import NIOCore
import NIOPosix

extension NATSConnection {
    /// Opens a TCP connection to `server`, does the INFO/CONNECT/PING/PONG handshake and makes it the
    /// connection's link, subscribing again to every live subscription before anything else is sent.
    func establish(_ server: NATSServerURL) async throws(NATSError) {
        let eventLoop = group.next()
        let handshake = eventLoop.makePromise(of: ServerInfo.self)
        let generation = state.withLock { state in
            state.generation += 1
            return state.generation
        }
        let channel: any Channel
        do {
            let connection = self
            let name = self.name
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(NATSFrameDecoder()),
                            NATSChannelHandler(connection: connection, generation: generation, name: name, handshake: handshake),
                        ])
                    }
                }
                .connect(host: server.host, port: server.port).get()
        } catch {
            handshake.fail(NATSError.cannotConnect("\(error)"))
            throw .cannotConnect("\(server): \(error)")
        }
        let timer = eventLoop.scheduleTask(in: TimeAmount(configuration.connectTimeout)) {
            handshake.fail(NATSError.timeout)
            channel.close(promise: nil)
        }
        // Cancelled on the event loop the moment the handshake ends: a task that resumes late (a
        // busy machine) must not find its good channel closed by the timer meanwhile.
        handshake.futureResult.whenComplete { _ in timer.cancel() }
        let info: ServerInfo
        do {
            info = try await handshake.futureResult.get()
            timer.cancel()
        } catch {
            timer.cancel()
            try? await channel.close()
            throw error as? NATSError ?? .cannotConnect("\(server): \(error)")
        }
        try register(channel: channel, server: server, generation: generation, info: info)
    }

    /// Makes a handshaken channel the live link (unless the connection was closed meanwhile or the
    /// channel already dropped) and sends SUB for every subscription.
    private func register(channel: any Channel, server: NATSServerURL, generation: UInt64, info: ServerInfo) throws(NATSError) {
        let interval = TimeAmount(configuration.pingInterval)
        let refused: NATSError? = state.withLock { state in
            guard !state.isClosed else { return .connectionClosed }
            guard channel.isActive, state.generation == generation else { return .connectionClosed }
            state.maxPayload = info.maxPayload ?? state.maxPayload
            state.learn(info.connectURLs)
            state.pingsOutstanding = 0
            var link = Link(channel: channel, server: server, generation: generation)
            var buffer = channel.allocator.buffer(capacity: 256)
            for (sid, entry) in state.subscriptions.sorted(by: { $0.key < $1.key }) {
                ClientOperation.subscribe(entry.subject, sid: sid, into: &buffer)
            }
            if buffer.readableBytes > 0 { _ = link.send(buffer) }
            link.heartbeat = channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
                self?.heartbeat(generation: generation)
            }
            state.phase = .connected(link)
            return nil
        }
        if let refused {
            channel.close(promise: nil)
            throw refused
        }
        logger.info("NATS connected", metadata: ["server": "\(server)", "name": "\(name)"])
    }

    /// A PING for liveness; drops the link when too many went unanswered.
    private func heartbeat(generation: UInt64) {
        let stale: (any Channel)? = state.withLock { state in
            guard case .connected(let link) = state.phase, link.generation == generation else { return nil }
            if state.pingsOutstanding >= configuration.maxPingsOutstanding { return link.channel }
            state.pingsOutstanding += 1
            state.pongs.append(nil)
            var buffer = link.channel.allocator.buffer(capacity: 8)
            buffer.writeString("PING\r\n")
            _ = link.send(buffer)
            return nil
        }
        if let stale {
            logger.warning("NATS server stopped answering PING; reconnecting", metadata: ["name": "\(name)"])
            stale.close(promise: nil)
        }
    }

    // MARK: Called by the channel handler (on the event loop)

    func received(_ message: NATSMessage, sid: UInt64, generation: UInt64) {
        enum Route {
            case sink(MessageSink)
            case reply(EventLoopPromise<NATSMessage>)
            case none
        }
        let route: Route = state.withLock { state in
            guard case .connected(let link) = state.phase, link.generation == generation else { return .none }
            guard let entry = state.subscriptions[sid] else { return .none }
            guard case .inbox = entry.sink else { return .sink(entry.sink) }
            let prefix = inboxPrefix + "."
            guard message.subject.hasPrefix(prefix) else { return .none }
            let token = String(message.subject.dropFirst(prefix.count))
            guard let promise = state.pending.removeValue(forKey: token) else { return .none }
            return .reply(promise)
        }
        switch route {
        case .sink(let sink): sink.deliver(message)
        case .reply(let promise):
            if message.headers?.status == 503, message.payload.isEmpty {
                promise.fail(NATSError.noResponders)
            } else {
                promise.succeed(message)
            }
        case .none: break
        }
    }

    func receivedPong(generation: UInt64) {
        let waiter: EventLoopPromise<Void>?? = state.withLock { state in
            guard case .connected(let link) = state.phase, link.generation == generation else { return nil }
            state.pingsOutstanding = 0
            return state.pongs.isEmpty ? nil : state.pongs.removeFirst()
        }
        if let waiter, let waiter { waiter.succeed() }
    }

    func receivedInfo(_ info: ServerInfo, generation: UInt64) {
        state.withLock { state in
            guard case .connected(let link) = state.phase, link.generation == generation else { return }
            state.learn(info.connectURLs)
            if let maxPayload = info.maxPayload { state.maxPayload = maxPayload }
        }
    }

    func receivedError(_ text: String, generation: UInt64) {
        logger.warning("NATS server error", metadata: ["error": "\(text)", "name": "\(name)"])
    }

    /// The link's channel closed: fail what was in flight and reconnect (unless closed).
    func linkLost(generation: UInt64) {
        let lost = state.withLock {
            state -> (pending: [EventLoopPromise<NATSMessage>], pongs: [EventLoopPromise<Void>?], server: NATSServerURL)? in
            guard case .connected(let link) = state.phase, link.generation == generation else { return nil }
            link.heartbeat?.cancel()
            state.phase = .disconnected
            let taken = (Array(state.pending.values), state.pongs, link.server)
            state.pending = [:]
            state.pongs = []
            state.pingsOutstanding = 0
            state.reconnect = Task { [weak self] in await self?.reconnect(after: link.server) }
            return taken
        }
        guard let lost else { return }
        logger.warning("NATS connection lost; reconnecting", metadata: ["server": "\(lost.server)", "name": "\(name)"])
        for promise in lost.pending { promise.fail(NATSError.connectionClosed) }
        for promise in lost.pongs { promise?.fail(NATSError.connectionClosed) }
    }

    /// Tries every known server, the one that dropped last, every `reconnectWait`, until one takes or
    /// the connection is closed.
    private func reconnect(after lost: NATSServerURL) async {
        while !Task.isCancelled {
            let servers = state.withLock { state in
                state.servers.filter { $0 != lost } + (state.servers.contains(lost) ? [lost] : [])
            }
            for server in servers {
                guard !Task.isCancelled else { return }
                do {
                    try await establish(server)
                    return
                } catch {
                    logger.debug("NATS reconnect attempt failed", metadata: ["server": "\(server)", "error": "\(error)"])
                }
            }
            try? await Task.sleep(for: configuration.reconnectWait)
        }
    }
}

extension ConnectionState {
    /// Adds the servers an INFO announced.
    mutating func learn(_ connectURLs: [String]?) {
        for text in connectURLs ?? [] {
            if let url = NATSServerURL(string: text), !servers.contains(url) { servers.append(url) }
        }
    }
}

/// The pipeline's end: the handshake, then hands every operation to the connection.
final class NATSChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ServerOperation
    typealias OutboundOut = ByteBuffer

    private let connection: NATSConnection
    private let generation: UInt64
    private let name: String
    private let handshake: EventLoopPromise<ServerInfo>
    private var info: ServerInfo?
    private var handshaking = true

    init(connection: NATSConnection, generation: UInt64, name: String, handshake: EventLoopPromise<ServerInfo>) {
        self.connection = connection
        self.generation = generation
        self.name = name
        self.handshake = handshake
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .info(let info):
            if handshaking, self.info == nil {
                self.info = info
                let connect = context.channel.allocator.buffer(string: ClientOperation.connect(name: name))
                context.writeAndFlush(wrapOutboundOut(connect), promise: nil)
            } else if !handshaking {
                connection.receivedInfo(info, generation: generation)
            }
        case .pong:
            if handshaking {
                guard let info else {
                    fail(context, .protocolError("PONG before INFO"))
                    return
                }
                handshaking = false
                handshake.succeed(info)
            } else {
                connection.receivedPong(generation: generation)
            }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "PONG\r\n")), promise: nil)
        case .ok:
            break
        case .error(let text):
            if handshaking {
                fail(context, .serverError(text))
            } else {
                connection.receivedError(text, generation: generation)
            }
        case .message(let sid, let message):
            if !handshaking { connection.received(message, sid: sid, generation: generation) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.logger.warning("NATS connection error", metadata: ["error": "\(error)", "name": "\(name)"])
        fail(context, error as? NATSError ?? .protocolError("\(error)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        if handshaking {
            handshaking = false
            handshake.fail(NATSError.connectionClosed)
        } else {
            connection.linkLost(generation: generation)
        }
        context.fireChannelInactive()
    }

    private func fail(_ context: ChannelHandlerContext, _ error: NATSError) {
        if handshaking {
            handshaking = false
            handshake.fail(error)
        }
        context.close(promise: nil)
    }
}
