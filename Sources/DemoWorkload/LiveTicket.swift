import EventLog
import SupportDomain

/// What a ticket is waiting for: the one action scheduled for it in the ``ActionQueue``.
enum TicketAction {
    /// The router tags and maybe assigns the new ticket.
    case triage
    /// An agent works the ticket: merge, note, escalate, put on hold, reply, solve…
    case agentWork(AgentStage)
    /// The customer writes.
    case customerMessage(CustomerIntent)
    /// An agent reminds a silent customer of a pending question.
    case pendingReminder
    /// The automation solves a ticket left pending too long.
    case autoSolve
    /// The automation closes a solved ticket.
    case close
    /// The customer rates an agent reply (again, when `revision`).
    case rating(revision: Bool)
}

/// Why an agent picks a ticket up.
enum AgentStage {
    case firstResponse, duringCall, followUp, afterCustomer, afterThirdParty, afterEscalation, afterTransfer
}

/// What a customer's message says.
enum CustomerIntent {
    /// Answers a pending question: it works now, or here is the information.
    case answer
    /// Asks for news while waiting for an agent.
    case nudge
    /// Says the solved problem is back.
    case reopen
}

/// A ticket the generator still has plans for: the domain's ``Ticket`` folded from the events
/// recorded so far (status, priority, tags, agent replies: the state the rules depend on), and
/// the simulation's own plans for it.
struct LiveTicket {
    /// Where the simulator keeps it.
    let slot: Int
    let number: Int
    let customer: Int
    let language: Language
    /// Index into ``Topic/catalog``.
    let topicIndex: Int
    /// Whether a customer opened it (others open on a customer's behalf).
    let openedByCustomer: Bool
    /// The earlier ticket this one repeats, to be merged into it.
    var duplicateOf: TicketReference?

    /// The roster team that works it and its assignee (an index into ``Roster/agents``).
    var team: Team
    var assignee: Int?
    /// The ticket as the domain folds it from its events.
    private(set) var state: Ticket
    /// When the automation will close it, once solved.
    var closeAt: Int64 = 0
    /// The agent reply the customer rated, 0 when none, and the score given.
    var ratedReply: Int64 = 0
    var ratedScore = 0
    var escalated = false
    var wentOnHold = false
    /// Nudges and reopenings: an annoyed customer rates lower.
    var frustration = 0
    /// The customer's last message said the problem is gone.
    var customerConfirmed = false
    /// When and why an agent planned to work on it before the customer nudged.
    var plannedAgentWork: Int64 = 0
    var plannedStage: AgentStage = .firstResponse
    var next: TicketAction = .triage

    init(
        slot: Int, number: Int, customer: Int, language: Language, topicIndex: Int, openedByCustomer: Bool,
        duplicateOf: TicketReference?, team: Team, state: Ticket
    ) {
        self.slot = slot
        self.number = number
        self.customer = customer
        self.language = language
        self.topicIndex = topicIndex
        self.openedByCustomer = openedByCustomer
        self.duplicateOf = duplicateOf
        self.team = team
        self.state = state
    }

    /// Applies the ticket's next event, as the server will when it is appended.
    mutating func apply(_ event: TicketEvent, at time: Int64, by actor: SupportActor) {
        state.apply(event, version: state.version + 1, at: Timestamp(milliseconds: time), actor: actor)
    }

    var id: String { state.id }
    var channel: Channel { state.channel }
    var openedAt: Int64 { state.openedAt.milliseconds }
    var status: TicketStatus { state.status }
    var priority: Priority { state.priority }
    /// The versions of the first and the latest agent reply (0 when none) and how many there are.
    var firstAgentMessage: Int64 { Int64(state.agentMessageVersions.first ?? 0) }
    var latestAgentMessage: Int64 { Int64(state.agentMessageVersions.last ?? 0) }
    var agentMessages: Int { state.agentMessageVersions.count }

    /// Whether the ticket carries `tag`.
    func has(_ tag: Tag) -> Bool { state.tags.contains { Identifier.same($0, tag.id) } }

    var isAwaitingAgent: Bool { status.isAwaitingAgent }

    var topic: Topic { Topic.catalog[topicIndex] }

    /// The language agents answer in: French to French speakers, English to everyone else.
    var replyLanguage: Language { language == .french ? .french : .english }
}

/// A ticket's slot and number: the slot is reused once the ticket retires, the number is not.
struct TicketReference {
    let slot: Int
    let number: Int
}
