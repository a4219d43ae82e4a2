import EventLog
import Testing

@testable import SupportDomain

/// Shared fixtures of the ticket tests: actors, JSON literals, instants and a hand-built log.
/// Everything lives in this namespace so that it cannot clash with other suites' helpers.
enum TicketFixture {
    static let carol = SupportActor(kind: .customer, id: "carol")
    static let dave = SupportActor(kind: .customer, id: "dave")
    static let alice = SupportActor(kind: .agent, id: "alice")
    static let bob = SupportActor(kind: .agent, id: "bob")
    static let mona = SupportActor(kind: .manager, id: "mona")
    static let root = SupportActor(kind: .admin, id: "root")
    static let robot = SupportActor(kind: .system, id: "robot")

    /// One actor of each kind; the customer is the fixtures' ticket owner, carol.
    static func actor(_ kind: ActorKind) -> SupportActor {
        switch kind {
        case .customer: carol
        case .agent: alice
        case .manager: mona
        case .admin: root
        case .system: robot
        }
    }

    /// Parses a JSON literal with the log's strict parser.
    static func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text)
    }

    /// An RFC 3339 UTC instant (`Z`, 0 to 3 fraction digits).
    static func instant(_ text: String) throws -> Timestamp {
        try #require(Timestamp(rfc3339: text), "not an RFC 3339 UTC instant: \(text)")
    }

    static let sha = String(repeating: "0123456789abcdef", count: 4)

    /// The `data` of a `ticket.opened` for carol, with the given priority.
    static func openingData(customer: String = "carol", priority: String = "urgent") -> String {
        #"{"customer":"\#(customer)","subject":"Site down","body":"My site is down","channel":"email","product":"hosting","priority":"\#(priority)"}"#
    }

    /// The error `body` throws, nil when it returns normally (a non-domain error is recorded).
    static func refusal<T>(_ body: () throws -> T) -> DomainError? {
        do {
            _ = try body()
            return nil
        } catch let error as DomainError {
            return error
        } catch {
            Issue.record("unexpected non-domain error: \(error)")
            return nil
        }
    }

    /// The kind of the domain error `body` throws, nil when it succeeds.
    static func refusalKind<T>(_ body: () throws -> T) -> DomainError.Kind? {
        refusal(body)?.kind
    }

    /// Decodes an event from its type name and a JSON literal.
    static func event(_ type: String, _ data: String) throws -> TicketEvent {
        try TicketEvent(type: type, data: json(data))
    }

    /// The kind of refusal for decoding `data` as `type`.
    static func decodingRefusal(_ type: String, _ data: String) throws -> DomainError.Kind? {
        let value = try json(data)
        return refusalKind { try TicketEvent(type: type, data: value) }
    }

    /// Code points of each string: Swift's `==` on strings normalises, code point order does not.
    static func scalars(_ strings: [String]) -> [[UInt32]] {
        strings.map { $0.unicodeScalars.map(\.value) }
    }
}

/// A ticket's stream built by hand, as the log would hand it to a projection.
struct TicketTestLog {
    let id: String
    private(set) var events: [RecordedEvent] = []

    init(_ id: String = "T-1") { self.id = id }

    /// Appends an event with the next version; `recorded` equals `at`.
    mutating func append(_ type: String, _ data: String, by actor: SupportActor, at: String) throws {
        let instant = try TicketFixture.instant(at)
        events.append(
            RecordedEvent(
                seq: UInt64(events.count + 1), stream: id, version: UInt64(events.count + 1), type: type,
                at: instant, recorded: instant, actor: actor.eventActor, data: try TicketFixture.json(data),
                prev: .zero, hash: .zero))
    }

    /// A log whose first event opens the ticket.
    static func opened(
        _ id: String = "T-1", by actor: SupportActor = TicketFixture.carol,
        priority: String = "urgent", at: String = "2026-03-02T09:00:00Z"
    ) throws -> TicketTestLog {
        var log = TicketTestLog(id)
        try log.append("ticket.opened", TicketFixture.openingData(priority: priority), by: actor, at: at)
        return log
    }

    /// The folded ticket.
    func ticket() throws -> Ticket {
        try #require(try Ticket.fold(events))
    }
}
