import HTTPTypes
import Hummingbird
import NIOCore
import SupportService

/// `POST /v1/mail` (gateways only): one raw RFC 5322 message (`Content-Type: message/rfc822`),
/// as `support-mailgate` hands it over from the MTA or a provider forwards it by webhook. The
/// answer says what became of it (``MailIntakeAnswer``): 201 when it opened a ticket, else 200;
/// 400 when it can never be taken (the gate exits with EX_DATAERR and the MTA bounces it), 413
/// over the size limit, 415 for another content type, 503 when the log cannot write (the gate
/// exits with EX_TEMPFAIL and the MTA tries again later).
struct MailRoute {
    let backend: SupportBackend
    let metrics: ServerMetrics
    static let path = "/v1/mail"

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.post("mail") { request, context in try await take(request: request, context: context) }
    }

    func take(request: Request, context: SupportRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        guard principal.role == .gateway else { throw Problem.forbidden("only a gateway token may post mail") }
        let limit = backend.mail.settings.maximumMessageBytes
        var request = request
        let raw: [UInt8]
        do {
            raw = Array(buffer: try await request.collectBody(upTo: limit))
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem(.contentTooLarge, "the message exceeds \(limit) bytes")
        } catch is NIOTooManyBytesError {
            throw Problem(.contentTooLarge, "the message exceeds \(limit) bytes")
        }
        _ = try QueryParameters(request, allowed: [])
        if let type = request.headers[.contentType] {
            let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard media == "message/rfc822" || media == "text/plain" || media == "application/octet-stream" else {
                throw Problem(.unsupportedMediaType, "the body must be a mail message (Content-Type: message/rfc822), not \(media)")
            }
        }
        guard !raw.isEmpty else { throw Problem.badRequest("the body is empty: it must be one mail message") }
        let answer = try await backend.mail.take(raw)
        metrics.recordMail(outcome: answer.outcome)
        var headers: HTTPFields = [:]
        if answer.status == 201, let ticket = answer.ticket { headers[.location] = "/v1/tickets/\(ticket)" }
        return JSONResponse.make(answer, status: HTTPResponse.Status(code: answer.status), headers: headers)
    }
}
