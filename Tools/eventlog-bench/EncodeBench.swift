import ArgumentParser
import EventLog

/// The canonical JSON encoder on the shapes of a command's answer: a ticket's thread (entries
/// with a nested author and attachments) and a ticket summary (twenty members, five of them
/// `null` when absent), next to two peers of the same run: ``CanonicalJSON`` writing the
/// equivalent `JSONValue` already built, and building that `JSONValue` by hand and writing it
/// (how the answers were written before issue 10).
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "CanonicalJSONEncoder on a thread and a ticket summary, against CanonicalJSON on the equivalent JSONValue.")

    @Option(help: "Entries in the thread.") var entries = 30
    @Option var seconds: Double = 2
    @Flag(help: "Only the encoder's bytes of the thread, for a profiler.") var encoderOnly = false

    struct Actor: Encodable {
        var kind: String
        var id: String
    }

    struct Attachment: Encodable {
        var name: String
        var size: Int64
        var contentType: String
        var sha256: String
    }

    struct Entry: Encodable {
        var version: Int64
        var at: Timestamp
        var kind: String
        var author: Actor
        var body: String
        var attachments: [Attachment]
    }

    struct Summary: Encodable {
        var id = "T-1042"
        var version: Int64 = 31
        var status = "open"
        var priority = "normal"
        var team = "hosting"
        @NullWhenAbsent var assignee: String? = "amelie"
        var customer = "c-1042"
        var subject = "Site down"
        var channel = "web"
        var product = "hosting"
        @NullWhenAbsent var context: String? = nil
        var tags = ["load-test"]
        var openedAt = Timestamp(milliseconds: 1_772_360_553_120)
        var openedBy = Actor(kind: "customer", id: "c-1042")
        @NullWhenAbsent var mergedInto: String? = nil
        @NullWhenAbsent var waitingSince: Timestamp? = Timestamp(milliseconds: 1_772_360_600_000)
        @NullWhenAbsent var nextDue: Timestamp? = Timestamp(milliseconds: 1_772_370_000_000)
        @NullWhenAbsent var nextDueTarget: String? = "firstResponse"
        var breached = false
        var evaluatedAt = Timestamp(milliseconds: 1_772_360_700_000)
    }

    func thread() -> [Entry] {
        (0..<entries).map { n in
            Entry(
                version: Int64(n + 1), at: Timestamp(milliseconds: 1_772_360_553_120 + Int64(n) * 60_000),
                kind: n.isMultiple(of: 3) ? "note" : "message",
                author: Actor(kind: "agent", id: "amelie"),
                body: "Bonjour, nous avons relancé le service et vidé le cache. Pouvez-vous vérifier de votre côté ?",
                attachments: n.isMultiple(of: 5)
                    ? [Attachment(name: "log.txt", size: 2048, contentType: "text/plain", sha256: String(repeating: "ab", count: 32))] : [])
        }
    }

    /// Calls `body` for `seconds` and gives the calls per second.
    func rate(_ body: () throws -> Int) rethrows -> (perSecond: Double, bytes: Int) {
        var bytes = 0
        var calls = 0
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            for _ in 0..<32 { bytes &+= try body() }
            calls += 32
        }
        return (Double(calls) / EventLogBench_seconds(start), bytes / max(1, calls))
    }

    static func json(_ a: Actor) -> JSONValue { .object(["kind": .string(a.kind), "id": .string(a.id)]) }

    static func json(_ thread: [Entry]) -> JSONValue {
        .array(
            thread.map { e in
                .object([
                    "version": .int(e.version), "at": .string(e.at.rfc3339), "kind": .string(e.kind), "author": json(e.author),
                    "body": .string(e.body),
                    "attachments": .array(
                        e.attachments.map {
                            .object([
                                "name": .string($0.name), "size": .int($0.size), "contentType": .string($0.contentType),
                                "sha256": .string($0.sha256),
                            ])
                        }),
                ])
            })
    }

    static func json(_ s: Summary) -> JSONValue {
        func orNull(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        return .object([
            "id": .string(s.id), "version": .int(s.version), "status": .string(s.status), "priority": .string(s.priority),
            "team": .string(s.team), "assignee": orNull(s.assignee), "customer": .string(s.customer), "subject": .string(s.subject),
            "channel": .string(s.channel), "product": .string(s.product), "context": orNull(s.context),
            "tags": .array(s.tags.map(JSONValue.string)), "openedAt": .string(s.openedAt.rfc3339), "openedBy": json(s.openedBy),
            "mergedInto": orNull(s.mergedInto), "waitingSince": orNull(s.waitingSince?.rfc3339), "nextDue": orNull(s.nextDue?.rfc3339),
            "nextDueTarget": orNull(s.nextDueTarget), "breached": .bool(s.breached), "evaluatedAt": .string(s.evaluatedAt.rfc3339),
        ])
    }

    func run() throws {
        let encoder = CanonicalJSONEncoder()
        if encoderOnly {
            let thread = thread()
            let encoded = try rate { try encoder.encode(thread).count }
            print(String(format: "CanonicalJSONEncoder.encode, thread of %d: %.0f /s", entries, encoded.perSecond))
            return
        }
        let thread = thread()
        let shapes = [
            ("thread of \(entries)", AnyShape(thread), { Self.json(thread) }),
            ("ticket summary", AnyShape(Summary()), { Self.json(Summary()) }),
        ]
        for (name, shape, byHand) in shapes {
            let tree = try encoder.value(of: shape.value)
            guard try encoder.encode(shape.value) == CanonicalJSON.encode(tree),
                CanonicalJSON.encode(byHand()) == CanonicalJSON.encode(tree)
            else { throw ValidationError("\(name): the bytes differ") }
            let peer = rate { CanonicalJSON.encode(tree).count }
            let built = rate { CanonicalJSON.encode(byHand()).count }
            let encoded = try rate { try encoder.encode(shape.value).count }
            let valued = try rate { try encoder.value(of: shape.value).count }
            print("\(name) (\(encoded.bytes) bytes):")
            print(String(format: "  CanonicalJSON of the JSONValue already built: %9.0f /s", peer.perSecond))
            print(String(format: "  JSONValue built by hand, then CanonicalJSON:  %9.0f /s", built.perSecond))
            print(
                String(
                    format: "  CanonicalJSONEncoder.encode:                  %9.0f /s  (%.0f %% of the first, %.0f %% of the second)",
                    encoded.perSecond, 100 * encoded.perSecond / peer.perSecond, 100 * encoded.perSecond / built.perSecond))
            print(String(format: "  CanonicalJSONEncoder.value(of:):              %9.0f /s", valued.perSecond))
        }
    }
}

/// One of the benchmark's shapes.
struct AnyShape {
    var value: any Encodable
    init(_ value: some Encodable) { self.value = value }
}

extension JSONValue {
    fileprivate var count: Int {
        switch self {
        case .array(let a): a.count
        case .object(let o): o.count
        default: 1
        }
    }
}
