// The one byte reader and writer of the package's binary records (the log's record, the stored
// answers, the import spool, the projection checkpoint): little-endian fixed-width integers,
// LEB128 varints and length-prefixed UTF-8 strings, read without ever passing the buffer's end.

/// Reads little-endian integers, varints and strings from a byte buffer, never past its end.
package struct ByteReader {
    package enum Failure: Error, Equatable {
        case truncated
        case invalid(String)
    }

    package let buffer: UnsafeRawBufferPointer
    package var offset: Int

    package init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    package var isAtEnd: Bool { offset >= buffer.count }

    package mutating func byte() throws(Failure) -> UInt8 {
        guard offset < buffer.count else { throw .truncated }
        defer { offset += 1 }
        return buffer[offset]
    }

    package mutating func uint64() throws(Failure) -> UInt64 {
        guard offset + 8 <= buffer.count else { throw .truncated }
        defer { offset += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A big-endian 8-byte integer (the form of the log's keys, where byte order is numeric order).
    package mutating func bigEndianUInt64() throws(Failure) -> UInt64 {
        guard offset + 8 <= buffer.count else { throw .truncated }
        defer { offset += 8 }
        return UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A big-endian 4-byte integer.
    package mutating func bigEndianUInt32() throws(Failure) -> UInt32 {
        guard offset + 4 <= buffer.count else { throw .truncated }
        defer { offset += 4 }
        return UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    package mutating func uint16() throws(Failure) -> UInt16 {
        guard offset + 2 <= buffer.count else { throw .truncated }
        defer { offset += 2 }
        return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    package mutating func varint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw .invalid("varint too long") }
        }
    }

    package mutating func bytes(count: Int) throws(Failure) -> UnsafeRawBufferPointer {
        guard count >= 0, offset + count <= buffer.count else { throw .truncated }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    package mutating func string() throws(Failure) -> String {
        let raw = try bytes(count: Int(try varint()))
        return String(decoding: raw, as: UTF8.self)
    }

    package mutating func shortString() throws(Failure) -> String {
        let raw = try bytes(count: Int(try uint16()))
        return String(decoding: raw, as: UTF8.self)
    }
}

/// The writing side of ``ByteReader``: appends little-endian integers, varints and strings.
extension Array where Element == UInt8 {
    @inline(__always)
    package mutating func appendLittleEndian(_ v: UInt64) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    @inline(__always)
    package mutating func appendLittleEndian(_ v: UInt16) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    @inline(__always)
    package mutating func appendBigEndian(_ v: UInt64) {
        Swift.withUnsafeBytes(of: v.bigEndian) { append(contentsOf: $0) }
    }

    @inline(__always)
    package mutating func appendBigEndian(_ v: UInt32) {
        Swift.withUnsafeBytes(of: v.bigEndian) { append(contentsOf: $0) }
    }

    package mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    package mutating func appendString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            appendVarint(UInt64(utf8.count))
            append(contentsOf: utf8)
        }
    }

    package mutating func appendShortString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            appendLittleEndian(UInt16(truncatingIfNeeded: utf8.count))
            append(contentsOf: utf8)
        }
    }
}
