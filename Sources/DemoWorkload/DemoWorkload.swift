import EventLog

/// A seeded, reproducible helpdesk workload of a hosting provider (domains, web hosting, VPS,
/// e-mail): the `--demo` data of the server and the input of benchmarks.
///
/// Iterating yields ``DemoEvent`` values lazily, in the order they are to be appended: `at`
/// never decreases, every ticket's events follow its `ticket.opened`, and each event is valid
/// under the rules of SPEC §2.2 when appended in that order. Memory stays proportional to the
/// tickets still in progress (tickets retire once closed), so logs of millions of events
/// stream in constant memory.
///
/// Tickets open on a Paris-time rhythm (busy weekday business hours, quiet nights and weekends)
/// and are worked in business hours by agents in shifts (urgent ones within minutes, day and
/// night); they are tagged, assigned, handed off, escalated, put on hold, answered, solved,
/// reopened, closed, merged when duplicated, and rated. The sequence ends when the next
/// ticket would open after the configured number, so the last tickets are still in progress.
///
/// ```swift
/// for event in DemoWorkload(.init(seed: 7, tickets: 200)) {
///     try await store.append(AppendRequest(stream: event.ticket, events: [event.proposed]))
/// }
/// ```
package struct DemoWorkload: Sequence, Sendable {
    /// What to generate. The same configuration always yields the same events.
    package struct Configuration: Sendable, Equatable {
        /// The seed of every random choice.
        package var seed: UInt64
        /// When the first day starts (tickets open after it).
        package var start: Timestamp
        /// How many tickets to open (`T-1` … `T-<tickets>`). A ticket gets about 9.5 events:
        /// 1,050,000 tickets give some 10 M events.
        package var tickets: Int
        /// Over how many days the tickets open, on average: the arrival rate is
        /// `tickets / days` per day, modulated by the time of day and the weekday.
        package var days: Int
        /// How many agents work the desk (sixteen fill the four product teams and the
        /// second-level teams `vps-l2`, `hosting-l2`, `abuse` and `billing`).
        package var agents: Int
        /// How many distinct customers (`c-1001` …) open tickets.
        package var customers: Int

        /// Monday 16 March 2026, 00:00 in Paris: three weeks from there span the switch to
        /// summer time.
        package static let defaultStart = Timestamp(milliseconds: 1_773_615_600_000)

        /// Creates a configuration; the defaults give about 1,500 tickets over three weeks.
        package init(
            seed: UInt64 = 1, start: Timestamp = defaultStart, tickets: Int = 1500, days: Int = 21,
            agents: Int = 16, customers: Int = 1200
        ) {
            self.seed = seed
            self.start = start
            self.tickets = tickets
            self.days = days
            self.agents = agents
            self.customers = customers
        }
    }

    /// The configuration this workload generates.
    package let configuration: Configuration

    /// A workload for `configuration`.
    package init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Yields the events one by one; each iterator starts from the beginning.
    package func makeIterator() -> Iterator {
        Iterator(simulator: WorkloadSimulator(configuration))
    }

    /// Generates the events of a ``DemoWorkload`` on demand.
    package struct Iterator: IteratorProtocol {
        var simulator: WorkloadSimulator

        /// The next event, or nil once the workload is over.
        package mutating func next() -> DemoEvent? { simulator.next() }
    }
}
