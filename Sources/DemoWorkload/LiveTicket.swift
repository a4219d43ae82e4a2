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

/// A ticket the generator still has plans for, with the state the rules depend on.
struct LiveTicket {
    /// Where the simulator keeps it.
    let slot: Int
    let number: Int
    let id: String
    let customer: Int
    let language: Language
    /// Index into ``Topic/catalog``.
    let topicIndex: Int
    let channel: Channel
    let openedAt: Int64
    /// Whether a customer opened it (others open on a customer's behalf).
    let openedByCustomer: Bool
    /// The earlier ticket this one repeats, to be merged into it.
    var duplicateOf: TicketReference?

    var team: Team
    var priority: Priority
    var status: TicketStatus = .new
    var assignee: Int?
    /// The version of the ticket's last event.
    var version: Int64 = 0
    var tags: UInt64 = 0
    /// When the automation will close it, once solved.
    var closeAt: Int64 = 0
    var firstAgentMessage: Int64 = 0
    var latestAgentMessage: Int64 = 0
    var agentMessages = 0
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

    var isAwaitingAgent: Bool { status == .new || status == .open }

    var topic: Topic { Topic.catalog[topicIndex] }

    /// The language agents answer in: French to French speakers, English to everyone else.
    var replyLanguage: Language { language == .french ? .french : .english }
}

/// A ticket's slot and number: the slot is reused once the ticket retires, the number is not.
struct TicketReference {
    let slot: Int
    let number: Int
}
