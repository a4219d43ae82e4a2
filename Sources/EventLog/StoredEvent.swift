// The stored record read in place: what a rebuild folds without making a `RecordedEvent`, a
// `JSONValue` or a `String` per event.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UTF-8 text inside a stored record, borrowed: valid only while the record's bytes are (inside
/// the closure that was handed the record).
///
/// It stands for the `String` the record decodes to (``EventRecord`` reads texts with
/// `String(decoding:as:)`, which repairs invalid UTF-8): each answer here is the answer for that
/// string. Texts of ASCII bytes, nearly all of them, are answered from the bytes.
package struct StoredText {
    package let bytes: UnsafeRawBufferPointer

    @inline(__always)
    package init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The string the record decodes to.
    package var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether every byte is ASCII: then the bytes are exactly the decoded string's UTF-8.
    @inline(__always)
    package var isASCII: Bool {
        let n = bytes.count
        var i = 0
        var any: UInt64 = 0
        while i + 8 <= n {
            any |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n {
            any |= UInt64(bytes[i])
            i += 1
        }
        return any & 0x8080_8080_8080_8080 == 0
    }

    /// Whether the decoded string's UTF-8 is `utf8` (code point equality, no normalisation).
    @inline(__always)
    package func equals(_ utf8: UnsafeRawBufferPointer) -> Bool {
        if bytes.count == utf8.count, isASCII {
            return bytes.count == 0 || memcmp(bytes.baseAddress!, utf8.baseAddress!, bytes.count) == 0
        }
        var s = string
        return s.withUTF8 { $0.elementsEqual(utf8) }
    }

    /// Whether the decoded string's UTF-8 is that of `text` (code point equality).
    @inline(__always)
    package func equals(_ text: String) -> Bool {
        // `withUTF8`, not `utf8.withContiguousStorageIfAvailable`: a small string (up to 15
        // bytes, most names) has no contiguous storage to lend, and would be copied to an array.
        var text = text
        return text.withUTF8 { equals(UnsafeRawBufferPointer($0)) }
    }
}

/// One stored event read in place (the log's record, see ``EventRecord``): its envelope's numbers
/// and texts, and its `data` in ``BinaryJSON`` form. Valid only inside the closure that was handed
/// it; do not keep it.
///
/// ``recordedEvent()`` decodes the record as every other read does, with the same errors: the one
/// way to learn why a record a rebuild could not read in place was refused.
package struct StoredEventView {
    /// The seq under which the record is stored (what errors name).
    package let keySeq: UInt64
    /// The whole stored record.
    package let record: UnsafeRawBufferPointer
    package let seq: UInt64
    package let version: UInt64
    package let at: Timestamp
    package let stream: StoredText
    package let type: StoredText
    package let actorKind: StoredText
    package let actorID: StoredText
    /// The event's `data` (``BinaryJSON``).
    package let data: UnsafeRawBufferPointer

    /// Reads the record's layout; nil when it is not a readable record of the current format
    /// (``recordedEvent()`` then says what is wrong).
    @inline(__always)
    package init?(keySeq: UInt64, record: UnsafeRawBufferPointer) {
        guard record.count >= EventRecord.fixedHeaderSize, record[0] == EventRecord.currentFormat else { return nil }
        self.keySeq = keySeq
        self.record = record
        seq = UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
        version = UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 9, as: UInt64.self))
        at = Timestamp(milliseconds: Int64(bitPattern: UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 17, as: UInt64.self))))
        var offset = EventRecord.fixedHeaderSize
        @inline(__always)
        func text() -> StoredText? {
            guard offset + 2 <= record.count else { return nil }
            let n = Int(UInt16(littleEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            guard offset + 2 + n <= record.count else { return nil }
            defer { offset += 2 + n }
            return StoredText(UnsafeRawBufferPointer(rebasing: record[(offset + 2)..<(offset + 2 + n)]))
        }
        guard let stream = text(), let type = text(), let kind = text(), let id = text() else { return nil }
        self.stream = stream
        self.type = type
        actorKind = kind
        actorID = id
        data = UnsafeRawBufferPointer(rebasing: record[offset...])
    }

    /// The record decoded as every read decodes it (``LogSnapshot/events(after:limit:)``), with
    /// the same errors.
    package func recordedEvent() throws(EventLogError) -> RecordedEvent {
        try Self.recordedEvent(seq: keySeq, record: record)
    }

    /// A stored record (under `seq`) decoded as every read decodes it, with the same errors.
    package static func recordedEvent(seq keySeq: UInt64, record: UnsafeRawBufferPointer) throws(EventLogError) -> RecordedEvent {
        try EventRecord.recordedEvent(stored: record, seq: keySeq)
    }
}

