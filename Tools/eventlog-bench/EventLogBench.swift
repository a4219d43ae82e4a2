import ArgumentParser
import CLMDB
import EventLog
import Foundation
import Histogram
import Synchronization

/// Measures the event log against raw LMDB on this machine. Not a test: figures go into
/// docs/benchmarks.md with the machine and the command.
@main
struct EventLogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eventlog-bench",
        abstract: "Benchmarks of the event log (batched append vs raw LMDB, group commit, scan, canonical JSON encoder).",
        subcommands: [BatchedAppend.self, GroupCommit.self, Scan.self, Encode.self])
}

/// A scratch directory under the working directory (not tmpfs), removed at the end.
func scratchDirectory(_ name: String) -> String {
    let path = FileManager.default.currentDirectoryPath + "/.bench-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: path)
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Bytes written so far: by this process (`write_bytes` of /proc/self/io, which counts every
/// page-cache folio the process dirties at the folio's full size, however little of it changed) and
/// by the whole block device holding `directory` (sectors written in /proc/diskstats: what reached
/// the disk, other processes' writes included).
struct WriteCounters {
    var process = 0
    var device = 0

    static func read(_ directory: String) -> WriteCounters {
        var counters = WriteCounters()
        if let io = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) {
            for line in io.split(separator: "\n") where line.hasPrefix("write_bytes:") {
                counters.process = Int(line.split(separator: " ").last ?? "") ?? 0
            }
        }
        var info = stat()
        guard stat(directory, &info) == 0, let disks = try? String(contentsOfFile: "/proc/diskstats", encoding: .utf8) else {
            return counters
        }
        let dev = UInt64(info.st_dev)
        let major = Int(((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff)))
        let minor = Int((dev & 0xff) | ((dev >> 12) & ~UInt64(0xff)))
        for line in disks.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 9, Int(fields[0]) == major, Int(fields[1]) == minor {
                counters.device = (Int(fields[9]) ?? 0) * 512
            }
        }
        return counters
    }

    static func - (a: WriteCounters, b: WriteCounters) -> WriteCounters {
        WriteCounters(process: a.process - b.process, device: a.device - b.device)
    }

    var description: String { "\(gigabytes(process)) GB written by the process, \(gigabytes(device)) GB by the device" }
}

func gigabytes(_ bytes: Int) -> String { String(format: "%.2f", Double(bytes) / 1e9) }

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Flushes dirty pages of the whole system and pauses, so background write-back does not
/// slow the flushes being measured.
func quiesce() {
    sync()
    Thread.sleep(forTimeInterval: 2)
}

/// About 350 bytes stored per event, like a real message.
func benchEvent(_ n: Int) -> ProposedEvent {
    ProposedEvent(
        type: "event.recorded", actor: EventActor(kind: "agent", id: "agent-\(n % 40)"),
        data: .object([
            "body": .string(
                "Hello, your VPS was restarted and the disk check is done. "
                    + "Please confirm the site answers again; ticket reply \(n) "
                    + "from the support desk, with a longer paragraph of text."),
            "attachments": .array([]),
        ]))
}

func check(_ code: Int32, _ what: String) throws {
    if code != 0 { throw ValidationError("\(what): \(String(cString: mdb_strerror(code)))") }
}

