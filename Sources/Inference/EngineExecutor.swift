#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A serial executor backed by one dedicated thread, so the engine actor (and the forward passes it runs)
/// never occupies a thread of Swift's cooperative pool: a 100 ms forward pass there would stall every HTTP
/// handler waiting on the pool.
final class EngineExecutor: SerialExecutor, @unchecked Sendable {
    // Sendable because `jobs` is only touched under `mutex`, and the thread is private to the executor.
    private var jobs: [UnownedJob] = []
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var thread = pthread_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            let executor = Unmanaged<EngineExecutor>.fromOpaque(raw!).takeRetainedValue()
            executor.runLoop()
            return nil
        }, context)
        precondition(status == 0, "cannot start the engine thread (\(status))")
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(&mutex)
        jobs.append(unowned)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Runs jobs in arrival order for the life of the process (the engine lives as long as the server).
    private func runLoop() {
        while true {
            pthread_mutex_lock(&mutex)
            while jobs.isEmpty { pthread_cond_wait(&condition, &mutex) }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(&mutex)
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}
