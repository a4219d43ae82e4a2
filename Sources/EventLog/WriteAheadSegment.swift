import CLMDB
import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The write-ahead segment of a durable log (`segment.wal` in the data directory): each group
/// commit's writes as one checksummed frame, written after the group's LMDB commit (which does not
/// flush) and flushed with one `fdatasync` for all the frames written since the last one, so that
/// a group is durable after one flush (docs/architecture.md, "Durability").
///
/// The file is preallocated (zero-filled, so a frame overwrites allocated blocks and its flush
/// has no file-system metadata to write; 1 MiB, grown to 8 MiB when the first fills) and used as
/// a ring of *epochs*. Two header slots of 36 KiB name the current epoch, the boot it began in and
/// LMDB's meta pages at its start (right after a flush of LMDB); frames of that epoch follow one
/// another from byte 73,728, each 4096-aligned. A new epoch (the old frames dropped in one header
/// write) begins only once LMDB has flushed everything the old frames hold: at a writable open
/// (after replaying them), when the next frame would not fit, after a second of idleness, and at a
/// clean close. A clean shutdown therefore leaves no frame of the current epoch.
///
/// Frame layout (little-endian): `u32 magic "LDSF" | u32 event count | u64 epoch | u64 first seq |
/// u64 payload length | payload | SHA-256 of all of the above`, then zeros to the next 4096 bytes.
/// Header slot: `u32 magic "LDSH" | u32 version 1 | u64 epoch | 40 bytes boot id | u64 length |
/// LMDB's two meta pages | SHA-256 of all of the above`; the epoch's parity names its slot, so a
/// torn header write leaves the previous epoch's slot (whose frames LMDB holds) in force.
/// Payload: per event a varint length and the stored ``EventRecord``; then a varint count of
/// idempotency records, each a varint-length key and a varint-length value (the `idempotency`
/// database's key and value).
///
/// Thread confinement: the writer thread alone writes (``write(firstSeq:records:idempotency:)``,
/// ``beginEpoch(metaPages:)``); ``flush()`` touches only the descriptor and runs on the flusher
/// thread.
final class WriteAheadSegment: @unchecked Sendable {
    static let fileName = "segment.wal"
    static let alignment = 4096
    /// The default size the file is made on creation, and the default size it grows to (doubling)
    /// before a full segment begins a new epoch instead (frames are about 12-20 kB per group of
    /// 30-50 events); ``EventLogConfiguration/segmentSize`` and
    /// ``EventLogConfiguration/segmentGrownSize`` set them.
    static let initialSize = 1 << 20
    static let grownSize = 8 << 20
    static let frameMagic: UInt32 = 0x4653_444C  // "LDSF"
    static let headerMagic: UInt32 = 0x4853_444C  // "LDSH"
    /// Two header slots of this size, then the frames.
    static let headerSlotSize = 36 << 10
    static let firstFrame = 2 * headerSlotSize
    static let bootIDSize = 40
    static let frameHeaderSize = 4 + 4 + 8 + 8 + 8
    static let checksumSize = 32

    /// One group's writes.
    struct Frame: Equatable {
        var epoch: UInt64
        var firstSeq: UInt64
        /// The stored records, in seq order.
        var records: [[UInt8]]
        /// Idempotency records: the `idempotency` database's key and value.
        var idempotency: [(key: [UInt8], value: [UInt8])]

        var lastSeq: UInt64 { firstSeq + UInt64(records.count) - 1 }

        static func == (a: Frame, b: Frame) -> Bool {
            a.epoch == b.epoch && a.firstSeq == b.firstSeq && a.records == b.records
                && a.idempotency.map(\.key) == b.idempotency.map(\.key) && a.idempotency.map(\.value) == b.idempotency.map(\.value)
        }
    }

    /// What the file holds: the current epoch and its frames, in the order they were written,
    /// up to the first frame that does not check (a torn tail, ignored).
    struct Contents {
        var epoch: UInt64
        /// The current epoch's header (nil in a new file).
        var header: Header?
        var frames: [Frame]
        /// Where the next frame of this epoch would go.
        var end: Int
    }

