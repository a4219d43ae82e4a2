import SupportDomain
import Testing

@testable import Projections

/// The interning table behind ticket ids and names: code point identity, short and long names.
@Suite("Name table")
struct NameTableTests {
    @Test func namesAreInternedByCodePointAcrossGrowth() {
        var table = NameTable()
        var names: [String] = []
        for n in 0..<5000 {
            names.append("T-\(n)")  // stored in the slot
            names.append("a rather long team name number \(n)")  // stored as a hash
        }
        names += ["a", "a\u{0}", "\u{0}", "caf\u{E9}", "cafe\u{301}", "x\u{1F600}", String(repeating: "\u{E9}", count: 6)]
        for (i, name) in names.enumerated() {
            let (index, isNew) = table.intern(name)
            #expect(isNew && index == UInt32(i), "\(name)")
        }
        #expect(table.count == names.count)
        for (i, name) in names.enumerated() {
            #expect(table.index(of: name) == UInt32(i))
            #expect(table.intern(name) == (UInt32(i), false))
            #expect(Identifier.same(table[UInt32(i)], name))
        }
        #expect(table.index(of: "T-5000") == nil)
        #expect(table.index(of: "a\u{0}\u{0}") == nil)
        #expect(table.index(of: "") == nil)
    }

    @Test func sortingIsByCodePoint() {
        var table = NameTable()
        for name in ["b", "caf\u{E9}", "Z", "cafe\u{301}", "a"] { _ = table.intern(name) }
        #expect(
            table.indicesSortedByName().map { table[$0].unicodeScalars.map(\.value) }
                == ["Z", "a", "b", "cafe\u{301}", "caf\u{E9}"].map { $0.unicodeScalars.map(\.value) })
    }

    // MARK: Crafted collisions

    /// The probe start of the table's former fixed hash (before names were hashed with a
    /// per-process key): a name of up to 11 bytes went through a SplitMix64 finaliser, a longer
    /// one through FNV-1a and the same finaliser. Anyone could compute it offline.
    static func formerFixedHash(_ bytes: [UInt8]) -> UInt64 {
        func mix(_ value: UInt64) -> UInt64 {
            var h = value
            h ^= h >> 31
            h = h &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            h = h &* 0x94D0_49BB_1331_11EB
            return h ^ (h >> 32)
        }
        let n = bytes.count
        if n <= 11 {
            var head: UInt64 = 0, tail = UInt32(n) << 24
            for i in 0..<min(n, 8) { head |= UInt64(bytes[i]) << (8 * UInt64(i)) }
            if n > 8 { for i in 8..<n { tail |= UInt32(bytes[i]) << (8 * UInt32(i - 8)) } }
            return mix(head ^ (UInt64(tail) &* 0x9E37_79B9_7F4A_7C15))
        }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return mix(h)
    }

    /// `count` distinct names `prefix` + base-62 digits whose former hash has its low `bits`
    /// bits zero: every one of them started its probe in slot 0 of any table of up to 2^bits slots.
    static func namesCollidingUnderTheFormerHash(prefix: String, count: Int, bits: Int) -> [String] {
        let digits = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        let mask = (UInt64(1) << UInt64(bits)) - 1
        var found: [String] = []
        var counter = 0
        while found.count < count {
            var bytes = Array(prefix.utf8)
            var n = counter
            repeat { bytes.append(digits[n % 62]); n /= 62 } while n > 0
            if formerFixedHash(bytes) & mask == 0 { found.append(String(decoding: bytes, as: UTF8.self)) }
            counter += 1
        }
        return found
    }

    /// Names crafted to share one probe chain under a fixed hash cost O(n^2) probes to intern;
    /// with the keyed hash they spread, and interning stays linear (counted, not timed).
    @Test(arguments: [
        (prefix: "g", what: "short names (stored in their slot)"),
        (prefix: "a crafted team name ", what: "long names (stored as a hash)"),
    ])
    func namesCraftedToCollideDoNotShareAProbeChain(prefix: String, what: String) {
        let count = 400  // the table grows to 1024 slots
        let names = Self.namesCollidingUnderTheFormerHash(prefix: prefix, count: count, bits: 10)
        #expect(Set(names.map { Self.formerFixedHash(Array($0.utf8)) & 1023 }) == [0], "\(what): not crafted")
        var table = NameTable()
        for name in names { #expect(table.intern(name).isNew) }
        #expect(table.count == count)
        // One chain would take 1 + 2 + … + 400 = 80,200 probes; a table at most half full
        // expects about 2.5 per new name.
        #expect(table.internProbes <= 8 * count, "\(what): \(table.internProbes) probes for \(count) names")
        for (i, name) in names.enumerated() { #expect(table.index(of: name) == UInt32(i)) }
    }
}
