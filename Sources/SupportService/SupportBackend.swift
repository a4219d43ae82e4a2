import EventLog
import Foundation
import LogReplication
import Projections
import ServiceLifecycle
import SupportDomain
import Synchronization

/// Everything the API serves from: the log, the policy, the projections, the command handling
/// and the limits on expensive work. One per data directory; ``close()`` (or
/// ``EventLogService``) closes the log last.
package final class SupportBackend: Sendable {
    /// The log.
    package let store: EventStore
    /// The policy, compiled: SLA targets, the business calendar, input limits.
    package let levels: ServiceLevels
    /// The projections (queues, workloads, metrics), following the log.
    package let projections: ProjectionRunner
    package let commands: TicketCommands
    /// The attachments' bytes, content-addressed beside the log (`<data dir>/attachments`).
    package let attachments: any AttachmentStore
    /// The checkpoints of the runners that follow the log (projections, the mail outbox).
    package let checkpoints: any CheckpointStore
    /// The mail channel's way in: takes one message into the log (`POST /v1/mail`).
    package let mail: MailIntake
    /// What the mail outbox has done (zero when none runs), for `GET /metrics`.
    package let mailCounters = MailCounters()
    /// What the automations have appended (zero when none run), for `GET /metrics`.
    package let automationCounters = AutomationCounters()
    /// The limits the backend and its HTTP edge run under (rate, long-polls, point-in-time folds,
    /// idle connections, import chunks).
    package let limits: ServerLimits
    package let rateLimiter: RateLimiter
    package let longPolls: ConcurrencyGate
    package let pointInTime: PointInTimeFolds
    /// Triggered when the server starts shutting down (long-polls answer at once).
    package let shutdown = ShutdownSignal()
    package let clock: @Sendable () -> Timestamp
    /// Told how long each command's append took (the HTTP edge's metrics listen).
    package let appendObserver: AppendObserver
    /// The webhook endpoints' commands (registrations in `$webhooks`; delivery by ``makeWebhooks(transport:resolver:addresses:retry:)``).
    package let webhooks: WebhookCommands
    /// The node's place in a replicated desk (nil for a single node, which leads itself).
    package let cluster: (any ClusterMembership)?
    /// Where a replicated desk's nodes share attachments' content (nil for a single node).
    package let sharedAttachments: (any SharedAttachments)?

    /// Opens the log in `dataDirectory` (created when missing) under `policy`, served under
    /// `limits`. `monotonicNanoseconds` is the rate limiter's clock (a test moves its own).
    package convenience init(
        dataDirectory: String, policy: Policy = .default, durability: Durability = .durable,
        rebuildProjections: Bool = false, limits: ServerLimits = .default, mail: MailSettings = .default,
        customers: CustomerDirectory? = nil,
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() },
        monotonicNanoseconds: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds },
        replicator: (any LogReplicator)? = nil, cluster: (any ClusterMembership)? = nil,
        sharedAttachments: (any SharedAttachments)? = nil
    ) throws {
        try self.init(
            dataDirectory: dataDirectory, policy: policy, durability: durability,
            rebuildProjections: rebuildProjections, limits: limits, mail: mail, customers: customers, clock: clock,
            monotonicNanoseconds: monotonicNanoseconds, faults: StorageFaults(), replicator: replicator, cluster: cluster,
            sharedAttachments: sharedAttachments)
    }

    /// The same, with faults injected into the log's flushes (tests).
    package init(
        dataDirectory: String, policy: Policy, durability: Durability, rebuildProjections: Bool,
        limits: ServerLimits, mail: MailSettings = .default, customers: CustomerDirectory? = nil,
        clock: @escaping @Sendable () -> Timestamp,
        monotonicNanoseconds: @escaping @Sendable () -> UInt64, faults: StorageFaults,
        replicator: (any LogReplicator)? = nil, cluster: (any ClusterMembership)? = nil,
        sharedAttachments: (any SharedAttachments)? = nil
    ) throws {
        self.limits = limits
        self.cluster = cluster
        self.sharedAttachments = sharedAttachments
        appendObserver = AppendObserver()
        rateLimiter = RateLimiter(requestsPerSecond: limits.requestsPerSecond, burst: limits.burst, clock: monotonicNanoseconds)
        longPolls = ConcurrencyGate(limit: limits.concurrentLongPolls)
        pointInTime = PointInTimeFolds(limit: limits.concurrentPointInTimeFolds)
        var log = EventLogConfiguration(
            directory: dataDirectory, envelope: EnvelopeFormat(streamField: "ticket"),
            durability: durability, clock: clock)
        log.faults = faults
        log.replicator = replicator
        store = try EventStore(log)
        // An import cut by a crash left its spool behind; the writer lock we now hold means no import runs.
        ImportSpool.removeLeftovers(in: dataDirectory)
        levels = try ServiceLevels(policy: policy)
        let attachmentFiles = try FileAttachmentStore(directory: dataDirectory + "/attachments")
        attachmentFiles.removeLeftovers()
        attachments = attachmentFiles
        let checkpoints = try LMDBCheckpointStore(dataDirectory: dataDirectory, readOnly: store.configuration.readOnly)
        self.checkpoints = checkpoints
        projections = try ProjectionRunner(store: store, checkpoints: checkpoints, levels: levels, rebuild: rebuildProjections)
        commands = TicketCommands(
            store: store, levels: levels, directory: try TicketDirectory(store: store),
            projections: projections, appendObserver: appendObserver, clock: clock)
        self.mail = MailIntake(
            commands: commands, store: store, settings: mail, directory: try customers ?? CustomerDirectory(path: nil),
            attachments: AttachmentShelf(local: attachments, shared: sharedAttachments), limits: levels.policy.limits)
        self.clock = clock
        webhooks = WebhookCommands(store: store, checkpoints: checkpoints, dataDirectory: dataDirectory)
    }

    /// Attachments' content on this node and, in a replicated desk, shared by the nodes.
    package var attachmentShelf: AttachmentShelf { AttachmentShelf(local: attachments, shared: sharedAttachments) }

    /// Brings what the node derives from its log at start-up (the ticket ids in use) up to the
    /// events it applied as a follower: called before a node of a cluster takes the lead.
    package func prepareToLead() throws {
        try commands.directory.catchUp(with: store)
    }

    /// Finishes queued appends and closes the log.
    package func close() { store.close() }
}