    let path: String
    private let descriptor: Int32
    private(set) var epoch: UInt64
    private(set) var size: Int
    /// Where the next frame goes.
    private var offset: Int
    /// The size the file grows to before a full segment begins a new epoch instead; an epoch's
    /// frames end there even in a larger file (one made with a larger setting).
    private let grownSize: Int

    /// Opens (creating when missing, 0600, preallocated to `initialSize`) the segment of
    /// `directory` for writing; ``contents`` tells what it holds before anything is written.
    init(
        directory: String, initialSize: Int = WriteAheadSegment.initialSize, grownSize: Int = WriteAheadSegment.grownSize
    ) throws(EventLogError) {
        path = directory + "/" + Self.fileName
        let initialSize = max(initialSize, Self.firstFrame + Self.alignment)
        self.grownSize = max(grownSize, initialSize)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storage("cannot open \(path): \(String(cString: strerror(errno)))") }
        descriptor = fd
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw .storage("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        size = Int(info.st_size)
        epoch = 0
        offset = Self.firstFrame
        do {
            if size < initialSize { try extend(to: initialSize) }
            let contents = try Self.read(descriptor: fd, size: size, path: path)
            epoch = contents.epoch
            offset = contents.end
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(descriptor) }

    /// What the file holds now.
    var contents: Contents {
        get throws(EventLogError) { try Self.read(descriptor: descriptor, size: size, path: path) }
    }

    /// Reads the segment of `directory` without writing anything (nil when there is none).
    static func contents(ofDirectory directory: String) throws(EventLogError) -> Contents? {
        let path = directory + "/" + fileName
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw .storage("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .storage("cannot stat \(path): \(String(cString: strerror(errno)))") }
        return try read(descriptor: fd, size: Int(info.st_size), path: path)
    }

    // MARK: Writing

    /// Writes `frame` (of the current epoch) after the last one, without flushing it. Returns false
    /// when it does not fit before the end of the file: start a new epoch first
    /// (``beginEpoch(metaPages:)``, once LMDB has flushed what the current frames hold).
    func write(firstSeq: UInt64, records: [[UInt8]], idempotency: [(key: [UInt8], value: [UInt8])]) throws(EventLogError) -> Bool {
        guard !records.isEmpty else { return true }
        let bytes = Self.encode(Frame(epoch: epoch, firstSeq: firstSeq, records: records, idempotency: idempotency))
        if offset + bytes.count > (offset == Self.firstFrame ? size : min(size, grownSize)) {
            if size < grownSize || offset == Self.firstFrame {
                // Grow (once in a directory's life), or fit a frame larger than the whole file.
                try extend(to: max(min(2 * size, grownSize), offset + bytes.count))
                return try write(firstSeq: firstSeq, records: records, idempotency: idempotency)
            }
            return false
        }
        try writeAll(bytes, at: offset)
        offset += bytes.count
        return true
    }

    /// Whether the current epoch holds a frame.
    var hasFrames: Bool { offset > Self.firstFrame }

    /// Makes the frames written so far durable.
    func flush() throws(EventLogError) {
        guard fdatasync(descriptor) == 0 else {
            throw .flushFailed("fdatasync of \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Drops every frame and notes `metaPages`, LMDB's meta pages right after a flush (one
    /// header write, flushed): the caller has made LMDB durable through all the frames and pinned
    /// that snapshot. The next frame goes to the start.
    func beginEpoch(metaPages: [UInt8]) throws(EventLogError) {
        let next = epoch + 1
        let slot = Self.encodeHeader(Header(epoch: next, bootID: Self.currentBootID(), metaPages: metaPages))
        guard slot.count <= Self.headerSlotSize else {
            throw .storage("LMDB's pages (\(metaPages.count / 2) bytes) are too large for the write-ahead segment")
        }
        try writeAll(slot, at: Int(next % 2) * Self.headerSlotSize)
        try flush()
        epoch = next
        offset = Self.firstFrame
    }

    /// What a header slot holds: the epoch, the boot it began in, and LMDB's meta pages when it
    /// began (the state the epoch's frames continue).
    struct Header: Equatable {
        var epoch: UInt64
        /// `/proc/sys/kernel/random/boot_id` (empty where there is none).
        var bootID: [UInt8]
        var metaPages: [UInt8]
    }

    /// This boot's id: a restart of the machine since an epoch began means LMDB's unflushed
    /// commits may be half on disk.
    static func currentBootID() -> [UInt8] {
        let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: bootIDSize)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, bootIDSize, 0) }
        guard n > 0 else { return [] }
        return Array(bytes[0..<n]).filter { $0 != 0x0A }
    }

    static func encodeHeader(_ header: Header) -> [UInt8] {
        var slot: [UInt8] = []
        slot.appendLittleEndian(UInt64(headerMagic) | (1 << 32))
        slot.appendLittleEndian(header.epoch)
        var boot = Array(header.bootID.prefix(bootIDSize))
        boot.append(contentsOf: repeatElement(0, count: bootIDSize - boot.count))
        slot.append(contentsOf: boot)
        slot.appendLittleEndian(UInt64(header.metaPages.count))
        slot.append(contentsOf: header.metaPages)
        slot.append(contentsOf: SHA256.hash(data: slot))
        return slot
    }

    private func writeAll(_ bytes: [UInt8], at position: Int) throws(EventLogError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(position + done))
            }
            guard n > 0 else {
                if n < 0 && errno == EINTR { continue }
                throw .flushFailed("writing \(path): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Grows the file to `newSize` (rounded up to the alignment) with written zeros, flushed with
    /// its size, so that frames later overwrite allocated blocks.
    private func extend(to newSize: Int) throws(EventLogError) {
        let target = (newSize + Self.alignment - 1) / Self.alignment * Self.alignment
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var position = size
        while position < target {
            let n = min(zeros.count, target - position)
            try writeAll(Array(zeros[0..<n]), at: position)
            position += n
        }
        guard fsync(descriptor) == 0 else {
            throw .storage("fsync of \(path): \(String(cString: strerror(errno)))")
        }
        size = target
    }

    // MARK: Reading

    static func encode(_ frame: Frame) -> [UInt8] {
        var payload: [UInt8] = []
        for record in frame.records {
            payload.appendVarint(UInt64(record.count))
            payload.append(contentsOf: record)
        }
        payload.appendVarint(UInt64(frame.idempotency.count))
        for (key, value) in frame.idempotency {
            payload.appendVarint(UInt64(key.count)); payload.append(contentsOf: key)
            payload.appendVarint(UInt64(value.count)); payload.append(contentsOf: value)
        }
        var out: [UInt8] = []
        out.reserveCapacity(frameHeaderSize + payload.count + checksumSize + alignment)
        out.appendLittleEndian(UInt64(frameMagic) | (UInt64(frame.records.count) << 32))
        out.appendLittleEndian(frame.epoch)
        out.appendLittleEndian(frame.firstSeq)
        out.appendLittleEndian(UInt64(payload.count))
        out.append(contentsOf: payload)
        out.append(contentsOf: SHA256.hash(data: out))
        let padded = (out.count + alignment - 1) / alignment * alignment
        out.append(contentsOf: repeatElement(0, count: padded - out.count))
        return out
    }

    /// The newer valid header slot (nil when neither is valid: a new file).
    static func header(in file: UnsafeRawBufferPointer) -> Header? {
        var best: Header?
        for slot in 0..<2 {
            let start = slot * headerSlotSize
            guard file.count >= start + headerSlotSize else { continue }
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: file[start..<(start + headerSlotSize)]))
            guard let word = try? r.uint64(), word == UInt64(headerMagic) | (1 << 32), let epoch = try? r.uint64(),
                let boot = try? r.bytes(count: bootIDSize), let length = try? r.uint64(),
                length <= UInt64(headerSlotSize), let pages = try? r.bytes(count: Int(length))
            else { continue }
            let end = start + r.offset
            guard end + checksumSize <= start + headerSlotSize,
                Array(file[end..<(end + checksumSize)]) == Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: file[start..<end]))),
                epoch % 2 == UInt64(slot)
            else { continue }
            if best.map({ epoch > $0.epoch }) ?? true {
                best = Header(epoch: epoch, bootID: Array(boot).filter { $0 != 0 }, metaPages: Array(pages))
            }
        }
        return best
    }

    private static func read(descriptor fd: Int32, size: Int, path: String) throws(EventLogError) -> Contents {
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress! + done, size - done, off_t(done)) }
            if n == 0 { break }
            guard n > 0 else {
                if errno == EINTR { continue }
                throw .storage("reading \(path): \(String(cString: strerror(errno)))")
            }
            done += n
        }
        return bytes.withUnsafeBytes { raw in parse(UnsafeRawBufferPointer(rebasing: raw[0..<done])) }
    }

    /// The current epoch's frames, from the start up to the first one that does not check.
    static func parse(_ file: UnsafeRawBufferPointer) -> Contents {
        let header = header(in: file)
        let epoch = header?.epoch ?? 0
        var contents = Contents(epoch: epoch, header: header, frames: [], end: firstFrame)
        var position = firstFrame
        while let (frame, length) = frame(in: file, at: position), frame.epoch == epoch {
            contents.frames.append(frame)
            position += length
            contents.end = position
        }
        return contents
    }

    /// The frame at `position` and its padded length, or nil when none checks there.
    private static func frame(in file: UnsafeRawBufferPointer, at position: Int) -> (Frame, Int)? {
        guard position + frameHeaderSize + checksumSize <= file.count else { return nil }
        var r = ByteReader(file, offset: position)
        guard let magicAndCount = try? r.uint64(), UInt32(truncatingIfNeeded: magicAndCount) == frameMagic,
            let epoch = try? r.uint64(), let firstSeq = try? r.uint64(), let payloadLength = try? r.uint64(),
            payloadLength < UInt64(file.count)
        else { return nil }
        let count = Int(magicAndCount >> 32)
        let length = Int(payloadLength)
        let end = position + frameHeaderSize + length
        guard count > 0, end + checksumSize <= file.count else { return nil }
        let digest = Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: file[position..<end])))
        guard Array(file[end..<(end + checksumSize)]) == digest else { return nil }
        var p = ByteReader(UnsafeRawBufferPointer(rebasing: file[(position + frameHeaderSize)..<end]))
        var frame = Frame(epoch: epoch, firstSeq: firstSeq, records: [], idempotency: [])
        do {
            for _ in 0..<count { frame.records.append(Array(try p.bytes(count: Int(try p.varint())))) }
            let keys = try p.varint()
            for _ in 0..<keys {
                let key = Array(try p.bytes(count: Int(try p.varint())))
                frame.idempotency.append((key, Array(try p.bytes(count: Int(try p.varint())))))
            }
        } catch {
            return nil
        }
        guard p.isAtEnd else { return nil }
        let padded = (end + checksumSize - position + alignment - 1) / alignment * alignment
        return (frame, padded)
    }
}

