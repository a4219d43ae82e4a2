/// What an SLA target measures.
public enum SLAMetric: String, CaseIterable, Codable, Hashable, Sendable {
    /// Time from a ticket's creation to the first agent reply.
    case firstReply
    /// Time from a customer message to the agent reply that follows it.
    case nextReply
    /// Time from a ticket's creation to its resolution.
    case resolution
}