struct BatchedAppend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batched-append",
        abstract: "Append N events in batches through the log, then the same bytes with raw LMDB: the same index "
            + "entries the log wrote (since store format 2: stream number and version), and a sequential stream index (interned stream numbers) with a version check."
    )

    @Option var events = 1_000_000
    @Option var batch = 1000
    @Option var streams = 100_000

    func run() async throws {
        let requests = (0..<events).map { n in AppendRequest(stream: "T-\(n % streams)", events: [benchEvent(n)]) }
        quiesce()
        // The log.
        let dir = scratchDirectory("log")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try EventStore(EventLogConfiguration(directory: dir, envelope: EnvelopeFormat(streamField: "ticket")))
        let logWritten = WriteCounters.read(FileManager.default.currentDirectoryPath)
        let start = ContinuousClock.now
        var offset = 0
        while offset < requests.count {
            let chunk = Array(requests[offset..<min(offset + batch, requests.count)])
            for r in await store.append(contentsOf: chunk) { _ = try r.get() }
            offset += chunk.count
        }
        let logSeconds = seconds(since: start)
        store.close()
        let logBytes = WriteCounters.read(FileManager.default.currentDirectoryPath) - logWritten

        // The same records and index entries, copied out of the log, written with raw LMDB.
        var records: [[UInt8]] = []
        var index: [([UInt8], [UInt8])] = []
        records.reserveCapacity(events)
        index.reserveCapacity(events)
        try withEnvironment(dir, readOnly: true) { env in
            var txn: OpaquePointer?
            try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "begin")
            defer { mdb_txn_abort(txn) }
            for (name, isEvents) in [("events", true), ("streamIndex", false)] {
                var dbi = MDB_dbi()
                try check(mdb_dbi_open(txn, name, 0, &dbi), "open \(name)")
                var cursor: OpaquePointer?
                try check(mdb_cursor_open(txn, dbi, &cursor), "cursor")
                var k = MDB_val(), v = MDB_val()
                var op = MDB_FIRST
                while mdb_cursor_get(cursor, &k, &v, op) == 0 {
                    op = MDB_NEXT
                    let value = Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
                    if isEvents {
                        records.append(value)
                    } else {
                        index.append((Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)), value))
                    }
                }
                mdb_cursor_close(cursor)
            }
        }
        // The index entries in the order the log wrote them (by seq).
        index.sort { $0.1.lexicographicallyPrecedes($1.1) }
        let bytes = records.reduce(0) { $0 + $1.count }
        quiesce()
        let rawDir = scratchDirectory("raw")
        defer { try? FileManager.default.removeItem(atPath: rawDir) }
        let rawWritten = WriteCounters.read(FileManager.default.currentDirectoryPath)
        let rawStart = ContinuousClock.now
        try withEnvironment(rawDir, readOnly: false) { env in
            var dbis: [MDB_dbi] = []
            var txn: OpaquePointer?
            try check(mdb_txn_begin(env, nil, 0, &txn), "begin")
            for name in ["events", "streamIndex"] {
                var dbi = MDB_dbi()
                try check(mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi), "open")
                dbis.append(dbi)
            }
            try check(mdb_txn_commit(txn), "commit")
            var offset = 0
            while offset < records.count {
                try check(mdb_txn_begin(env, nil, 0, &txn), "begin")
                for n in offset..<min(offset + batch, records.count) {
                    var key = UInt64(n + 1).bigEndian
                    try withUnsafeMutableBytes(of: &key) { kb in
                        try records[n].withUnsafeBytes { vb in
                            var k = MDB_val(mv_size: 8, mv_data: kb.baseAddress)
                            var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                            try check(mdb_put(txn, dbis[0], &k, &v, UInt32(MDB_APPEND)), "put event")
                        }
                    }
                    try index[n].0.withUnsafeBytes { kb in
                        try index[n].1.withUnsafeBytes { vb in
                            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                            var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                            try check(mdb_put(txn, dbis[1], &k, &v, 0), "put index")
                        }
                    }
                }
                try check(mdb_txn_commit(txn), "commit")
                offset += batch
            }
        }
        let rawSeconds = seconds(since: rawStart)
        let rawBytes = WriteCounters.read(FileManager.default.currentDirectoryPath) - rawWritten

        // Raw LMDB with a sequential stream index: the same records, stream ids interned to numbers
        // in order of first append (the id-to-number map is a table of its own), index keys
        // (stream number, version) big-endian, and a version check against the stored index.
        quiesce()
        let seqDir = scratchDirectory("sequential")
        defer { try? FileManager.default.removeItem(atPath: seqDir) }
        let seqWritten = WriteCounters.read(FileManager.default.currentDirectoryPath)
        let seqStart = ContinuousClock.now
        try sequentialIndexAppend(seqDir, records: records, streams: requests.map(\.stream), batch: batch)
        let seqSeconds = seconds(since: seqStart)
        let seqBytes = WriteCounters.read(FileManager.default.currentDirectoryPath) - seqWritten

        let logRate = Double(events) / logSeconds, rawRate = Double(events) / rawSeconds, seqRate = Double(events) / seqSeconds
        print("batched append: \(events) events, batches of \(batch), \(bytes / events) bytes/record, \(streams) streams, durable")
        print(
            String(format: "  raw LMDB, log keys:         %.0f events/s (%.2f s); \(rawBytes.description)", rawRate, rawSeconds))
        print(
            String(format: "  raw LMDB, sequential index: %.0f events/s (%.2f s); \(seqBytes.description)", seqRate, seqSeconds))
        print(String(format: "  event log: %.0f events/s (%.2f s); \(logBytes.description)", logRate, logSeconds))
        print(
            String(
                format: "  ratio:     %.1f %% of raw with the same keys, %.1f %% of raw with a sequential index", 100 * logRate / rawRate,
                100 * logRate / seqRate))
    }
}

