import LogReplication
import ServiceLifecycle
import SupportService

/// Runs the node of a replicated desk (following, leading) until the graceful shutdown, when a
/// leader gives its lease up.
struct ClusterNodeService: Service {
    let node: ClusterNode
    let backend: SupportBackend

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await node.run(store: backend.store) { try backend.prepareToLead() }
        }
    }
}

/// Runs a runner's service while this node leads, a fresh one each time it takes the lead
/// (each resumes from its checkpoint or the log), and cancels it when the node stops leading.
struct LeaderOnlyService: Service {
    let membership: any ClusterMembership
    let make: @Sendable () -> any Service
    /// How often the node's role is looked at.
    var poll: Duration = .milliseconds(200)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                while !membership.status.leading {
                    guard (try? await Task.sleep(for: poll)) != nil else { return }
                }
                let service = make()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await service.run() }
                    group.addTask {
                        while membership.status.leading, (try? await Task.sleep(for: poll)) != nil {}
                    }
                    await group.next()
                    group.cancelAll()
                }
                // A service that ended by itself starts again only in the node's next term.
                while membership.status.leading {
                    guard (try? await Task.sleep(for: poll)) != nil else { return }
                }
            }
        }
    }
}

/// A service with nothing to do (an automation runner the policy no longer asks for).
struct NoService: Service {
    func run() async throws {}
}
