import EventLog

/// One attempt in an endpoint's delivery log.
package struct WebhookDelivery: Sendable, Equatable {
    /// The event's seq (`X-Ledgerdesk-Delivery`).
    package var seq: UInt64
    package var ticket: String
    package var type: String
    /// When the attempt was made (ms since the epoch).
    package var at: Int64
    /// The endpoint's status, when it answered.
    package var status: Int?
    /// Why it failed, when it did.
    package var error: String?
    /// 2xx.
    package var delivered: Bool
    /// How long the attempt took, ms.
    package var milliseconds: Int64

    var json: JSONValue {
        var o: [String: JSONValue] = [
            "seq": .int(Int64(seq)), "ticket": .string(ticket), "type": .string(type),
            "at": .string(Timestamp(milliseconds: at).description),
            "delivered": .bool(delivered), "durationMs": .int(milliseconds),
        ]
        o["status"] = status.map { .int(Int64($0)) } ?? .null
        o["error"] = error.map { .string($0) } ?? .null
        return .object(o)
    }

    init(seq: UInt64, ticket: String, type: String, at: Int64, status: Int?, error: String?, delivered: Bool, milliseconds: Int64) {
        self.seq = seq
        self.ticket = ticket
        self.type = type
        self.at = at
        self.status = status
        self.error = error
        self.delivered = delivered
        self.milliseconds = milliseconds
    }

    init?(json: JSONValue) {
        guard let seq = json["seq"]?.intValue, let ticket = json["ticket"]?.stringValue, let type = json["type"]?.stringValue,
            let atText = json["at"]?.stringValue, let at = Timestamp(rfc3339: atText), case .bool(let delivered)? = json["delivered"],
            let ms = json["durationMs"]?.intValue
        else { return nil }
        self.init(
            seq: UInt64(seq), ticket: ticket, type: type, at: at.milliseconds, status: json["status"]?.intValue.map { Int($0) },
            error: json["error"]?.stringValue, delivered: delivered, milliseconds: ms)
    }
}

/// The state of the circuit breaker of an endpoint.
package enum WebhookCircuit: String, Sendable, Equatable {
    /// Deliveries go ahead.
    case closed
    /// Failing: no attempt until the cool-down ends.
    case open
    /// The cool-down ended: one attempt decides.
    case halfOpen = "half-open"
}

/// Where an endpoint's delivery stands: its checkpoint `webhook:W-<n>`.
package struct WebhookProgress: Sendable, Equatable {
    /// The last seq handled (delivered or not for this endpoint).
    package var seq: UInt64
    /// Consecutive failed attempts.
    package var failures: Int = 0
    package var circuit: WebhookCircuit = .closed
    /// How many times the circuit opened in a row (its cool-down doubles).
    package var opens: Int = 0
    /// No attempt before this instant (ms): the backoff's or the cool-down's end.
    package var notBefore: Int64 = 0
    /// The last attempts, newest last (at most ``logLimit``).
    package var log: [WebhookDelivery] = []

    package static let logLimit = 200

    package init(seq: UInt64) { self.seq = seq }

    mutating func record(_ delivery: WebhookDelivery) {
        log.append(delivery)
        if log.count > Self.logLimit { log.removeFirst(log.count - Self.logLimit) }
    }

    var encoded: [UInt8] {
        CanonicalJSON.encode(
            .object([
                "seq": .int(Int64(seq)), "failures": .int(Int64(failures)), "circuit": .string(circuit.rawValue),
                "opens": .int(Int64(opens)), "notBefore": .int(notBefore), "log": .array(log.map(\.json)),
            ]))
    }

    init?(decoding bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes), let seq = value["seq"]?.intValue, let failures = value["failures"]?.intValue,
            let circuit = value["circuit"]?.stringValue.flatMap(WebhookCircuit.init(rawValue:)), let opens = value["opens"]?.intValue,
            let notBefore = value["notBefore"]?.intValue, let log = value["log"]?.arrayValue
        else { return nil }
        self.seq = UInt64(seq)
        self.failures = Int(failures)
        self.circuit = circuit
        self.opens = Int(opens)
        self.notBefore = notBefore
        self.log = log.compactMap(WebhookDelivery.init(json:))
    }

    /// The checkpoint's name for endpoint `id`.
    package static func checkpointName(_ id: String) -> String { "webhook:\(id)" }
}

/// When an endpoint is tried again after a failure, and when its circuit opens.
package struct WebhookRetryPolicy: Sendable, Equatable {
    /// The backoff's first bound; each failure doubles it, up to ``longestWait``. The wait is
    /// drawn uniformly between zero and the bound (full jitter).
    package var firstWait: Duration = .seconds(1)
    package var longestWait: Duration = .seconds(600)
    /// Consecutive failures that open the circuit.
    package var failuresToOpen = 5
    /// The first cool-down of an open circuit; each reopening doubles it, up to ``longestCoolDown``.
    package var coolDown: Duration = .seconds(60)
    package var longestCoolDown: Duration = .seconds(1800)
    /// The bound of one attempt.
    package var timeout: Duration = .seconds(10)

    package init() {}

    static func milliseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1000 + atto / 1_000_000_000_000_000
    }

    /// The backoff bound after `failures` consecutive failures (1: the first), ms.
    func backoffBound(failures: Int) -> Int64 {
        var bound = Self.milliseconds(firstWait)
        let cap = Self.milliseconds(longestWait)
        for _ in 1..<max(1, failures) where bound < cap { bound *= 2 }
        return min(bound, cap)
    }

    /// The cool-down of the `opens`-th opening in a row (1: the first), ms.
    func coolDown(opens: Int) -> Int64 {
        var wait = Self.milliseconds(coolDown)
        let cap = Self.milliseconds(longestCoolDown)
        for _ in 1..<max(1, opens) where wait < cap { wait *= 2 }
        return min(wait, cap)
    }
}