/// The peer issue 11 names: raw LMDB appending the records under seq keys, with a stream index
/// keyed (stream number, version) big-endian, stream numbers assigned in order of first append
/// and kept in a table `stream-ids` (id -> number). Each append checks the stream's version
/// against the stored index: the previous version's key must exist and the new one must not
/// (`MDB_NOOVERWRITE`). The head of each stream is cached in memory, as a writer would.
func sequentialIndexAppend(_ dir: String, records: [[UInt8]], streams: [String], batch: Int) throws {
    try withEnvironment(dir, readOnly: false) { env in
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "begin")
        var dbis: [MDB_dbi] = []
        for name in ["events", "stream-ids", "streams"] {
            var dbi = MDB_dbi()
            try check(mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi), "open")
            dbis.append(dbi)
        }
        try check(mdb_txn_commit(txn), "commit")
        var heads: [String: (number: UInt64, version: UInt64)] = [:]
        var offset = 0
        while offset < records.count {
            try check(mdb_txn_begin(env, nil, 0, &txn), "begin")
            for n in offset..<min(offset + batch, records.count) {
                let seq = UInt64(n + 1)
                var head = heads[streams[n]] ?? (number: UInt64(heads.count), version: 0)
                if head.version == 0 {
                    var number = head.number.bigEndian
                    var id = Array(streams[n].utf8)
                    try id.withUnsafeMutableBytes { kb in
                        try withUnsafeMutableBytes(of: &number) { vb in
                            var k = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                            var v = MDB_val(mv_size: 8, mv_data: vb.baseAddress)
                            try check(mdb_put(txn, dbis[1], &k, &v, UInt32(MDB_NOOVERWRITE)), "put stream id")
                        }
                    }
                }
                head.version += 1
                heads[streams[n]] = head
                var key: (UInt64, UInt64) = (head.number.bigEndian, (head.version - 1).bigEndian)
                var value = seq.bigEndian
                try withUnsafeMutableBytes(of: &key) { kb in
                    try withUnsafeMutableBytes(of: &value) { vb in
                        var k = MDB_val(mv_size: 16, mv_data: kb.baseAddress)
                        var v = MDB_val(mv_size: 8, mv_data: vb.baseAddress)
                        if head.version > 1 {
                            var previous = MDB_val()
                            try check(mdb_get(txn, dbis[2], &k, &previous), "version check")
                        }
                        kb.storeBytes(of: head.version.bigEndian, toByteOffset: 8, as: UInt64.self)
                        k = MDB_val(mv_size: 16, mv_data: kb.baseAddress)
                        try check(mdb_put(txn, dbis[2], &k, &v, UInt32(MDB_NOOVERWRITE)), "put index")
                    }
                }
                var seqKey = seq.bigEndian
                try withUnsafeMutableBytes(of: &seqKey) { kb in
                    try records[n].withUnsafeBytes { vb in
                        var k = MDB_val(mv_size: 8, mv_data: kb.baseAddress)
                        var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                        try check(mdb_put(txn, dbis[0], &k, &v, UInt32(MDB_APPEND)), "put event")
                    }
                }
            }
            try check(mdb_txn_commit(txn), "commit")
            offset += batch
        }
    }
}

func withEnvironment(_ dir: String, readOnly: Bool, _ body: (OpaquePointer) throws -> Void) throws {
    var env: OpaquePointer?
    try check(mdb_env_create(&env), "create")
    defer { mdb_env_close(env) }
    try check(mdb_env_set_maxdbs(env!, 8), "maxdbs")
    try check(mdb_env_set_mapsize(env!, 64 << 30), "mapsize")
    try check(mdb_env_open(env!, dir, UInt32(MDB_NOTLS) | (readOnly ? UInt32(MDB_RDONLY) : 0), 0o644), "open")
    try body(env!)
}

