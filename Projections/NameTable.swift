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
///
/// Two tables of slots, so that copies (the point-in-time snapshots) share nearly all of it: a
/// large `base`, never written once a copy shares it, for the names up to ``baseCount``, and a
/// small `recent` table for the names added since, where every insertion goes. When `recent`
/// outgrows an eighth of the names (at least 4,096), its names move into the base (in place
/// when no copy shares the base, otherwise into a copy of it). A look-up probes `recent`, then
/// the base. The names themselves are a ``ChunkedArray``, shared by copies but for its last chunk.
struct NameTable: Sendable {
    /// The names, by index.
    private(set) var names = ChunkedArray<String>()
    /// The slots of the names below `baseCount` (empty: none). A base handed over by a later
    /// copy of the same table (``rebased(onto:)``) may hold more names: those at or above
    /// `baseCount` are not this table's.
    private var base: [Slot] = []
    private var baseCount = 0
    /// Whether the base holds no name at or above `baseCount` (it may then take `recent`'s names).
    private var baseIsExact = true
    /// The slots of the names from `baseCount` on.
    private var recent: [Slot] = Self.emptySlots(16)
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

    private static func emptySlots(_ count: Int) -> [Slot] { Array(repeating: Slot(head: 0, tail: 0, index: 0), count: count) }

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

    /// The slot of `slots` holding the name of UTF-8 `bytes`, or the empty slot where it would
    /// go, and how many slots were looked at.
    @inline(__always)
    private func probe(_ slots: [Slot], _ bytes: UnsafeRawBufferPointer, _ key: Key) -> (slot: Int, index: UInt32?, probes: Int) {
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

    /// The index of the name in the base, if it is this table's.
    @inline(__always)
    private func baseIndex(_ bytes: UnsafeRawBufferPointer, _ key: Key) -> (index: UInt32?, probes: Int) {
        guard !base.isEmpty else { return (nil, 0) }
        let mask = base.count - 1
        var slot = Int(truncatingIfNeeded: key.hash) & mask
        var probes = 1
        while true {
            let entry = base[slot]
            if entry.index == 0 { return (nil, probes) }
            if entry.head == key.head, entry.tail == key.tail {
                // A long name of a later copy (at or above `baseCount`) is not in `names`: compare within.
                let i = Int(entry.index - 1)
                if i >= baseCount {
                    if key.tail != Self.longTail { return (nil, probes) }
                } else if key.tail != Self.longTail || Self.withUTF8(names[i], { $0.elementsEqual(bytes) }) {
                    return (UInt32(i), probes)
                }
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
    func index(utf8 bytes: UnsafeRawBufferPointer) -> UInt32? {
        let key = Self.key(of: bytes)
        if let found = probe(recent, bytes, key).index { return found }
        return baseIndex(bytes, key).index
    }

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
        let (slot, found, probes) = probe(recent, bytes, key)
        internProbes &+= probes
        if let found { return (found, false) }
        let (inBase, baseProbes) = baseIndex(bytes, key)
        internProbes &+= baseProbes
        if let inBase { return (inBase, false) }
        let index = UInt32(names.count)
        names.append(make())
        recent[slot] = Slot(head: key.head, tail: key.tail, index: index + 1)
        let recentCount = names.count - baseCount
        if recentCount > max(4096, baseCount / 8) {
            mergeRecent()
        } else if recentCount * 2 > recent.count {
            recent = Self.rehash(recent, into: recent.count * 2, names: names)
        }
        return (index, true)
    }

    /// Makes room for `count` names in all.
    mutating func reserveCapacity(_ count: Int) {
        names.reserveCapacity(count)
    }

    /// Moves the recent names into the base: in place when the base is not shared and large
    /// enough, otherwise into a new base with room for twice the names.
    private mutating func mergeRecent() {
        if !baseIsExact || base.count < 2 * names.count {
            var size = 16
            while size < 4 * names.count { size *= 2 }
            var slots = Self.emptySlots(size)
            for i in 0..<names.count { Self.place(Self.withUTF8(names[i]) { Self.key(of: $0) }, index: UInt32(i), in: &slots) }
            base = slots
        } else {
            for entry in recent where entry.index != 0 {
                Self.place(Self.withUTF8(names[Int(entry.index - 1)]) { Self.key(of: $0) }, index: entry.index - 1, in: &base)
            }
        }
        baseCount = names.count
        baseIsExact = true
        recent = Self.emptySlots(16)
    }

    @inline(__always)
    private static func place(_ key: Key, index: UInt32, in slots: inout [Slot]) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: key.hash) & mask
        while slots[slot].index != 0 { slot = (slot + 1) & mask }
        slots[slot] = Slot(head: key.head, tail: key.tail, index: index + 1)
    }

    private static func rehash(_ old: [Slot], into size: Int, names: ChunkedArray<String>) -> [Slot] {
        var slots = emptySlots(size)
        for entry in old where entry.index != 0 {
            place(withUTF8(names[Int(entry.index - 1)]) { key(of: $0) }, index: entry.index - 1, in: &slots)
        }
        return slots
    }

    /// This table (an earlier copy of `later`'s table, with at most `later`'s base's names) on
    /// `later`'s base: the same names and look-ups, with no recent table of its own, so that old
    /// snapshots share one base. Nil when `later` does not qualify.
    func rebased(onto later: NameTable) -> NameTable? {
        guard count <= later.baseCount else { return nil }
        var table = self
        table.base = later.base
        table.baseCount = count
        table.baseIsExact = count == later.baseCount
        table.recent = Self.emptySlots(16)
        return table
    }

    /// The bytes of slots this table holds (its base, which copies may share, and its recent table).
    var slotBytes: (base: Int, recent: Int) {
        (base.count * MemoryLayout<Slot>.stride, recent.count * MemoryLayout<Slot>.stride)
    }

    /// The indices of all names, sorted by code point.
    func indicesSortedByName() -> [UInt32] {
        names.indices.map { UInt32($0) }.sorted { Identifier.precedes(names[Int($0)], names[Int($1)]) }
    }
}
