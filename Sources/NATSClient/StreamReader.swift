import Foundation
import NIOCore
import Synchronization

/// Reads one stream in order from a sequence, through an ephemeral pull consumer (deliver by start
/// sequence, no acks, memory storage, one replica, removed by the server after 30 s without a pull).
///
/// ``next(max:wait:)`` never skips: each message it returns follows the one before, and a message
/// that does not (a gap) is thrown as an error. When the consumer is gone (its server restarted, or
/// it sat idle past its inactive threshold) the reader creates another one from where it stopped.
/// One task at a time calls ``next(max:wait:)``.
package final class StreamReader: Sendable {
    /// The stream read.
    package let stream: String
    let js: JetStream
    /// `_INBOX.<random>`: each pull's messages arrive on `<inbox>.<pull number>`.
    let inbox: String
    let state: Mutex<ReaderState>
    /// How long a consumer may sit without a pull before the server removes it.
    static let inactiveThreshold: Duration = .seconds(30)

    struct ReaderState {
        var consumer: String?
        var sid: UInt64?
        /// The last sequence returned (the start sequence - 1 at first).
        var lastSequence: UInt64
        var queue: [NATSMessage] = []
        var waiter: CheckedContinuation<Void, Never>?
        var wait: UInt64 = 0
        var expiredWait: UInt64 = 0
        var pulls: UInt64 = 0
        var closed = false
    }

    private init(js: JetStream, stream: String, from sequence: UInt64) {
        self.js = js
        self.stream = stream
        self.inbox = "_INBOX." + randomToken(22)
        self.state = Mutex(ReaderState(lastSequence: max(sequence, 1) - 1))
    }

    static func open(_ js: JetStream, stream: String, from sequence: UInt64) async throws(JetStreamError) -> StreamReader {
        let reader = StreamReader(js: js, stream: stream, from: sequence)
        let sid: UInt64
        do {
            sid = try await js.connection.subscribe(
                reader.inbox + ".*",
                sink: .handler({ [weak reader] message in reader?.received(message) }, finished: { [weak reader] in reader?.finish() }))
        } catch {
            throw .transport(error)
        }
        reader.state.withLock { $0.sid = sid }
        do {
            try await reader.createConsumer()
        } catch {
            await reader.close()
            throw error
        }
        return reader
    }

    /// The sequence the next message returned will have.
    package var nextSequence: UInt64 { state.withLock { $0.lastSequence + 1 } }

    /// Up to `max` messages in stream order, starting where the last call stopped; waits up to `wait`
    /// for at least one and returns [] when none came. Throws on a gap, when the reader is closed, or
    /// when JetStream does not answer.
    package func next(max: Int, wait: Duration) async throws(JetStreamError) -> [StoredMessage] {
        guard max > 0 else { return [] }
        var messages = try await pullRecreatingConsumer(batch: max, expires: nil)
        if messages.isEmpty, wait > .zero {
            messages = try await pullRecreatingConsumer(batch: 1, expires: wait)
            if !messages.isEmpty, max > 1 {
                messages += try await pullRecreatingConsumer(batch: max - 1, expires: nil)
            }
        }
        return messages
    }

    /// Stops reading and deletes the consumer (best effort).
    package func close() async {
        let (sid, consumer) = state.withLock { state in
            state.closed = true
            let taken = (state.sid, state.consumer)
            state.sid = nil
            state.consumer = nil
            return taken
        }
        finish()
        if let sid { await js.connection.unsubscribe(sid: sid) }
        if let consumer {
            _ = try? await js.call(
                "CONSUMER.DELETE.\(stream).\(consumer)", payload: [], as: SuccessAnswer.self, timeout: min(js.timeout, .seconds(1)))
        }
    }

    // MARK: Pulling

    private enum PullEnd: Error {
        case consumerGone
        case failed(JetStreamError)
    }

    private func pullRecreatingConsumer(batch: Int, expires: Duration?) async throws(JetStreamError) -> [StoredMessage] {
        do {
            return try await pull(batch: batch, expires: expires)
        } catch {
            if case .failed(let failure) = error {
                // A pull to a consumer that no longer exists may get no answer at all (nats-server 2.9).
                guard failure.kind == .transport(.timeout), await consumerIsGone() else { throw failure }
            }
        }
        try await createConsumer()
        do {
            return try await pull(batch: batch, expires: expires)
        } catch {
            if case .failed(let failure) = error { throw failure }
            throw .transport(.noResponders)
        }
    }

    /// One pull request: `no_wait` when `expires` is nil (what is there now), else waits up to `expires`.
    private func pull(batch: Int, expires: Duration?) async throws(PullEnd) -> [StoredMessage] {
        let (consumer, replyTo, closed) = state.withLock { state in
            state.pulls += 1
            return (state.consumer, "\(inbox).\(state.pulls)", state.closed)
        }
        guard !closed else { throw .failed(.transport(.connectionClosed)) }
        guard let consumer else { throw .consumerGone }
        var request: [String: any Sendable] = ["batch": batch]
        if let expires {
            request["expires"] = nanoseconds(expires)
        } else {
            request["no_wait"] = true
        }
        let body = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
        do {
            try await js.connection.publish(
                "\(js.apiPrefix).CONSUMER.MSG.NEXT.\(stream).\(consumer)", replyTo: replyTo, payload: Array(body))
        } catch {
            throw .failed(.transport(error))
        }
        let deadline = ContinuousClock.now + (expires ?? .zero) + js.timeout
        var messages: [StoredMessage] = []
        while messages.count < batch {
            guard let message = await nextQueued(until: deadline) else {
                if messages.isEmpty, state.withLock({ $0.closed }) { throw .failed(.transport(.connectionClosed)) }
                if messages.isEmpty { throw .failed(.transport(.timeout)) }
                break
            }
            if let status = message.headers?.status, message.payload.isEmpty {
                guard message.subject == replyTo else { continue }  // the end of an earlier pull
                switch status {
                case 100: continue
                case 404, 408: return messages
                case 503: throw .consumerGone
                case 409:
                    let text = message.headers?.statusDescription ?? ""
                    if text.localizedCaseInsensitiveContains("deleted") { throw .consumerGone }
                    if messages.isEmpty { throw .failed(JetStreamError(.api(code: 409, errorCode: 0, description: text))) }
                    return messages
                default:
                    throw .failed(JetStreamError(.api(code: status, errorCode: 0, description: message.headers?.statusDescription ?? "")))
                }
            }
            guard let replySubject = message.replyTo, let (sequence, time) = Self.parseAckSubject(replySubject) else {
                throw .failed(.unexpected("a pulled message without its $JS.ACK subject"))
            }
            let accepted = try state.withLock { state throws(PullEnd) -> Bool in
                if sequence <= state.lastSequence { return false }  // delivered again by a recreated consumer
                guard sequence == state.lastSequence + 1 else {
                    throw .failed(.unexpected("stream \(stream) skipped from \(state.lastSequence) to \(sequence)"))
                }
                state.lastSequence = sequence
                return true
            }
            if accepted {
                messages.append(
                    StoredMessage(
                        subject: message.subject, sequence: sequence, headers: message.headers, payload: message.payload, time: time))
            }
        }
        return messages
    }

    /// False only when the API describes the reader's consumer: a pull it did not answer was slow, not
    /// lost. A consumer that does not exist, or whose server does not answer (it lives on one server,
    /// which may be down), is replaced; the server removes an abandoned one after its inactive threshold.
    private func consumerIsGone() async -> Bool {
        guard let consumer = state.withLock({ $0.consumer }) else { return true }
        do {
            _ = try await js.call("CONSUMER.INFO.\(stream).\(consumer)", payload: [], as: ConsumerAnswer.self)
            return false
        } catch {
            return true
        }
    }

    private func createConsumer() async throws(JetStreamError) {
        let start = state.withLock { $0.lastSequence + 1 }
        let request: [String: any Sendable] = [
            "stream_name": stream,
            "config": [
                "deliver_policy": "by_start_sequence", "opt_start_seq": start, "ack_policy": "none", "replay_policy": "instant",
                "inactive_threshold": nanoseconds(Self.inactiveThreshold), "mem_storage": true, "num_replicas": 1,
            ] as [String: any Sendable],
        ]
        let body = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
        let answer = try await js.call("CONSUMER.CREATE.\(stream)", payload: Array(body), as: ConsumerAnswer.self)
        let stale = state.withLock { state -> String? in
            if state.closed { return answer.name }
            state.consumer = answer.name
            state.queue.removeAll()
            return nil
        }
        if let stale {
            _ = try? await js.call(
                "CONSUMER.DELETE.\(stream).\(stale)", payload: [], as: SuccessAnswer.self, timeout: min(js.timeout, .seconds(1)))
            throw .transport(.connectionClosed)
        }
    }

    /// `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>` (and the
    /// newer form with a domain and an account hash before the stream): the stream sequence and the time.
    static func parseAckSubject(_ subject: String) -> (UInt64, String?)? {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count >= 9, tokens[0] == "$JS", tokens[1] == "ACK" else { return nil }
        let offset = tokens.count == 9 ? 0 : 2
        guard tokens.count >= 9 + offset, let sequence = UInt64(tokens[5 + offset]) else { return nil }
        return (sequence, Int64(tokens[7 + offset]).map(rfc3339))
    }

    /// Nanoseconds since 1970 as the server writes times (RFC 3339 in UTC, nanoseconds without trailing zeros).
    static func rfc3339(_ nanoseconds: Int64) -> String {
        let seconds = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        let date = Date(timeIntervalSince1970: TimeInterval(seconds.quotient))
        var text = date.formatted(.iso8601.year().month().day().dateTimeSeparator(.standard).time(includingFractionalSeconds: false))
        if text.hasSuffix("Z") { text.removeLast() }
        if seconds.remainder > 0 {
            var fraction = String(seconds.remainder)
            fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    // MARK: The inbox's messages

    private func received(_ message: NATSMessage) {
        let waiter = state.withLock { state in
            state.queue.append(message)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func finish() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The next message of the inbox, or nil when `deadline` passed (or the reader closed) first.
    private func nextQueued(until deadline: ContinuousClock.Instant) async -> NATSMessage? {
        while true {
            let next: NATSMessage?? = state.withLock { state in
                if !state.queue.isEmpty { return .some(state.queue.removeFirst()) }
                return state.closed ? .some(nil) : nil
            }
            if let next { return next }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero, !Task.isCancelled else { return nil }
            await sleep(upTo: remaining)
        }
    }

    /// Suspends until a message arrives, the reader closes, `duration` passes or the task is cancelled.
    private func sleep(upTo duration: Duration) async {
        let wait = state.withLock { state in
            state.wait += 1
            return state.wait
        }
        let timer = js.connection.group.any().scheduleTask(in: TimeAmount(duration)) { [weak self] in self?.expire(wait) }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if !state.queue.isEmpty || state.closed || state.expiredWait == wait { return true }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.expire(wait)
        }
    }

    private func expire(_ wait: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.wait == wait else { return nil }
            state.expiredWait = wait
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}

struct ConsumerAnswer: Decodable {
    var name: String
}
