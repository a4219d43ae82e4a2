import EventLog
import Foundation
import Synchronization

/// The timelines of single local years outside a calendar's precomputed years, each built on
/// first use and kept, so that a log reaching before or after those years (the demo generator's
/// starts in 1989) answers from a table there too instead of asking Foundation's zone on every
/// query. Shared by every copy of one calendar; at most ``capacity`` years are kept, and a year
/// beyond that is built for the query that needs it and dropped (the answers are the same).
final class YearTimelines: Sendable {
    /// The most years kept: about 11 kB each for a one-window-a-day schedule.
    static let capacity = 64

    private let years = Mutex<[Int: BusinessTimeline]>([:])

    /// The timeline of local `year`, from the cache or built by `build` (outside the lock: two
    /// threads asking for a new year at once may both build it, and the first one is kept).
    func timeline(ofYear year: Int, build: () -> BusinessTimeline) -> BusinessTimeline {
        if let cached = years.withLock({ $0[year] }) { return cached }
        let built = build()
        return years.withLock { years in
            if let cached = years[year] { return cached }
            if years.count < Self.capacity { years[year] = built }
            return built
        }
    }
}
