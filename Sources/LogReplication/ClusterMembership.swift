import Synchronization

/// What the API needs of a node in a replicated desk: whether it leads, and who does.
/// ``ClusterNode`` is the real one; ``SettledMembership`` holds a status set by hand (tests,
/// tools).
package protocol ClusterMembership: Sendable {
    /// What this node knows now.
    var status: ClusterStatus { get }
}

extension ClusterNode: ClusterMembership {}

/// A membership whose status is whatever was last set.
package final class SettledMembership: ClusterMembership {
    private let current: Mutex<ClusterStatus>

    package init(_ status: ClusterStatus) { current = Mutex(status) }

    package var status: ClusterStatus { current.withLock { $0 } }

    package func set(_ status: ClusterStatus) { current.withLock { $0 = status } }
}
