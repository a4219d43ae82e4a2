import ArgumentParser
import EventLog
import Foundation
import LogReplication
import Logging
import NATSClient
import Projections
import SupportDomain
import SupportService

/// `support-replay`: audit a data directory directly and read-only (safe while supportd runs).
@main
struct SupportReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-replay",
        abstract: "Replay and audit a Ledgerdesk log: history, SLA clocks, as-of, verify, export, import.",
        subcommands: [History.self, SLA.self, AsOf.self, Verify.self, Export.self, Import.self, Backup.self, Migrate.self])
}

struct DataDirectory: ParsableArguments {
    @Option(help: "The data directory.") var dataDir = "./data"
    @Option(help: "A policy file (JSON), as supportd was started with.") var policy: String?

    func openReadOnly() throws -> EventStore {
        try EventStore(EventLogConfiguration(directory: dataDir, envelope: EnvelopeFormat(streamField: "ticket"), readOnly: true))
    }

    func levels() throws -> ServiceLevels {
        guard let policy else { return try ServiceLevels(policy: .default) }
        return try ServiceLevels(policy: try Policy.parse(jsonData: try Data(contentsOf: URL(fileURLWithPath: policy))))
    }
}

/// Writes to standard output without Foundation's buffering surprises.
func emit(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every event of a ticket with the ticket's state after it.")
    @OptionGroup var directory: DataDirectory
    @Argument(help: "The ticket id.") var ticket: String
    @Flag(help: "JSON: the body GET /v1/tickets/{id}/history answers, byte for byte, then a newline.") var json = false

    func run() throws {
        let store = try directory.openReadOnly()
        let levels = try directory.levels()
        guard StreamName.isTicket(ticket) else { throw ValidationError("\(ticket) is a stream of the system's own, not a ticket") }
        let events = try store.events(inStream: ticket)
        guard !events.isEmpty else { throw ValidationError("no ticket \(ticket) in \(directory.dataDir)") }
        if json {
            let body = try TicketHistory.body(ticket: ticket, events: events, envelope: store.configuration.envelope, levels: levels)
            FileHandle.standardOutput.write(Data(body + [0x0A]))
            return
        }
        var fold = TicketFold()
        for recorded in events {
            let event = try fold.apply(recorded)
            guard let t = fold.ticket else { throw ValidationError("\(ticket) does not start with ticket.opened") }
            let service = t.serviceState(at: recorded.at, levels: levels)
            let due = service.nextDue.map { "\($0.rfc3339) (\(service.nextDueTarget?.rawValue ?? ""))" } ?? "-"
            emit(
                """
                seq \(recorded.seq)  v\(recorded.version)  at \(recorded.at.rfc3339)  recorded \(recorded.recorded.rfc3339)
                  \(recorded.actor.kind):\(recorded.actor.id)  \(recorded.type)  \(Self.summary(event))
                  -> \(t.status.rawValue), \(t.priority.rawValue), team \(t.team), assignee \(t.assignee ?? "-"), next due \(due)\(service.breached ? ", BREACHED" : "")

                """)
        }
    }

    static func summary(_ event: TicketEvent) -> String {
        func clip(_ s: String) -> String { s.count > 60 ? String(s.prefix(57)) + "..." : s }
        switch event {
        case .opened(let o):
            return "\"\(clip(o.subject))\" for \(o.customer) via \(o.channel.rawValue), \(o.product), \(o.priority.rawValue)"
        case .messagePosted(let m): return "\"\(clip(m.body))\""
        case .noteAdded(let n): return "note \"\(clip(n.body))\""
        case .assigned(let a): return a.agent.map { "to \($0)" } ?? "unassigned" + (a.team.map { ", team \($0)" } ?? "")
        case .priorityChanged(let p): return "priority \(p.rawValue)"
        case .statusChanged(let s): return "status \(s.rawValue)"
        case .escalated(let e): return "to \(e.team): \(clip(e.reason))"
        case .tagsChanged(let t): return "+\(t.added ?? []) -\(t.removed ?? [])"
        case .merged(let into): return "into \(into)"
        case .satisfactionRated(let r): return "score \(r.score)" + (r.reply.map { " for v\($0)" } ?? "")
        case .delivered(let d): return "v\(d.reply) mailed to \(d.to) as \(d.messageId)"
        case .deliveryFailed(let f): return "v\(f.reply) not mailed to \(f.to)\(f.permanent ? "" : " (will retry)"): \(clip(f.reason))"
        case .slaWarning(let w): return "\(w.target.rawValue) due at \(w.due.rfc3339)"
        }
    }
}

