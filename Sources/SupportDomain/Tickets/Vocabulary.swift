import EventLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a ticket came from.
public enum Channel: String, Sendable, CaseIterable, Hashable {
    case email, web, phone, chat, api
}

/// A ticket's status (SPEC §2.2). `new` is only ever set by opening.
public enum TicketStatus: String, Sendable, CaseIterable, Hashable {
    case new, open, pending
    case onHold = "on_hold"
    case solved, closed

    /// `new` and `open`: the ticket waits for an agent.
    @inlinable public var isAwaitingAgent: Bool { self == .new || self == .open }
    /// `solved` and `closed`: the ticket's running intervals stop.
    @inlinable public var isResolved: Bool { self == .solved || self == .closed }
}

/// Who caused an event (SPEC §2.1).
public enum ActorKind: String, Sendable, CaseIterable, Hashable {
    case customer, agent, manager, admin, system
}

/// An actor of the support domain: a kind and an identifier.
public struct SupportActor: Sendable, Hashable {
    /// The actor's kind.
    public var kind: ActorKind
    /// The actor's identifier.
    public var id: String

    /// The actor `id` of kind `kind`.
    public init(kind: ActorKind, id: String) {
        self.kind = kind
        self.id = id
    }

    /// The log's generic form.
    public var eventActor: EventActor { EventActor(kind: kind.rawValue, id: id) }

    /// Reads the log's generic form; nil for a kind the domain does not know.
    public init?(_ actor: EventActor) {
        guard let kind = ActorKind(rawValue: actor.kind) else { return nil }
        self.init(kind: kind, id: actor.id)
    }
}

/// A file attached to a message.
public struct Attachment: Sendable, Hashable {
    /// The file name.
    public var name: String
    /// The size in bytes.
    public var size: Int64
    /// The media type.
    public var contentType: String
    /// 64 lowercase hex digits.
    public var sha256: String

    /// An attachment by name, size, media type and SHA-256 digest.
    public init(name: String, size: Int64, contentType: String, sha256: String) {
        self.name = name
        self.size = size
        self.contentType = contentType
        self.sha256 = sha256
    }

    var json: JSONValue {
        .object(["name": .string(name), "size": .int(size), "contentType": .string(contentType), "sha256": .string(sha256)])
    }
}

/// Identifiers (ticket, actor id, customer, product, team, agent, into, tags): non-empty, at most
/// 128 Unicode code points, compared and sorted by code point with no normalisation.
public enum Identifier {
    package static let maximumLength = 128

    /// Nil when `text` is a valid identifier, otherwise why not.
    public static func problem(with text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        // Each code point takes at least one UTF-8 byte: a short text needs no count.
        if text.utf8.count > maximumLength, text.unicodeScalars.count > maximumLength {
            return "must be at most \(maximumLength) code points"
        }
        return nil
    }

    /// Code point order (Swift's `<` on strings normalises; this does not). The package's one
    /// string order: UTF-8 byte order is code point order.
    @inlinable
    public static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Equality by code points, with no normalisation (Swift's `==` on strings treats canonically
    /// equivalent strings as equal: `"é"` and `"e\u{301}"`; identifiers must not, SPEC §2.1).
    /// Compares the UTF-8 bytes, with one `memcmp` for native strings.
    @inlinable
    public static func same(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        if let equal = x.withContiguousStorageIfAvailable({ p in
            y.withContiguousStorageIfAvailable { q in
                p.count == 0 || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0
            }
        }), let equal {
            return equal
        }
        return x.elementsEqual(y)
    }
}
