import Synchronization

/// Attachments in memory (tests, tools): the same contract as ``FileAttachmentStore``.
package final class InMemoryAttachmentStore: AttachmentStore {
    private let contents = Mutex<[String: [UInt8]]>([:])

    package init() {}

    package func put(_ bytes: [UInt8]) throws(AttachmentStoreError) -> StoredAttachment {
        let stored = StoredAttachment(of: bytes)
        contents.withLock { if $0[stored.sha256] == nil { $0[stored.sha256] = bytes } }
        return stored
    }

    package func get(sha256: String) throws(AttachmentStoreError) -> [UInt8]? {
        guard AttachmentDigest.isValid(sha256) else { throw .invalidDigest(sha256) }
        guard let bytes = contents.withLock({ $0[sha256] }) else { return nil }
        guard AttachmentDigest.hex(of: bytes) == sha256 else { throw .damaged(sha256: sha256, detail: "the bytes hash otherwise") }
        return bytes
    }

    package func contains(sha256: String) -> Bool {
        AttachmentDigest.isValid(sha256) && contents.withLock { $0[sha256] != nil }
    }

    /// Replaces the bytes kept under `sha256` without renaming them (tests of damaged content).
    package func overwrite(sha256: String, with bytes: [UInt8]) {
        contents.withLock { $0[sha256] = bytes }
    }
}
