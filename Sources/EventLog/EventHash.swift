import Crypto

/// A SHA-256 digest in the hash chain (`prev` / `hash` of SPEC §2.1).
public struct EventHash: Hashable, Sendable, CustomStringConvertible {
    // The 32 bytes as four big-endian words: a value type with no heap allocation.
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// 64 zeros: the `prev` of the first event.
    public static let zero = EventHash(w0: 0, w1: 0, w2: 0, w3: 0)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// Reads 32 raw bytes.
    init(bytes: UnsafeRawBufferPointer) {
        func word(_ k: Int) -> UInt64 { UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self)) }
        self.init(w0: word(0), w1: word(1), w2: word(2), w3: word(3))
    }

    init(digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { EventHash(bytes: $0) }
    }

    /// Parses 64 lowercase hex digits.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (k, c) in utf8.enumerated() {
            let v: UInt64
            switch c {
            case 48...57: v = UInt64(c - 48)
            case 97...102: v = UInt64(c - 87)
            default: return nil
            }
            words[k / 16] = words[k / 16] << 4 | v
        }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// Appends the 32 raw bytes.
    func appendBytes(to out: inout [UInt8]) {
        for w in [w0, w1, w2, w3] { out.appendBigEndian(w) }
    }

    /// Appends the 64 lowercase hex digits.
    func appendHex(to out: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        for w in [w0, w1, w2, w3] {
            var shift: UInt64 = 60
            for _ in 0..<16 {
                out.append(digits.utf8Start[Int((w >> shift) & 0xF)])
                shift &-= 4
            }
        }
    }

    /// The 64 lowercase hex digits.
    public var hex: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendHex(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }
}
