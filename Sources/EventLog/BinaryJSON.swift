/// The compact binary form in which the log stores an event's `data`.
///
/// Object members are stored in RFC 8785 order (by UTF-16 code units), so the canonical JSON
/// that the hash covers is produced by one linear walk, with no sorting and no allocation
/// per value.
///
/// Layout: a tag byte, then `null` 0, `false` 1, `true` 2, integer 3 (8 bytes LE),
/// double 4 (8 bytes LE, IEEE 754), string 5 (varint length, UTF-8), array 6 (varint count,
/// values), object 7 (varint count, then varint key length, key UTF-8, value).
package enum BinaryJSON {
    enum Tag: UInt8 {
        case null = 0, `false`, `true`, int, double, string, array, object
    }

    /// Appends the binary form of `value` to `out`.
    package static func encode(_ value: JSONValue, into out: inout [UInt8]) {
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
    package static func canonicalKeyOrder(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        let fast: Bool? = a.withUTF8 { x in
            b.withUTF8 { y -> Bool? in
                if x.contains(where: { $0 >= 0xEE }) || y.contains(where: { $0 >= 0xEE }) { return nil }
                return x.lexicographicallyPrecedes(y)
            }
        }
        return fast ?? a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// Decodes the one value that `bytes` hold.
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(ByteReader.Failure) -> JSONValue {
        var reader = ByteReader(bytes)
        let value = try decode(&reader)
        guard reader.isAtEnd else { throw .invalid("\(bytes.count - reader.offset) bytes after the value") }
        return value
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
