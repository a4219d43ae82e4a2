import DemoWorkload
import EventLog
import Logging
import SupportService

/// Fills an empty log with the seeded demo workload: three weeks of a hosting provider's
/// support desk ending now, sent through the same rules as an import.
enum DemoData {
    static func load(into backend: SupportBackend, logger: Logger) async throws -> Int {
        guard try backend.store.head.seq == 0 else { return 0 }
        let now = Timestamp.now()
        let days = 21
        // Start on a local midnight-ish boundary three weeks back, so the rhythm of days holds.
        let dayMs: Int64 = 86_400_000
        let start = Timestamp(milliseconds: (now.milliseconds / dayMs - Int64(days)) * dayMs)
        let workload = DemoWorkload(.init(seed: 1, start: start, tickets: 1500, days: days))
        var lines: [ImportLine] = []
        for event in workload where event.at <= now {
            lines.append(ImportLine(ticket: event.ticket, type: event.type, at: event.at, actor: event.actor, data: event.data))
        }
        logger.info("loading \(lines.count) demo events")
        let summary = try await LogImporter(backend: backend).run(lines)
        return summary.imported
    }
}
