import EventLog
import Synchronization

/// Hands out server-assigned ticket ids (`T-<n>`), skipping every id already in the log.
package final class TicketDirectory: Sendable {
    private let next = Mutex<UInt64>(1)

    /// Seeds the counter from every stream in the log (one scan at start-up).
    package init(store: EventStore) throws {
        var highest: UInt64 = 0
        try store.read { snapshot in
            try snapshot.forEachEvent(after: 0) { event in
                if event.version == 1, let n = Self.number(of: event.stream) { highest = max(highest, n) }
                return true
            }
        }
        next.withLock { $0 = highest + 1 }
    }

    /// The `<n>` of `T-<n>`, when the id has that form.
    package static func number(of id: String) -> UInt64? {
        guard id.hasPrefix("T-"), let n = UInt64(id.dropFirst(2)), "T-\(n)" == id else { return nil }
        return n
    }

    /// The next id to try.
    package func reserve() -> String {
        next.withLock { n in
            defer { n += 1 }
            return "T-\(n)"
        }
    }

    /// Notes an id that now exists (e.g. imported), so it is never handed out.
    package func observe(_ id: String) {
        guard let n = Self.number(of: id) else { return }
        next.withLock { if $0 <= n { $0 = n + 1 } }
    }
}