extension LogStorage {
    /// The segment's frames that lie beyond `head` (the log's last committed event), checked to
    /// follow one another and to begin right after `head`; empty when LMDB holds them all.
    static func framesBeyond(_ head: LogHead, in contents: WriteAheadSegment.Contents) throws(EventLogError) -> [WriteAheadSegment.Frame] {
        var previous: WriteAheadSegment.Frame?
        var beyond: [WriteAheadSegment.Frame] = []
        for frame in contents.frames {
            if let previous, frame.firstSeq != previous.lastSeq + 1 {
                throw .corruptRecord(
                    seq: frame.firstSeq,
                    reason:
                        "the write-ahead segment's frame of seqs \(frame.firstSeq)-\(frame.lastSeq) does not follow the one of seqs \(previous.firstSeq)-\(previous.lastSeq) (tampered with?)"
                )
            }
            previous = frame
            if frame.lastSeq <= head.seq { continue }
            if beyond.isEmpty && frame.firstSeq != head.seq + 1 {
                throw .corruptRecord(
                    seq: frame.firstSeq,
                    reason:
                        "the write-ahead segment continues at seq \(frame.firstSeq), but the log ends at seq \(head.seq) (tampered with, or the log was replaced)"
                )
            }
            beyond.append(frame)
        }
        return beyond
    }

