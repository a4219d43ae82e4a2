import Crypto
import EventLog
import Foundation
import SupportDomain
import Synchronization

/// The admins' commands on the webhook endpoints: register, remove, read, redeliver. The
/// registrations are events of the `$webhooks` stream, appended with its expected version.
package final class WebhookCommands: Sendable {
    let store: EventStore
    let checkpoints: any CheckpointStore
    package let sealer: WebhookSealer
    /// The delivery runner, once one is made (``SupportBackend/makeWebhooks(transport:resolver:addresses:retry:)``).
    private let runnerBox = Mutex<WebhookRunner?>(nil)

    init(store: EventStore, checkpoints: any CheckpointStore, dataDirectory: String) {
        self.store = store
        self.checkpoints = checkpoints
        sealer = WebhookSealer(dataDirectory: dataDirectory)
    }

    var runner: WebhookRunner? { runnerBox.withLock { $0 } }
    func attach(_ runner: WebhookRunner) { runnerBox.withLock { $0 = runner } }

    /// What a registration asks for (the body of `POST /v1/webhooks`).
    package struct Registration: Sendable, Equatable {
        package var url: String
        package var events: [String]
        package var notes: Bool
        /// Nil: generated.
        package var secret: String?

        /// Reads the body strictly: `{"url", "events"?, "notes"?, "secret"?}`.
        package init(body: [UInt8]) throws(ServiceError) {
            let value: JSONValue
            do { value = try JSONParser.parse(body) } catch { throw .badRequest("the body is not JSON: \(error)") }
            guard let members = value.objectValue else { throw .badRequest("the body must be a JSON object") }
            if let unknown = members.keys.filter({ !["url", "events", "notes", "secret"].contains($0) }).sorted(by: Identifier.precedes)
                .first
            {
                throw .badRequest("unknown field \"\(unknown)\"")
            }
            guard let url = members["url"]?.stringValue else { throw .badRequest("\"url\" must be a string (an http or https URL)") }
            if let problem = WebhookRules.problem(withURL: url) { throw .badRequest(problem) }
            self.url = url
            switch members["events"] {
            case nil, .null?: events = ["*"]
            case .array(let list)?:
                do { events = try WebhookRules.eventTypes(list) } catch { throw ServiceError(error) }
            default: throw .badRequest("\"events\" must be an array of event types")
            }
            switch members["notes"] {
            case nil, .null?: notes = false
            case .bool(let b)?: notes = b
            default: throw .badRequest("\"notes\" must be true or false")
            }
            switch members["secret"] {
            case nil, .null?: secret = nil
            case .string(let s)?:
                guard (16...256).contains(s.unicodeScalars.count), s.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
                    throw .badRequest("\"secret\" must be 16 to 256 printable ASCII characters (no spaces)")
                }
                secret = s
            default: throw .badRequest("\"secret\" must be a string")
            }
        }
    }

    /// The current endpoints.
    package func endpoints() throws(ServiceError) -> WebhookEndpoints {
        do { return try WebhookEndpoints.fold(store.events(inStream: StreamName.webhooks)) } catch let error as DomainError {
            throw ServiceError(.unavailable, "\(StreamName.webhooks) cannot be read: \(error.detail)")
        } catch let error as EventLogError {
            throw ServiceError(error)
        } catch {
            throw ServiceError(.unavailable, "\(error)")
        }
    }

    /// A fresh secret: 32 random bytes, hex.
    static func generateSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
    }

    /// Registers an endpoint as `admin`; returns it with its secret in clear (the one time it is shown) and the event.
    package func register(
        _ asked: Registration, admin: String
    ) async throws(ServiceError) -> (registration: WebhookRegistration, secret: String, event: RecordedEvent) {
        let secret = asked.secret ?? Self.generateSecret()
        for _ in 0..<16 {
            let current = try endpoints()
            let id = "W-\(current.highestNumber + 1)"
            let registration = WebhookRegistration(
                id: id, url: asked.url, events: asked.events, notes: asked.notes, secret: try sealer.seal(secret, id: id))
            let event = WebhookEvent.registered(registration)
            do {
                let result = try await append(event, admin: admin, version: current.version)
                runner?.registrationsChanged()
                return (registration, secret, result.events[0])
            } catch .wrongExpectedVersion {
                continue
            } catch {
                throw ServiceError(error)
            }
        }
        throw ServiceError(.conflict, "\(StreamName.webhooks) kept changing; retry")
    }

    /// Removes endpoint `id` as `admin`.
    package func remove(_ id: String, admin: String) async throws(ServiceError) {
        for _ in 0..<16 {
            let current = try endpoints()
            guard current.endpoint(id) != nil else { throw .notFound("webhook \(id) not found") }
            do {
                _ = try await append(.removed(id: id), admin: admin, version: current.version)
                runner?.registrationsChanged()
                return
            } catch .wrongExpectedVersion {
                continue
            } catch {
                throw ServiceError(error)
            }
        }
        throw ServiceError(.conflict, "\(StreamName.webhooks) kept changing; retry")
    }

    private func append(_ event: WebhookEvent, admin: String, version: UInt64) async throws(EventLogError) -> AppendResult {
        try await store.append(
            AppendRequest(
                stream: StreamName.webhooks,
                events: [
                    ProposedEvent(type: event.kind.rawValue, actor: EventActor(kind: ActorKind.admin.rawValue, id: admin), data: event.data)
                ],
                expectedVersion: version == 0 ? .noStream : .exactly(version)))
    }

    /// Where delivery to endpoint `id` stands (nil: nothing attempted and no checkpoint yet).
    package func progress(of id: String) -> WebhookProgress? {
        if let runner { return runner.progress(of: id) }
        return WebhookRunner.storedProgress(of: id, checkpoints: checkpoints, store: store)
    }

    /// Rewinds endpoint `id` to deliver again from `seq` on, and closes its circuit.
    package func redeliver(_ id: String, from seq: UInt64) throws(ServiceError) {
        guard let endpoint = try endpoints().endpoint(id) else { throw .notFound("webhook \(id) not found") }
        let head: UInt64
        do { head = try store.head.seq } catch { throw ServiceError(error) }
        guard seq >= 1, seq <= head + 1 else { throw .badRequest("\"from\" must be a seq between 1 and \(head + 1)") }
        if runner?.redeliver(id, from: seq) == true { return }
        do {
            try WebhookRunner.rewind(id, registeredAt: endpoint.seq, from: seq, checkpoints: checkpoints, store: store)
        } catch {
            throw ServiceError(error)
        }
    }
}

