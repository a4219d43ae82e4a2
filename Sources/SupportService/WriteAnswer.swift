import EventLog
import SupportDomain

/// What a write answers: the status, the version its `ETag` names, the `Location` of a new
/// ticket and the JSON body. The HTTP edge sends it as is.
package struct WriteReply: Sendable, Equatable {
    /// The HTTP status: 201 for an opened ticket, else 200.
    package var status: Int
    /// The ticket's version after the write (the `ETag`).
    package var version: UInt64
    /// The new ticket's path, for an opened ticket.
    package var location: String?
    /// The ticket as canonical JSON (SPEC §8).
    package var body: [UInt8]
}

/// The answer to a write, exactly as it was sent the first time: what an idempotent retry gets
/// back byte for byte (status, body, ETag, Location). Stored with the append, atomically.
///
/// It is stored without the ticket's thread, which is most of a long ticket's body and would
/// make every idempotency record a growing copy of it: the thread is re-rendered on replay from
/// the (immutable) log at the answer's version.
package struct WriteAnswer: Sendable, Equatable {
    package enum Body: Sendable, Equatable {
        /// The whole body, as records written before threads were left out hold it.
        case complete([UInt8])
        /// The ticket's body cut around its thread (``TicketBody/aroundThread(_:at:levels:)``);
        /// the thread is `ticket`'s at the answer's version, without notes when `messagesOnly`.
        case aroundThread(ticket: String, messagesOnly: Bool, head: [UInt8], tail: [UInt8])
    }

    package var status: Int
    package var version: UInt64
    package var location: String?
    package var body: Body

    package init(status: Int, version: UInt64, location: String?, body: Body) {
        self.status = status
        self.version = version
        self.location = location
        self.body = body
    }

    /// The answer showing `ticket` (evaluated at `evaluation`) to `viewer`.
    init(ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels, viewer: Principal, status: Int) {
        let (head, tail) = TicketBody.aroundThread(ticket, at: evaluation, levels: levels)
        self.init(
            status: status, version: ticket.version, location: status == 201 ? "/v1/tickets/\(ticket.id)" : nil,
            body: .aroundThread(
                ticket: ticket.id, messagesOnly: TicketBody.hidesNotes(from: viewer),
                head: head, tail: tail))
    }

    // Format 3 (written now, with the package's byte writer): u8 3 | u16 status | u64 version
    // | u8 has location | u16 len + location | u8 body kind (0 complete, 1 around the thread)
    // | complete: body | around: u8 messages only | u16 len + ticket | varint len + head | tail.
    // Formats 1 and 2 (read only, from records an earlier server stored) are big-endian:
    // u8 1/2 | u16 status | u64 version | u8 has location | u16 len + location | 1: body
    // | 2: u8 messages only | u16 len + ticket | u32 len + head | tail.

    package func encoded() -> [UInt8] {
        var out: [UInt8] = [3]
        out.appendLittleEndian(UInt16(truncatingIfNeeded: status))
        out.appendLittleEndian(version)
        out.append(location == nil ? 0 : 1)
        out.appendShortString(location ?? "")
        switch body {
        case .complete(let bytes):
            out.append(0)
            out.append(contentsOf: bytes)
        case .aroundThread(let ticket, let messagesOnly, let head, let tail):
            out.append(1)
            out.append(messagesOnly ? 1 : 0)
            out.appendShortString(ticket)
            out.appendVarint(UInt64(head.count))
            out.append(contentsOf: head)
            out.append(contentsOf: tail)
        }
        return out
    }

    package init?(decoding bytes: [UInt8]) {
        let decoded: WriteAnswer? = bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            return try? Self.decode(&reader)
        }
        guard let decoded else { return nil }
        self = decoded
    }

    private static func decode(_ r: inout ByteReader) throws(ByteReader.Failure) -> WriteAnswer {
        let format = try r.byte()
        guard (1...3).contains(format) else { throw .invalid("unknown answer format \(format)") }
        // Formats 1 and 2 hold their integers big-endian.
        let bigEndian = format < 3
        func u16(_ r: inout ByteReader) throws(ByteReader.Failure) -> Int {
            let v = try r.uint16()
            return Int(bigEndian ? v.byteSwapped : v)
        }
        let status = try u16(&r)
        let version = bigEndian ? try r.uint64().byteSwapped : try r.uint64()
        let hasLocation = try r.byte() == 1
        let location = String(decoding: try r.bytes(count: try u16(&r)), as: UTF8.self)
        let around = format == 3 ? try r.byte() == 1 : format == 2
        let body: Body
        if around {
            let messagesOnly = try r.byte() == 1
            let ticket = String(decoding: try r.bytes(count: try u16(&r)), as: UTF8.self)
            let headLength =
                bigEndian
                ? Int(try r.bytes(count: 4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                : Int(try r.varint())
            let head = Array(try r.bytes(count: headLength))
            body = .aroundThread(
                ticket: ticket, messagesOnly: messagesOnly, head: head,
                tail: Array(try r.bytes(count: r.buffer.count - r.offset)))
        } else {
            body = .complete(Array(try r.bytes(count: r.buffer.count - r.offset)))
        }
        return WriteAnswer(status: status, version: version, location: hasLocation ? location : nil, body: body)
    }

    /// The reply, for the ticket this answer was made from (the first time it is sent).
    func reply(for ticket: Ticket) -> WriteReply {
        switch body {
        case .complete(let bytes):
            return reply(body: bytes)
        case .aroundThread(_, let messagesOnly, let head, let tail):
            return reply(body: head + ThreadEntryBody.thread(of: ticket, messagesOnly: messagesOnly).canonicalJSON + tail)
        }
    }

    /// The reply again, for a retry: the thread is read back from the log at the answer's version.
    func replay(from store: EventStore) throws(EventLogError) -> WriteReply {
        let id: String
        switch body {
        case .complete(let bytes): return reply(body: bytes)
        case .aroundThread(let ticket, _, _, _): id = ticket
        }
        let version = self.version
        let events = try store.read { try $0.events(inStream: id, throughVersion: version) }
        let ticket: Ticket?
        do { ticket = try Ticket.fold(events) } catch {
            throw .corruptRecord(seq: events.last?.seq ?? 0, reason: "ticket \(id) cannot be read: \(error.detail)")
        }
        guard let ticket, ticket.version == version else {
            throw .corruptRecord(
                seq: events.last?.seq ?? 0,
                reason: "an idempotent answer shows version \(version) of \(id), which the log does not hold")
        }
        return reply(for: ticket)
    }

    private func reply(body: [UInt8]) -> WriteReply {
        WriteReply(status: status, version: version, location: location, body: body)
    }
}

/// The one place that reads the answers stored under idempotency keys: before a command is
/// decided (a retry gets its first answer even when the ticket moved on since) and when the
/// log's writer reports an append as a replay (a retry that raced the first request).
package struct IdempotentAnswers: Sendable {
    let store: EventStore

    package init(store: EventStore) { self.store = store }

    /// What the log holds under a key.
    package enum Lookup: Sendable {
        /// The key is new.
        case unused
        /// The key answered the same request: its first answer again.
        case answered(WriteReply)
        /// The key was used for another request (409, after the request's other checks).
        case reused
    }

    /// Looks `key` (already scoped to the principal) up for the request `fingerprint` identifies.
    package func lookUp(_ key: String, fingerprint: [UInt8]) async throws(ServiceError) -> Lookup {
        let record: (fingerprint: [UInt8], stream: String, response: [UInt8]?, lastSeq: UInt64)?
        do { record = try store.read { try $0.idempotencyRecord(key: key) } } catch { throw ServiceError(error) }
        guard let record else { return .unused }
        // The record is visible once its commit is; a power loss could still undo that commit
        // until it is durable, so neither its answer nor the conflict goes out before.
        guard await store.waitUntilDurable(record.lastSeq) else {
            throw ServiceError(.unavailable, "the first request with this Idempotency-Key did not reach the disk; retry")
        }
        if record.fingerprint == fingerprint, let stored = record.response, WriteAnswer(decoding: stored) != nil {
            return .answered(try replay(stored))
        }
        return .reused
    }

    /// The stored answer `bytes` sent again.
    func replay(_ bytes: [UInt8]) throws(ServiceError) -> WriteReply {
        guard let answer = WriteAnswer(decoding: bytes) else {
            throw ServiceError(.unavailable, "the stored answer of this idempotency key cannot be read")
        }
        do { return try answer.replay(from: store) } catch { throw ServiceError(error) }
    }
}
