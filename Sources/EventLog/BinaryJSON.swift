/// The compact binary form in which the log stores an event's `data`.
///
/// Object members are stored in RFC 8785 order (by UTF-16 code units), so the canonical JSON
/// that the hash covers is produced by one linear walk, with no sorting and no allocation
/// per value.
///
/// Layout: a tag byte, then `null` 0, `false` 1, `true` 2, integer 3 (8 bytes LE),
/// double 4 (8 bytes LE, IEEE 754), string 5 (varint length, UTF-8), array 6 (varint count,
/// values), object 7 (varint count, then varint key length, key UTF-8, value).
enum BinaryJSON {
    enum Tag: UInt8 {
        case null = 0, `false`, `true`, int, double, string, array, object
    }

    /// Appends the binary form of `value` to `out`.
    static func encode(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(Tag.null.rawValue)
        case .bool(let b): out.append(b ? Tag.true.rawValue : Tag.false.rawValue)
        case .int(let i):
            out.append(Tag.int.rawValue)
            out.appendLittleEndian(UInt64(bitPattern: i))
        case .double(let d):
            if let i = Int64(exactly: d) {
                out.append(Tag.int.rawValue)
                out.appendLittleEndian(UInt64(bitPattern: i))
            } else {
                out.append(Tag.double.rawValue)
                out.appendLittleEndian(d.bitPattern)
            }
        case .string(let s):
            out.append(Tag.string.rawValue)
            out.appendString(s)
        case .array(let a):
            out.append(Tag.array.rawValue)
            out.appendVarint(UInt64(a.count))
            for v in a { encode(v, into: &out) }
        case .object(let o):
            out.append(Tag.object.rawValue)
            out.appendVarint(UInt64(o.count))
            for key in o.keys.sorted(by: canonicalKeyOrder) {
                out.appendString(key)
                encode(o[key] ?? .null, into: &out)
            }
        }
    }

    /// RFC 8785 member order: by UTF-16 code units. UTF-8 byte order agrees with it unless a
    /// key holds a scalar at or above U+E000 (lead byte 0xEE or more), so plain keys take the
    /// fast byte comparison.
    static func canonicalKeyOrder(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        let fast: Bool? = a.withUTF8 { x in
            b.withUTF8 { y -> Bool? in
                if x.contains(where: { $0 >= 0xEE }) || y.contains(where: { $0 >= 0xEE }) { return nil }
                return x.lexicographicallyPrecedes(y)
            }
        }
        return fast ?? a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// Decodes one value, advancing `reader`.
    static func decode(_ reader: inout ByteReader) throws(ByteReader.Failure) -> JSONValue {
        let tag = try reader.byte()
        switch Tag(rawValue: tag) {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .int: return .int(Int64(bitPattern: try reader.uint64()))
        case .double: return .double(Double(bitPattern: try reader.uint64()))
        case .string: return .string(try reader.string())
        case .array:
            let n = try reader.varint()
            var a: [JSONValue] = []
            a.reserveCapacity(Int(min(n, 1024)))
            for _ in 0..<n { a.append(try decode(&reader)) }
            return .array(a)
        case .object:
            let n = try reader.varint()
            var o: [String: JSONValue] = [:]
            o.reserveCapacity(Int(min(n, 1024)))
            for _ in 0..<n {
                let k = try reader.string()
                o[k] = try decode(&reader)
            }
            return .object(o)
        case nil: throw .invalid("unknown value tag \(tag)")
        }
    }

    /// Writes the RFC 8785 canonical JSON of the binary value at `reader` to `out`.
    static func writeCanonical(_ reader: inout ByteReader, to out: inout [UInt8]) throws(ByteReader.Failure) {
        let tag = try reader.byte()
        switch Tag(rawValue: tag) {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .false: out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .true: out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        case .int: CanonicalJSON.appendInteger(Int64(bitPattern: try reader.uint64()), to: &out)
        case .double: CanonicalJSON.appendDouble(Double(bitPattern: try reader.uint64()), to: &out)
        case .string: CanonicalJSON.appendString(try reader.bytes(count: Int(try reader.varint())), to: &out)
        case .array:
            let n = try reader.varint()
            out.append(UInt8(ascii: "["))
            for k in 0..<n {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                try writeCanonical(&reader, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object:
            let n = try reader.varint()
            out.append(UInt8(ascii: "{"))
            for k in 0..<n {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendString(try reader.bytes(count: Int(try reader.varint())), to: &out)
                out.append(UInt8(ascii: ":"))
                try writeCanonical(&reader, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case nil: throw .invalid("unknown value tag \(tag)")
        }
    }
}

/// Reads little-endian integers, varints and strings from a byte buffer, never past its end.
struct ByteReader {
    enum Failure: Error, Equatable {
        case truncated
        case invalid(String)
    }

    let buffer: UnsafeRawBufferPointer
    var offset: Int

    init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    var isAtEnd: Bool { offset >= buffer.count }

    mutating func byte() throws(Failure) -> UInt8 {
        guard offset < buffer.count else { throw .truncated }
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func uint64() throws(Failure) -> UInt64 {
        guard offset + 8 <= buffer.count else { throw .truncated }
        defer { offset += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func uint16() throws(Failure) -> UInt16 {
        guard offset + 2 <= buffer.count else { throw .truncated }
        defer { offset += 2 }
        return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    mutating func varint() throws(Failure) -> UInt64 {
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

    mutating func bytes(count: Int) throws(Failure) -> UnsafeRawBufferPointer {
        guard count >= 0, offset + count <= buffer.count else { throw .truncated }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    mutating func string() throws(Failure) -> String {
        let raw = try bytes(count: Int(try varint()))
        return String(decoding: raw, as: UTF8.self)
    }

    mutating func shortString() throws(Failure) -> String {
        let raw = try bytes(count: Int(try uint16()))
        return String(decoding: raw, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendLittleEndian(_ v: UInt64) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func appendLittleEndian(_ v: UInt16) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func appendBigEndian(_ v: UInt64) {
        Swift.withUnsafeBytes(of: v.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    mutating func appendString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            appendVarint(UInt64(utf8.count))
            append(contentsOf: utf8)
        }
    }

    mutating func appendShortString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            appendLittleEndian(UInt16(truncatingIfNeeded: utf8.count))
            append(contentsOf: utf8)
        }
    }
}