/// Stored records copied out of a read, to be read in place later (on another thread, after the
/// read transaction ended): one buffer of bytes and where each record lies in it.
///
/// Filled by one thread (``append(seq:record:)``), then handed over and only read: the bytes of a
/// record (``record(at:)``) stay where they are for as long as the batch lives and nothing more is
/// appended, so values that borrow them (a `StoredText`) may be kept beside the batch.
package final class StoredRecordBatch: @unchecked Sendable {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    /// The bytes of all records.
    package private(set) var byteCount = 0
    private var entries: [(seq: UInt64, start: Int, end: Int)] = []

    package init(records: Int = 0, bytes: Int = 1 << 16) {
        capacity = max(bytes, 64)
        storage = .allocate(byteCount: capacity, alignment: 16)
        entries.reserveCapacity(records)
    }

    deinit { storage.deallocate() }

    package var count: Int { entries.count }
    package var isEmpty: Bool { entries.isEmpty }
    /// The seq of the last record, 0 when empty.
    package var lastSeq: UInt64 { entries.last?.seq ?? 0 }

    /// Copies a record (stored under `seq`).
    package func append(seq: UInt64, record: UnsafeRawBufferPointer) {
        if byteCount + record.count > capacity {
            var grown = capacity * 2
            while byteCount + record.count > grown { grown *= 2 }
            let moved = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
            moved.copyMemory(from: storage, byteCount: byteCount)
            storage.deallocate()
            storage = moved
            capacity = grown
        }
        if record.count > 0 { (storage + byteCount).copyMemory(from: record.baseAddress!, byteCount: record.count) }
        entries.append((seq, byteCount, byteCount + record.count))
        byteCount += record.count
    }

    /// The `k`th record: the seq it is stored under and its bytes (valid while the batch lives
    /// and nothing more is appended).
    package func record(at k: Int) -> (seq: UInt64, bytes: UnsafeRawBufferPointer) {
        let entry = entries[k]
        return (entry.seq, UnsafeRawBufferPointer(start: storage + entry.start, count: entry.end - entry.start))
    }

    /// Empties the batch, keeping its storage for the next records (whose bytes then replace
    /// those handed out before).
    package func removeAll() {
        byteCount = 0
        entries.removeAll(keepingCapacity: true)
    }

    /// Hands each record in order to `body`: its seq and bytes.
    package func forEach(_ body: (UInt64, UnsafeRawBufferPointer) throws -> Void) rethrows {
        for k in entries.indices {
            let (seq, bytes) = record(at: k)
            try body(seq, bytes)
        }
    }
}

extension RecordedEvent {
    /// The event's stored record (what the LMDB log keeps under its seq).
    package var storedRecord: [UInt8] {
        var binary: [UInt8] = []
        BinaryJSON.encode(data, into: &binary)
        return EventRecord(
            seq: seq, version: version, at: at, recorded: recorded, prev: prev, hash: hash, stream: stream, type: type,
            actor: actor, data: binary
        ).encoded()
    }
}