struct SLA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla", abstract: "Every SLA interval of a ticket explained: what GET /v1/tickets/{id}/sla answers.")
    @OptionGroup var directory: DataDirectory
    @Argument(help: "The ticket id.") var ticket: String
    @Option(help: "Only the events with at <= this instant (RFC 3339), evaluated then; else all, evaluated now.") var asOf: String?
    @Flag(help: "JSON: the body GET /v1/tickets/{id}/sla answers, byte for byte, then a newline.") var json = false

    func run() throws {
        let instant = try asOf.map { text in
            guard let t = Timestamp(rfc3339: text, allowOffset: true) else { throw ValidationError("not an RFC 3339 instant: \(text)") }
            return t
        }
        let store = try directory.openReadOnly()
        let levels = try directory.levels()
        guard StreamName.isTicket(ticket) else { throw ValidationError("\(ticket) is a stream of the system's own, not a ticket") }
        let events = try store.events(inStream: ticket)
        guard
            let answer = try SLAExplanationAnswer.make(
                ticket: ticket, events: events, asOf: instant, now: Timestamp.now(), levels: levels)
        else { throw ValidationError("no ticket \(ticket) in \(directory.dataDir)" + (asOf.map { " at \($0)" } ?? "")) }
        if json {
            FileHandle.standardOutput.write(Data(answer.canonicalJSON + [0x0A]))
            return
        }
        emit(
            "\(answer.ticket) v\(answer.version), evaluated at \(answer.evaluatedAt.rfc3339) (\(answer.timeZone), policy \(answer.policyHash.prefix(12)))\n"
        )
        for i in answer.intervals {
            let target = i.target.map { "\($0.seconds) s \($0.clock.rawValue)" } ?? "no target"
            let end =
                i.end.map { "\($0.rfc3339) by seq \(i.endedBy?.seq ?? 0) v\(i.endedBy?.version ?? 0) \(i.endedBy?.type ?? "")" }
                ?? "running"
            emit(
                """
                \(i.metric) \(i.state)\(i.outcome.map { ", " + $0.uppercased() } ?? "")\(i.late.map { " (\($0.milliseconds / 1000) s late)" } ?? "")
                  from \(i.start.rfc3339) by seq \(i.startedBy.seq) v\(i.startedBy.version) \(i.startedBy.type)
                  to   \(end)\(i.reopenedBy.map { ", reopened by seq \($0.seq) v\($0.version)" } ?? "")
                  \(i.priority) (\(i.priorityBasis)), target \(target), due \(i.due?.rfc3339 ?? "never")
                  elapsed \(i.elapsed.calendar.milliseconds / 1000) s calendar, \(i.elapsed.business.milliseconds / 1000) s business in \(i.businessTime.windowCount) windows\(i.businessTime.notableDays.isEmpty ? "" : "; " + i.businessTime.notableDays.map { "\($0.date) \($0.kind)" }.joined(separator: ", "))

                """)
        }
    }
}