    /// Checks that a segment record continues the chain at `head`: its seq follows, its `prev` is
    /// the head's hash, its hash is its envelope's. Returns the record.
    static func checkChained(
        _ stored: [UInt8], onto head: LogHead, envelope: EnvelopeFormat, canonical: inout [UInt8],
        source: String = "the write-ahead segment's record"
    ) throws(EventLogError) -> EventRecord {
        let seq = head.seq + 1
        func refuse(_ reason: String) -> EventLogError {
            .corruptRecord(seq: seq, reason: "\(source) \(reason); not applied (tampered with?)")
        }
        let record: EventRecord
        do {
            record = try stored.withUnsafeBytes { raw throws(EventRecord.DecodingFailure) in try EventRecord(decoding: raw) }
        } catch {
            throw refuse("is unreadable (\(error))")
        }
        guard record.seq == seq else { throw refuse("names seq \(record.seq)") }
        guard record.prev == head.hash else {
            throw refuse("does not chain onto the log's head (prev \(record.prev.hex), the head's hash \(head.hash.hex))")
        }
        canonical.removeAll(keepingCapacity: true)
        do {
            try record.data.withUnsafeBytes { raw in
                try envelope.appendCanonical(
                    seq: seq, stream: record.stream, version: record.version, type: record.type, at: record.at,
                    recorded: record.recorded, actor: record.actor, binaryData: raw, to: &canonical)
            }
        } catch {
            throw refuse("holds damaged data")
        }
        guard EnvelopeFormat.chainHash(prev: head.hash, canonical: canonical) == record.hash else {
            throw refuse("has a hash that is not its envelope's")
        }
        return record
    }

