import ArgumentParser
import EventLog
import Foundation
import Logging
import Projections
import SupportDomain
import SupportService

/// `support-replay`: audit a data directory directly and read-only (safe while supportd runs).
@main
struct SupportReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-replay",
        abstract: "Replay and audit a Ledgerdesk log: history, as-of, verify, export, import.",
        subcommands: [History.self, AsOf.self, Verify.self, Export.self, Import.self, Backup.self])
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
    @Flag(help: "NDJSON: one {\"event\", \"state\"} object per line.") var json = false

    func run() throws {
        let store = try directory.openReadOnly()
        let levels = try directory.levels()
        let events = try store.events(inStream: ticket)
        guard !events.isEmpty else { throw ValidationError("no ticket \(ticket) in \(directory.dataDir)") }
        let format = store.configuration.envelope
        var state: Ticket?
        for recorded in events {
            let event = try TicketEvent(type: recorded.type, data: recorded.data)
            guard let actor = SupportActor(recorded.actor) else { throw ValidationError("event \(recorded.seq): unknown actor") }
            if var t = state { t.apply(event, version: recorded.version, at: recorded.at, actor: actor); state = t }
            else if case .opened(let o) = event { state = Ticket(id: ticket, opened: o, at: recorded.at, by: actor) }
            guard let t = state else { throw ValidationError("\(ticket) does not start with ticket.opened") }
            let service = t.serviceState(at: recorded.at, levels: levels)
            if json {
                var line = Array(#"{"event":"#.utf8) + format.jsonLine(of: recorded)
                let summary: JSONValue = .object([
                    "status": .string(t.status.rawValue), "priority": .string(t.priority.rawValue), "team": .string(t.team),
                    "assignee": t.assignee.map(JSONValue.string) ?? .null,
                    "nextDue": service.nextDue.map { .string($0.rfc3339) } ?? .null,
                    "nextDueTarget": service.nextDueTarget.map { .string($0.rawValue) } ?? .null,
                    "breached": .bool(service.breached)])
                line += Array(#","state":"#.utf8) + CanonicalJSON.encode(summary) + Array("}\n".utf8)
                FileHandle.standardOutput.write(Data(line))
            } else {
                let due = service.nextDue.map { "\($0.rfc3339) (\(service.nextDueTarget?.rawValue ?? ""))" } ?? "-"
                emit("""
                seq \(recorded.seq)  v\(recorded.version)  at \(recorded.at.rfc3339)  recorded \(recorded.recorded.rfc3339)
                  \(recorded.actor.kind):\(recorded.actor.id)  \(recorded.type)  \(Self.summary(event))
                  -> \(t.status.rawValue), \(t.priority.rawValue), team \(t.team), assignee \(t.assignee ?? "-"), next due \(due)\(service.breached ? ", BREACHED" : "")

                """)
            }
        }
    }

    static func summary(_ event: TicketEvent) -> String {
        func clip(_ s: String) -> String { s.count > 60 ? String(s.prefix(57)) + "..." : s }
        switch event {
        case .opened(let o): return "\"\(clip(o.subject))\" for \(o.customer) via \(o.channel.rawValue), \(o.product), \(o.priority.rawValue)"
        case .messagePosted(let m): return "\"\(clip(m.body))\""
        case .noteAdded(let n): return "note \"\(clip(n.body))\""
        case .assigned(let a): return a.agent.map { "to \($0)" } ?? "unassigned" + (a.team.map { ", team \($0)" } ?? "")
        case .priorityChanged(let p): return "priority \(p.rawValue)"
        case .statusChanged(let s): return "status \(s.rawValue)"
        case .escalated(let e): return "to \(e.team): \(clip(e.reason))"
        case .tagsChanged(let t): return "+\(t.added ?? []) -\(t.removed ?? [])"
        case .merged(let into): return "into \(into)"
        case .satisfactionRated(let r): return "score \(r.score)" + (r.reply.map { " for v\($0)" } ?? "")
        }
    }
}

struct AsOf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "as-of", abstract: "A ticket, a team's queue or an agent's workload as it stood at an instant.")
    @OptionGroup var directory: DataDirectory
    @Argument(help: "The instant (RFC 3339, any offset).") var instant: String
    @Argument(help: "The ticket id (unless --queue or --agent).") var ticket: String?
    @Option(help: "A team: its queue at that instant.") var queue: String?
    @Option(help: "An agent: their workload and queue at that instant.") var agent: String?

    func validate() throws {
        guard [ticket != nil, queue != nil, agent != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of a ticket id, --queue TEAM or --agent ID")
        }
    }

    func run() throws {
        guard let at = Timestamp(rfc3339: instant, allowOffset: true) else { throw ValidationError("not an RFC 3339 instant: \(instant)") }
        let store = try directory.openReadOnly()
        let levels = try directory.levels()
        if let queue {
            let projection = try ProjectionRunner.fold(store: store, levels: levels, upTo: at, logger: Logger(label: "as-of"))
            let entries = projection.teamQueue(queue, at: at)
            let value: JSONValue = .object(["team": .string(queue), "evaluatedAt": .string(at.rfc3339),
                                            "entries": .array(entries.map(TicketRepresentation.queueEntry))])
            FileHandle.standardOutput.write(Data(CanonicalJSON.encode(value) + [0x0A]))
            return
        }
        if let agent {
            let projection = try ProjectionRunner.fold(store: store, levels: levels, upTo: at, logger: Logger(label: "as-of"))
            let workload = projection.workloads(window: .unbounded).first { Identifier.same($0.agent, agent) }
            var o: [String: JSONValue] = ["agent": .string(agent), "evaluatedAt": .string(at.rfc3339),
                                          "queue": .array(projection.agentQueue(agent, at: at).map(TicketRepresentation.queueEntry))]
            if let w = workload {
                o["assigned"] = .object(["newOpen": .int(Int64(w.assigned.newOpen)), "pending": .int(Int64(w.assigned.pending)),
                                         "onHold": .int(Int64(w.assigned.onHold))])
                o["solved"] = .int(Int64(w.solved))
                o["replies"] = .int(Int64(w.replies))
                o["overloaded"] = .bool(w.overloaded)
            }
            FileHandle.standardOutput.write(Data(CanonicalJSON.encode(.object(o)) + [0x0A]))
            return
        }
        guard let ticket else { return }
        let events = try store.events(inStream: ticket).prefix { $0.at <= at }
        guard let t = try Ticket.fold(events) else { throw ValidationError("\(ticket) did not exist at \(at.rfc3339)") }
        let s = t.serviceState(at: at, levels: levels)
        let value: JSONValue = .object([
            "id": .string(t.id), "version": .int(Int64(t.version)), "status": .string(t.status.rawValue),
            "priority": .string(t.priority.rawValue), "team": .string(t.team), "assignee": t.assignee.map(JSONValue.string) ?? .null,
            "customer": .string(t.customer), "subject": .string(t.subject), "tags": .array(t.tags.map(JSONValue.string)),
            "waitingSince": s.waitingSince.map { .string($0.rfc3339) } ?? .null,
            "nextDue": s.nextDue.map { .string($0.rfc3339) } ?? .null,
            "nextDueTarget": s.nextDueTarget.map { .string($0.rawValue) } ?? .null,
            "breached": .bool(s.breached), "evaluatedAt": .string(at.rfc3339)])
        FileHandle.standardOutput.write(Data(CanonicalJSON.encode(value) + [0x0A]))
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the hash chain, seq and version continuity, the stream index and the stored head; exit 0 only when all hold.")
    @OptionGroup var directory: DataDirectory
    @Option(help: "A head noted earlier, SEQ:HASH (from GET /v1/events/head): the log must still extend it.") var expectHead: String?

    func run() throws {
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
            FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: done))\(String(repeating: ".", count: max(0, width - done)))] \(checked)/\(total)".utf8))
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
        emit("\(Int(rate)) events/s\n")
        // The stored projection state must be what a fresh rebuild of the log up to its seq gives.
        if let stored = try store.checkpoint(name: ProjectionRunner.checkpointName) {
            let levels = try directory.levels()
            let header = try ProjectionCheckpointHeader(stored.state)
            guard header.policyHash == levels.policy.hash else {
                emit("projection checkpoint: built under another policy (\(header.policyHash)); it will be rebuilt, not checked\n")
                return
            }
            let fresh = try ProjectionRunner.fold(store: store, levels: levels, upTo: nil, throughSeq: stored.seq,
                                                  logger: Logger(label: "verify"))
            guard fresh.checkpoint() == stored.state else {
                emit("FAILED: projection \(ProjectionRunner.checkpointName): the stored state at seq \(stored.seq) differs from a fresh rebuild\n")
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

    func run() async throws {
        guard let input = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read \(file)") }
        defer { try? input.close() }
        let policy = try directory.levels().policy
        let backend = try SupportBackend(dataDirectory: directory.dataDir, policy: policy)
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
