import EventLog
import Synchronization

/// Hands out server-assigned ticket ids (`T-<n>`), skipping every id already in the log.
package final class TicketDirectory: Sendable {
    /// The next number to try, and the seq through which the log was scanned for ids.
    private let state = Mutex<(next: UInt64, scanned: UInt64)>((1, 0))

    /// Seeds the counter from every stream in the log (one scan at start-up).
    package init(store: EventStore) throws {
        try catchUp(with: store)
    }

    /// Notes the ids of the streams begun since the last scan: a follower about to lead (its
    /// log grew by the stream's events, not by its own appends) scans only what it applied.
    package func catchUp(with store: EventStore) throws {
        let from = state.withLock { $0.scanned }
        var highest: UInt64 = 0
        var last = from
        try store.read { snapshot in
            try snapshot.forEachEvent(after: from) { event in
                if event.version == 1, let n = Self.number(of: event.stream) { highest = max(highest, n) }
                last = event.seq
                return true
            }
        }
        state.withLock {
            $0.next = max($0.next, highest + 1)
            $0.scanned = max($0.scanned, last)
        }
    }

    /// The `<n>` of `T-<n>`, when the id has that form.
    package static func number(of id: String) -> UInt64? {
        guard id.hasPrefix("T-"), let n = UInt64(id.dropFirst(2)), "T-\(n)" == id else { return nil }
        return n
    }

    /// The next id to try.
    package func reserve() -> String {
        state.withLock { s in
            defer { s.next += 1 }
            return "T-\(s.next)"
        }
    }

    /// Notes an id that now exists (e.g. imported), so it is never handed out.
    package func observe(_ id: String) {
        guard let n = Self.number(of: id) else { return }
        state.withLock { if $0.next <= n { $0.next = n + 1 } }
    }
}
