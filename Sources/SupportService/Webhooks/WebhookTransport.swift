import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// One delivery attempt: a POST of `body` to `url`, connecting to `address` (checked against the
/// address policy), with `headers`.
package struct WebhookRequest: Sendable {
    /// The endpoint (`W-<n>`).
    package var endpoint: String
    package var url: String
    /// The URL's host as written (lowercased, without brackets).
    package var host: String
    /// The address the connection must go to.
    package var address: IPAddress
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// The whole exchange's bound.
    package var timeout: Duration
}

/// What became of an attempt.
package enum WebhookResponse: Sendable, Equatable {
    /// The endpoint answered with this status.
    case status(Int)
    /// No answer: refused, reset, timed out.
    case failed(String)
}

/// How deliveries reach the endpoints (over HTTP in supportd; in memory in unit tests).
package protocol WebhookTransport: Sendable {
    func send(_ request: WebhookRequest) async -> WebhookResponse
    /// Releases what is held for an endpoint (it was removed).
    func close(endpoint: String) async
    /// Releases everything (the runner stops).
    func shutdown() async
}

/// Delivers over HTTP with AsyncHTTPClient: one client per endpoint, connecting to the checked
/// address (`dnsOverride`), redirects not followed; the client is made again when the checked
/// address changes.
package final class HTTPWebhookTransport: WebhookTransport {
    private struct Held {
        var address: IPAddress
        var client: HTTPClient
    }

    private let clients = Mutex<[String: Held]>([:])
    /// The largest part of an answer read (the body is not used, only drained).
    static let maximumAnswer = 64 * 1024

    package init() {}

    private func client(for request: WebhookRequest) -> (HTTPClient, retired: HTTPClient?) {
        clients.withLock { held in
            if let current = held[request.endpoint], current.address == request.address { return (current.client, nil) }
            let seconds = Int64(request.timeout.components.seconds)
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(seconds), read: .seconds(seconds), write: .seconds(seconds)),
                decompression: .disabled)
            configuration.httpVersion = .http1Only
            configuration.connectionPool.retryConnectionEstablishment = false
            if IPAddress(request.host) == nil { configuration.dnsOverride = [request.host: request.address.description] }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            let retired = held[request.endpoint]?.client
            held[request.endpoint] = Held(address: request.address, client: client)
            return (client, retired)
        }
    }

    package func send(_ request: WebhookRequest) async -> WebhookResponse {
        let (client, retired) = client(for: request)
        if let retired { try? await retired.shutdown() }
        var http = HTTPClientRequest(url: request.url)
        http.method = .POST
        for header in request.headers { http.headers.add(name: header.name, value: header.value) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        let prepared = http
        let timeout = request.timeout
        return await withTaskGroup(of: WebhookResponse.self) { group in
            group.addTask {
                do {
                    let response = try await client.execute(prepared, timeout: .seconds(Int64(timeout.components.seconds)))
                    _ = try? await response.body.collect(upTo: Self.maximumAnswer)
                    return .status(Int(response.status.code))
                } catch {
                    return .failed("\(error)")
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .failed("no answer within \(timeout)")
            }
            let first = await group.next() ?? .failed("no answer")
            group.cancelAll()
            return first
        }
    }

    package func close(endpoint: String) async {
        let held = clients.withLock { $0.removeValue(forKey: endpoint) }
        try? await held?.client.shutdown()
    }

    package func shutdown() async {
        let all = clients.withLock { held -> [Held] in
            defer { held.removeAll() }
            return Array(held.values)
        }
        for held in all { try? await held.client.shutdown() }
    }
}

/// Records every request and answers with what `answer` says (unit tests).
package final class InMemoryWebhookTransport: WebhookTransport {
    package struct Answer: Sendable {
        package let body: @Sendable (WebhookRequest) -> WebhookResponse
        package init(_ body: @escaping @Sendable (WebhookRequest) -> WebhookResponse) { self.body = body }
    }

    private let answer: Answer
    private let log = Mutex<[WebhookRequest]>([])
    private let closed = Mutex<[String]>([])

    package init(answer: Answer = Answer { _ in .status(200) }) { self.answer = answer }

    /// The requests received, in order.
    package var requests: [WebhookRequest] { log.withLock { $0 } }
    /// The endpoints closed.
    package var closedEndpoints: [String] { closed.withLock { $0 } }

    package func send(_ request: WebhookRequest) async -> WebhookResponse {
        log.withLock { $0.append(request) }
        return answer.body(request)
    }

    package func close(endpoint: String) async { closed.withLock { $0.append(endpoint) } }
    package func shutdown() async {}
}
