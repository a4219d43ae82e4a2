import NATSClient
import Synchronization

/// Why the cluster could not share or find an attachment's content.
package struct ClusterUnavailable: Error, Sendable, Equatable, CustomStringConvertible {
    package var detail: String

    package init(_ detail: String) { self.detail = detail }

    package var description: String { detail }
}

/// The content of attachments, shared by every node of a replicated desk: a node keeps what it
/// takes on its own disk and shares it here before the event that names it is appended; a node
/// asked for content it does not hold fetches it from here.
package protocol SharedAttachments: Sendable {
    /// Shares `bytes` named `sha256` (their digest), returning once the cluster holds them.
    func share(_ bytes: [UInt8], sha256: String) async throws(ClusterUnavailable)
    /// The bytes shared under `sha256`, nil when none were.
    func fetch(sha256: String) async throws(ClusterUnavailable) -> [UInt8]?
}

/// Attachments in a JetStream stream (``ClusterConfiguration/attachmentStream``, replicas as the
/// log's): one message per content under `<prefix>.<sha256>`, `Nats-Msg-Id` the digest, so
/// sharing the same content twice stores it once.
package struct StreamAttachments: SharedAttachments {
    let node: ClusterNode

    package init(node: ClusterNode) { self.node = node }

    private func stream() throws(ClusterUnavailable) -> JetStream {
        guard let stream = node.jetStream else { throw ClusterUnavailable("node \(node.configuration.node) is not connected to JetStream") }
        return stream
    }

    package func share(_ bytes: [UInt8], sha256: String) async throws(ClusterUnavailable) {
        let stream = try stream()
        guard bytes.count <= stream.connection.maximumPayload - 512 else {
            throw ClusterUnavailable(
                "an attachment of \(bytes.count) bytes is over what the NATS servers take in one message (max_payload \(stream.connection.maximumPayload))"
            )
        }
        do {
            _ = try await stream.publish(node.configuration.attachmentSubjectPrefix + "." + sha256, payload: bytes, messageID: sha256)
        } catch {
            throw ClusterUnavailable("the cluster did not keep the attachment: \(error)")
        }
    }

    package func fetch(sha256: String) async throws(ClusterUnavailable) -> [UInt8]? {
        let stream = try stream()
        do {
            return try await stream.lastMessage(
                stream: node.configuration.attachmentStream, subject: node.configuration.attachmentSubjectPrefix + "." + sha256)?
                .payload
        } catch {
            throw ClusterUnavailable("the cluster's attachments cannot be read: \(error)")
        }
    }
}

/// Shared attachments in memory (tests, tools): what was shared, by digest.
package final class InMemorySharedAttachments: SharedAttachments {
    private let contents = Mutex<[String: [UInt8]]>([:])

    package init() {}

    package func share(_ bytes: [UInt8], sha256: String) async throws(ClusterUnavailable) {
        contents.withLock { $0[sha256] = bytes }
    }

    package func fetch(sha256: String) async throws(ClusterUnavailable) -> [UInt8]? {
        contents.withLock { $0[sha256] }
    }

    /// Replaces what is shared under `sha256` (a test's damaged copy).
    package func replace(_ sha256: String, with bytes: [UInt8]) { contents.withLock { $0[sha256] = bytes } }
}
