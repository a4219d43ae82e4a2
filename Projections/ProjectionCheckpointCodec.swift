import EventLog

// The checkpoint's integers on top of the package's one byte reader and writer (EventLog's
// Bytes.swift): zig-zag varints for signed values, and 0 for nil before an optional value's code.

extension Array where Element == UInt8 {
    /// A signed value: zig-zag, so that small magnitudes of either sign take few bytes.
    @inline(__always)
    mutating func appendZigZag(_ value: Int64) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// 0 for nil, else the value's zig-zag code plus 1. (A state's values are instants and their
    /// differences, far from `Int64.min`, the one value whose code has no successor.)
    @inline(__always)
    mutating func appendZigZag(optional value: Int64?) {
        guard let value else { return append(0) }
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)) &+ 1)
    }

    /// An instant as its difference from the previous record's, which it then becomes.
    @inline(__always)
    mutating func appendZigZag(_ instant: Int64, after previous: inout Int64) {
        appendZigZag(instant &- previous)
        previous = instant
    }

    /// A link from record `index` to an earlier record of the same ticket as the distance back
    /// (0: none, ``Sentinel/none``).
    @inline(__always)
    mutating func appendDistance(from index: Int, backTo earlier: UInt32) {
        appendVarint(earlier == Sentinel.none ? 0 : UInt64(index) - UInt64(earlier))
    }

    /// An index where ``Sentinel/none`` is nil: 0 for nil, else the index plus 1.
    @inline(__always)
    mutating func appendIndex(_ value: UInt32) {
        appendVarint(value == Sentinel.none ? 0 : UInt64(value) + 1)
    }

    mutating func appendUInt32(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Reads a checkpoint's values, never past its end: any failure is a damaged checkpoint.
struct CheckpointReader {
    private var reader: ByteReader

    init(_ bytes: UnsafeRawBufferPointer, offset: Int) {
        reader = ByteReader(bytes, offset: offset)
    }

    var remaining: Int { reader.buffer.count - reader.offset }

    private func damaged(_ failure: ByteReader.Failure) -> ProjectionCheckpointError {
        .damaged("\(failure == .truncated ? "truncated" : "bad varint") at byte \(reader.offset)")
    }

    mutating func uint32() throws(ProjectionCheckpointError) -> UInt32 {
        do {
            return try reader.bytes(count: 4).loadUnaligned(as: UInt32.self).littleEndian
        } catch { throw damaged(error) }
    }

    mutating func uint64() throws(ProjectionCheckpointError) -> UInt64 {
        do { return try reader.uint64() } catch { throw damaged(error) }
    }

    @inline(__always)
    mutating func varint() throws(ProjectionCheckpointError) -> UInt64 {
        do { return try reader.varint() } catch { throw damaged(error) }
    }

    /// ``Swift/Array/appendZigZag(_:)``.
    @inline(__always)
    mutating func int() throws(ProjectionCheckpointError) -> Int64 {
        let code = try varint()
        return Int64(bitPattern: code >> 1) ^ -Int64(bitPattern: code & 1)
    }

    /// ``Swift/Array/appendZigZag(_:after:)``.
    @inline(__always)
    mutating func int(after previous: inout Int64) throws(ProjectionCheckpointError) -> Int64 {
        previous = previous &+ (try int())
        return previous
    }

    /// ``Swift/Array/appendDistance(from:backTo:)``: the earlier record, ``Sentinel/none``, or nil
    /// when the distance does not lead to a record before `index`.
    @inline(__always)
    mutating func earlierRecord(before index: Int) throws(ProjectionCheckpointError) -> UInt32? {
        let back = try varint()
        guard back <= UInt64(index) else { return nil }
        return back == 0 ? Sentinel.none : UInt32(UInt64(index) - back)
    }

    /// ``Swift/Array/appendZigZag(optional:)``.
    @inline(__always)
    mutating func optionalInt() throws(ProjectionCheckpointError) -> Int64? {
        let code = try varint()
        guard code != 0 else { return nil }
        return Int64(bitPattern: (code - 1) >> 1) ^ -Int64(bitPattern: (code - 1) & 1)
    }

    /// A non-negative value as `Int64` (too large ones turn negative, and fail the range checks).
    @inline(__always)
    mutating func uint() throws(ProjectionCheckpointError) -> Int64 { Int64(bitPattern: try varint()) }

    /// ``Swift/Array/appendIndex(_:)``.
    @inline(__always)
    mutating func optionalIndex() throws(ProjectionCheckpointError) -> Int64? {
        let code = try varint()
        return code == 0 ? nil : Int64(bitPattern: code - 1)
    }

    /// A count of records or names: at most `limit`, and at most the bytes left (every record
    /// takes at least one), so that a damaged count never reserves much memory.
    mutating func count(_ what: StaticString, limit: Int) throws(ProjectionCheckpointError) -> Int {
        let value = try varint()
        guard value <= UInt64(min(limit, remaining)) else { throw .damaged("\(what): count \(value) out of range") }
        return Int(value)
    }

    /// UTF-8 of `length` bytes.
    mutating func string(length: Int, _ what: StaticString) throws(ProjectionCheckpointError) -> String {
        let bytes: UnsafeRawBufferPointer
        do { bytes = try reader.bytes(count: length) } catch { throw damaged(error) }
        guard let string = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw .damaged("\(what): not UTF-8")
        }
        return string
    }

    /// ``Swift/Array/appendString(_:)``.
    mutating func string(_ what: StaticString) throws(ProjectionCheckpointError) -> String {
        let length = try varint()
        guard length <= UInt64(remaining) else { throw .damaged("\(what): string out of bounds") }
        return try string(length: Int(length), what)
    }
}
