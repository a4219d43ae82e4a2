import Synchronization

/// What the mail outbox has done since the server started, for `GET /metrics`.
package final class MailCounters: Sendable {
    /// Replies waiting for an outcome.
    package let pending = Atomic<Int>(0)
    /// Replies the relay took.
    package let delivered = Atomic<Int>(0)
    /// Replies that failed for good (refused, or given up).
    package let failedPermanently = Atomic<Int>(0)
    /// Attempts that failed for the time being.
    package let failedTransiently = Atomic<Int>(0)

    package init() {}

    /// The totals of delivered, failed-for-good and failed-for-now attempts, in that order.
    package var outcomeTotals: [Int] {
        [delivered.load(ordering: .relaxed), failedPermanently.load(ordering: .relaxed), failedTransiently.load(ordering: .relaxed)]
    }
}