struct GroupCommit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group-commit",
        abstract: "Durable single-event appends from many concurrent tasks: events/s, commits/s, latency.")

    @Option var tasks = 64
    @Option var seconds: Double = 10
    @Option var streams = 10_000
    @Flag(help: "Deferred flushes (MDB_NOSYNC), to see the CPU-bound ceiling.") var deferred = false

    func run() async throws {
        let dir = scratchDirectory("group")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try EventStore(
            EventLogConfiguration(
                directory: dir, envelope: EnvelopeFormat(streamField: "ticket"),
                durability: deferred ? .deferred(flushIntervalMilliseconds: 1000) : .durable))
        quiesce()
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let start = ContinuousClock.now
        let histograms = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var h = Histogram<UInt64>(highestTrackableValue: 60_000_000)
                    var n = task
                    while ContinuousClock.now < deadline {
                        let t0 = ContinuousClock.now
                        _ = try await store.append(AppendRequest(stream: "T-\(n % streams)", events: [benchEvent(n)]))
                        let d = ContinuousClock.now - t0
                        _ = h.record(UInt64(d.components.attoseconds / 1_000_000_000_000 + d.components.seconds * 1_000_000))
                        n += tasks
                    }
                    return h
                }
            }
            var all: [Histogram<UInt64>] = []
            for try await h in group { all.append(h) }
            return all
        }
        let elapsed = EventLogBench_seconds(start)
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000)
        for h in histograms { merged.add(h) }
        let stats = store.statistics
        store.close()
        print("group commit: \(tasks) tasks, single-event durable appends, \(String(format: "%.1f", elapsed)) s")
        print(
            String(
                format: "  %.0f events/s, %.0f commits/s (%.1f events per commit)",
                Double(stats.events) / elapsed, Double(stats.commits) / elapsed,
                Double(stats.events) / Double(max(1, stats.commits))))
        print("  latency p50 \(merged.valueAtPercentile(50)) µs, p99 \(merged.valueAtPercentile(99)) µs, max \(merged.max) µs")
    }
}

func EventLogBench_seconds(_ start: ContinuousClock.Instant) -> Double { seconds(since: start) }

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Write N events (deferred flush), or open an existing log, then time a full decoding scan and a raw cursor walk.")

    @Option var events = 1_000_000
    @Option(help: "Walk this existing log (read-only) instead of writing one.") var dataDir: String?

    func run() async throws {
        let dir = dataDir ?? scratchDirectory("scan")
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let store: EventStore
        if dataDir != nil {
            store = try EventStore(EventLogConfiguration(directory: dir, envelope: EnvelopeFormat(streamField: "ticket"), readOnly: true))
        } else {
            store = try EventStore(
                EventLogConfiguration(
                    directory: dir, envelope: EnvelopeFormat(streamField: "ticket"),
                    durability: .deferred(flushIntervalMilliseconds: 1000)))
            var offset = 0
            while offset < events {
                let chunk = (offset..<min(offset + 5000, events)).map {
                    AppendRequest(stream: "T-\($0 % 100_000)", events: [benchEvent($0)])
                }
                for r in await store.append(contentsOf: chunk) { _ = try r.get() }
                offset += chunk.count
            }
        }
        // Raw cursor walk (the floor).
        var rawStart = ContinuousClock.now
        var bytes = 0
        try withEnvironment(dir, readOnly: true) { env in
            var txn: OpaquePointer?
            try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "begin")
            defer { mdb_txn_abort(txn) }
            var dbi = MDB_dbi()
            try check(mdb_dbi_open(txn, "events", 0, &dbi), "open")
            var cursor: OpaquePointer?
            try check(mdb_cursor_open(txn, dbi, &cursor), "cursor")
            var k = MDB_val(), v = MDB_val()
            var op = MDB_FIRST
            rawStart = ContinuousClock.now
            while mdb_cursor_get(cursor, &k, &v, op) == 0 { op = MDB_NEXT; bytes += v.mv_size }
            mdb_cursor_close(cursor)
        }
        let rawSeconds = seconds(since: rawStart)
        // Decoding scan, batch by batch as a subscriber reads.
        let start = ContinuousClock.now
        var seq: UInt64 = 0
        var count = 0
        while true {
            let batch = try store.events(after: seq, limit: 4096)
            guard let last = batch.last else { break }
            count += batch.count
            seq = last.seq
        }
        let scanSeconds = seconds(since: start)
        store.close()
        print("scan: \(count) events, \(bytes / max(1, count)) bytes/record")
        print(String(format: "  raw cursor walk: %.0f events/s, %.0f MB/s", Double(count) / rawSeconds, Double(bytes) / rawSeconds / 1e6))
        print(String(format: "  decoded events:  %.0f events/s, %.0f MB/s", Double(count) / scanSeconds, Double(bytes) / scanSeconds / 1e6))
    }
}
