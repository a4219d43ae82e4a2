import EventLog
import Foundation
import SupportDomain
import Testing

@testable import Projections

/// Actors, instants and a hand-built log for the projection tests.
enum P {
    static let carol = SupportActor(kind: .customer, id: "carol")
    static let dave = SupportActor(kind: .customer, id: "dave")
    static let alice = SupportActor(kind: .agent, id: "alice")
    static let bob = SupportActor(kind: .agent, id: "bob")
    static let mona = SupportActor(kind: .manager, id: "mona")
    static let robot = SupportActor(kind: .system, id: "robot")

    static let hour: Int64 = 3_600_000
    static let minute: Int64 = 60_000

    /// An RFC 3339 UTC instant.
    static func t(_ text: String) -> Timestamp {
        guard let instant = Timestamp(rfc3339: text) else { fatalError("not an instant: \(text)") }
        return instant
    }

    static func levels(_ policyJSON: String? = nil) throws -> ServiceLevels {
        guard let policyJSON else { return try ServiceLevels(policy: .default) }
        return try ServiceLevels(policy: Policy.parse(jsonData: Data(policyJSON.utf8)))
    }

    static func opening(
        customer: String = "carol", subject: String = "Site down", channel: String = "email",
        product: String = "hosting", priority: String = "urgent"
    ) -> String {
        #"{"customer":"\#(customer)","subject":"\#(subject)","body":"help","channel":"\#(channel)","product":"\#(product)","priority":"\#(priority)"}"#
    }

    static func json(_ text: String) -> JSONValue {
        do { return try JSONParser.parse(text) } catch { fatalError("bad JSON \(text): \(error)") }
    }
}

/// A log built by hand: global seq, per-ticket versions, `recorded` = `at`.
struct TestLog {
    private(set) var events: [RecordedEvent] = []
    /// Keyed by code points: canonically equivalent ids are different tickets.
    private var versions: [[UInt32]: UInt64] = [:]

    mutating func add(_ ticket: String, _ type: String, _ data: String, by actor: SupportActor, at: String) {
        add(ticket, type, P.json(data), by: actor, at: P.t(at))
    }

    mutating func add(_ ticket: String, _ type: String, _ data: JSONValue, by actor: SupportActor, at: Timestamp) {
        let key = ticket.unicodeScalars.map(\.value)
        let version = (versions[key] ?? 0) + 1
        versions[key] = version
        events.append(
            RecordedEvent(
                seq: UInt64(events.count + 1), stream: ticket, version: version, type: type,
                at: at, recorded: at, actor: actor.eventActor, data: data,
                prev: .zero, hash: .zero))
    }

    // Shorthands.
    mutating func open(
        _ ticket: String, by actor: SupportActor = P.carol, at: String, customer: String = "carol",
        priority: String = "urgent", product: String = "hosting", channel: String = "email",
        subject: String = "Site down"
    ) {
        add(
            ticket, "ticket.opened",
            P.opening(
                customer: customer, subject: subject, channel: channel, product: product,
                priority: priority), by: actor, at: at)
    }
    mutating func message(_ ticket: String, by actor: SupportActor, at: String) {
        add(ticket, "message.posted", #"{"body":"text"}"#, by: actor, at: at)
    }
    mutating func status(_ ticket: String, _ status: String, by actor: SupportActor = P.alice, at: String) {
        add(ticket, "status.changed", #"{"status":"\#(status)"}"#, by: actor, at: at)
    }
    mutating func assign(_ ticket: String, _ agent: String?, team: String? = nil, by actor: SupportActor = P.mona, at: String) {
        let agentJSON = agent.map { "\"\($0)\"" } ?? "null"
        let teamJSON = team.map { #","team":"\#($0)""# } ?? ""
        add(ticket, "ticket.assigned", #"{"agent":\#(agentJSON)\#(teamJSON)}"#, by: actor, at: at)
    }
    mutating func priority(_ ticket: String, _ priority: String, by actor: SupportActor = P.mona, at: String) {
        add(ticket, "priority.changed", #"{"priority":"\#(priority)"}"#, by: actor, at: at)
    }
    mutating func rate(_ ticket: String, _ score: Int, reply: Int? = nil, by actor: SupportActor = P.carol, at: String) {
        let replyJSON = reply.map { #","reply":\#($0)"# } ?? ""
        add(ticket, "satisfaction.rated", #"{"score":\#(score)\#(replyJSON)}"#, by: actor, at: at)
    }

    /// The events whose `at` <= `instant`, in log order (a point-in-time fold's input).
    func prefix(asOf instant: Timestamp) -> [RecordedEvent] { events.filter { $0.at <= instant } }

    /// The projection of every event (or those at or before `asOf`).
    func projection(_ levels: ServiceLevels, asOf: String? = nil) throws -> SupportProjection {
        var projection = SupportProjection(levels: levels)
        try projection.apply(contentsOf: asOf.map { prefix(asOf: P.t($0)) } ?? events)
        return projection
    }
}

extension SupportProjection {
    /// The single group of an ungrouped response-time answer.
    func ungrouped(at: String, window: TimeWindow = .unbounded, clock: SLAClock = .calendar) -> ResponseTimeGroup? {
        let groups = responseTimes(at: P.t(at), window: window, groupBy: .none, clock: clock)
        #expect(groups.count <= 1)
        return groups.first
    }
}

extension MetricSummary {
    /// count, then the statistics' values in ms, as one array for terse expectations.
    var numbers: [Int64?] {
        [Int64(statistics.count), statistics.min, statistics.max, statistics.mean, statistics.p50, statistics.p90, statistics.p99]
    }
    var outcomes: [Int] { sla.map { [$0.achieved, $0.breached] } ?? [] }
}

/// Statistics of a single value.
func single(_ value: Int64) -> [Int64?] { [1, value, value, value, value, value, value] }
let noValues: [Int64?] = [0, nil, nil, nil, nil, nil, nil]
