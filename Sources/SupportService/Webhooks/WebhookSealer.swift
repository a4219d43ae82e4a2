import Crypto
import EventLog
import Foundation
import Synchronization

/// Seals the endpoints' secrets (AES-GCM) under the data directory's webhook key
/// (`<data dir>/webhook.key`, 32 random bytes, created owner-only on first use), so the log,
/// exports and `/v1/events` hold only sealed secrets. The endpoint's id is authenticated with the
/// secret: a sealed secret cannot be moved to another endpoint.
package final class WebhookSealer: Sendable {
    /// The key file.
    package let path: String
    private let key = Mutex<SymmetricKey?>(nil)
    /// The prefix of a sealed secret (the format's version).
    static let prefix = "v1:"

    package init(dataDirectory: String) { path = dataDirectory + "/webhook.key" }

    /// The key, read from its file, or created when `create` and the file is missing.
    private func key(create: Bool) throws(ServiceError) -> SymmetricKey {
        if let known = key.withLock({ $0 }) { return known }
        let loaded: SymmetricKey
        if let bytes = FileManager.default.contents(atPath: path) {
            guard bytes.count == 32 else { throw ServiceError(.unavailable, "\(path) does not hold a 32-byte key") }
            loaded = SymmetricKey(data: bytes)
        } else {
            guard create else { throw ServiceError(.unavailable, "no webhook key at \(path)") }
            let fresh = SymmetricKey(size: .bits256)
            let failure = fresh.withUnsafeBytes { OwnerOnlyFile.create(path, bytes: Array($0)) }
            if failure == EEXIST { return try key(create: false) }
            if failure != 0 { throw ServiceError(.unavailable, "cannot create \(path): \(String(cString: strerror(failure)))") }
            loaded = fresh
        }
        key.withLock { $0 = loaded }
        return loaded
    }

    /// `secret` sealed for endpoint `id`: `v1:` + base64 of nonce | ciphertext | tag.
    package func seal(_ secret: String, id: String) throws(ServiceError) -> String {
        let key = try key(create: true)
        do {
            let box = try AES.GCM.seal(Array(secret.utf8), using: key, authenticating: Array(id.utf8))
            guard let combined = box.combined else { throw ServiceError(.internalError, "AES-GCM gave no combined box") }
            return Self.prefix + combined.base64EncodedString()
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.internalError, "cannot seal the secret: \(error)")
        }
    }

    /// The secret sealed for endpoint `id`.
    package func open(_ sealed: String, id: String) throws(ServiceError) -> String {
        guard sealed.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(sealed.dropFirst(Self.prefix.count))) else {
            throw ServiceError(.unavailable, "the secret of webhook \(id) is not sealed in a known form")
        }
        let key = try key(create: false)
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            let plain = try AES.GCM.open(box, using: key, authenticating: Array(id.utf8))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw ServiceError(.unavailable, "the secret of webhook \(id) cannot be opened with \(path) (another data directory's key?)")
        }
    }
}