    /// Writes the segment's frames beyond `head` into the log through the checks of
    /// ``EventStore/verify(expectedHead:progress:)`` (``appendChained(_:idempotency:txn:head:envelope:canonical:source:)``).
    /// Anything that does not hold is thrown (and nothing is written). Returns the new head.
    func replay(_ frames: [WriteAheadSegment.Frame], onto start: LogHead, envelope: EnvelopeFormat) throws -> LogHead {
        guard !frames.isEmpty else { return start }
        return try environment.withTransaction(readOnly: false) { txn in
            var head = start
            var canonical: [UInt8] = []
            for frame in frames {
                for stored in frame.records {
                    try appendChained(stored, idempotency: [], txn: txn, head: &head, envelope: envelope, canonical: &canonical)
                }
                for (key, value) in frame.idempotency {
                    try txn.put(idempotency, key: key, value: value)
                }
            }
            try txn.put(meta, key: StorageKeys.metaHead, value: StorageKeys.headValue(head))
            return head
        }
    }

    /// Writes one stored record that must continue the chain at `head` (the write-ahead
    /// segment's on a restart, the replicated log's on a follower), checked as
    /// ``EventStore/verify(expectedHead:progress:)`` checks the log: its seq follows, its `prev`
    /// is the head's hash, its hash is its envelope's, its version follows its stream's. Writes
    /// its index entries and `idempotency`; moves `head` on. Throws what does not hold.
    func appendChained(
        _ stored: [UInt8], idempotency entries: [ReplicatedEvent.IdempotencyEntry], txn: LMDBTransaction,
        head: inout LogHead, envelope: EnvelopeFormat, canonical: inout [UInt8],
        source: String = "the write-ahead segment's record"
    ) throws {
        let seq = head.seq + 1
        let record = try Self.checkChained(stored, onto: head, envelope: envelope, canonical: &canonical, source: source)
        let digest = StorageKeys.streamDigest(record.stream)
        let known = try streamNumber(txn, digest: digest)
        let snapshot = LMDBSnapshot(storage: self, txn: txn, visibleThrough: .max)
        let current = try known.flatMap { try snapshot.lastEntry(number: $0)?.version } ?? 0
        guard record.version == current + 1 else {
            throw EventLogError.corruptRecord(
                seq: seq,
                reason:
                    "\(source) is version \(record.version) of stream \(record.stream), which is at version \(current); not applied (tampered with?)"
            )
        }
        let number: UInt64
        if let known {
            number = known
        } else {
            number = UInt64(try txn.count(streamNumbers) + 1)
            try txn.put(streamNumbers, key: digest, value: StorageKeys.streamNumber(number), flags: UInt32(MDB_NOOVERWRITE))
        }
        let seqKey = StorageKeys.seq(seq)
        try txn.put(events, key: seqKey, value: stored, flags: UInt32(MDB_APPEND))
        try txn.put(streamIndex, key: StorageKeys.streamEntry(number: number, version: record.version), value: seqKey)
        for entry in entries {
            try txn.put(idempotency, key: entry.key, value: entry.value)
        }
        head = LogHead(seq: seq, hash: record.hash)
    }
}
