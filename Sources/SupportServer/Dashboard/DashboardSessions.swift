import Crypto
import EventLog
import SupportService
import Synchronization

/// The dashboard's sign-in sessions, held in memory: a random id (32 bytes, hex) in an
/// HttpOnly, SameSite=Strict cookie maps to the principal that signed in, until it expires.
/// Ids are looked up through a digest (as tokens are), and a restart signs everyone out.
final class DashboardSessions: Sendable {
    static let cookieName = "ledgerdesk_session"
    /// How long a session lasts after sign-in.
    static let lifetimeSeconds: Int64 = 8 * 3600
    /// At most this many live sessions; signing in beyond it drops the oldest.
    static let capacity = 10_000

    private struct Session {
        var principal: Principal
        var expires: Timestamp
    }

    private let sessions = Mutex<[[UInt8]: Session]>([:])
    private let clock: @Sendable () -> Timestamp

    init(clock: @escaping @Sendable () -> Timestamp) { self.clock = clock }

    private static func digest(_ id: String) -> [UInt8] { Array(SHA256.hash(data: Array(id.utf8))) }

    /// Starts a session for `principal`; returns its id.
    func create(for principal: Principal) -> String {
        let key = SymmetricKey(size: .bits256)
        let id = key.withUnsafeBytes { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
        let now = clock()
        let session = Session(principal: principal, expires: Timestamp(milliseconds: now.milliseconds + Self.lifetimeSeconds * 1000))
        sessions.withLock { map in
            map = map.filter { $0.value.expires > now }
            if map.count >= Self.capacity, let oldest = map.min(by: { $0.value.expires < $1.value.expires })?.key {
                map[oldest] = nil
            }
            map[Self.digest(id)] = session
        }
        return id
    }

    /// The principal of a live session; nil when unknown or expired (an expired one is dropped).
    func principal(forSession id: String) -> Principal? {
        guard id.utf8.count == 64 else { return nil }
        let key = Self.digest(id)
        let now = clock()
        return sessions.withLock { map -> Principal? in
            guard let session = map[key] else { return nil }
            guard session.expires > now else {
                map[key] = nil
                return nil
            }
            return session.principal
        }
    }

    /// Ends a session (signing out).
    func remove(_ id: String) {
        let key = Self.digest(id)
        _ = sessions.withLock { $0.removeValue(forKey: key) }
    }

    var count: Int { sessions.withLock { $0.count } }
}
