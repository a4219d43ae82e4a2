import EventLog
import Foundation
import Logging
import NATSClient
import Synchronization

/// One node of a replicated desk: it follows the JetStream stream into its own log while another
/// node leads, and takes the lead when the lease is free and it has applied everything the
/// stream holds.
///
/// The log's writer writes through ``replicator`` (give it to the log's configuration before the
/// log opens); ``run(store:beforeLeading:)`` does the rest until its task is cancelled:
/// - **Following**: reads the stream from the log's head + 1 and writes each event with
///   ``EventStore/applyReplicated(_:)``, which checks `prev` and `hash` as `verify` does, so the
///   node's log is always a prefix of the stream, byte for byte.
/// - **Leading**: the lease is a key in a key-value bucket whose max age is the lease's length.
///   It is created when absent (or taken over when released), then refreshed with the expected
///   revision every quarter lease; the node writes only within three quarters of a lease of its
///   last good refresh (``ClusterConfiguration/leaderValidity``). A refresh refused (another
///   node holds the lease) or a group JetStream did not store steps it down.
/// - **Leaving** (cancellation, a graceful shutdown): a leader releases its lease so that a
///   follower takes over at its next look instead of after the lease's expiry.
package final class ClusterNode: Sendable {
    package let configuration: ClusterConfiguration
    /// The writer's way into the stream.
    package let replicator: StreamReplicator
    private let logger: Logger
    private let known = Mutex<(leader: (node: String, url: String)?, streamSeq: UInt64?, problem: String?)>((nil, nil, nil))
    /// JetStream, once ``run(store:beforeLeading:)`` has connected and prepared the streams.
    private let connected = Mutex<JetStream?>(nil)

    /// JetStream when the node is connected and the streams exist (nil before).
    package var jetStream: JetStream? { connected.withLock { $0 } }

    package init(configuration: ClusterConfiguration, logger: Logger) {
        self.configuration = configuration
        self.replicator = StreamReplicator(configuration: configuration)
        self.logger = logger
    }

    /// What this node knows now.
    package var status: ClusterStatus {
        let leading = replicator.isLeading
        let (leader, streamSeq, problem) = known.withLock { ($0.leader, $0.streamSeq, $0.problem) }
        // A node that no longer leads does not name itself: it does not know who leads yet.
        let other = leader.flatMap { $0.node == configuration.node ? nil : $0 }
        // A leader's own writes are the stream's newest: what JetStream acknowledged counts too.
        let seen = leading ? max(streamSeq ?? 0, replicator.lastStoredSeq) : streamSeq
        return ClusterStatus(
            node: configuration.node, leading: leading,
            leader: leading ? (configuration.node, configuration.advertisedURL) : other, streamSeq: seen, problem: problem)
    }

    /// The lease's value: who leads and where its API is (`node` empty: released).
    struct LeaseHolder: Codable, Equatable {
        var node: String
        var url: String
    }

    /// Follows and leads until the task is cancelled. `beforeLeading` runs once the node has
    /// applied the whole stream and before it takes the lease (the caller brings what it derives
    /// from the log up to date); when it throws, the node does not lead this time.
    package func run(store: EventStore, beforeLeading: @escaping @Sendable () async throws -> Void) async {
        guard let connection = await connect() else { return }
        let stream = JetStream(connection: connection, timeout: .seconds(3))
        guard let bucket = await prepare(stream) else {
            await connection.close()
            return
        }
        replicator.attach(stream)
        connected.withLock { $0 = stream }
        var follower = Follower(node: self, store: store, stream: stream)
        var lease = Lease(node: self, bucket: bucket, stream: stream, store: store)
        var lastLook = ContinuousClock.now - configuration.lease
        while !Task.isCancelled {
            if replicator.isLeading {
                await follower.stop()
                if ContinuousClock.now - lastLook >= configuration.refreshInterval {
                    lastLook = .now
                    await lease.refresh()
                }
                try? await Task.sleep(for: .milliseconds(50))
            } else {
                await follower.applyNext()
                if ContinuousClock.now - lastLook >= configuration.followerCheckInterval {
                    lastLook = .now
                    await lease.tryToLead(beforeLeading: beforeLeading)
                }
            }
        }
        await follower.stop()
        await lease.release()
        connected.withLock { $0 = nil }
        await connection.close()
    }

    /// Connects to the cluster's servers, trying again every second until it works or the task
    /// is cancelled.
    private func connect() async -> NATSConnection? {
        var attempt = 0
        while !Task.isCancelled {
            do {
                return try await NATSConnection.connect(
                    to: configuration.servers, name: "supportd-\(configuration.node)", logger: logger)
            } catch {
                if attempt % 10 == 0 { logger.warning("cannot reach the NATS cluster yet: \(error)") }
                attempt += 1
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return nil
    }

    /// Makes sure the stream and the lease's bucket exist (replicas as configured), trying again
    /// every second while JetStream is not ready (no meta leader yet) or the task is cancelled.
    private func prepare(_ stream: JetStream) async -> KeyValue? {
        var attempt = 0
        while !Task.isCancelled {
            do {
                if try await stream.streamInfo(configuration.streamName) == nil {
                    _ = try await stream.addStream(
                        StreamConfig(
                            name: configuration.streamName, subjects: [configuration.subject], replicas: configuration.replicas,
                            storage: .file, duplicateWindow: .seconds(120), allowDirect: true, denyDelete: true))
                }
                if try await stream.streamInfo(configuration.attachmentStream) == nil {
                    _ = try await stream.addStream(
                        StreamConfig(
                            name: configuration.attachmentStream, subjects: [configuration.attachmentSubjectPrefix + ".*"],
                            replicas: configuration.replicas, storage: .file, maxMessagesPerSubject: 1,
                            duplicateWindow: .seconds(120), allowDirect: true, denyDelete: true))
                }
                return try await KeyValue.create(
                    stream, bucket: configuration.bucket, ttl: configuration.lease, replicas: configuration.replicas)
            } catch {
                if attempt % 10 == 0 { logger.warning("JetStream is not ready for the log yet: \(error)") }
                attempt += 1
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return nil
    }

    fileprivate func noteLeader(_ holder: LeaseHolder?) {
        known.withLock { $0.leader = holder.flatMap { $0.node.isEmpty ? nil : ($0.node, $0.url) } }
    }

    fileprivate func noteProblem(_ problem: String?) {
        known.withLock { $0.problem = problem }
    }

    fileprivate func noteStreamSeq(_ seq: UInt64) {
        known.withLock { $0.streamSeq = seq }
    }

    fileprivate var log: Logger { logger }
}

/// A follower's reading of the stream into the log.
private struct Follower {
    let node: ClusterNode
    let store: EventStore
    let stream: JetStream
    var reader: StreamReader?
    var failures = 0

    init(node: ClusterNode, store: EventStore, stream: JetStream) {
        self.node = node
        self.store = store
        self.stream = stream
    }

    /// Applies the next events the stream holds (waiting a little for them when there are none).
    mutating func applyNext() async {
        do {
            let head = try store.head.seq
            if reader == nil {
                reader = try await stream.reader(stream: node.configuration.streamName, from: head + 1)
            }
            guard let reader else { return }
            let messages = try await reader.next(max: 512, wait: .milliseconds(100))
            guard !messages.isEmpty else { return }
            var events: [ReplicatedEvent] = []
            events.reserveCapacity(messages.count)
            for (offset, message) in messages.enumerated() {
                let seq = head + 1 + UInt64(offset)
                guard message.sequence == seq else {
                    throw EventLogError.corruptRecord(seq: seq, reason: "the stream answered sequence \(message.sequence)")
                }
                events.append(try ReplicatedEvent(decoding: message.payload, expectedSeq: seq))
            }
            do {
                try await store.applyReplicated(events)
            } catch {
                if case .corruptRecord(let seq, let reason) = error {
                    node.noteProblem("this node's log does not continue the stream at seq \(seq): \(reason)")
                }
                throw error
            }
            node.noteStreamSeq(max(events.last?.seq ?? 0, node.status.streamSeq ?? 0))
            node.noteProblem(nil)
            failures = 0
        } catch {
            failures += 1
            if failures == 1 || failures % 20 == 0 {
                node.log.warning("following the stream failed (\(failures) in a row): \(error)")
            }
            await stop()
            try? await Task.sleep(for: .milliseconds(min(1000, 100 * failures)))
        }
    }

    mutating func stop() async {
        if let reader { await reader.close() }
        reader = nil
    }
}

/// The leader lease in the key-value bucket.
private struct Lease {
    let node: ClusterNode
    let bucket: KeyValue
    let stream: JetStream
    let store: EventStore
    /// The revision of the lease this node last wrote (it may take it back after stepping down).
    var revision: UInt64?
    /// Whether the node said that its log is not an extension of the stream (said once).
    var saidDiverged = false

    init(node: ClusterNode, bucket: KeyValue, stream: JetStream, store: EventStore) {
        self.node = node
        self.bucket = bucket
        self.stream = stream
        self.store = store
    }

    private var mine: [UInt8] {
        let holder = ClusterNode.LeaseHolder(node: node.configuration.node, url: node.configuration.advertisedURL)
        return Array((try? JSONEncoder().encode(holder)) ?? Data())
    }

    /// Takes the lease when it is free (absent, expired, released) or still this node's, and the
    /// log holds everything the stream does.
    mutating func tryToLead(beforeLeading: @Sendable () async throws -> Void) async {
        let key = node.configuration.leaseKey
        do {
            let entry = try await bucket.get(key)
            let holder = entry.flatMap { try? JSONDecoder().decode(ClusterNode.LeaseHolder.self, from: Data($0.value)) }
            node.noteLeader(holder)
            guard let info = try await stream.streamInfo(node.configuration.streamName) else { return }
            node.noteStreamSeq(info.state.lastSequence)
            if let holder, !holder.node.isEmpty {
                // Held: by another node, or by this one under a revision it no longer knows.
                guard holder.node == node.configuration.node, entry?.revision == revision else { return }
            }
            let head = try store.head
            if info.state.lastSequence < head.seq {
                // This node's log goes beyond the stream: a single node's log joining the
                // cluster (or such a joining cut short). It publishes the rest first.
                guard try await publishBeyond(info.state.lastSequence, head: head) else { return }
            } else if info.state.lastSequence > head.seq {
                return
            }
            try await beforeLeading()
            let sent = ContinuousClock.now
            let taken: UInt64
            if let entry {
                taken = try await bucket.update(key, value: mine, expectedRevision: entry.revision)
            } else {
                taken = try await bucket.create(key, value: mine)
            }
            revision = taken
            node.replicator.lead(until: sent + node.configuration.leaderValidity)
            node.noteLeader(ClusterNode.LeaseHolder(node: node.configuration.node, url: node.configuration.advertisedURL))
            node.log.notice("\(node.configuration.node) leads the cluster from seq \(head.seq) (lease revision \(taken))")
        } catch {
            node.log.debug("not taking the lead now: \(error)")
        }
    }

    /// Publishes this node's events after `last` (the stream's last sequence) when the stream is
    /// a prefix of its log, each with the expected last sequence (so a node that began leading the
    /// shorter stream meanwhile wins, and this one stops). Returns whether the stream now holds
    /// the whole log; says why not in the node's log.
    private mutating func publishBeyond(_ last: UInt64, head: LogHead) async throws -> Bool {
        let name = node.configuration.streamName
        if last > 0 {
            let local = try store.read { try $0.event(seq: last) }
            let theirs = try await stream.message(stream: name, sequence: last)
            let shared = try theirs.map { try ReplicatedEvent(decoding: $0.payload, expectedSeq: last) }
            guard let local, let shared, shared.hash == local.hash else {
                node.noteProblem(
                    "this node's log (head \(head)) is not an extension of the stream: its event \(last) differs from the stream's")
                guard !saidDiverged else { return false }
                saidDiverged = true
                node.log.error(
                    "this node's log (head \(head)) is not an extension of the stream (its event \(last) differs): it neither follows nor leads; give it an empty data directory or another node's backup"
                )
                return false
            }
        }
        node.log.notice("publishing this node's events \(last + 1)-\(head.seq) to the stream it joins")
        var from = last
        while from < head.seq {
            let events = try store.replicatedEvents(after: from, limit: 256)
            guard !events.isEmpty else { break }
            let results = await stream.publishAll(
                events.map { node.configuration.publication(of: $0) })
            for (event, result) in zip(events, results) {
                guard case .success(let ack) = result, ack.sequence == event.seq else {
                    node.log.warning("publishing event \(event.seq) to the stream failed: \(result)")
                    return false
                }
            }
            from = events.last?.seq ?? head.seq
            node.noteStreamSeq(from)
        }
        return true
    }

    /// Refreshes the lease; a refusal (another revision: someone else took it) steps down at
    /// once, any other failure lets the lease's validity run out by itself.
    mutating func refresh() async {
        guard let current = revision else {
            node.replicator.stepDown("no lease")
            return
        }
        let sent = ContinuousClock.now
        do {
            revision = try await bucket.update(node.configuration.leaseKey, value: mine, expectedRevision: current)
            node.replicator.lead(until: sent + node.configuration.leaderValidity)
        } catch {
            if error.isWrongLastSequence {
                revision = nil
                node.replicator.stepDown("another node took the lease")
                node.log.warning("\(node.configuration.node) lost the lease to another node")
            } else {
                node.log.warning("refreshing the lease failed: \(error)")
            }
        }
    }

    /// Gives the lease up (a leader leaving): followers take over at their next look.
    mutating func release() async {
        guard node.replicator.isLeading, let current = revision else { return }
        node.replicator.stepDown("leaving")
        let released = Array((try? JSONEncoder().encode(ClusterNode.LeaseHolder(node: "", url: ""))) ?? Data())
        _ = try? await bucket.update(node.configuration.leaseKey, value: released, expectedRevision: current)
        revision = nil
    }
}
