import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A connection to a NATS cluster (the core protocol with headers): publish, subscribe, request-reply
/// over one shared inbox subscription, PING/PONG flushes, and reconnects across the known servers.
///
/// When the TCP connection drops, the connection keeps trying every known server (the given ones and
/// those the servers announce in `INFO connect_urls`) every ``Configuration/reconnectWait`` until
/// ``close()``, and subscribes again to every live subscription once reconnected. While disconnected,
/// ``publish(_:headers:payload:)`` and ``request(_:headers:payload:timeout:)`` fail at once with
/// ``NATSError/notConnected`` (nothing is buffered); requests in flight when the connection drops fail
/// with ``NATSError/connectionClosed``.
package final class NATSConnection: Sendable {
    /// How the connection behaves.
    package struct Configuration: Sendable {
        /// The pause between two rounds over every known server while reconnecting.
        package var reconnectWait: Duration
        /// How long one TCP connection and the INFO/CONNECT/PING/PONG handshake may take.
        package var connectTimeout: Duration
        /// How often the client sends PING to find out that a silent connection is dead.
        package var pingInterval: Duration
        /// How many PINGs may stay unanswered before the connection is dropped (and reconnected).
        package var maxPingsOutstanding: Int

        /// The defaults: 250 ms between reconnect rounds, 2 s to connect, a PING every 10 s, 2 unanswered at most.
        package init(
            reconnectWait: Duration = .milliseconds(250), connectTimeout: Duration = .seconds(2), pingInterval: Duration = .seconds(10),
            maxPingsOutstanding: Int = 2
        ) {
            self.reconnectWait = reconnectWait
            self.connectTimeout = connectTimeout
            self.pingInterval = pingInterval
            self.maxPingsOutstanding = maxPingsOutstanding
        }
    }

    let name: String
    let configuration: Configuration
    let logger: Logger
    let group: any EventLoopGroup
    /// `_INBOX.<random>`: the requests' replies arrive on `<inboxPrefix>.<token>`.
    let inboxPrefix: String
    let state: Mutex<ConnectionState>

    private init(servers: [NATSServerURL], name: String, configuration: Configuration, logger: Logger, group: any EventLoopGroup) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.inboxPrefix = "_INBOX." + randomToken(22)
        self.state = Mutex(ConnectionState(servers: servers))
    }

    /// Connects to the first of `servers` that answers (trying them in turn); throws
    /// ``NATSError/cannotConnect(_:)`` when none does.
    package static func connect(
        to servers: [NATSServerURL], name: String, configuration: Configuration = .init(), logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(NATSError) -> NATSConnection {
        guard !servers.isEmpty else { throw .cannotConnect("no server given") }
        let connection = NATSConnection(servers: servers, name: name, configuration: configuration, logger: logger, group: eventLoopGroup)
        var failures: [String] = []
        for server in servers {
            do {
                try await connection.establish(server)
                return connection
            } catch {
                failures.append("\(server): \(error)")
            }
        }
        await connection.close()
        throw .cannotConnect(failures.joined(separator: "; "))
    }

    /// True while a server connection is up (false while reconnecting and after ``close()``).
    package var isConnected: Bool {
        state.withLock { if case .connected = $0.phase { true } else { false } }
    }

    /// The server the connection is on, nil while disconnected.
    package var connectedServer: NATSServerURL? {
        state.withLock { if case .connected(let link) = $0.phase { link.server } else { nil } }
    }

    /// The largest message (headers and payload) the connected server takes: its `max_payload`.
    package var maximumPayload: Int {
        state.withLock { $0.maxPayload }
    }

    /// Every server the connection knows: the given ones, then those the cluster announced.
    package var knownServers: [NATSServerURL] {
        state.withLock { $0.servers }
    }

    /// Publishes one message; returns once it is written to the socket. Fails at once with
    /// ``NATSError/notConnected`` while disconnected.
    package func publish(_ subject: String, headers: NATSHeaders? = nil, payload: [UInt8]) async throws(NATSError) {
        try await publish(subject, replyTo: nil, headers: headers, payload: payload)
    }

    /// Publishes one message with a reply subject.
    package func publish(_ subject: String, replyTo: String?, headers: NATSHeaders? = nil, payload: [UInt8]) async throws(NATSError) {
        let written = try state.withLock { state throws(NATSError) -> EventLoopFuture<Void> in
            guard case .connected(let link) = state.phase else { throw .notConnected }
            var buffer = link.channel.allocator.buffer(capacity: payload.count + 128)
            try ClientOperation.publish(
                subject, replyTo: replyTo, headers: headers, payload: payload, maxPayload: state.maxPayload, into: &buffer)
            return link.send(buffer)
        }
        do {
            try await written.get()
        } catch {
            throw .connectionClosed
        }
    }

    /// Sends PING and waits for the PONG: everything sent before has been processed by the server.
    package func flush(timeout: Duration) async throws(NATSError) {
        let (pong, eventLoop) = try state.withLock { state throws(NATSError) -> (EventLoopPromise<Void>, any EventLoop) in
            guard case .connected(let link) = state.phase else { throw .notConnected }
            let promise = link.channel.eventLoop.makePromise(of: Void.self)
            state.pongs.append(promise)
            var buffer = link.channel.allocator.buffer(capacity: 8)
            buffer.writeString("PING\r\n")
            _ = link.send(buffer)
            return (promise, link.channel.eventLoop)
        }
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) { pong.fail(NATSError.timeout) }
        defer { timer.cancel() }
        do {
            try await withTaskCancellationHandler {
                try await pong.futureResult.get()
            } onCancel: {
                pong.fail(NATSError.cancelled)
            }
        } catch {
            throw error as? NATSError ?? .connectionClosed
        }
    }

    /// Closes the connection for good: stops reconnecting, fails requests in flight with
    /// ``NATSError/connectionClosed`` and ends every subscription's sequence. Returns once no work of
    /// the connection is left running.
    package func close() async {
        let (channel, task, pending, pongs, subscriptions, timer) = state.withLock { state in
            let channel: (any Channel)?
            let timer: RepeatedTask?
            if case .connected(let link) = state.phase {
                channel = link.channel
                timer = link.heartbeat
            } else {
                channel = nil
                timer = nil
            }
            state.phase = .closed
            let taken = (channel, state.reconnect, state.pending, state.pongs, state.subscriptions, timer)
            state.reconnect = nil
            state.pending = [:]
            state.pongs = []
            state.subscriptions = [:]
            return taken
        }
        timer?.cancel()
        task?.cancel()
        for promise in pending.values { promise.fail(NATSError.connectionClosed) }
        for promise in pongs { promise?.fail(NATSError.connectionClosed) }
        for subscription in subscriptions.values { subscription.sink.finish() }
        if let channel { try? await channel.close() }
        await task?.value
    }
}