extension BinaryJSON {
    /// One value inside a stored `data`, read in place (within a structure already checked by
    /// ``Object/init(at:in:)``).
    package struct Value {
        package let buffer: UnsafeRawBufferPointer
        package let offset: Int

        @inline(__always)
        package init(_ buffer: UnsafeRawBufferPointer, at offset: Int) {
            self.buffer = buffer
            self.offset = offset
        }

        @inline(__always)
        package var tag: UInt8 { offset < buffer.count ? buffer[offset] : 0xFF }
        package var isNull: Bool { tag == Tag.null.rawValue }

        package var text: StoredText? {
            guard tag == Tag.string.rawValue else { return nil }
            var reader = ByteReader(buffer, offset: offset + 1)
            guard let n = try? reader.varint(), let count = Int(exactly: n), let raw = try? reader.bytes(count: count) else {
                return nil
            }
            return StoredText(raw)
        }

        package var integer: Int64? {
            guard tag == Tag.int.rawValue, offset + 9 <= buffer.count else { return nil }
            return Int64(bitPattern: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 1, as: UInt64.self)))
        }

        package var boolean: Bool? {
            switch tag {
            case Tag.true.rawValue: true
            case Tag.false.rawValue: false
            default: nil
            }
        }

        package var items: Items? {
            guard tag == Tag.array.rawValue else { return nil }
            var reader = ByteReader(buffer, offset: offset + 1)
            guard let n = try? reader.varint(), let count = Int(exactly: n) else { return nil }
            return Items(buffer: buffer, first: reader.offset, count: count)
        }

        package var object: Object? { Object(at: offset, in: buffer) }

        /// The elements of an array.
        package struct Items: Sequence, IteratorProtocol {
            let buffer: UnsafeRawBufferPointer
            var position: Int
            var remaining: Int

            init(buffer: UnsafeRawBufferPointer, first: Int, count: Int) {
                self.buffer = buffer
                position = first
                remaining = count
            }

            package mutating func next() -> Value? {
                guard remaining > 0, let end = BinaryJSON.end(of: position, in: buffer) else { return nil }
                defer {
                    position = end
                    remaining -= 1
                }
                return Value(buffer, at: position)
            }
        }
    }

    /// Where the value at `offset` ends, having checked its whole structure as
    /// ``decode(_:)`` reads it; nil when it is malformed.
    package static func end(of offset: Int, in buffer: UnsafeRawBufferPointer) -> Int? {
        var reader = ByteReader(buffer, offset: offset)
        return skip(&reader) ? reader.offset : nil
    }

    private static func skip(_ reader: inout ByteReader) -> Bool {
        guard let tag = try? reader.byte() else { return false }
        switch Tag(rawValue: tag) {
        case .null, .false, .true: return true
        case .int, .double: return (try? reader.bytes(count: 8)) != nil
        case .string: return skipText(&reader)
        case .array:
            guard let n = try? reader.varint() else { return false }
            for _ in 0..<n where !skip(&reader) { return false }
            return true
        case .object:
            guard let n = try? reader.varint() else { return false }
            for _ in 0..<n where !(skipText(&reader) && skip(&reader)) { return false }
            return true
        case nil: return false
        }
    }

    @inline(__always)
    private static func skipText(_ reader: inout ByteReader) -> Bool {
        guard let n = try? reader.varint(), let count = Int(exactly: n) else { return false }
        return (try? reader.bytes(count: count)) != nil
    }

    /// The members of an object read in place: at most ``capacity`` members, each name ASCII and
    /// in strictly increasing byte order (as the log writes them: RFC 8785 order, no duplicates).
    /// Any other object, and any malformed one, is not read here (nil): it is left to the
    /// decoded path, which names its problem.
    package struct Object {
        package static let capacity = 8
        let buffer: UnsafeRawBufferPointer
        /// For each member: where its name starts (high 32 bits) and where its value starts.
        private var entries: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        package private(set) var count = 0

        /// Reads the object at `offset` (whose whole structure is checked); nil when it is not one.
        package init?(at offset: Int, in buffer: UnsafeRawBufferPointer) {
            self.buffer = buffer
            var reader = ByteReader(buffer, offset: offset)
            guard (try? reader.byte()) == Tag.object.rawValue, let n = try? reader.varint(), n <= UInt64(Self.capacity) else {
                return nil
            }
            var previous = UnsafeRawBufferPointer(start: nil, count: 0)
            for k in 0..<Int(n) {
                guard let length = try? reader.varint(), let count = Int(exactly: length), let name = try? reader.bytes(count: count),
                    StoredText(name).isASCII, k == 0 || Self.precedes(previous, name)
                else { return nil }
                previous = name
                let valueStart = reader.offset
                guard Self.skipValue(&reader) else { return nil }
                withUnsafeMutableBytes(of: &entries) {
                    $0.storeBytes(of: UInt64(valueStart - count) << 32 | UInt64(valueStart), toByteOffset: 8 * k, as: UInt64.self)
                }
            }
            count = Int(n)
        }

        private static func skipValue(_ reader: inout ByteReader) -> Bool { BinaryJSON.skip(&reader) }

        /// Byte order.
        @inline(__always)
        private static func precedes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
            let n = min(a.count, b.count)
            let c = n == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, n)
            return c < 0 || (c == 0 && a.count < b.count)
        }

        /// The member named `name` (its UTF-8), nil when absent.
        @inline(__always)
        package func member(_ name: UnsafeRawBufferPointer) -> Value? {
            withUnsafeBytes(of: entries) { raw in
                for k in 0..<count {
                    let entry = raw.load(fromByteOffset: 8 * k, as: UInt64.self)
                    let nameStart = Int(entry >> 32), valueStart = Int(entry & 0xFFFF_FFFF)
                    if valueStart - nameStart == name.count,
                        name.count == 0 || memcmp(buffer.baseAddress! + nameStart, name.baseAddress!, name.count) == 0
                    {
                        return Value(buffer, at: valueStart)
                    }
                }
                return nil
            }
        }

        /// The members' names (for naming an unknown one).
        package var names: [String] {
            withUnsafeBytes(of: entries) { raw in
                (0..<count).map { k in
                    let entry = raw.load(fromByteOffset: 8 * k, as: UInt64.self)
                    let nameStart = Int(entry >> 32), valueStart = Int(entry & 0xFFFF_FFFF)
                    return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[nameStart..<valueStart]), as: UTF8.self)
                }
            }
        }
    }
}
