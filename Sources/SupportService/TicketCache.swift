import SupportDomain
import Synchronization

/// The last known state of recently written tickets. An entry is used only when its version is
/// the stream's current version, so a stale entry is never trusted, just refreshed.
///
/// Bounded in entries and in bytes (an estimate of each ticket's strings and thread): past
/// either bound the least recently used entries go until the cache is half full, and a ticket
/// larger than ``largestEntry`` is not cached at all (it is folded from the log when needed).
package final class TicketCache: Sendable {
    private struct Entry {
        var ticket: Ticket
        var size: Int
        var lastUse: UInt64
    }

    private struct State {
        // Keyed by UTF-8 bytes: Swift's String equality would merge canonically equivalent ids.
        var entries: [[UInt8]: Entry] = [:]
        var bytes = 0
        var uses: UInt64 = 0
    }

    /// Entries kept at most by default.
    package static let defaultCapacity = 20_000
    /// Bytes (estimated) kept at most by default: 64 MiB.
    package static let defaultBudget = 64 << 20

    package let capacity: Int
    package let budget: Int
    /// The largest ticket cached: a sixteenth of the budget (4 MiB by default).
    package var largestEntry: Int { budget / 16 }

    private let state = Mutex(State())

    package init(capacity: Int = TicketCache.defaultCapacity, budget: Int = TicketCache.defaultBudget) {
        self.capacity = capacity
        self.budget = budget
    }

    package func ticket(_ id: String) -> Ticket? {
        state.withLock { s in
            let key = Array(id.utf8)
            guard var entry = s.entries[key] else { return nil }
            s.uses += 1
            entry.lastUse = s.uses
            s.entries[key] = entry
            return entry.ticket
        }
    }

    package func store(_ ticket: Ticket) {
        let size = Self.estimatedSize(of: ticket)
        state.withLock { s in
            let key = Array(ticket.id.utf8)
            if let existing = s.entries[key] {
                if existing.ticket.version > ticket.version { return }
                s.entries[key] = nil
                s.bytes -= existing.size
            }
            guard size <= largestEntry else { return }
            if s.entries.count >= capacity || s.bytes + size > budget { evict(&s, toFit: size) }
            s.uses += 1
            s.entries[key] = Entry(ticket: ticket, size: size, lastUse: s.uses)
            s.bytes += size
        }
    }

    /// The number of tickets and the estimated bytes held.
    package var usage: (tickets: Int, bytes: Int) { state.withLock { ($0.entries.count, $0.bytes) } }

    /// Drops the least recently used entries until at most half the capacity and half the budget
    /// (with room for `size` more) are in use: one sort per many stores.
    private func evict(_ s: inout State, toFit size: Int) {
        for (key, entry) in s.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
            if s.entries.count < capacity / 2 && s.bytes + size <= budget / 2 { break }
            s.entries[key] = nil
            s.bytes -= entry.size
        }
    }

    /// An estimate of the memory a cached ticket holds: its strings and thread, plus a fixed
    /// overhead per ticket, entry and string.
    package static func estimatedSize(of ticket: Ticket) -> Int {
        func text(_ s: String?) -> Int { s.map { 16 + $0.utf8.count } ?? 0 }
        var size = 512 + 2 * text(ticket.id)
        for field in [
            ticket.team, ticket.customer, ticket.subject, ticket.product, ticket.context, ticket.assignee,
            ticket.mergedInto, ticket.openedBy.id,
        ] {
            size += text(field)
        }
        size += ticket.tags.reduce(0) { $0 + text($1) }
        size += 8 * ticket.agentMessageVersions.count
        for entry in ticket.thread {
            size += 64 + text(entry.body) + text(entry.author.id)
            size += entry.attachments.reduce(0) { $0 + 16 + text($1.name) + text($1.contentType) + text($1.sha256) }
        }
        return size
    }
}
