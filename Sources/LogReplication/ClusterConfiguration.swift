import EventLog
import NATSClient

/// How a node of a replicated desk joins its cluster (`supportd --cluster … --node …`).
package struct ClusterConfiguration: Sendable {
    /// The NATS servers (JetStream enabled, clustered); the client moves between them.
    package var servers: [NATSServerURL]
    /// This node's name (unique in the cluster), written into the lease while it leads.
    package var node: String
    /// The URL clients reach this node's HTTP API at (followers send writers to the leader's).
    package var advertisedURL: String
    /// How long a lease lives in the key-value bucket without a refresh (the bucket's max age):
    /// a dead leader's lease is gone this long after its last refresh, and a follower takes over.
    package var lease: Duration = .seconds(4)
    /// The stream holding the log: its sequence is the log's `seq`.
    package var streamName = "LEDGERDESK"
    /// The one subject the stream holds.
    package var subject = "ledgerdesk.log"
    /// The stream of the desk's attachments: one message per content, under
    /// `<attachmentSubjectPrefix>.<sha256>`.
    package var attachmentStream = "LEDGERDESK_ATTACHMENTS"
    package var attachmentSubjectPrefix = "ledgerdesk.attachments"
    /// The key-value bucket of the leader lease, and the lease's key in it.
    package var bucket = "ledgerdesk-leader"
    package var leaseKey = "leader"
    /// How many copies JetStream keeps of the stream and of the lease (3 with three servers or more).
    package var replicas: Int

    package init(servers: [NATSServerURL], node: String, advertisedURL: String, lease: Duration = .seconds(4)) {
        self.servers = servers
        self.node = node
        self.advertisedURL = advertisedURL
        self.lease = lease
        self.replicas = min(3, max(1, servers.count))
    }

    /// How one event of the log goes onto the stream (`frame`: its encoding, when already made):
    /// expected last sequence = its seq - 1, so JetStream refuses it from a node that is behind,
    /// and message id = its hash, so publishing it again stores it once.
    func publication(of event: ReplicatedEvent, frame: [UInt8]? = nil) -> JetStreamPublication {
        JetStreamPublication(
            subject: subject, payload: frame ?? event.encoded(), messageID: event.hash.hex, expectedLastSequence: event.seq - 1)
    }

    /// A leader refreshes its lease this often (a quarter of the lease).
    var refreshInterval: Duration { lease / 4 }
    /// A leader writes only this long after it sent its last good refresh (three quarters of the
    /// lease): it stops before any follower can see the lease expire, whatever the network did
    /// with the refresh, and a paused process finds its lease lapsed when it resumes.
    var leaderValidity: Duration { lease * 3 / 4 }
    /// A follower looks at the lease and the stream's head this often.
    var followerCheckInterval: Duration { lease / 8 }
}

/// What a node knows of its cluster, for the API's `GET /v1/cluster` and the redirects of writes.
package struct ClusterStatus: Sendable, Equatable {
    /// This node's name.
    package var node: String
    /// Whether this node leads (writes) or follows (applies the stream).
    package var leading: Bool
    /// The node leading as far as this one knows (itself when leading), with its API's URL.
    package var leader: (node: String, url: String)?
    /// The stream's last sequence as last seen (nil before the first look).
    package var streamSeq: UInt64?
    /// Why this node can neither follow nor lead, when it cannot (its log is not a prefix of the
    /// stream): an operator's matter.
    package var problem: String?

    package init(
        node: String, leading: Bool, leader: (node: String, url: String)?, streamSeq: UInt64?, problem: String? = nil
    ) {
        self.node = node
        self.leading = leading
        self.leader = leader
        self.streamSeq = streamSeq
        self.problem = problem
    }

    package static func == (a: ClusterStatus, b: ClusterStatus) -> Bool {
        a.node == b.node && a.leading == b.leading && a.leader?.node == b.leader?.node && a.leader?.url == b.leader?.url
            && a.streamSeq == b.streamSeq && a.problem == b.problem
    }
}
