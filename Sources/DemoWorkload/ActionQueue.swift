/// A binary min-heap of scheduled ticket actions, ordered by time, then by scheduling order
/// (so equal times keep a deterministic order).
struct ActionQueue {
    struct Entry {
        let time: Int64
        let order: UInt64
        let slot: Int32
    }

    private var heap: [Entry] = []
    private var scheduled: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var first: Entry? { heap.first }

    mutating func schedule(slot: Int, at time: Int64) {
        scheduled += 1
        heap.append(Entry(time: time, order: scheduled, slot: Int32(slot)))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> Entry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var smallest = left
            if left + 1 < heap.count, Self.precedes(heap[left + 1], heap[left]) { smallest = left + 1 }
            guard Self.precedes(heap[smallest], heap[parent]) else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.time < b.time || (a.time == b.time && a.order < b.order)
    }
}
