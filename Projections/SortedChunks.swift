/// A sorted sequence kept in chunks of bounded size: O(log n) search, insertion and removal move
/// at most one chunk, and iteration from either end is O(1) per element.
///
/// The order is given to each call (a strict total order, the same every time), so that it may
/// consult data the elements only point at.
struct SortedChunks<Element: Sendable>: Sendable {
    private(set) var chunks: [[Element]] = []
    /// The last element of each chunk, contiguous so that finding a chunk touches one array.
    private var lasts: [Element] = []
    private(set) var count = 0

    /// Chunks split in two above this size.
    private static var maximumChunkSize: Int { 64 }

    var isEmpty: Bool { count == 0 }

    init() {}

    /// The elements of `sorted`, which must already be strictly ascending in the order later
    /// calls give, in chunks three quarters full (the same sequence as inserting them one by one;
    /// only the chunk boundaries, which no answer depends on, may differ).
    init(sorted elements: [Element]) {
        let size = Self.maximumChunkSize * 3 / 4
        chunks.reserveCapacity((elements.count + size - 1) / size)
        lasts.reserveCapacity(chunks.capacity)
        var start = 0
        while start < elements.count {
            let end = min(start + size, elements.count)
            chunks.append(Array(elements[start..<end]))
            lasts.append(elements[end - 1])
            start = end
        }
        count = elements.count
    }

    /// The elements in order.
    var elements: [Element] {
        var out: [Element] = []
        out.reserveCapacity(count)
        for chunk in chunks { out.append(contentsOf: chunk) }
        return out
    }

    /// The first chunk whose last element is not before `element` (chunks.count when none).
    @inline(__always)
    private func chunkIndex(for element: Element, _ precedes: (Element, Element) -> Bool) -> Int {
        var low = 0, high = lasts.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(lasts[middle], element) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The first index of `chunk` whose element is not before `element`.
    @inline(__always)
    private static func lowerBound(_ chunk: [Element], _ element: Element, _ precedes: (Element, Element) -> Bool) -> Int {
        var low = 0, high = chunk.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(chunk[middle], element) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Inserts `element`. One that sorts after every element (tickets opened in order of `at`,
    /// the common case) is appended to the last chunk, or starts a new one when that is full,
    /// without a search.
    mutating func insert(_ element: Element, by precedes: (Element, Element) -> Bool) {
        count += 1
        if chunks.isEmpty {
            chunks.append(Self.newChunk(startingWith: element))
            lasts.append(element)
            return
        }
        let last = chunks.count - 1
        if precedes(lasts[last], element) {
            if chunks[last].count < Self.maximumChunkSize {
                chunks[last].append(element)
                lasts[last] = element
            } else {
                chunks.append(Self.newChunk(startingWith: element))
                lasts.append(element)
            }
            return
        }
        let c = min(chunkIndex(for: element, precedes), chunks.count - 1)
        let position = Self.lowerBound(chunks[c], element, precedes)
        if position == chunks[c].count { lasts[c] = element }
        chunks[c].insert(element, at: position)
        if chunks[c].count > Self.maximumChunkSize {
            let half = chunks[c].count / 2
            let tail = Array(chunks[c][half...])
            chunks[c].removeSubrange(half...)
            chunks.insert(tail, at: c + 1)
            lasts[c] = chunks[c][half - 1]
            lasts.insert(tail[tail.count - 1], at: c + 1)
        }
    }

    private static func newChunk(startingWith element: Element) -> [Element] {
        var chunk: [Element] = []
        chunk.reserveCapacity(maximumChunkSize)
        chunk.append(element)
        return chunk
    }

    /// Removes the element equal (in the order) to `element`; false when there is none.
    @discardableResult
    mutating func remove(_ element: Element, by precedes: (Element, Element) -> Bool) -> Bool {
        guard let (c, i) = position(of: element, by: precedes) else { return false }
        chunks[c].remove(at: i)
        count -= 1
        if chunks[c].isEmpty {
            chunks.remove(at: c)
            lasts.remove(at: c)
        } else if i == chunks[c].count {
            lasts[c] = chunks[c][i - 1]
        }
        return true
    }

    /// Where the element equal (in the order) to `element` is: chunk and index.
    func position(of element: Element, by precedes: (Element, Element) -> Bool) -> (Int, Int)? {
        let c = chunkIndex(for: element, precedes)
        guard c < chunks.count else { return nil }
        let i = Self.lowerBound(chunks[c], element, precedes)
        guard i < chunks[c].count, !precedes(element, chunks[c][i]) else { return nil }
        return (c, i)
    }

    /// Calls `body` on the elements in order until it returns false.
    func forEach(_ body: (Element) -> Bool) {
        for chunk in chunks {
            for element in chunk where !body(element) { return }
        }
    }

    /// Calls `body` on the elements in reverse order, starting just before `position` (or at the
    /// last element when nil), until it returns false.
    func forEachReversed(before position: (Int, Int)?, _ body: (Element) -> Bool) {
        var c: Int, i: Int
        if let position { (c, i) = (position.0, position.1 - 1) } else { (c, i) = (chunks.count - 1, (chunks.last?.count ?? 0) - 1) }
        while c >= 0 {
            let chunk = chunks[c]
            while i >= 0 {
                if !body(chunk[i]) { return }
                i -= 1
            }
            c -= 1
            if c >= 0 { i = chunks[c].count - 1 }
        }
    }
}
