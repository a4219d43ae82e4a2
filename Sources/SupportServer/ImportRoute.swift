import EventLog
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization
import SupportDomain

/// POST /v1/import (admins): NDJSON events in log order, streamed (no 1 MiB limit).
struct ImportRoute {
    let backend: SupportBackend
    /// The largest import body accepted.
    static let maximumBody = 1 << 30

    func register(on group: RouterGroup<SupportRequestContext>) {
        group.post("import") { request, context in try await handle(request: request, context: context) }
    }

    func handle(request: Request, context: SupportRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw Problem(.unauthorized, "not authenticated") }
        guard principal.role == .admin else { throw Problem.forbidden("only an admin may import") }
        _ = try QueryParameters(request, allowed: [])
        var lines: [(number: Int, line: Result<ImportLine, Problem>)] = []
        var pending: [UInt8] = []
        var number = 0
        var total = 0
        func take(_ bytes: ArraySlice<UInt8>) {
            number += 1
            // Blank lines (a trailing newline) carry nothing.
            guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
            var line = Array(bytes)
            if line.last == 0x0D { line.removeLast() }
            do { lines.append((number, .success(try LogImporter.parse(line: line, number: number)))) } catch {
                lines.append((number, .failure(error)))
            }
        }
        for try await buffer in request.body {
            total += buffer.readableBytes
            guard total <= Self.maximumBody else { throw Problem(.contentTooLarge, "an import may be at most \(Self.maximumBody) bytes") }
            pending += buffer.readableBytesView
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                take(pending[start..<newline])
                start = newline + 1
            }
            pending.removeFirst(start - pending.startIndex)
        }
        if !pending.isEmpty { take(pending[...]) }
        let stopping = Atomic<Bool>(false)
        let summary = try await withGracefulShutdownHandler {
            try await LogImporter(backend: backend).run(lines, shouldStop: { stopping.load(ordering: .relaxed) })
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
        }
        return JSONResponse.make(.object(["imported": .int(Int64(summary.imported)), "tickets": .int(Int64(summary.tickets)),
                                          "lastSeq": .int(Int64(summary.lastSeq))]))
    }
}
