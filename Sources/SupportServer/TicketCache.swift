import SupportDomain
import Synchronization

/// The last known state of recently written tickets. An entry is used only when its version is
/// the stream's current version, so a stale entry is never trusted, just refreshed.
final class TicketCache: Sendable {
    // Keyed by UTF-8 bytes: Swift's String equality would merge canonically equivalent ids.
    private let entries = Mutex<[[UInt8]: Ticket]>([:])
    /// Entries kept at most; past it the cache starts over (recent tickets come back at once).
    static let capacity = 20_000

    func ticket(_ id: String) -> Ticket? { entries.withLock { $0[Array(id.utf8)] } }

    func store(_ ticket: Ticket) {
        entries.withLock { cache in
            let key = Array(ticket.id.utf8)
            if cache.count >= Self.capacity, cache[key] == nil { cache.removeAll(keepingCapacity: true) }
            if let existing = cache[key], existing.version > ticket.version { return }
            cache[key] = ticket
        }
    }
}
