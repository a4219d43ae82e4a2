import EventLog
import HTTPTypes
import Hummingbird
import NIOCore
import SupportDomain

/// The answer to a write, exactly as it was sent the first time: what an idempotent retry gets
/// back byte for byte (status, body, ETag, Location). Stored with the append, atomically.
///
/// It is stored without the ticket's thread, which is most of a long ticket's body and would
/// make every idempotency record a growing copy of it: the thread is re-rendered on replay from
/// the (immutable) log at the answer's version.
struct WriteAnswer: Sendable, Equatable {
    enum Body: Sendable, Equatable {
        /// The whole body, as records written before threads were left out hold it.
        case complete([UInt8])
        /// The ticket's body cut around its thread (``TicketRepresentation/fullAroundThread(_:at:levels:)``);
        /// the thread is `ticket`'s at the answer's version, without notes when `messagesOnly`.
        case aroundThread(ticket: String, messagesOnly: Bool, head: [UInt8], tail: [UInt8])
    }

    var status: Int
    var version: UInt64
    var location: String?
    var body: Body

    init(status: Int, version: UInt64, location: String?, body: Body) {
        self.status = status
        self.version = version
        self.location = location
        self.body = body
    }

    /// The answer showing `ticket` (evaluated at `evaluation`) to `viewer`.
    init(ticket: Ticket, at evaluation: Timestamp, levels: ServiceLevels, viewer: Principal, status: Int) {
        let (head, tail) = TicketRepresentation.fullAroundThread(ticket, at: evaluation, levels: levels)
        self.init(status: status, version: ticket.version, location: status == 201 ? "/v1/tickets/\(ticket.id)" : nil,
                  body: .aroundThread(ticket: ticket.id, messagesOnly: TicketRepresentation.hidesNotes(from: viewer),
                                      head: head, tail: tail))
    }

    // Format 1: u8 1 | u16 status | u64 version (BE) | u8 has location | u16 len + location | body.
    // Format 2: the same header with 2 | u8 messages only | u16 len + ticket | u32 len + head | tail.

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        switch body {
        case .complete: out.append(1)
        case .aroundThread: out.append(2)
        }
        out.append(UInt8(status >> 8)); out.append(UInt8(status & 0xFF))
        withUnsafeBytes(of: version.bigEndian) { out.append(contentsOf: $0) }
        let loc = Array((location ?? "").utf8)
        out.append(location == nil ? 0 : 1)
        out.append(UInt8(loc.count >> 8)); out.append(UInt8(loc.count & 0xFF))
        out.append(contentsOf: loc)
        switch body {
        case .complete(let bytes):
            out.append(contentsOf: bytes)
        case .aroundThread(let ticket, let messagesOnly, let head, let tail):
            out.append(messagesOnly ? 1 : 0)
            let id = Array(ticket.utf8)
            out.append(UInt8(id.count >> 8)); out.append(UInt8(id.count & 0xFF))
            out.append(contentsOf: id)
            withUnsafeBytes(of: UInt32(head.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: head)
            out.append(contentsOf: tail)
        }
        return out
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 14, bytes[0] == 1 || bytes[0] == 2 else { return nil }
        status = Int(bytes[1]) << 8 | Int(bytes[2])
        version = bytes[3..<11].reduce(0) { $0 << 8 | UInt64($1) }
        let hasLocation = bytes[11] == 1
        let n = Int(bytes[12]) << 8 | Int(bytes[13])
        guard bytes.count >= 14 + n else { return nil }
        location = hasLocation ? String(decoding: bytes[14..<(14 + n)], as: UTF8.self) : nil
        var at = 14 + n
        guard bytes[0] == 2 else {
            body = .complete(Array(bytes[at...]))
            return
        }
        guard bytes.count >= at + 3 else { return nil }
        let messagesOnly = bytes[at] == 1
        let idLength = Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
        at += 3
        guard bytes.count >= at + idLength + 4 else { return nil }
        let ticket = String(decoding: bytes[at..<(at + idLength)], as: UTF8.self)
        at += idLength
        let headLength = Int(bytes[at..<(at + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        at += 4
        guard bytes.count >= at + headLength else { return nil }
        body = .aroundThread(ticket: ticket, messagesOnly: messagesOnly, head: Array(bytes[at..<(at + headLength)]),
                             tail: Array(bytes[(at + headLength)...]))
    }

    /// The response, for the ticket this answer was made from (the first time it is sent).
    func response(for ticket: Ticket) -> Response {
        switch body {
        case .complete(let bytes):
            return response(body: bytes)
        case .aroundThread(_, let messagesOnly, let head, let tail):
            return response(body: head + CanonicalJSON.encode(TicketRepresentation.thread(ticket, messagesOnly: messagesOnly)) + tail)
        }
    }

    /// The response again, for a retry: the thread is read back from the log at the answer's version.
    func replay(from store: EventStore) throws(EventLogError) -> Response {
        let id: String
        switch body {
        case .complete(let bytes): return response(body: bytes)
        case .aroundThread(let ticket, _, _, _): id = ticket
        }
        let version = self.version
        let events = try store.read { try $0.events(inStream: id, throughVersion: version) }
        let ticket: Ticket?
        do { ticket = try Ticket.fold(events) } catch {
            throw .corruptRecord(seq: events.last?.seq ?? 0, reason: "ticket \(id) cannot be read: \(error.detail)")
        }
        guard let ticket, ticket.version == version else {
            throw .corruptRecord(seq: events.last?.seq ?? 0,
                                 reason: "an idempotent answer shows version \(version) of \(id), which the log does not hold")
        }
        return response(for: ticket)
    }

    private func response(body: [UInt8]) -> Response {
        var headers: HTTPFields = [.eTag: "\"\(version)\""]
        if let location { headers[.location] = location }
        return JSONResponse.make(bytes: body, status: HTTPResponse.Status(code: status), headers: headers)
    }
}
