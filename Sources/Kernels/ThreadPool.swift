#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed set of compute threads that run one job at a time, split by the job itself (usually over output rows).
///
/// The calling thread takes part as worker 0, so a pool of `n` threads starts `n - 1` of its own. Between jobs
/// the workers spin briefly (a decode step issues hundreds of small jobs a few microseconds apart) and then park
/// on a condition variable so an idle server costs no CPU.
package final class ThreadPool: @unchecked Sendable {
    // Sendable because `job` is written only by the thread that calls `run`, before the release store of
    // `generation`, and read by workers only after they acquire that generation; `run` is not reentrant and
    // its callers serialize on it (the engine owns the pool).
    /// The number of threads a job is split over, the caller included.
    package let threadCount: Int

    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var job: ((Int) -> Void)?
    private var threads: [pthread_t] = []
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private let sleepers = Atomic<Int>(0)
    /// Per-thread scratch for kernels (an unpacked weight row); grown on demand, never shrunk. Raw storage, not
    /// an array, because workers update their own slots concurrently.
    private let scratchPointers: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private let scratchSizes: UnsafeMutablePointer<Int>

    /// Spin iterations before a worker parks: about 100 µs on this class of machine.
    private static let spinLimit = 20_000

    /// Creates a pool with `threadCount` threads (the caller counts as one).
    package init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        scratchPointers = .allocate(capacity: max(1, threadCount))
        scratchSizes = .allocate(capacity: max(1, threadCount))
        for i in 0..<max(1, threadCount) {
            (scratchPointers + i).initialize(to: .allocate(byteCount: 64, alignment: 64))
            (scratchSizes + i).initialize(to: 64)
        }
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        for index in 1..<self.threadCount {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(index: context.index)
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed with \(status)")
            threads.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        pthread_mutex_lock(&mutex)
        generation.add(1, ordering: .releasing)
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
        for i in 0..<threadCount { scratchPointers[i].deallocate() }
        scratchPointers.deallocate()
        scratchSizes.deallocate()
    }

    /// At least `byteCount` bytes of scratch memory for `worker`, 64-byte aligned, valid until its next call
    /// for the same worker. Each worker touches only its own slot, so no synchronization is needed.
    package func scratch(worker: Int, byteCount: Int) -> UnsafeMutableRawPointer {
        if scratchSizes[worker] < byteCount {
            scratchPointers[worker].deallocate()
            scratchPointers[worker] = .allocate(byteCount: byteCount, alignment: 64)
            scratchSizes[worker] = byteCount
        }
        return scratchPointers[worker]
    }

    /// Runs `body(worker)` once on each of the pool's threads (`worker` in `0..<threadCount`) and returns when
    /// all have finished. Not reentrant: call it from one thread at a time.
    package func run(_ body: (Int) -> Void) {
        if threadCount == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            pending.store(threadCount - 1, ordering: .relaxed)
            // Sequentially consistent on both sides (here and in workerLoop) so that either this thread sees
            // the sleeper or the sleeper sees the new generation before it waits.
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(&mutex)
                pthread_cond_broadcast(&condition)
                pthread_mutex_unlock(&mutex)
            }
            escapable(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                // A worker that has not woken yet may be waiting for this core: let it run.
                spins += 1
                if spins % 256 == 0 { sched_yield() }
            }
            job = nil
        }
    }

    /// Splits `0..<count` into contiguous chunks, one per thread, each a multiple of `granule` long except the
    /// last, and runs `body(chunk, worker)` on each non-empty chunk.
    ///
    /// Chunks are handed out dynamically (a shared counter), about four per thread, so a thread that runs late or
    /// slow (another process on its core) does less of the work instead of holding everyone up. Which thread
    /// computes a chunk never changes its result.
    package func parallelFor(_ count: Int, granule: Int = 1, _ body: (Range<Int>, Int) -> Void) {
        let units = (count + granule - 1) / granule
        if threadCount == 1 || units <= 1 {
            if count > 0 { body(0..<count, 0) }
            return
        }
        let unitsPerChunk = max(1, units / (threadCount * 4))
        let chunk = unitsPerChunk * granule
        nextChunk.store(0, ordering: .relaxed)
        run { worker in
            while true {
                let start = nextChunk.add(chunk, ordering: .relaxed).oldValue
                if start >= count { return }
                body(start..<min(count, start + chunk), worker)
            }
        }
    }

    private let nextChunk = Atomic<Int>(0)

    private func workerLoop(index: Int) {
        // Generation 0 is the pool's state before any job; a worker that starts late must still run job 1.
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                if spins < ThreadPool.spinLimit {
                    spins += 1
                } else {
                    pthread_mutex_lock(&mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        pthread_cond_wait(&condition, &mutex)
                    }
                    sleepers.subtract(1, ordering: .relaxed)
                    pthread_mutex_unlock(&mutex)
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if stopping.load(ordering: .acquiring) { return }
            job?(index)
            pending.subtract(1, ordering: .releasing)
        }
    }

    private final class WorkerContext {
        // Unowned so the workers do not keep the pool alive; deinit joins them before the pool's memory goes.
        unowned(unsafe) let pool: ThreadPool
        let index: Int
        init(pool: ThreadPool, index: Int) {
            self.pool = pool
            self.index = index
        }
    }
}
