import Foundation
import Synchronization

@testable import EventLog

/// A clock the test sets by hand.
final class ManualClock: Sendable {
    private let now: Mutex<Timestamp>
    init(_ start: Timestamp = Timestamp(milliseconds: 1_772_000_000_000)) { now = Mutex(start) }
    func set(_ t: Timestamp) { now.withLock { $0 = t } }
    func advance(milliseconds: Int64) { now.withLock { $0.milliseconds += milliseconds } }
    func read() -> Timestamp { now.withLock { $0 } }
}

func openStore(
    _ dir: TemporaryDirectory, clock: ManualClock? = nil, streamField: String = "ticket",
    mapSize: Int = 1 << 30, readOnly: Bool = false, faults: StorageFaults = StorageFaults()
) throws -> EventStore {
    var config = EventLogConfiguration(
        directory: dir.path, envelope: EnvelopeFormat(streamField: streamField),
        readOnly: readOnly, mapSize: mapSize)
    if let clock { config.clock = { clock.read() } }
    config.faults = faults
    return try EventStore(config)
}

func sampleEvent(_ n: Int, type: String = "message.posted", at: Timestamp? = nil) -> ProposedEvent {
    ProposedEvent(
        type: type, at: at, actor: EventActor(kind: "agent", id: "alice"),
        data: .object(["body": .string("reply number \(n) — ça marche ✅"), "n": .int(Int64(n))]))
}

/// The test fixtures in the repository (`Tests/Fixtures`), found from this file's path so that
/// no resource bundle is needed.
func fixturesFolder() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
}

/// Opens the raw LMDB environment of a closed store, for tampering.
func withRawLog(_ dir: TemporaryDirectory, _ body: (LogStorage, LMDBTransaction) throws -> Void) throws {
    let storage = try LogStorage(directory: dir.path, mapSize: 1 << 30, readOnly: false, sync: .full)
    try storage.environment.withTransaction(readOnly: false) { txn in try body(storage, txn) }
}

extension Array where Element == UInt8 {
    var string: String { String(decoding: self, as: UTF8.self) }
}
