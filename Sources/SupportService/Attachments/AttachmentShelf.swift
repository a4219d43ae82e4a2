import LogReplication

/// Where a node keeps attachments' content: its own store and, in a replicated desk, the
/// content shared by every node. The one way content is kept (uploads, mail) and found again
/// (downloads, the outbox).
package struct AttachmentShelf: Sendable {
    /// This node's content (`<data dir>/attachments`).
    package let local: any AttachmentStore
    /// The cluster's shared content (nil on a single node).
    package let shared: (any SharedAttachments)?

    package init(local: any AttachmentStore, shared: (any SharedAttachments)? = nil) {
        self.local = local
        self.shared = shared
    }

    /// Keeps `bytes`: on this node's disk and, in a replicated desk, shared with the other nodes
    /// before answering (so before any event can name them).
    package func keep(_ bytes: [UInt8]) async throws(ServiceError) -> StoredAttachment {
        let stored: StoredAttachment
        do { stored = try local.put(bytes) } catch { throw ServiceError(error) }
        if let shared {
            do { try await shared.share(bytes, sha256: stored.sha256) } catch {
                throw ServiceError(.unavailable, "the attachment could not be shared with the cluster: \(error.detail)")
            }
        }
        return stored
    }

    /// Makes sure this node holds the content named `sha256` when the cluster does: a node that
    /// did not take an attachment fetches it (checked against its digest) before serving it.
    /// Does nothing on a single node, for a name that is no digest, or when it is held already.
    package func fetchIfMissing(_ sha256: String) async {
        guard let shared, AttachmentDigest.isValid(sha256), !local.contains(sha256: sha256) else { return }
        guard let bytes = try? await shared.fetch(sha256: sha256), AttachmentDigest.hex(of: bytes) == sha256 else { return }
        _ = try? local.put(bytes)
    }
}