/// Who is told how long each command's append took: one listener at a time (the HTTP edge's
/// metrics), none by default.
package final class AppendObserver: Sendable {
    /// The closure sits in a struct: a bare function value held in the mutex's generic storage
    /// is re-abstracted on every inout access, and each `withLock` would wrap it in two more
    /// thunks (a chain that grew with every command and made appends linear in their count).
    private struct Listener: Sendable {
        let body: @Sendable (Duration) -> Void
    }

    private let listener = Mutex<Listener?>(nil)

    package init() {}

    /// Sets the listener (replacing the previous one).
    package func listen(_ body: @escaping @Sendable (Duration) -> Void) { listener.withLock { $0 = Listener(body: body) } }

    package func record(_ duration: Duration) {
        let current = listener.withLock { $0 }
        current?.body(duration)
    }
}

/// Closes the log when the service group shuts down, after the HTTP server (which the
/// application stops first) has finished its in-flight requests.
package struct EventLogService: Service {
    let backend: SupportBackend
    package init(backend: SupportBackend) { self.backend = backend }

    package func run() async throws {
        try? await gracefulShutdown()
        backend.close()
    }
}

/// Runs the projections while the server runs (stopped after the HTTP server has drained).
package struct ProjectionService: Service {
    let backend: SupportBackend
    package init(backend: SupportBackend) { self.backend = backend }

    package func run() async throws {
        await cancelWhenGracefulShutdown { await backend.projections.run() }
    }
}

extension SupportBackend {
    /// The outbox that mails the agents' replies through `transport`, following this log with
    /// its checkpoint in ``checkpoints``. Run it with ``MailOutboxService``.
    package func makeOutbox(transport: any MailTransport, retry: MailRetryPolicy = MailRetryPolicy()) -> MailOutbox {
        MailOutbox(
            store: store, commands: commands, settings: mail.settings, directory: mail.directory, attachments: attachmentShelf,
            transport: transport, checkpoints: checkpoints, retry: retry, clock: clock, counters: mailCounters)
    }
}

/// Runs the mail outbox while the server runs (stopped with the other services at shutdown).
package struct MailOutboxService: Service {
    let outbox: MailOutbox
    package init(outbox: MailOutbox) { self.outbox = outbox }

    package func run() async throws {
        await cancelWhenGracefulShutdown { await outbox.run() }
    }
}
