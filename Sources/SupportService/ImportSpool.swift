import EventLog
import Foundation

/// Splits NDJSON bytes into numbered lines as they arrive, holding at most one incomplete line,
/// so an import's memory does not grow with its size. A line longer than `maximumLength`
/// bytes (without its line ending) is 400 naming it; blank lines are numbered but skipped.
struct NDJSONLines {
    let maximumLength: Int
    private var pending: [UInt8] = []
    private var number = 0

    init(maximumLength: Int) { self.maximumLength = maximumLength }

    /// Hands every line completed by `bytes` to `line`, with its 1-based number. The line's bytes
    /// are valid only during the call.
    mutating func feed<Bytes: BidirectionalCollection<UInt8>>(
        _ bytes: Bytes, _ line: (UnsafeRawBufferPointer, Int) throws(ServiceError) -> Void
    ) throws(ServiceError) {
        // Contiguous input (a file's `Data`, a request body's buffer) is searched in place;
        // anything else is copied once.
        let done = bytes.withContiguousStorageIfAvailable { buffer -> Result<Void, ServiceError> in
            do throws(ServiceError) {
                try feed(raw: UnsafeRawBufferPointer(buffer), line)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if let done { return try done.get() }
        let copy = Array(bytes)
        let result = copy.withUnsafeBytes { raw -> Result<Void, ServiceError> in
            do throws(ServiceError) {
                try feed(raw: raw, line)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    private mutating func feed(
        raw: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer, Int) throws(ServiceError) -> Void
    ) throws(ServiceError) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        var start = 0
        while start < raw.count, let found = memchr(base + start, 0x0A, raw.count - start) {
            let newline = UnsafeRawPointer(found) - base
            let part = UnsafeRawBufferPointer(rebasing: raw[start..<newline])
            if pending.isEmpty {
                // The whole line is in this input: hand it over in place.
                guard part.count <= maximumLength + 1 else { throw tooLong(number + 1) }
                try emit(part, line)
            } else {
                try extend(with: part)
                try emitPending(line)
            }
            start = newline + 1
        }
        try extend(with: UnsafeRawBufferPointer(rebasing: raw[start...]))
    }

    /// Hands over the last line when the input does not end with a newline.
    mutating func finish(_ line: (UnsafeRawBufferPointer, Int) throws(ServiceError) -> Void) throws(ServiceError) {
        if !pending.isEmpty { try emitPending(line) }
    }

    /// Emits the line held from earlier input, now complete.
    private mutating func emitPending(_ line: (UnsafeRawBufferPointer, Int) throws(ServiceError) -> Void) throws(ServiceError) {
        let held = pending
        defer { pending.removeAll(keepingCapacity: true) }
        let result = held.withUnsafeBytes { raw -> Result<Void, ServiceError> in
            do throws(ServiceError) {
                try emit(raw, line)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    private mutating func extend(with part: UnsafeRawBufferPointer) throws(ServiceError) {
        // One byte more for a CR before the newline.
        guard pending.count + part.count <= maximumLength + 1 else { throw tooLong(number + 1) }
        pending.append(contentsOf: part)
    }

    /// Numbers a complete line (without its newline) and hands it over unless it is blank.
    private mutating func emit(
        _ bytes: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer, Int) throws(ServiceError) -> Void
    ) throws(ServiceError) {
        number += 1
        var text = bytes
        if text.last == 0x0D { text = UnsafeRawBufferPointer(rebasing: text.dropLast()) }
        guard text.count <= maximumLength else { throw tooLong(number) }
        guard text.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
        try line(text, number)
    }

    private func tooLong(_ number: Int) -> ServiceError {
        ServiceError(.badRequest, "line \(number): longer than \(maximumLength) bytes", line: number)
    }
}

/// The validated lines of an import, waiting in an owner-only (0600) temporary file inside the
/// data directory until the whole input has passed the rules; then read back in order. The
/// file is removed when the spool goes away (success, failure or a cancelled request) and, for
/// a process that died mid-import, when the next one starts (``removeLeftovers(in:)``).
final class ImportSpool {
    /// One validated line: the event as it will be appended.
    struct Entry {
        var number: Int
        var line: ImportLine
        /// The line's data in the log's stored form (``BinaryJSON``), as read back.
        var binaryData: [UInt8] = []
    }

    static let namePrefix = "import-"
    static let nameSuffix = ".spool"
    /// Bytes buffered before a write, and read at a time.
    static let blockSize = 1 << 20

    let path: String
    private var fd: Int32
    private var writeBuffer: [UInt8] = []
    private var written: Int64 = 0
    private var readBuffer: [UInt8] = []
    private var readPosition = 0
    private var readOffset: Int64 = 0
    private(set) var count = 0

    /// Creates an empty spool in `directory`.
    init(in directory: String) throws(ServiceError) {
        path = "\(directory)/\(Self.namePrefix)\(UUID().uuidString)\(Self.nameSuffix)"
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure("cannot create \(path)", errno: errno) }
    }

    deinit { remove() }

    /// Closes and deletes the file (again: nothing).
    func remove() {
        guard fd >= 0 else { return }
        close(fd)
        unlink(path)
        fd = -1
    }

    /// Removes the spools a process that died mid-import left behind. Call only while holding
    /// the data directory's writer lock (no other import can be running).
    static func removeLeftovers(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(namePrefix) && name.hasSuffix(nameSuffix) {
            unlink("\(directory)/\(name)")
        }
    }

    // Record (with the package's byte writer): u64 length of the rest | varint line number
    // | varint version (0: none) | u64 at (ms, two's complement) | varint len + ticket
    // | varint len + type | varint len + actor kind | varint len + actor id | data (the log's binary
    // form, ``BinaryJSON``: what the writer stores, handed to it as it is).

    func append(_ entry: Entry) throws(ServiceError) {
        Self.encode(entry, to: &writeBuffer)
        count += 1
        if writeBuffer.count >= Self.blockSize { try flush() }
    }

    /// Appends an entry already encoded by ``encode(_:to:)`` (on another thread, say).
    func append(encoded record: [UInt8]) throws(ServiceError) {
        writeBuffer.append(contentsOf: record)
        count += 1
        if writeBuffer.count >= Self.blockSize { try flush() }
    }

    /// Appends `entry`'s record to `out`.
    static func encode(_ entry: Entry, to out: inout [UInt8]) {
        let start = out.count
        out.appendLittleEndian(UInt64(0))
        out.appendVarint(UInt64(entry.number))
        out.appendVarint(entry.line.version ?? 0)
        out.appendLittleEndian(UInt64(bitPattern: entry.line.at.milliseconds))
        for text in [entry.line.ticket, entry.line.type, entry.line.actor.kind, entry.line.actor.id] {
            out.appendString(text)
        }
        BinaryJSON.encode(entry.line.data, into: &out)
        var length: [UInt8] = []
        length.appendLittleEndian(UInt64(out.count - start - 8))
        out.replaceSubrange(start..<(start + 8), with: length)
    }

    /// Writes what is buffered; call once after the last ``append(_:)``, before reading.
    func flush() throws(ServiceError) {
        var done = 0
        while done < writeBuffer.count {
            let n = writeBuffer.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(written)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw Self.failure("cannot write \(path)", errno: errno) }
            done += n
            written += Int64(n)
        }
        writeBuffer.removeAll(keepingCapacity: true)
    }

    /// The next entry in the order they were appended; nil after the last.
    func next() throws(ServiceError) -> Entry? {
        guard let prefix = try take(8) else { return nil }
        let length = prefix.withUnsafeBytes { raw in UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(Int.max), let slice = try take(Int(length)) else { throw Self.failure("\(path) is truncated") }
        let path = self.path
        let entry = slice.withUnsafeBytes { raw -> Result<Entry, ServiceError> in
            var reader = ByteReader(raw)
            do {
                let number = Int(try reader.varint())
                let version = try reader.varint()
                let at = Timestamp(milliseconds: Int64(bitPattern: try reader.uint64()))
                let ticket = try reader.string(), type = try reader.string()
                let actor = EventActor(kind: try reader.string(), id: try reader.string())
                let binary = try reader.bytes(count: raw.count - reader.offset)
                let data = try BinaryJSON.decode(binary)
                return .success(
                    Entry(
                        number: number,
                        line: ImportLine(
                            ticket: ticket, type: type, at: at, actor: actor,
                            data: data, version: version == 0 ? nil : version),
                        binaryData: Array(binary)))
            } catch {
                return .failure(Self.failure("\(path) is damaged: \(error)"))
            }
        }
        return try entry.get()
    }

    /// The next `n` bytes of the file, reading on as needed; nil at the end of the file.
    private func take(_ n: Int) throws(ServiceError) -> ArraySlice<UInt8>? {
        while readBuffer.count - readPosition < n {
            readBuffer.removeFirst(readPosition)
            readPosition = 0
            let have = readBuffer.count
            let want = max(Self.blockSize, n - have)
            readBuffer.append(contentsOf: repeatElement(0, count: want))
            var got = 0
            while true {
                got = readBuffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + have, want, off_t(readOffset)) }
                if got < 0, errno == EINTR { continue }
                break
            }
            guard got >= 0 else { throw Self.failure("cannot read \(path)", errno: errno) }
            readBuffer.removeLast(want - got)
            readOffset += Int64(got)
            if got == 0 {
                guard readBuffer.isEmpty else { throw Self.failure("\(path) is truncated") }
                return nil
            }
        }
        defer { readPosition += n }
        return readBuffer[readPosition..<(readPosition + n)]
    }

    private static func failure(_ what: String, errno code: Int32? = nil) -> ServiceError {
        ServiceError(.unavailable, "the import spool: \(what)" + (code.map { ": \(String(cString: strerror($0)))" } ?? ""))
    }
}
