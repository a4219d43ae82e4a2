@testable import Projections
import Testing

/// The interning table behind ticket ids and names: code point identity, short and long names.
@Suite("Name table")
struct NameTableTests {
    @Test func namesAreInternedByCodePointAcrossGrowth() {
        var table = NameTable()
        var names: [String] = []
        for n in 0..<5000 {
            names.append("T-\(n)")                                        // stored in the slot
            names.append("a rather long team name number \(n)")            // stored as a hash
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
            #expect(table[UInt32(i)].unicodeScalars.elementsEqual(name.unicodeScalars))
        }
        #expect(table.index(of: "T-5000") == nil)
        #expect(table.index(of: "a\u{0}\u{0}") == nil)
        #expect(table.index(of: "") == nil)
    }

    @Test func sortingIsByCodePoint() {
        var table = NameTable()
        for name in ["b", "caf\u{E9}", "Z", "cafe\u{301}", "a"] { _ = table.intern(name) }
        #expect(table.indicesSortedByName().map { table[$0].unicodeScalars.map(\.value) }
            == ["Z", "a", "b", "cafe\u{301}", "caf\u{E9}"].map { $0.unicodeScalars.map(\.value) })
    }
}
