import ArgumentParser
import EventLog
import Foundation

/// Appends events to a log in a loop and prints each acknowledged append, one line each:
/// `ack <seq> <stream> <version>`. The crash tests kill it with SIGKILL at random moments and
/// then check that every acknowledged event is in the log.
@main
struct EventLogWriter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eventlog-writer",
        abstract: "Append events in a loop, printing every durable acknowledgement (a crash-test load).")

    @Option(help: "The data directory.") var dataDir: String
    @Option(help: "Concurrent appending tasks.") var tasks: Int = 8
    @Option(help: "Streams to spread the appends over.") var streams: Int = 16
    @Option(help: "Events per append.") var eventsPerAppend: Int = 3
    @Option(help: "Stop after this many appends per task (0: run until killed).") var appends: Int = 0

    func run() async throws {
        let store = try EventStore(
            EventLogConfiguration(
                directory: dataDir,
                envelope: EnvelopeFormat(streamField: "ticket")))
        let output = FileHandle.standardOutput
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var n = 0
                    while appends == 0 || n < appends {
                        n += 1
                        let stream = "T-\((task * 7919 + n) % streams + 1)"
                        let events = (0..<eventsPerAppend).map { k in
                            ProposedEvent(
                                type: "event.recorded", actor: EventActor(kind: "agent", id: "a\(task)"),
                                data: .object([
                                    "body": .string("task \(task) append \(n) event \(k)"),
                                    "n": .int(Int64(n)),
                                ]))
                        }
                        let result = try await store.append(AppendRequest(stream: stream, events: events))
                        let lines = result.events.map { "ack \($0.seq) \($0.stream) \($0.version)\n" }.joined()
                        output.write(Data(lines.utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        store.close()
    }
}
