/// An array kept in chunks of a fixed size: a copy shares every chunk, and a write to a shared
/// copy copies the one chunk it changes (and the small array of chunk references), not the whole
/// array. The projection's per-ticket and per-value arrays are these, so that the point-in-time
/// snapshots (``PointInTimeIndex``) of a projection of millions of tickets cost only the chunks
/// the fold changed since the previous snapshot.
///
/// Reading an element is one more indirection than an `Array`'s; appending fills the last chunk,
/// then starts a new one at full capacity.
struct ChunkedArray<Element: Sendable>: Sendable {
    /// Elements per chunk (a power of two).
    static var chunkShift: Int { 10 }
    static var chunkSize: Int { 1 << chunkShift }
    static var chunkMask: Int { chunkSize - 1 }

    private(set) var chunks: [[Element]] = []
    private(set) var count = 0

    init() {}

    init(_ elements: some Sequence<Element>) {
        for element in elements { append(element) }
    }

    init(repeating element: Element, count: Int) {
        for _ in 0..<count { append(element) }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count & Self.chunkMask == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunk.append(element)
            chunks.append(chunk)
        } else {
            chunks[chunks.count - 1].append(element)
        }
        count += 1
    }

    mutating func reserveCapacity(_ n: Int) {
        chunks.reserveCapacity((n + Self.chunkMask) >> Self.chunkShift)
    }

    /// Runs `body` over the elements in order, a chunk at a time.
    @inline(__always)
    func forEachChunk(_ body: (ArraySlice<Element>) throws -> Void) rethrows {
        for chunk in chunks { try body(chunk[...]) }
    }

    /// How many of the chunks two arrays share (the same storage): for measuring snapshots.
    func sharedChunks(with other: ChunkedArray<Element>) -> Int {
        var shared = 0
        for (a, b) in zip(chunks, other.chunks) {
            let same = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
            if same { shared += 1 }
        }
        return shared
    }
}

extension ChunkedArray: RandomAccessCollection, MutableCollection {
    var startIndex: Int { 0 }
    var endIndex: Int { count }

    @inline(__always)
    subscript(position: Int) -> Element {
        get {
            precondition(position >= 0 && position < count, "index out of range")
            return chunks[position >> Self.chunkShift][position & Self.chunkMask]
        }
        _modify {
            precondition(position >= 0 && position < count, "index out of range")
            yield &chunks[position >> Self.chunkShift][position & Self.chunkMask]
        }
    }

    @inline(__always) func index(after i: Int) -> Int { i + 1 }
    @inline(__always) func index(before i: Int) -> Int { i - 1 }

    /// Walks the chunks (no index arithmetic per element).
    struct Iterator: IteratorProtocol {
        let chunks: [[Element]]
        var chunk = 0
        var index = 0

        @inline(__always)
        mutating func next() -> Element? {
            while chunk < chunks.count {
                if index < chunks[chunk].count {
                    defer { index += 1 }
                    return chunks[chunk][index]
                }
                chunk += 1
                index = 0
            }
            return nil
        }
    }

    func makeIterator() -> Iterator { Iterator(chunks: chunks) }
}

extension ChunkedArray: Equatable where Element: Equatable {
    static func == (a: ChunkedArray, b: ChunkedArray) -> Bool {
        a.count == b.count && a.chunks == b.chunks
    }
}

extension ChunkedArray: ExpressibleByArrayLiteral {
    init(arrayLiteral elements: Element...) { self.init(elements) }
}
