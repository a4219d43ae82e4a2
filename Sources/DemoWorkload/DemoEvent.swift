import EventLog

/// One event of a demo workload, ready to be appended to ticket `ticket`'s stream.
///
/// Events come out of ``DemoWorkload`` in the order they are to be appended: `at` never
/// decreases over the whole sequence, and each ticket's events are its stream in version order
/// (version 1 is its `ticket.opened`).
package struct DemoEvent: Sendable, Equatable {
    /// The ticket (stream) id: `T-1`, `T-2`, … in opening order.
    package var ticket: String
    /// The event type, e.g. `message.posted`.
    package var type: String
    /// When it happened.
    package var at: Timestamp
    /// Who did it.
    package var actor: EventActor
    /// The event's data, exactly as SPEC §2.2 defines it for `type` (optional members omitted).
    package var data: JSONValue

    /// Creates an event.
    package init(ticket: String, type: String, at: Timestamp, actor: EventActor, data: JSONValue) {
        self.ticket = ticket
        self.type = type
        self.at = at
        self.actor = actor
        self.data = data
    }

    /// The event as the log's append request wants it (for the stream ``ticket``).
    package var proposed: ProposedEvent {
        ProposedEvent(type: type, at: at, actor: actor, data: data)
    }
}
