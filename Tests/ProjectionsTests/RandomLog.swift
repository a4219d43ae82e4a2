import EventLog
import Foundation
import SupportDomain

/// Random valid logs: commands over many interleaved tickets, each checked by the domain's own
/// rules (``ImportValidation``: SPEC §2.2 and who may write) before it is kept, so every event
/// kept is one a real log could hold. `at` never goes backwards within a ticket but often does
/// across tickets; message + status pairs share their `at`.
struct RandomLog {
    static let teams = ["hosting", "domains", "vps", "email", "\u{DC}berweisung"]
    static let agents = ["alice", "bob", "chloe", "\u{C9}mile"]
    static let customers = ["c1", "c2", "c3", "c4", "c5"]
    static let tags = ["vip", "dns", "ssl", "b\u{E9}ta"]
    static let settable = ["open", "pending", "on_hold", "solved", "closed"]

    private(set) var events: [RecordedEvent] = []
    private var rng: SeededRandom
    private var validation = ImportValidation(now: Timestamp(milliseconds: 4_000_000_000_000), limits: .default, lookup: { _ in nil })
    private var ids: [String] = []
    private var now: Int64

    init(seed: UInt64, steps: Int, start: Timestamp) {
        rng = SeededRandom(seed: seed)
        now = start.milliseconds
        for _ in 0..<steps { step() }
    }

    private mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    private mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    /// Appends the event if the rules accept it.
    @discardableResult
    private mutating func attempt(
        _ ticket: String, _ type: String, _ data: [String: JSONValue], _ actor: SupportActor,
        at: Int64
    ) -> Bool {
        let version = (validation.touchedTickets[ticket]?.version ?? 0) + 1
        let at = Timestamp(milliseconds: at)
        do {
            _ = try validation.add(ticket: ticket, type: type, at: at, actor: actor.eventActor, data: .object(data))
        } catch {
            return false
        }
        events.append(
            RecordedEvent(
                seq: UInt64(events.count + 1), stream: ticket, version: version, type: type, at: at,
                recorded: at, actor: actor.eventActor, data: .object(data), prev: .zero, hash: .zero))
        return true
    }

    private mutating func step() {
        // Time moves on by up to an hour, sometimes by half a day.
        now +=
            Int64.random(in: 0...60, using: &rng) * 60_000 + (chance(0.03) ? 12 * 3_600_000 : 0)
            + (chance(0.2) ? Int64.random(in: 0...999, using: &rng) : 0)
        if ids.isEmpty || chance(0.12) {
            openTicket()
            return
        }
        let id = pick(ids)
        guard let ticket = validation.touchedTickets[id] else { return }
        // Back-dated up to two hours across tickets, never before the ticket's last event.
        let at = max(ticket.lastAt.milliseconds, now - Int64.random(in: 0...120, using: &rng) * 60_000)
        let customer = SupportActor(kind: .customer, id: ticket.customer)
        let agent = SupportActor(kind: .agent, id: pick(Self.agents))
        let staff =
            chance(0.8)
            ? agent
            : pick([
                SupportActor(kind: .manager, id: "mona"), SupportActor(kind: .system, id: "robot"),
                SupportActor(kind: .admin, id: "root"),
            ])
        let roll = Double.random(in: 0..<1, using: &rng)
        switch roll {
        case ..<0.22:
            attempt(id, "message.posted", ["body": .string("more")], customer, at: at)
        case ..<0.44:
            if attempt(id, "message.posted", ["body": .string("answer")], agent, at: at), chance(0.3) {
                attempt(id, "status.changed", ["status": .string(pick(Self.settable))], agent, at: at)
            }
        case ..<0.48:
            attempt(id, "note.added", ["body": .string("internal")], staff, at: at)
        case ..<0.56:
            var data: [String: JSONValue] = ["agent": chance(0.2) ? .null : .string(pick(Self.agents))]
            if chance(0.2) { data["team"] = .string(pick(Self.teams)) }
            attempt(id, "ticket.assigned", data, staff, at: at)
        case ..<0.61:
            attempt(id, "priority.changed", ["priority": .string(pick(Priority.allCases).rawValue)], staff, at: at)
        case ..<0.74:
            attempt(id, "status.changed", ["status": .string(pick(Self.settable))], staff, at: at)
        case ..<0.78:
            attempt(id, "ticket.escalated", ["team": .string(pick(Self.teams)), "reason": .string("why")], staff, at: at)
        case ..<0.82:
            var data: [String: JSONValue] = [:]
            if chance(0.7) { data["added"] = .array([.string(pick(Self.tags))]) }
            if chance(0.5) { data["removed"] = .array([.string(pick(Self.tags))]) }
            attempt(id, "tags.changed", data, staff, at: at)
        case ..<0.85:
            let into = pick(ids)
            attempt(id, "ticket.merged", ["into": .string(into)], chance(0.8) ? agent : SupportActor(kind: .manager, id: "mona"), at: at)
        default:
            var data: [String: JSONValue] = ["score": .int(Int64.random(in: 1...5, using: &rng))]
            if chance(0.5), !ticket.agentMessageVersions.isEmpty {
                data["reply"] = .int(Int64(pick(ticket.agentMessageVersions)))
            }
            if chance(0.3) { data["comment"] = .string("thanks") }
            attempt(id, "satisfaction.rated", data, customer, at: at)
        }
    }

    private mutating func openTicket() {
        let id = chance(0.1) ? "T\u{EF}-\(ids.count + 1)" : "T-\(ids.count + 1)"
        let customer = pick(Self.customers)
        let opener: SupportActor
        switch Double.random(in: 0..<1, using: &rng) {
        case ..<0.7: opener = SupportActor(kind: .customer, id: customer)
        case ..<0.9: opener = SupportActor(kind: .agent, id: pick(Self.agents))
        default: opener = SupportActor(kind: .system, id: "robot")
        }
        var data: [String: JSONValue] = [
            "customer": .string(customer), "subject": .string("subject \(ids.count + 1)"), "body": .string("hello"),
            "channel": .string(pick(Channel.allCases).rawValue), "product": .string(pick(Array(Self.teams.prefix(4)))),
            "priority": .string(pick(Priority.allCases).rawValue),
        ]
        if chance(0.3) { data["context"] = .string("panel/x") }
        let at = now - Int64.random(in: 0...60, using: &rng) * 60_000
        if attempt(id, "ticket.opened", data, opener, at: at) { ids.append(id) }
    }
}
