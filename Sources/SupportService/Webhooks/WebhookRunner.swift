import Crypto
import EventLog
import Foundation
import Logging
import SupportDomain
import Synchronization

/// Delivers the log's ticket events to the registered webhook endpoints.
///
/// Follows the `$webhooks` stream for the current endpoints and runs one worker per endpoint;
/// each worker reads the log after its checkpoint (`webhook:W-<n>`, from its registration's seq
/// at first), and POSTs every event the endpoint wants, once durable, in log order, retrying the
/// same event (backoff with full jitter, then the circuit breaker) until the endpoint takes it
/// with a 2xx. Delivery is at least once: the checkpoint is saved after deliveries, so after a
/// crash the last ones may come again (with the same `X-Ledgerdesk-Delivery`). Workers run on
/// their own tasks: a slow or dead endpoint delays only itself, and commands never wait.
package final class WebhookRunner: Sendable {
    let store: EventStore
    let checkpoints: any CheckpointStore
    let sealer: WebhookSealer
    let transport: any WebhookTransport
    let resolver: any WebhookResolver
    let addresses: WebhookAddressPolicy
    let retry: WebhookRetryPolicy
    /// The wall clock: the signatures' `t`, the attempts' instants, backoffs and cool-downs
    /// (real time whatever clock the backend's commands use).
    let clock: @Sendable () -> Timestamp
    let logger: Logger

    /// One endpoint's worker and its state.
    final class Worker: Sendable {
        let registration: WebhookRegistration
        let registeredAt: UInt64
        let progress: Mutex<WebhookProgress?>
        /// Bumped by a redelivery: an attempt begun before it does not overwrite its rewind.
        let generation = Atomic<Int>(0)
        let wakeup = Wakeup()
        let task = Mutex<Task<Void, Never>?>(nil)

        init(registration: WebhookRegistration, registeredAt: UInt64) {
            self.registration = registration
            self.registeredAt = registeredAt
            progress = Mutex(nil)
        }
    }

    private struct State {
        var workers: [String: Worker] = [:]
        var version: UInt64 = 0
        var running = false
    }

    private let state = Mutex(State())
    private let wakeup = Wakeup()

    package init(
        store: EventStore, checkpoints: any CheckpointStore, sealer: WebhookSealer, transport: any WebhookTransport,
        resolver: any WebhookResolver = SystemResolver(), addresses: WebhookAddressPolicy = WebhookAddressPolicy(),
        retry: WebhookRetryPolicy = WebhookRetryPolicy(), clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
        logger: Logger = Logger(label: "webhooks")
    ) {
        self.store = store
        self.checkpoints = checkpoints
        self.sealer = sealer
        self.transport = transport
        self.resolver = resolver
        self.addresses = addresses
        self.retry = retry
        self.clock = clock
        self.logger = logger
    }

    /// Follows the registrations until cancelled; stops every worker and the transport then.
    package func run() async {
        state.withLock { $0.running = true }
        while !Task.isCancelled {
            sync()
            let store = self.store
            let wakeup = self.wakeup
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await wakeup.wait() }
                group.addTask { try? await Task.sleep(for: .seconds(1)) }
                group.addTask {
                    if let head = try? store.head.seq { _ = await store.waitForEvents(after: head) }
                }
                await group.next()
                group.cancelAll()
            }
        }
        let workers = state.withLock { s -> [Worker] in
            s.running = false
            defer { s.workers.removeAll() }
            return Array(s.workers.values)
        }
        for worker in workers { await stop(worker) }
        await transport.shutdown()
    }

    /// Reads the registrations and starts or stops workers to match (also after a command changed them).
    package func sync() {
        let version: UInt64
        do { version = try store.version(of: StreamName.webhooks) } catch {
            logger.error("webhooks: cannot read \(StreamName.webhooks): \(error)")
            return
        }
        guard state.withLock({ $0.running && $0.version != version }) else { return }
        let endpoints: WebhookEndpoints
        do { endpoints = try WebhookEndpoints.fold(store.events(inStream: StreamName.webhooks)) } catch {
            logger.error("webhooks: cannot fold \(StreamName.webhooks): \(error)")
            return
        }
        let (started, stopped) = state.withLock { s -> ([Worker], [Worker]) in
            s.version = version
            var started: [Worker] = []
            var stopped: [Worker] = []
            let current = Set(endpoints.endpoints.map(\.registration.id))
            for (id, worker) in s.workers where !current.contains(id) {
                stopped.append(worker)
                s.workers[id] = nil
            }
            for (registration, seq) in endpoints.endpoints where s.workers[registration.id] == nil {
                let worker = Worker(registration: registration, registeredAt: seq)
                s.workers[registration.id] = worker
                started.append(worker)
            }
            return (started, stopped)
        }
        for worker in started {
            worker.task.withLock { $0 = Task { await self.work(worker) } }
        }
        for worker in stopped {
            Task { await self.stop(worker) }
        }
    }

    private func stop(_ worker: Worker) async {
        // Taken out of the worker: the task (whose closure holds the runner) is not kept after it ends.
        let task = worker.task.withLock { t -> Task<Void, Never>? in
            defer { t = nil }
            return t
        }
        task?.cancel()
        await task?.value
        await transport.close(endpoint: worker.registration.id)
    }

    /// Wakes the runner to read the registrations again (a command changed them).
    package func registrationsChanged() { wakeup.signal() }

    // MARK: Reading the progress

    /// Where delivery to `id` stands (nil when it has not started and has no checkpoint).
    package func progress(of id: String) -> WebhookProgress? {
        if let worker = state.withLock({ $0.workers[id] }), let progress = worker.progress.withLock({ $0 }) { return progress }
        return Self.storedProgress(of: id, checkpoints: checkpoints, store: store)
    }

    static func storedProgress(of id: String, checkpoints: any CheckpointStore, store: EventStore) -> WebhookProgress? {
        guard let stored = try? checkpoints.checkpoint(name: WebhookProgress.checkpointName(id), of: store) else { return nil }
        return WebhookProgress(decoding: stored.state)
    }

    /// Rewinds endpoint `id` so the events from `seq` on are delivered again, and closes its
    /// circuit. False when the runner has no worker for it (the caller rewinds the checkpoint).
    package func redeliver(_ id: String, from seq: UInt64) -> Bool {
        guard let worker = state.withLock({ $0.workers[id] }) else { return false }
        worker.generation.add(1, ordering: .sequentiallyConsistent)
        let rewound = worker.progress.withLock { p -> WebhookProgress in
            var progress = p ?? WebhookProgress(seq: worker.registeredAt)
            progress.seq = seq == 0 ? 0 : seq - 1
            progress.failures = 0
            progress.opens = 0
            progress.circuit = .closed
            progress.notBefore = 0
            p = progress
            return progress
        }
        save(rewound, id: id)
        worker.wakeup.signal()
        return true
    }

    /// Rewinds a stored checkpoint (no worker runs for the endpoint).
    static func rewind(
        _ id: String, registeredAt: UInt64, from seq: UInt64, checkpoints: any CheckpointStore, store: EventStore
    ) throws(EventLogError) {
        var progress = storedProgress(of: id, checkpoints: checkpoints, store: store) ?? WebhookProgress(seq: registeredAt)
        progress.seq = seq == 0 ? 0 : seq - 1
        progress.failures = 0
        progress.opens = 0
        progress.circuit = .closed
        progress.notBefore = 0
        try checkpoints.save(name: WebhookProgress.checkpointName(id), state: progress.encoded, appliedSeq: progress.seq, of: store)
    }

    private func save(_ progress: WebhookProgress, id: String) {
        do {
            try checkpoints.save(name: WebhookProgress.checkpointName(id), state: progress.encoded, appliedSeq: progress.seq, of: store)
        } catch {
            logger.error("webhooks: cannot save the checkpoint of \(id): \(error)")
        }
    }

    // MARK: One endpoint

    private func work(_ worker: Worker) async {
        let id = worker.registration.id
        let secret: String
        do { secret = try sealer.open(worker.registration.secret, id: id) } catch {
            logger.error("webhooks: \(id) is not delivered to: \(error)")
            return
        }
        let start = Self.storedProgress(of: id, checkpoints: checkpoints, store: store) ?? WebhookProgress(seq: worker.registeredAt)
        worker.progress.withLock { $0 = start }
        // Saved after every failure, and after 64 events or a second of deliveries: a crash
        // delivers the last ones again (at least once), and deliveries do not cost a flush each.
        var unsaved = 0
        var lastSave = ContinuousClock.now
        while !Task.isCancelled {
            guard let progress = worker.progress.withLock({ $0 }) else { return }
            let now = clock().milliseconds
            if progress.notBefore > now {
                if unsaved > 0 {
                    save(progress, id: id)
                    unsaved = 0
                }
                await pause(worker, milliseconds: progress.notBefore - now, after: nil)
                continue
            }
            let batch: [RecordedEvent]
            do { batch = try store.events(after: progress.seq, limit: 100) } catch {
                logger.error("webhooks: \(id) cannot read the log: \(error)")
                await pause(worker, milliseconds: 1000, after: nil)
                continue
            }
            if batch.isEmpty {
                if unsaved > 0 {
                    let since = ContinuousClock.now - lastSave
                    if since < .seconds(1) {
                        await pause(worker, milliseconds: max(1, 1000 - RetryMath.milliseconds(since)), after: progress.seq)
                        continue
                    }
                    save(progress, id: id)
                    unsaved = 0
                    lastSave = ContinuousClock.now
                }
                await pause(worker, milliseconds: 5000, after: progress.seq)
                continue
            }
            worker.progress.withLock { p in if p?.circuit == .open { p?.circuit = .halfOpen } }
            let generation = worker.generation.load(ordering: .sequentiallyConsistent)
            for event in batch {
                if Task.isCancelled || worker.generation.load(ordering: .sequentiallyConsistent) != generation { break }
                guard StreamName.isTicket(event.stream), worker.registration.wants(event.type) else {
                    // Not for this endpoint: passed over.
                    worker.progress.withLock { p in if let s = p?.seq, s < event.seq { p?.seq = event.seq } }
                    unsaved += 1
                    continue
                }
                // Nothing is sent that a crash could still take back.
                guard await store.waitUntilDurable(event.seq) else {
                    // The log closed or failed: nothing more becomes durable until a restart.
                    await pause(worker, milliseconds: 1000, after: nil)
                    break
                }
                let delivered = await attempt(event, worker: worker, secret: secret, generation: generation)
                if !delivered { break }
                unsaved += 1
                if unsaved >= 64, let p = worker.progress.withLock({ $0 }) {
                    save(p, id: id)
                    unsaved = 0
                    lastSave = ContinuousClock.now
                }
            }
        }
        if let p = worker.progress.withLock({ $0 }) { save(p, id: id) }
    }

    /// Waits `milliseconds`, or less when woken, or (with `after`) when the log grows past it.
    private func pause(_ worker: Worker, milliseconds: Int64, after: UInt64?) async {
        let store = self.store
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await worker.wakeup.wait() }
            group.addTask { try? await Task.sleep(for: .milliseconds(milliseconds)) }
            if let after { group.addTask { _ = await store.waitForEvents(after: after) } }
            await group.next()
            group.cancelAll()
        }
    }

    /// The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
    package static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message += body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// One attempt at `event`; true when delivered (the worker goes on), false when it must wait.
    private func attempt(_ event: RecordedEvent, worker: Worker, secret: String, generation: Int) async -> Bool {
        let registration = worker.registration
        let started = clock().milliseconds
        let body = store.configuration.envelope.jsonLine(of: event)
        var outcome: (status: Int?, error: String?)
        switch await checkedAddress(registration.url) {
        case .failure(let failure):
            outcome = (nil, failure.detail)
        case .success(let (host, address)):
            let timestamp = clock().milliseconds / 1000
            let request = WebhookRequest(
                endpoint: registration.id, url: registration.url, host: host, address: address,
                headers: [
                    ("Content-Type", "application/json"), ("User-Agent", "ledgerdesk-webhooks"),
                    ("X-Ledgerdesk-Event", event.type), ("X-Ledgerdesk-Delivery", "\(event.seq)"),
                    ("X-Ledgerdesk-Webhook", registration.id),
                    ("X-Ledgerdesk-Signature", Self.signature(secret: secret, timestamp: timestamp, body: body)),
                ],
                body: body, timeout: retry.timeout)
            let response = await transport.send(request)
            // Stopping mid-send: no outcome to record (the event is sent again after the restart).
            if Task.isCancelled { return false }
            switch response {
            case .status(let status) where (200..<300).contains(status): outcome = (status, nil)
            case .status(let status): outcome = (status, "the endpoint answered \(status)")
            case .failed(let detail): outcome = (nil, detail)
            }
        }
        let now = clock().milliseconds
        let delivered = outcome.error == nil
        let entry = WebhookDelivery(
            seq: event.seq, ticket: event.stream, type: event.type, at: started, status: outcome.status, error: outcome.error,
            delivered: delivered, milliseconds: max(0, now - started))
        let retry = self.retry
        let current = worker.generation.load(ordering: .sequentiallyConsistent) == generation
        let snapshot = worker.progress.withLock { p -> WebhookProgress? in
            guard var progress = p else { return nil }
            progress.record(entry)
            if current {
                if delivered {
                    progress.seq = max(progress.seq, event.seq)
                    progress.failures = 0
                    progress.opens = 0
                    progress.circuit = .closed
                    progress.notBefore = 0
                } else {
                    progress.failures += 1
                    if progress.circuit != .closed || progress.failures >= retry.failuresToOpen {
                        progress.opens += 1
                        progress.circuit = .open
                        progress.notBefore = now + retry.coolDown(opens: progress.opens)
                    } else {
                        let bound = retry.backoffBound(failures: progress.failures)
                        progress.notBefore = now + Int64.random(in: 0...max(0, bound))
                    }
                }
            }
            p = progress
            return progress
        }
        if !delivered, let snapshot {
            logger.warning("webhooks: \(registration.id) failed seq \(event.seq): \(outcome.error ?? "")")
            save(snapshot, id: registration.id)
        }
        return delivered && current
    }

    /// The URL's host, resolved now, every address checked; the first address to connect to.
    private func checkedAddress(_ url: String) async -> Result<(String, IPAddress), WebhookFailure> {
        guard let parts = URLParts(url) else { return .failure(WebhookFailure("\(url) is not an http or https URL")) }
        switch await resolver.addresses(of: parts.host) {
        case .failure(let failure): return .failure(failure)
        case .success(let found):
            for address in found {
                if let problem = addresses.problem(with: address) { return .failure(WebhookFailure("blocked: \(problem)")) }
            }
            guard let first = found.first else { return .failure(WebhookFailure("\(parts.host) has no address")) }
            return .success((parts.host, first))
        }
    }
}

extension WebhookRunner {
    /// The circuit as seen now: an open circuit whose cool-down ended is half-open.
    package static func circuit(of progress: WebhookProgress, now: Int64) -> WebhookCircuit {
        progress.circuit == .open && progress.notBefore <= now ? .halfOpen : progress.circuit
    }
}

enum RetryMath {
    static func milliseconds(_ d: Duration) -> Int64 { WebhookRetryPolicy.milliseconds(d) }
}

/// A signal one task waits for and others give (a pending signal is kept for the next wait).
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.pending = true
            return nil
        }
        waiter?.resume()
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.pending || Task.isCancelled {
                        s.pending = false
                        return true
                    }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
    }
}
