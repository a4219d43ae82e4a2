import Crypto
import EventLog
import Foundation

extension Policy {
    /// The RFC 8785 JSON of the effective policy, every key written out (SPEC §5).
    public var canonicalJSON: [UInt8] {
        // Encoding our own value cannot fail; the fallback keeps the hash defined regardless.
        guard let data = try? JSONEncoder().encode(self), let value = try? JSONParser.parse(Array(data)) else {
            return Array("\(self)".utf8)
        }
        return CanonicalJSON.encode(value)
    }

    /// `policyHash`: lowercase hex SHA-256 of ``canonicalJSON``. Projections record it and
    /// rebuild when it changes.
    public var hash: String {
        SHA256.hash(data: canonicalJSON).map { String(format: "%02x", $0) }.joined()
    }
}
