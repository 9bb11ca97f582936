// Memory read bandwidth of this machine: the ceiling for memory-bound decode (every weight byte is read once
// per generated token). Each thread sums its own slice of a buffer much larger than the caches, with several
// independent accumulators so the adds never limit the rate. Reports the best of several passes, in GB/s
// (10^9 bytes per second), for 1 thread and for N threads.
//
// Usage: swiftc -O Benchmarks/bandwidth/main.swift -o /tmp/bandwidth && /tmp/bandwidth [GiB] [threads]
import Foundation

let gib = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 2 : 2
let maximumThreads = CommandLine.arguments.count > 2
    ? Int(CommandLine.arguments[2]) ?? ProcessInfo.processInfo.activeProcessorCount
    : ProcessInfo.processInfo.activeProcessorCount
let byteCount = gib << 30
let vectors = byteCount / 32
let buffer = UnsafeMutablePointer<SIMD8<Int32>>.allocate(capacity: vectors)
// Touch every page (and give it distinct contents) before measuring.
for i in 0..<vectors { buffer[i] = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: i)) }

/// Sums vectors `range` with four accumulators; the result is returned so the reads cannot be skipped.
func readSlice(_ range: Range<Int>) -> Int32 {
    var a = SIMD8<Int32>(), b = SIMD8<Int32>(), c = SIMD8<Int32>(), d = SIMD8<Int32>()
    var i = range.lowerBound
    while i + 4 <= range.upperBound {
        a &+= buffer[i]
        b &+= buffer[i + 1]
        c &+= buffer[i + 2]
        d &+= buffer[i + 3]
        i += 4
    }
    let s = a &+ b &+ c &+ d
    return s.wrappedSum()
}

func measure(threads: Int) -> Double {
    var best = 0.0
    var sink: Int32 = 0
    let lock = NSLock()
    for _ in 0..<5 {
        let group = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        for t in 0..<threads {
            let slice = (vectors / threads * t)..<(t == threads - 1 ? vectors : vectors / threads * (t + 1))
            group.enter()
            Thread.detachNewThread {
                let s = readSlice(slice)
                lock.lock()
                sink &+= s
                lock.unlock()
                group.leave()
            }
        }
        group.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = max(best, Double(byteCount) / seconds / 1e9)
    }
    if sink == 42 { print("") }  // keeps the sums alive
    return best
}

print("buffer \(gib) GiB, best of 5 passes")
for threads in Set([1, maximumThreads]).sorted() {
    print(String(format: "read bandwidth, %d thread%@: %.1f GB/s", threads, threads == 1 ? "" : "s", measure(threads: threads)))
}
