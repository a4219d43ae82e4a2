import MailMessage
import Synchronization

/// Where the outbox hands its mail: an SMTP relay in `supportd`, a recording one in tests.
package protocol MailTransport: Sendable {
    /// Hands `mail` over; returns the relay's final answer (e.g. `250 2.0.0 Ok: queued as 4F1A2`).
    func send(_ mail: MailEnvelope) async throws(MailDeliveryError) -> String
}

/// A transport that keeps what it is given, and fails as told: the in-memory implementation of
/// the seam.
package final class RecordingMailTransport: MailTransport {
    private struct State {
        var sent: [MailEnvelope] = []
        var failures: [MailDeliveryError] = []
        var lostAnswers = 0
        var attempts = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// The mail accepted so far, in order.
    package var sent: [MailEnvelope] { state.withLock { $0.sent } }
    /// How many times ``send(_:)`` was called.
    package var attempts: Int { state.withLock { $0.attempts } }

    /// The next sends fail with these errors, one each, before mail is accepted again.
    package func failNext(_ errors: [MailDeliveryError]) { state.withLock { $0.failures += errors } }

    /// The next `count` sends keep the mail and then fail for the time being, as a relay whose
    /// acceptance never reached the sender (the connection dropped after the data).
    package func loseAnswers(_ count: Int) { state.withLock { $0.lostAnswers += count } }

    package func send(_ mail: MailEnvelope) async throws(MailDeliveryError) -> String {
        let failure: MailDeliveryError? = state.withLock { s in
            s.attempts += 1
            if !s.failures.isEmpty { return s.failures.removeFirst() }
            s.sent.append(mail)
            if s.lostAnswers > 0 {
                s.lostAnswers -= 1
                return MailDeliveryError(permanent: false, detail: "the connection closed before the answer to the data")
            }
            return nil
        }
        if let failure { throw failure }
        return "250 2.0.0 Ok: recorded"
    }
}
