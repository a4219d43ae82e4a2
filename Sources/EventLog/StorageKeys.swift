import Crypto

/// Key formats of the log's LMDB databases. Every integer in a key is big-endian so that
/// LMDB's byte order is numeric order (and `MDB_APPEND` works for seq keys).
enum StorageKeys {
    /// `events`: seq as 8 bytes big-endian.
    static func seq(_ seq: UInt64) -> [UInt8] {
        var k: [UInt8] = []
        k.reserveCapacity(8)
        k.appendBigEndian(seq)
        return k
    }

    static func decodeSeq(_ key: UnsafeRawBufferPointer) -> UInt64? {
        guard key.count == 8 else { return nil }
        return UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
    }

    /// `streamNumbers` key: SHA-256 of the stream id's UTF-8. A digest rather than the id itself
    /// because LMDB keys are limited to 511 bytes and an id may be 512 bytes of UTF-8. Read once
    /// per append (a look-up); written once per stream, at its first event.
    static func streamDigest(_ stream: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(stream.utf8)))
    }

    /// A stream's number (`streamNumbers` value): 8 bytes big-endian.
    static func streamNumber(_ number: UInt64) -> [UInt8] {
        var v: [UInt8] = []
        v.reserveCapacity(8)
        v.appendBigEndian(number)
        return v
    }

    static func decodeStreamNumber(_ value: UnsafeRawBufferPointer) -> UInt64? {
        guard value.count == 8 else { return nil }
        return UInt64(bigEndian: value.loadUnaligned(as: UInt64.self))
    }

    /// `streamIndex` key: the stream's number then the version, 8 bytes big-endian each. Numbers
    /// are handed out in order of first append, so the entries of the streams a desk works on now
    /// (its recent tickets) sit together at the end of the index, and a commit dirties a few pages
    /// there instead of one page per event all over it.
    static func streamEntry(number: UInt64, version: UInt64) -> [UInt8] {
        var k: [UInt8] = []
        k.reserveCapacity(16)
        k.appendBigEndian(number)
        k.appendBigEndian(version)
        return k
    }

    /// The stream number and version of a `streamIndex` key.
    static func decodeStreamEntry(_ key: UnsafeRawBufferPointer) -> (number: UInt64, version: UInt64)? {
        guard key.count == 16 else { return nil }
        var reader = ByteReader(key)
        guard let number = try? reader.bigEndianUInt64(), let version = try? reader.bigEndianUInt64() else { return nil }
        return (number, version)
    }

    /// `idempotency`: SHA-256 of the key's UTF-8 (keys may exceed LMDB's key limit).
    static func idempotency(_ key: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(key.utf8)))
    }

    /// `meta` `head`: the last event's seq (8 bytes big-endian) and hash (32 bytes).
    static func headValue(_ head: LogHead) -> [UInt8] {
        var value: [UInt8] = []
        value.reserveCapacity(40)
        value.appendBigEndian(head.seq)
        head.hash.appendBytes(to: &value)
        return value
    }

    static func decodeHead(_ value: UnsafeRawBufferPointer) -> LogHead? {
        guard value.count == 40 else { return nil }
        var reader = ByteReader(value)
        guard let seq = try? reader.bigEndianUInt64(), let hash = try? reader.bytes(count: 32) else { return nil }
        return LogHead(seq: seq, hash: EventHash(bytes: hash))
    }

    static let metaFormat = Array("format".utf8)
    static let metaStreamField = Array("envelope.streamField".utf8)
    static let metaHead = Array("head".utf8)
}
