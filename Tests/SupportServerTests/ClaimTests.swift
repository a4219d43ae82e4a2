import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Projections
import SupportService
import Testing

@testable import SupportDomain
@testable import SupportServer

@Suite("Claiming the first ticket of a queue")
struct ClaimTests {
    /// A server whose tokens name `agents` agents (`agent-1` ...), each token being its id.
    private func withAgents<T: Sendable>(
        _ agents: Int,
        _ body: @Sendable (TestServer, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let backend = try SupportBackend(dataDirectory: directory.path, policy: .default, durability: .durable, clock: clock.read)
        let projector = Task { await backend.projections.run() }
        let tokens = TokenStore((1...agents).map { (token: "agent-\($0)", principal: Principal(role: .agent, id: "agent-\($0)")) })
        let app = Application(router: buildRouter(backend: backend, tokens: tokens))
        let result: Result<T, any Error>
        do {
            result = .success(
                try await app.test(.router) { client in
                    try await body(TestServer(backend: backend, clock: clock, directory: directory), client)
                })
        } catch {
            result = .failure(error)
        }
        projector.cancel()
        backend.close()
        await projector.value
        return try result.get()
    }

    private static func claim(_ client: any TestClientProtocol, team: String, agent: Int) async throws -> Reply {
        try await client.execute(
            uri: "/v1/queues/\(team)/claim", method: .post,
            headers: [.authorization: "Bearer agent-\(agent)"], body: nil
        ) { response in
            Reply(status: response.status, headers: response.headers, bytes: Array(buffer: response.body))
        }
    }

    private static func open(_ client: any TestClientProtocol, priority: String, agent: Int = 1) async throws -> String {
        let r = try await client.execute(
            uri: "/v1/tickets", method: .post,
            headers: [.authorization: "Bearer agent-\(agent)", .contentType: "application/json"],
            body: ByteBuffer(string: Bodies.open(customer: "c-1", product: "hosting", priority: priority))
        ) {
            Reply(status: $0.status, headers: $0.headers, bytes: Array(buffer: $0.body))
        }
        try #require(r.status == .created, "opening failed: \(r)")
        return try #require(r.json["id"]?.stringValue)
    }

    /// Shift start: a whole team claims at once. Each ticket goes to exactly one agent, and the
    /// agents left over are told the queue is empty; nobody is asked to retry.
    @Test(arguments: 1...5)
    func twelveAgentsClaimingEightTicketsEachGetADifferentTicketOrNone(round: Int) async throws {
        try await withAgents(12) { server, client in
            var opened: Set<String> = []
            for _ in 0..<8 { opened.insert(try await Self.open(client, priority: "normal")) }
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for agent in 1...12 { group.addTask { try await Self.claim(client, team: "hosting", agent: agent) } }
                var all: [Reply] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            let taken = replies.filter { $0.status == .ok }
            #expect(taken.count == 8, "\(replies.map(\.status.code))")
            #expect(replies.filter { $0.status == .noContent }.count == 4, "\(replies.map(\.status.code))")
            let claimedIDs = taken.compactMap { $0.json["id"]?.stringValue }
            #expect(Set(claimedIDs) == opened)
            #expect(Set(taken.compactMap { $0.json["assignee"]?.stringValue }).count == 8, "each agent got its own ticket")
            for id in opened {
                let assignments = try server.events(id).filter { $0.type == TicketEvent.Kind.assigned.rawValue }
                #expect(assignments.count == 1, "\(id) was assigned \(assignments.count) times")
            }
        }
    }

    private static func claim(_ client: any TestClientProtocol, team: String, agent: Int, key: String) async throws -> Reply {
        try await client.execute(
            uri: "/v1/queues/\(team)/claim", method: .post,
            headers: [.authorization: "Bearer agent-\(agent)", .idempotencyKey: key], body: nil
        ) { response in
            Reply(status: response.status, headers: response.headers, bytes: Array(buffer: response.body))
        }
    }

    /// A claim retried under its Idempotency-Key (a lost answer, a double click in the console)
    /// answers with the ticket the first one took, byte for byte, and takes no second ticket;
    /// the same key for another team is 409, and a badly formed key is 400.
    @Test func aRetriedClaimWithItsKeyTakesNoSecondTicket() async throws {
        try await withAgents(2) { server, client in
            let first = try await Self.open(client, priority: "urgent")
            server.clock.advance(seconds: 60)
            let second = try await Self.open(client, priority: "normal")
            let taken = try await Self.claim(client, team: "hosting", agent: 1, key: "take-1")
            #expect(taken.status == .ok && taken.json["id"]?.stringValue == first)
            let seqBefore = try server.backend.store.head.seq
            let again = try await Self.claim(client, team: "hosting", agent: 1, key: "take-1")
            #expect(again.status == .ok && again.bytes == taken.bytes && again.headers[.eTag] == taken.headers[.eTag])
            #expect(try server.backend.store.head.seq == seqBefore, "the retry appended nothing")
            #expect(try server.events(second).filter { $0.type == TicketEvent.Kind.assigned.rawValue }.isEmpty)
            // Another agent's identical key is their own.
            let other = try await Self.claim(client, team: "hosting", agent: 2, key: "take-1")
            #expect(other.status == .ok && other.json["id"]?.stringValue == second)
            #expect(try await Self.claim(client, team: "email", agent: 1, key: "take-1").status == .conflict)
            #expect(try await Self.claim(client, team: "hosting", agent: 1, key: String(repeating: "k", count: 256)).status == .badRequest)
            #expect(try server.backend.store.head.seq == seqBefore + 1)
        }
    }

    /// One agent after another takes the queue from its head, as GET /v1/queues/{team} lists it.
    @Test func claimsTakeTicketsInQueueOrder() async throws {
        try await withAgents(4) { server, client in
            for priority in ["low", "urgent", "normal", "high", "normal", "urgent"] {
                _ = try await Self.open(client, priority: priority)
                server.clock.advance(seconds: 60)
            }
            let queue = try await client.execute(
                uri: "/v1/queues/hosting", method: .get,
                headers: [.authorization: "Bearer agent-1"], body: nil
            ) {
                Reply(status: $0.status, headers: $0.headers, bytes: Array(buffer: $0.body))
            }
            let listed = queue.json["entries"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(listed.count == 6)
            var claimed: [String] = []
            for k in 0..<6 {
                let r = try await Self.claim(client, team: "hosting", agent: k % 4 + 1)
                #expect(r.status == .ok)
                claimed.append(r.json["id"]?.stringValue ?? "?")
            }
            #expect(claimed == listed)
            #expect(try await Self.claim(client, team: "hosting", agent: 1).status == .noContent)
        }
    }

    /// The writer decides a claim against the log as it stands, although the projection it starts
    /// from may not have applied the last commits yet: the ticket it picks is the one a projection
    /// that has applied everything would put first. Random logs; the projection is cut at a random
    /// point.
    @Test(arguments: 0..<40)
    func aClaimInTheWriterTakesTheQueueHeadOfTheWholeLog(round: Int) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try EventStore(
            EventLogConfiguration(
                directory: directory.path, envelope: EnvelopeFormat(streamField: "ticket"),
                durability: .deferred(flushIntervalMilliseconds: 1000)))
        defer { store.close() }
        let levels = try ServiceLevels(policy: .default)
        var log = ClaimLog()
        let total = Int.random(in: 10...80)
        let cut = Int.random(in: 0...total)
        var stale: ProjectionRunner?
        for step in 0..<total {
            if step == cut { stale = try ProjectionRunner(store: store, levels: levels) }
            try await log.step(store)
        }
        let behind = try stale ?? ProjectionRunner(store: store, levels: levels)
        let caughtUp = try ProjectionRunner(store: store, levels: levels, rebuild: true)
        for team in ClaimLog.teams {
            let decided = try store.read {
                try TicketCommands.firstClaimable(inTeam: team, snapshot: $0, projections: behind, levels: levels)
            }
            let expected = caughtUp.read { $0.firstUnassignedTicket(inTeam: team) }
            #expect(decided?.id == expected, "team \(team), cut at \(cut) of \(total): \(log.trace)")
            if let decided { #expect(decided.assignee == nil && decided.status.isAwaitingAgent) }
        }
    }
}

/// Random ticket histories on two teams, appended straight to the log (the projection and the
/// claim are what is under test, not the command rules; every step is still a valid command).
private struct ClaimLog {
    static let teams = ["hosting", "vps"]
    private var tickets: [(id: String, status: TicketStatus)] = []
    private var now = Timestamp(rfc3339: "2026-03-02T08:00:00.000Z")!.milliseconds
    private(set) var trace: [String] = []

    mutating func step(_ store: EventStore) async throws {
        now += Int64.random(in: 1...5_400) * 1000
        let customer = SupportActor(kind: .customer, id: "c-1")
        let agent = SupportActor(kind: .agent, id: ["alice", "bob"].randomElement()!)
        guard !tickets.isEmpty, Int.random(in: 0..<4) > 0 else {
            let id = "T-\(tickets.count + 1)"
            let priority = Priority.allCases.randomElement()!
            try await append(
                store, id,
                .opened(
                    .init(
                        customer: "c-1", subject: "s", body: "b", channel: .web,
                        product: Self.teams.randomElement()!, priority: priority)), by: customer)
            tickets.append((id, .new))
            return
        }
        let k = Int.random(in: 0..<tickets.count)
        let (id, status) = tickets[k]
        guard status != .closed else { return }
        switch Int.random(in: 0..<7) {
        case 0: try await append(store, id, .assigned(.init(agent: Bool.random() ? agent.id : nil)), by: agent)
        case 1: try await append(store, id, .priorityChanged(Priority.allCases.randomElement()!), by: agent)
        case 2:
            let next = [TicketStatus.open, .pending, .onHold, .solved].filter { $0 != status }.randomElement()!
            try await append(store, id, .statusChanged(next), by: agent)
            tickets[k].status = next
        case 3:
            try await append(store, id, .messagePosted(.init(body: "more")), by: customer)
            if [.pending, .onHold, .solved].contains(status) { tickets[k].status = .open }
        case 4:
            try await append(store, id, .messagePosted(.init(body: "answer")), by: agent)
            if status == .new { tickets[k].status = .open }
        case 5: try await append(store, id, .escalated(.init(team: Self.teams.randomElement()!, reason: "r")), by: agent)
        default: try await append(store, id, .assigned(.init(agent: agent.id, team: Self.teams.randomElement()!)), by: agent)
        }
    }

    private mutating func append(_ store: EventStore, _ id: String, _ event: TicketEvent, by actor: SupportActor) async throws {
        trace.append("\(id) \(event.kind.rawValue) \(event.data)")
        let request = AppendRequest(
            stream: id,
            events: [
                ProposedEvent(
                    type: event.kind.rawValue, at: Timestamp(milliseconds: now),
                    actor: actor.eventActor, data: event.data)
            ])
        _ = try await store.append(request)
    }
}
