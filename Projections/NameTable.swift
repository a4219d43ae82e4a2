/// A string that compares and hashes by its Unicode code points, with no normalisation.
///
/// Swift's `String` equality and hashing treat canonically equivalent strings as equal
/// (`"é"` and `"e\u{301}"`); identifiers must not be (SPEC §2.1). UTF-8 bytes are compared,
/// which is the same as comparing code points.
struct CodePointKey: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (a: CodePointKey, b: CodePointKey) -> Bool {
        let x = a.string.utf8, y = b.string.utf8
        guard x.count == y.count else { return false }
        if let equal = x.withContiguousStorageIfAvailable({ p in
            y.withContiguousStorageIfAvailable { q in p.elementsEqual(q) }
        }), let equal {
            return equal
        }
        return x.elementsEqual(y)
    }

    func hash(into hasher: inout Hasher) {
        let utf8 = string.utf8
        if utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in utf8 { hasher.combine(byte) }
        }
    }
}

/// Code point order of two strings (UTF-8 byte order is code point order).
@inline(__always)
func codePointPrecedes(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// Interns names (teams, agents, customers, tags) as dense indices.
struct NameTable: Sendable {
    private var indexByName: [CodePointKey: UInt32] = [:]
    private(set) var names: [String] = []

    var count: Int { names.count }

    /// The index of a name already seen.
    func index(of name: String) -> UInt32? { indexByName[CodePointKey(name)] }

    /// The index of a name, adding it when new; `isNew` tells which.
    mutating func intern(_ name: String) -> (index: UInt32, isNew: Bool) {
        let key = CodePointKey(name)
        if let index = indexByName[key] { return (index, false) }
        let index = UInt32(names.count)
        indexByName[key] = index
        names.append(name)
        return (index, true)
    }

    subscript(index: UInt32) -> String { names[Int(index)] }

    /// The indices of all names, sorted by code point.
    func indicesSortedByName() -> [UInt32] {
        names.indices.map { UInt32($0) }.sorted { codePointPrecedes(names[Int($0)], names[Int($1)]) }
    }
}
