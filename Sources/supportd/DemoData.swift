import Logging
import SupportServer

/// Fills an empty log with the seeded demo workload (arrives with the generator).
enum DemoData {
    static func load(into backend: SupportBackend, logger: Logger) async throws -> Int { 0 }
}
