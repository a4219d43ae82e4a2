import EventLog
import SupportDomain

/// The discrete-event simulation behind ``DemoWorkload``: ticket arrivals and, for every live
/// ticket, its one scheduled next action, run in time order.
struct WorkloadSimulator {
    /// A ticket's next action and when it happens.
    struct Plan {
        let action: TicketAction
        let time: Int64
    }

    let roster: Roster
    let customers: CustomerBase
    let arrivals: ArrivalRhythm
    var random: SeededRandom

    private var queue = ActionQueue()
    /// Live tickets by slot; a retired ticket's slot is reused.
    var slots: [LiveTicket?] = []
    private var freeSlots: [Int] = []
    /// Each customer's latest original ticket, the target when they open a duplicate.
    var latestTicketOf: [TicketReference?]

    private let ticketsToOpen: Int
    var opened = 0
    /// The next arrival; once every ticket is open, the end of the workload.
    private var nextArrival: Int64

    /// Events of the last step, handed out one by one.
    private var output: [DemoEvent] = []
    private var outputIndex = 0

    init(_ configuration: DemoWorkload.Configuration) {
        roster = Roster(agentCount: configuration.agents)
        customers = CustomerBase(count: configuration.customers)
        let ticketsPerDay = Double(max(0, configuration.tickets)) / Double(max(1, configuration.days))
        arrivals = ArrivalRhythm(ticketsPerDay: max(ticketsPerDay, 0.001))
        random = SeededRandom(seed: configuration.seed)
        latestTicketOf = Array(repeating: nil, count: customers.count)
        ticketsToOpen = max(0, configuration.tickets)
        nextArrival = arrivals.next(after: configuration.start.milliseconds, &random)
    }

    mutating func next() -> DemoEvent? {
        while outputIndex >= output.count {
            output.removeAll(keepingCapacity: true)
            outputIndex = 0
            guard advance() else { return nil }
        }
        defer { outputIndex += 1 }
        return output[outputIndex]
    }

    /// Runs the next arrival or scheduled action; false once the workload is over.
    private mutating func advance() -> Bool {
        let nextActionTime = queue.first?.time ?? .max
        if opened < ticketsToOpen {
            if nextArrival <= nextActionTime {
                let time = nextArrival
                nextArrival = arrivals.next(after: time, &random)
                openTicket(at: time)
                return true
            }
        } else if nextActionTime >= nextArrival {
            return false
        }
        guard let entry = queue.popFirst() else { return false }
        perform(slot: Int(entry.slot), at: entry.time)
        return true
    }

    private mutating func perform(slot: Int, at time: Int64) {
        guard var ticket = slots[slot] else { return }
        let plan: Plan?
        switch ticket.next {
        case .triage: plan = triage(&ticket, at: time)
        case .agentWork(let stage): plan = agentWork(&ticket, stage, at: time)
        case .customerMessage(let intent): plan = customerMessage(&ticket, intent, at: time)
        case .pendingReminder: plan = pendingReminder(&ticket, at: time)
        case .autoSolve: plan = autoSolve(&ticket, at: time)
        case .close: plan = close(&ticket, at: time)
        case .rating(let revision): plan = rate(&ticket, revision: revision, at: time)
        }
        if let plan {
            ticket.next = plan.action
            slots[slot] = ticket
            queue.schedule(slot: slot, at: max(plan.time, time))
        } else {
            slots[slot] = nil
            freeSlots.append(slot)
        }
    }

    /// Stores a new ticket and schedules its first action.
    mutating func admit(_ ticket: LiveTicket, plan: Plan) {
        var ticket = ticket
        ticket.next = plan.action
        slots[ticket.slot] = ticket
        queue.schedule(slot: ticket.slot, at: max(plan.time, ticket.openedAt))
    }

    /// A free slot for a new ticket.
    mutating func takeSlot() -> Int {
        if let slot = freeSlots.popLast() { return slot }
        slots.append(nil)
        return slots.count - 1
    }

    /// The live ticket `reference` points to, if it has not retired.
    func liveTicket(_ reference: TicketReference) -> LiveTicket? {
        guard reference.slot < slots.count, let ticket = slots[reference.slot],
            ticket.number == reference.number
        else { return nil }
        return ticket
    }

    /// Applies a later event to `ticket` as the domain folds it, and appends it to the output.
    mutating func record(_ event: TicketEvent, _ ticket: inout LiveTicket, at time: Int64, by actor: SupportActor) {
        ticket.apply(event, at: time, by: actor)
        emit(event, of: ticket, at: time, by: actor)
    }

    /// Appends an event of `ticket`, already applied to it, to the output.
    mutating func emit(_ event: TicketEvent, of ticket: LiveTicket, at time: Int64, by actor: SupportActor) {
        output.append(
            DemoEvent(
                ticket: ticket.id, type: event.kind.rawValue, at: Timestamp(milliseconds: time),
                actor: actor.eventActor, data: event.data))
    }
}