struct AsOf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "as-of",
        abstract:
            "A ticket, a team's queue or an agent's queue as it stood at an instant: the body the API answers with asOf, then a newline.")
    @OptionGroup var directory: DataDirectory
    @Argument(help: "The instant (RFC 3339, any offset).") var instant: String
    @Argument(help: "The ticket id (unless --queue or --agent): GET /v1/tickets/{id}?asOf=.") var ticket: String?
    @Option(help: "A team: its queue at that instant (GET /v1/queues/{team}?asOf=).") var queue: String?
    @Option(help: "An agent: their queue at that instant (GET /v1/agents/{id}/queue?asOf=).") var agent: String?

    func validate() throws {
        guard [ticket != nil, queue != nil, agent != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of a ticket id, --queue TEAM or --agent ID")
        }
    }

    func run() throws {
        guard let at = Timestamp(rfc3339: instant, allowOffset: true) else { throw ValidationError("not an RFC 3339 instant: \(instant)") }
        let store = try directory.openReadOnly()
        let levels = try directory.levels()
        let body: [UInt8]
        if let queue {
            let projection = try ProjectionRunner.fold(store: store, levels: levels, upTo: at, logger: Logger(label: "as-of"))
            body = QueueAnswer.body(owner: ("team", queue), entries: projection.teamQueue(queue, at: at), at: at)
        } else if let agent {
            let projection = try ProjectionRunner.fold(store: store, levels: levels, upTo: at, logger: Logger(label: "as-of"))
            body = QueueAnswer.body(owner: ("agent", agent), entries: projection.agentQueue(agent, at: at), at: at)
        } else if let ticket {
            guard StreamName.isTicket(ticket) else { throw ValidationError("\(ticket) is a stream of the system's own, not a ticket") }
            let events = try store.events(inStream: ticket).prefix { $0.at <= at }
            guard let t = try Ticket.fold(events) else { throw ValidationError("\(ticket) did not exist at \(at.rfc3339)") }
            // An auditor's view: the whole thread, notes included.
            body = TicketBody(t, at: at, levels: levels, viewer: Self.auditor).canonicalJSON
        } else {
            return
        }
        FileHandle.standardOutput.write(Data(body + [0x0A]))
    }

    /// Whom the tool reads as: an auditor sees every ticket and its internal notes.
    static let auditor = Principal(role: .auditor, id: "support-replay")
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the hash chain, seq and version continuity, the stream index and the stored head; exit 0 only when all hold.")
    @OptionGroup var directory: DataDirectory
    @Option(help: "A head noted earlier, SEQ:HASH (from GET /v1/events/head): the log must still extend it.") var expectHead: String?
    @Option(help: "A replicated desk's NATS servers (nats://h:4222,…): the log must also be a prefix of the cluster's stream.")
    var cluster: String?
    @Option(help: "The cluster's stream (with --cluster).") var stream = "LEDGERDESK"

    func run() async throws {
        try check()
        if let cluster { try await compare(with: cluster) }
    }

    /// The log's head against the cluster's stream (after the chain is proven).
    private func compare(with cluster: String) async throws {
        guard let servers = NATSServerURL.list(cluster), !servers.isEmpty else {
            throw ValidationError("--cluster must be nats://host:port[,nats://host:port…]")
        }
        let store = try directory.openReadOnly()
        var logger = Logger(label: "verify")
        logger.logLevel = .warning
        let connection = try await NATSConnection.connect(to: servers, name: "support-replay", logger: logger)
        let result: Result<StreamComparison, any Error>
        do {
            result = .success(try await StreamComparison.compare(store, with: JetStream(connection: connection), name: stream))
        } catch {
            result = .failure(error)
        }
        await connection.close()
        let comparison = try result.get()
        if let mismatch = comparison.mismatch {
            emit("FAILED: not a prefix of stream \(stream): \(mismatch)\n")
            throw ExitCode(1)
        }
        emit("OK: the log is stream \(stream)'s prefix through seq \(comparison.head.seq) (the stream holds \(comparison.streamLastSeq))\n")
    }

    private func check() throws {
        var expected: LogHead?
        if let expectHead {
            guard let head = LogHead(expectHead) else { throw ValidationError("--expect-head must be SEQ:HASH (64 hex digits)") }
            expected = head
        }
        let store = try directory.openReadOnly()
        let total = (try? store.head.seq) ?? 0
        let terminal = isatty(STDERR_FILENO) == 1
        let start = ContinuousClock.now
        let report = try store.verify(expectedHead: expected) { checked in
            guard terminal, total > 0 else { return }
            let width = 40, done = Int(Double(checked) / Double(total) * Double(width))
            FileHandle.standardError.write(
                Data(
                    "\r[\(String(repeating: "#", count: done))\(String(repeating: ".", count: max(0, width - done)))] \(checked)/\(total)"
                        .utf8))
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(report.eventsChecked) / seconds : 0
        if let failure = report.failure {
            emit("FAILED: \(failure)\n")
            emit("checked \(report.eventsChecked) events (\(Int(rate)) events/s)\n")
            throw ExitCode(1)
        }
        emit("OK: \(report.eventsChecked) events, head \(report.head)\n")
        if report.segmentPending > 0 {
            emit(
                "the write-ahead segment holds \(report.segmentPending) more events that chain onto the head: a writer is running, or stopped without closing (its next open applies them)\n"
            )
        }
        emit("\(Int(rate)) events/s\n")
        // The stored projection state must be what a fresh rebuild of the log up to its seq gives.
        if let stored = try store.checkpoint(name: ProjectionRunner.checkpointName) {
            let levels = try directory.levels()
            let header = try ProjectionCheckpointHeader(stored.state)
            guard header.policyHash == levels.policy.hash else {
                emit("projection checkpoint: built under another policy (\(header.policyHash)); it will be rebuilt, not checked\n")
                return
            }
            let fresh = try ProjectionRunner.fold(
                store: store, levels: levels, upTo: nil, throughSeq: stored.seq,
                logger: Logger(label: "verify"))
            guard fresh.checkpoint() == stored.state else {
                emit(
                    "FAILED: projection \(ProjectionRunner.checkpointName): the stored state at seq \(stored.seq) differs from a fresh rebuild\n"
                )
                throw ExitCode(1)
            }
            emit("OK: projection \(ProjectionRunner.checkpointName) at seq \(stored.seq) equals a fresh rebuild\n")
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The log as NDJSON in the SPEC's envelope, from a seq on.")
    @OptionGroup var directory: DataDirectory
    @Option(help: "The first seq to export.") var from: UInt64 = 1

    func run() throws {
        let store = try directory.openReadOnly()
        let format = store.configuration.envelope
        var after = from > 0 ? from - 1 : 0
        var buffer: [UInt8] = []
        while true {
            let batch = try store.events(after: after, limit: 4096)
            guard let last = batch.last else { break }
            for event in batch {
                buffer += format.jsonLine(of: event)
                buffer.append(0x0A)
            }
            FileHandle.standardOutput.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
            after = last.seq
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import NDJSON events into an empty data directory (offline migration).")
    @OptionGroup var directory: DataDirectory
    @Argument(help: "The NDJSON file (an export re-imports as is).") var file: String
    @Option(
        help:
            "Events appended per commit (supportd's --import-chunk, 2000 by default; offline, larger commits load faster: fewer flushes)."
    )
    var chunkEvents: Int = 20_000

    func validate() throws {
        guard chunkEvents >= 1 else { throw ValidationError("--chunk-events must be at least 1") }
    }

    func run() async throws {
        guard let input = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read \(file)") }
        defer { try? input.close() }
        let policy = try directory.levels().policy
        let backend = try SupportBackend(
            dataDirectory: directory.dataDir, policy: policy, limits: ServerLimits(importChunkEvents: chunkEvents))
        defer { backend.close() }
        let head = try backend.store.head
        guard head.seq == 0 else { throw ValidationError("\(directory.dataDir) is not empty (head \(head)); import over HTTP instead") }
        do {
            // The same streaming path as POST /v1/import: the file is read in chunks and validated
            // as it goes, so memory does not grow with its size.
            let session = try LogImporter(backend: backend).session()
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try session.feed(chunk)
            }
            let summary = try await session.finish()
            emit("imported \(summary.imported) events, \(summary.tickets) tickets, last seq \(summary.lastSeq)\n")
        } catch let problem as ServiceError {
            emit("FAILED: \(problem.detail)\n")
            throw ExitCode(1)
        }
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Bring a data directory written by an older release to the current store format (supportd does it on start), then verify it. Needs the directory to itself (stop supportd)."
    )
    @OptionGroup var directory: DataDirectory

    func run() throws {
        let store = try EventStore(EventLogConfiguration(directory: directory.dataDir, envelope: EnvelopeFormat(streamField: "ticket")))
        let migrated = store.migratedFromFormat
        store.close()
        let report = try directory.openReadOnly().verify()
        if let failure = report.failure {
            emit("FAILED: \(failure)\n")
            throw ExitCode(1)
        }
        if let migrated {
            emit("migrated from store format \(migrated); verified: \(report.eventsChecked) events, head \(report.head)\n")
        } else {
            emit("already in the current store format; verified: \(report.eventsChecked) events, head \(report.head)\n")
        }
    }
}

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A consistent hot copy of the log (LMDB's copy), safe while supportd writes; --compact drops free pages.")
    @OptionGroup var directory: DataDirectory
    @Argument(help: "An empty directory to write data.mdb into.") var destination: String
    @Flag(help: "Compact while copying (slower, smaller).") var compact = false

    func run() throws {
        let store = try directory.openReadOnly()
        let head = try store.head
        try store.backup(to: destination, compact: compact)
        emit("copied the log up to head \(head) into \(destination)\n")
    }
}
