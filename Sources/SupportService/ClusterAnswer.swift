import LogReplication

/// `GET /v1/cluster`: how this node stands in its desk (a single node leads itself).
package struct ClusterAnswer: JSONAnswer {
    /// A node and the URL of its API.
    package struct Leader: Encodable, Sendable {
        package var node: String
        package var url: String
    }

    /// `single` (no cluster) or `cluster`.
    package var mode: String
    /// This node's name (null for a single node).
    package var node: String?
    /// `leader` or `follower`.
    package var role: String
    /// The leading node as far as this one knows (null when none is known, and for a single node).
    package var leader: Leader?
    /// The seq this node's projections have applied: what its answers reflect.
    package var appliedSeq: Int64
    /// The replicated log's last seq as last seen (null for a single node, or before the first look).
    package var streamSeq: Int64?
    /// Why this node can neither follow nor lead (its log is not a prefix of the stream), or null.
    package var problem: String?

    package init(status: ClusterStatus?, appliedSeq: UInt64) {
        self.appliedSeq = Int64(appliedSeq)
        guard let status else {
            mode = "single"
            role = "leader"
            return
        }
        mode = "cluster"
        node = status.node
        role = status.leading ? "leader" : "follower"
        leader = status.leader.map { Leader(node: $0.node, url: $0.url) }
        streamSeq = status.streamSeq.map { Int64($0) }
        problem = status.problem
    }

    private enum CodingKeys: String, CodingKey {
        case mode, node, role, leader, appliedSeq, streamSeq, problem
    }

    /// Every key written, absent values as null: the shape is the same on every node.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(node, forKey: .node)
        try c.encode(role, forKey: .role)
        try c.encode(leader, forKey: .leader)
        try c.encode(appliedSeq, forKey: .appliedSeq)
        try c.encode(streamSeq, forKey: .streamSeq)
        try c.encode(problem, forKey: .problem)
    }
}
