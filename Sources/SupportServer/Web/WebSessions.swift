import Crypto
import EventLog
import SupportService
import Synchronization

/// The sign-in sessions of the web pages (the dashboard and the agent console share them: one
/// cookie), held in memory: a random id (32 bytes, hex) in an HttpOnly, SameSite=Strict cookie
/// maps to the principal that signed in, until it expires. Ids are looked up through a digest
/// (as tokens are), and a restart signs everyone out.
///
/// Each session also has its own CSRF token, which every form that writes carries in a hidden
/// field: a form posted from anywhere but a page the session was shown is refused.
final class WebSessions: Sendable {
    static let cookieName = "ledgerdesk_session"
    /// How long a session lasts after sign-in.
    static let lifetimeSeconds: Int64 = 8 * 3600
    /// At most this many live sessions; signing in beyond it drops the oldest.
    static let capacity = 10_000

    /// A live session: who signed in, and the token its forms carry.
    struct Session: Sendable {
        var principal: Principal
        var csrf: String
        var expires: Timestamp
    }

    private let sessions = Mutex<[[UInt8]: Session]>([:])
    private let clock: @Sendable () -> Timestamp

    init(clock: @escaping @Sendable () -> Timestamp) { self.clock = clock }

    private static func digest(_ id: String) -> [UInt8] { Array(SHA256.hash(data: Array(id.utf8))) }

    /// 32 random bytes as 64 lowercase hex digits: session ids, CSRF tokens, idempotency keys.
    static func randomToken() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
    }

    /// Starts a session for `principal`; returns its id.
    func create(for principal: Principal) -> String {
        let id = Self.randomToken()
        let now = clock()
        let session = Session(
            principal: principal, csrf: Self.randomToken(),
            expires: Timestamp(milliseconds: now.milliseconds + Self.lifetimeSeconds * 1000))
        sessions.withLock { map in
            map = map.filter { $0.value.expires > now }
            if map.count >= Self.capacity, let oldest = map.min(by: { $0.value.expires < $1.value.expires })?.key {
                map[oldest] = nil
            }
            map[Self.digest(id)] = session
        }
        return id
    }

    /// The live session of an id; nil when unknown or expired (an expired one is dropped).
    func session(_ id: String) -> Session? {
        guard id.utf8.count == 64 else { return nil }
        let key = Self.digest(id)
        let now = clock()
        return sessions.withLock { map -> Session? in
            guard let session = map[key] else { return nil }
            guard session.expires > now else {
                map[key] = nil
                return nil
            }
            return session
        }
    }

    /// The principal of a live session; nil when unknown or expired.
    func principal(forSession id: String) -> Principal? { session(id)?.principal }

    /// Ends a session (signing out).
    func remove(_ id: String) {
        let key = Self.digest(id)
        _ = sessions.withLock { $0.removeValue(forKey: key) }
    }

    var count: Int { sessions.withLock { $0.count } }
}
