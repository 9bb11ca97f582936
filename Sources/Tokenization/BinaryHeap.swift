/// A binary heap that pops its smallest element first (`<` decides which element is served first).
///
/// The merge loops use it as their work queue; its storage is kept between words (`removeAll` keeps the
/// capacity) so that encoding a long text allocates it once.
struct BinaryHeap<Element: Comparable> {
    private(set) var storage: [Element] = []

    var isEmpty: Bool { storage.isEmpty }

    /// Empties the heap, keeping its capacity.
    mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

    mutating func insert(_ element: Element) {
        storage.append(element)
        storage.withUnsafeMutableBufferPointer { heap in
            // Move the hole up instead of swapping: one write per level.
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard element < heap[parent] else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = element
        }
    }

    /// Removes and returns the smallest element, or nil when empty.
    mutating func popMin() -> Element? {
        guard let last = storage.popLast() else { return nil }
        guard !storage.isEmpty else { return last }
        return storage.withUnsafeMutableBufferPointer { heap in
            let top = heap[0]
            // Move the hole at the root down to where `last` belongs.
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                let right = left + 1
                let smaller = right < count && heap[right] < heap[left] ? right : left
                guard heap[smaller] < last else { break }
                heap[parent] = heap[smaller]
                parent = smaller
            }
            heap[parent] = last
            return top
        }
    }
}