/// What the connection is doing.
enum ConnectionPhase {
    case connected(Link)
    case disconnected
    case closed
}

/// One live server connection.
struct Link {
    let channel: any Channel
    let server: NATSServerURL
    let generation: UInt64
    var heartbeat: RepeatedTask?

    /// Writes from the channel's event loop, in the order the calls were made (callers hold the state
    /// lock, so writes are ordered as the state changes they belong to).
    func send(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let channel = self.channel
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute { channel.writeAndFlush(buffer, promise: promise) }
        return promise.futureResult
    }
}

/// Where a subscription's messages go.
enum MessageSink: Sendable {
    case stream(AsyncStream<NATSMessage>.Continuation)
    case handler(@Sendable (NATSMessage) -> Void, finished: @Sendable () -> Void)
    case inbox

    func deliver(_ message: NATSMessage) {
        switch self {
        case .stream(let continuation): continuation.yield(message)
        case .handler(let handler, _): handler(message)
        case .inbox: break
        }
    }

    func finish() {
        switch self {
        case .stream(let continuation): continuation.finish()
        case .handler(_, let finished): finished()
        case .inbox: break
        }
    }
}

struct SubscriptionEntry {
    let subject: String
    let sink: MessageSink
}

/// The mutable state of a ``NATSConnection``, behind its mutex.
struct ConnectionState {
    var servers: [NATSServerURL]
    var phase: ConnectionPhase = .disconnected
    var generation: UInt64 = 0
    var subscriptions: [UInt64: SubscriptionEntry] = [:]
    var nextSID: UInt64 = 1
    var inboxSID: UInt64?
    var pending: [String: EventLoopPromise<NATSMessage>] = [:]
    var nextToken: UInt64 = 0
    var pongs: [EventLoopPromise<Void>?] = []
    var pingsOutstanding = 0
    var maxPayload = 1024 * 1024
    var reconnect: Task<Void, Never>?

    init(servers: [NATSServerURL]) {
        self.servers = servers
    }

    var isClosed: Bool {
        if case .closed = phase { true } else { false }
    }

    mutating func allocateSID() -> UInt64 {
        defer { nextSID += 1 }
        return nextSID
    }
}

/// Random letters and digits (for inbox names and consumer names).
func randomToken(_ length: Int) -> String {
    let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    var generator = SystemRandomNumberGenerator()
    return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
}
