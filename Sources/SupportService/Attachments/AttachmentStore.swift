import Crypto

/// Where attachments' bytes are kept, beside the log and addressed by their content: the
/// SHA-256 of the bytes, as 64 lowercase hex digits, is the name a thread entry's attachment
/// (`{name, size, contentType, sha256}`) gives them.
///
/// Putting the same bytes twice stores them once; reading checks the bytes against their
/// name, so damaged or altered content is an error, never an answer.
package protocol AttachmentStore: Sendable {
    /// Stores `bytes` (nothing happens when they are already stored) and names them.
    func put(_ bytes: [UInt8]) throws(AttachmentStoreError) -> StoredAttachment
    /// The bytes named `sha256`, checked against it; nil when none are stored.
    func get(sha256: String) throws(AttachmentStoreError) -> [UInt8]?
    /// Whether bytes named `sha256` are stored (false for a name that is no digest).
    func contains(sha256: String) -> Bool
}

/// Bytes as stored: their SHA-256 (64 lowercase hex digits) and their size; as an answer,
/// `{"sha256": "…", "size": n}`.
package struct StoredAttachment: JSONAnswer, Hashable {
    /// The SHA-256 of the bytes, 64 lowercase hex digits.
    package var sha256: String
    /// The size in bytes.
    package var size: Int64

    package init(sha256: String, size: Int64) {
        self.sha256 = sha256
        self.size = size
    }

    /// The digest and size of `bytes`.
    package init(of bytes: [UInt8]) {
        self.init(sha256: AttachmentDigest.hex(of: bytes), size: Int64(bytes.count))
    }
}

/// Why the attachment store could not do what it was asked.
package enum AttachmentStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name is not 64 lowercase hex digits.
    case invalidDigest(String)
    /// The stored bytes no longer hash to their name (altered or damaged on disk).
    case damaged(sha256: String, detail: String)
    /// The disk (or the owner's quota) is full.
    case full(String)
    /// Another storage failure (permissions, I/O).
    case storage(String)

    package var description: String {
        switch self {
        case .invalidDigest(let name): "\"\(name)\" is not a SHA-256 digest (64 lowercase hex digits)"
        case .damaged(let sha256, let detail): "the stored attachment \(sha256) is damaged: \(detail)"
        case .full(let detail): "the attachment store is full: \(detail)"
        case .storage(let detail): "the attachment store failed: \(detail)"
        }
    }
}

extension ServiceError {
    /// The error for a failed attachment operation: a name that is no digest is 400; a full
    /// disk, damaged content and other storage failures are 503 (no `Retry-After`: they last
    /// until an operator acts).
    package init(_ error: AttachmentStoreError) {
        switch error {
        case .invalidDigest: self.init(.badRequest, error.description)
        case .damaged, .full, .storage: self.init(.unavailable, error.description)
        }
    }
}

/// SHA-256 names.
package enum AttachmentDigest {
    /// The SHA-256 of `bytes`, as 64 lowercase hex digits.
    package static func hex(of bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `name` is 64 lowercase hex digits.
    package static func isValid(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
