import Testing

@testable import EventLog

@Suite("Concurrent appends through group commit")
struct ConcurrencyTests {
    @Test(arguments: [1, 7, 64])
    func sixtyFourTasksLeaveNoGapAndNoDuplicate(streamCount: Int) async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        let perTask = 40
        // Each task appends with the version it last saw, so conflicts really happen when
        // tasks share a stream; every conflict is retried with a fresh read.
        let outcome = await withTaskGroup(of: (appended: [RecordedEvent], conflicts: Int, unexpected: Int).self) { group in
            for task in 0..<64 {
                group.addTask {
                    var appended: [RecordedEvent] = []
                    var conflicts = 0, unexpected = 0
                    for n in 0..<perTask {
                        let stream = "S-\((task + n * (streamCount == 64 ? 0 : 1)) % streamCount)"
                        while true {
                            let seen = (try? store.read { try $0.version(of: stream) }) ?? 0
                            do {
                                let r = try await store.append(
                                    AppendRequest(
                                        stream: stream, events: [sampleEvent(n)],
                                        expectedVersion: .exactly(seen)))
                                appended += r.events
                                break
                            } catch {
                                if case let EventLogError.wrongExpectedVersion(_, expected, actual)? = error as? EventLogError,
                                    expected == .exactly(seen), actual > seen
                                {
                                    conflicts += 1
                                } else {
                                    unexpected += 1
                                    break
                                }
                            }
                        }
                    }
                    return (appended, conflicts, unexpected)
                }
            }
            return await group.reduce(into: (appended: [RecordedEvent](), conflicts: 0, unexpected: 0)) {
                $0.appended += $1.appended; $0.conflicts += $1.conflicts; $0.unexpected += $1.unexpected
            }
        }
        #expect(outcome.unexpected == 0)
        if streamCount == 64 { #expect(outcome.conflicts == 0) }
        let total = 64 * perTask
        #expect(outcome.appended.count == total)
        #expect(Set(outcome.appended.map { $0.seq }) == Set(1...UInt64(total)))
        let log = try store.events(after: 0, limit: total + 10)
        #expect(log.map(\.seq) == Array(1...UInt64(total)))
        var versions: [String: UInt64] = [:]
        for event in log {
            let expected = (versions[event.stream] ?? 0) + 1
            #expect(event.version == expected)
            versions[event.stream] = expected
        }
        // What each caller was told is exactly what the log holds.
        #expect(outcome.appended.sorted { $0.seq < $1.seq } == log)
        #expect(try store.verify().isIntact)
    }

    @Test func everyConflictIsDetectedAndOnlyThose() async throws {
        let dir = TemporaryDirectory()
        let store = try openStore(dir)
        _ = try await store.append(AppendRequest(stream: "T-1", events: [sampleEvent(0)]))
        // 64 writers all expect version 1: exactly one wins.
        let results = await withTaskGroup(of: Bool.self) { group in
            for n in 0..<64 {
                group.addTask {
                    (try? await store.append(
                        AppendRequest(
                            stream: "T-1", events: [sampleEvent(n)],
                            expectedVersion: .exactly(1)))) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(try store.read { try $0.version(of: "T-1") } == 2)
        #expect(try store.head.seq == 2)
    }
}
