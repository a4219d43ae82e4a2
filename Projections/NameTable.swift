import SupportDomain

/// Interns names (ticket ids, teams, agents, customers, tags) as dense indices, comparing them by
/// code point.
///
/// An open-addressing hash table of 16-byte slots over an array of the names. A name of at most
/// 11 UTF-8 bytes (ticket ids like `T-1234567`) is stored in its slot, so that finding it touches
/// one cache line and never the names; a longer one is stored as its 64-bit hash and compared
/// with the name on a hash match.
///
/// Names come from the outside (imported ticket ids, teams, agents, customers, tags), so where a
/// name's probe starts is a keyed hash: SipHash through Swift's `Hasher`, whose key is random
/// per process. Nobody can craft names that pile up in one probe chain without the key, and a
/// table is always rebuilt from its names (checkpoints store names, never slots or hashes).
struct NameTable: Sendable {
    /// The names, by index.
    private(set) var names: [String] = []
    private var slots: [Slot] = Array(repeating: Slot(head: 0, tail: 0, index: 0), count: 16)
    /// Slots visited by ``intern(_:)`` so far (for tests: crafted names must not cluster).
    private(set) var internProbes = 0

    /// A name's key: its bytes (up to 11, the length in the top byte of `tail`), or for a longer
    /// name its hash with `tail` = ``longTail``; `index` is the name's index + 1, 0 when empty.
    private struct Slot: Sendable {
        var head: UInt64
        var tail: UInt32
        var index: UInt32
    }

    private static let longTail: UInt32 = 0xFF00_0000

    private typealias Key = (head: UInt64, tail: UInt32, hash: UInt64)

    var count: Int { names.count }

    subscript(index: UInt32) -> String { names[Int(index)] }

    /// Runs `body` over a name's UTF-8.
    @inline(__always)
    private static func withUTF8<R>(_ name: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        // `withUTF8` lends a small string's bytes (ticket ids, most names) without copying them to an array.
        var name = name
        return name.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    private static func key(of bytes: UnsafeRawBufferPointer) -> Key {
        let n = bytes.count
        var hasher = Hasher()
        if n <= 11 {
            var head: UInt64 = 0, tail = UInt32(n) << 24
            for i in 0..<min(n, 8) { head |= UInt64(bytes[i]) << (8 * UInt64(i)) }
            if n > 8 { for i in 8..<n { tail |= UInt32(bytes[i]) << (8 * UInt32(i - 8)) } }
            hasher.combine(head)
            hasher.combine(tail)
            return (head, tail, UInt64(truncatingIfNeeded: hasher.finalize()))
        }
        hasher.combine(bytes: bytes)
        let h = UInt64(truncatingIfNeeded: hasher.finalize())
        return (h, longTail, h)
    }

    /// The slot holding the name of UTF-8 `bytes`, or the empty slot where it would go, and how
    /// many slots were looked at.
    @inline(__always)
    private func probe(_ bytes: UnsafeRawBufferPointer, _ key: Key) -> (slot: Int, index: UInt32?, probes: Int) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: key.hash) & mask
        var probes = 1
        while true {
            let entry = slots[slot]
            if entry.index == 0 { return (slot, nil, probes) }
            if entry.head == key.head, entry.tail == key.tail,
                key.tail != Self.longTail || Self.withUTF8(names[Int(entry.index - 1)], { $0.elementsEqual(bytes) })
            {
                return (slot, entry.index - 1, probes)
            }
            slot = (slot + 1) & mask
            probes += 1
        }
    }

    /// The index of a name already seen.
    @inline(__always)
    func index(of name: String) -> UInt32? { Self.withUTF8(name) { index(utf8: $0) } }

    /// The index of a name already seen, given as its UTF-8 (compared by code points: bytes).
    @inline(__always)
    func index(utf8 bytes: UnsafeRawBufferPointer) -> UInt32? { probe(bytes, Self.key(of: bytes)).index }

    /// The index of a name, adding it when new; `isNew` tells which.
    @inline(__always)
    mutating func intern(_ name: String) -> (index: UInt32, isNew: Bool) {
        Self.withUTF8(name) { intern(utf8: $0) { name } }
    }

    /// The index of a name given as its (valid) UTF-8, adding it when new, as `make()` (the
    /// string is only made for a new name).
    @inline(__always)
    mutating func intern(utf8 bytes: UnsafeRawBufferPointer, _ make: () -> String) -> (index: UInt32, isNew: Bool) {
        let key = Self.key(of: bytes)
        let (slot, found, probes) = probe(bytes, key)
        internProbes &+= probes
        if let found { return (found, false) }
        let index = UInt32(names.count)
        names.append(make())
        slots[slot] = Slot(head: key.head, tail: key.tail, index: index + 1)
        if names.count * 2 > slots.count { grow() }
        return (index, true)
    }

    /// Makes room for `count` names in all, so that interning up to that many never rehashes.
    mutating func reserveCapacity(_ count: Int) {
        names.reserveCapacity(count)
        var size = slots.count
        while size < 2 * count { size *= 2 }
        if size > slots.count { rehash(into: size) }
    }

    private mutating func grow() { rehash(into: slots.count * 2) }

    private mutating func rehash(into size: Int) {
        let old = slots
        slots = Array(repeating: Slot(head: 0, tail: 0, index: 0), count: size)
        let mask = slots.count - 1
        for entry in old where entry.index != 0 {
            var slot = Int(truncatingIfNeeded: Self.withUTF8(names[Int(entry.index - 1)]) { Self.key(of: $0) }.hash) & mask
            while slots[slot].index != 0 { slot = (slot + 1) & mask }
            slots[slot] = entry
        }
    }

    /// The indices of all names, sorted by code point.
    func indicesSortedByName() -> [UInt32] {
        names.indices.map { UInt32($0) }.sorted { Identifier.precedes(names[Int($0)], names[Int($1)]) }
    }
}