/// The JSON answers of the webhook routes.
package enum WebhookAnswers {
    /// One endpoint: `{"id", "url", "events", "notes", "registeredSeq", "delivery": {...}}` (+ `secret` when given).
    package static func endpoint(
        _ registration: WebhookRegistration, registeredSeq: UInt64, progress: WebhookProgress?, now: Timestamp, secret: String? = nil
    ) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(registration.id), "url": .string(registration.url), "events": .array(registration.events.map { .string($0) }),
            "notes": .bool(registration.notes), "registeredSeq": .int(Int64(registeredSeq)),
        ]
        let p = progress ?? WebhookProgress(seq: registeredSeq)
        o["delivery"] = .object([
            "seq": .int(Int64(p.seq)), "failures": .int(Int64(p.failures)),
            "circuit": .string(WebhookRunner.circuit(of: p, now: now.milliseconds).rawValue),
            "retryAt": p.notBefore > now.milliseconds ? .string(Timestamp(milliseconds: p.notBefore).description) : .null,
        ])
        if let secret { o["secret"] = .string(secret) }
        return .object(o)
    }

    /// `{"webhooks": [...]}`.
    package static func list(_ endpoints: WebhookEndpoints, commands: WebhookCommands, now: Timestamp) -> JSONValue {
        .object([
            "webhooks": .array(
                endpoints.endpoints.map {
                    endpoint($0.registration, registeredSeq: $0.seq, progress: commands.progress(of: $0.registration.id), now: now)
                })
        ])
    }

    /// `{"deliveries": [...]}`, newest first, at most `limit`.
    package static func deliveries(_ progress: WebhookProgress?, limit: Int) -> JSONValue {
        .object(["deliveries": .array((progress?.log ?? []).reversed().prefix(limit).map(\.json))])
    }
}
