import EventLog
import HTTPTypes
import Hummingbird
import NIOCore
import SupportDomain
import SupportService

/// Registers the attachment routes on `/v1` (one call from ``buildRouter(backend:tokens:)``).
func registerAttachmentRoutes(on group: RouterGroup<SupportRequestContext>, backend: SupportBackend) {
    AttachmentRoutes(backend: backend).register(on: group)
}

/// `POST /v1/attachments` (the bytes of a file, stored once by their SHA-256) and
/// `GET /v1/tickets/{id}/attachments/{sha256}` (the bytes of a file a thread entry names, to
/// those who may read the ticket).
struct AttachmentRoutes {
    let backend: SupportBackend

    /// The largest upload: 20 MiB.
    static let maximumUpload = 20 * 1024 * 1024

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.post("attachments") { request, context in
            try await upload(request: request, context: context)
        }
        group.get("tickets/:id/attachments/:sha256") { request, context in
            // A node that did not take the content fetches it from the cluster first (the checks
            // of the download run after, on what this node then holds).
            await backend.attachmentShelf.fetchIfMissing(context.parameters.get("sha256") ?? "")
            return try download(request: request, context: context)
        }
    }

    /// POST /v1/attachments: customers and agents (403 for the others), a body of 1 byte to
    /// 20 MiB of any content type (413 beyond, 400 when empty); 201 `{"sha256", "size"}`.
    func upload(request: Request, context: SupportRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        guard principal.role == .customer || principal.role == .agent else {
            throw Problem.forbidden("a \(principal.role.rawValue) may not upload attachments (customers and agents may)")
        }
        var request = request
        let bytes: [UInt8]
        do {
            bytes = Array(buffer: try await request.collectBody(upTo: Self.maximumUpload))
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem(.contentTooLarge, "an attachment may be at most \(Self.maximumUpload) bytes")
        } catch is NIOTooManyBytesError {
            throw Problem(.contentTooLarge, "an attachment may be at most \(Self.maximumUpload) bytes")
        }
        _ = try QueryParameters(request, allowed: [])
        guard !bytes.isEmpty else { throw Problem.badRequest("the attachment is empty: send its bytes as the request body") }
        let stored: StoredAttachment
        do { stored = try await backend.attachmentShelf.keep(bytes) } catch { throw Problem(error) }
        return JSONResponse.make(stored, status: .created)
    }

    /// GET /v1/tickets/{id}/attachments/{sha256}: the ticket as GET /v1/tickets/{id} finds it
    /// (a customer's own only, 404 otherwise), then the digest (400 unless 64 lowercase hex
    /// digits), then the first entry of the thread the caller sees (customers never see notes)
    /// whose attachments name it (404 when none does, or when the bytes are not stored). The
    /// bytes are checked against their digest: damaged content is 503, never an answer.
    func download(request: Request, context: SupportRequestContext) throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        return try download(
            ticketID: try context.pathIdentifier("id"), digest: { () throws(Problem) in try context.pathIdentifier("sha256") },
            principal: principal,
            checkQuery: { () throws(Problem) in _ = try QueryParameters(request, allowed: []) })
    }

    /// The download for `principal` (the API's and the agent console's): the digest is read
    /// after the ticket is found, and `checkQuery` runs after the digest check, in the order the
    /// API answers.
    func download(
        ticketID id: String, digest readDigest: () throws(Problem) -> String, principal: Principal,
        checkQuery: () throws(Problem) -> Void
    ) throws(Problem) -> Response {
        guard StreamName.isTicket(id) else { throw Problem.notFound("ticket \(id) not found") }
        let events: [RecordedEvent]
        do { events = try backend.store.events(inStream: id) } catch { throw Problem(error) }
        let found: Ticket?
        do { found = try Ticket.fold(events) } catch { throw Problem(.serviceUnavailable, error.detail) }
        guard let ticket = found, principal.role != .customer || Identifier.same(ticket.customer, principal.id) else {
            throw Problem.notFound("ticket \(id) not found")
        }
        let digest = try readDigest()
        guard AttachmentDigest.isValid(digest) else {
            throw Problem.badRequest("\"\(digest)\" is not a SHA-256 digest (64 lowercase hex digits)")
        }
        try checkQuery()
        let hidesNotes = TicketBody.hidesNotes(from: principal)
        let visible = ticket.thread.lazy.filter { !hidesNotes || $0.kind == .message }
        guard let attachment = visible.flatMap(\.attachments).first(where: { $0.sha256 == digest }) else {
            throw Problem.notFound("ticket \(id) has no attachment \(digest)")
        }
        let stored: [UInt8]?
        do { stored = try backend.attachments.get(sha256: digest) } catch { throw Problem(ServiceError(error)) }
        guard let bytes = stored else { throw Problem.notFound("the bytes of attachment \(digest) are not stored") }
        let headers: HTTPFields = [
            .contentType: AttachmentHeaders.isMediaType(attachment.contentType) ? attachment.contentType : "application/octet-stream",
            .contentDisposition: AttachmentHeaders.disposition(filename: attachment.name),
            .xContentTypeOptions: "nosniff",
            .contentLength: "\(bytes.count)",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// The headers of a served attachment.
enum AttachmentHeaders {
    /// `attachment; filename*=UTF-8''<name percent-encoded>` (RFC 6266, RFC 8187: every byte of
    /// the UTF-8 name but the attr-chars is `%XX`).
    static func disposition(filename: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = Array("attachment; filename*=UTF-8''".utf8)
        for byte in filename.utf8 {
            if isAttrChar(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 8187 attr-char: ALPHA, DIGIT and `!#$&+-.^_`|~`.
    private static func isAttrChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$&+-.^_`|~".utf8).contains(byte)
        }
    }

    /// Whether `text` is an RFC 9110 media type: `type/subtype` tokens, then `; name=value`
    /// parameters (a token or a quoted string), in ASCII.
    static func isMediaType(_ text: String) -> Bool {
        let b = Array(text.utf8)
        var i = 0
        func token() -> Bool {
            let start = i
            while i < b.count, isTokenChar(b[i]) { i += 1 }
            return i > start
        }
        func whitespace() { while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 } }
        guard token(), i < b.count, b[i] == UInt8(ascii: "/") else { return false }
        i += 1
        guard token() else { return false }
        while true {
            whitespace()
            if i == b.count { return true }
            guard b[i] == UInt8(ascii: ";") else { return false }
            i += 1
            whitespace()
            guard token(), i < b.count, b[i] == UInt8(ascii: "=") else { return false }
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "\"") {
                i += 1
                var closed = false
                while i < b.count {
                    let c = b[i]
                    if c == UInt8(ascii: "\"") {
                        closed = true
                        i += 1
                        break
                    }
                    if c == UInt8(ascii: "\\") {
                        guard i + 1 < b.count, b[i + 1] == 0x09 || (0x20...0x7E).contains(b[i + 1]) else { return false }
                        i += 2
                        continue
                    }
                    guard c == 0x09 || (0x20...0x7E).contains(c) else { return false }
                    i += 1
                }
                guard closed else { return false }
            } else {
                guard token() else { return false }
            }
        }
    }

    /// RFC 9110 tchar.
    private static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
