import Kernels
import Model
import Synchronization
import Tokenization

/// The one engine: owns the model, the KV cache, the scheduler and the compute threads, and runs continuous
/// batching steps (schedule → forward → sample → emit) on its own thread.
///
/// Requests arrive through `generate`, which validates them and returns an event stream; handlers only submit
/// and relay. The step loop suspends once per step (`Task.yield`), so submissions and cancellations are taken in
/// between steps, and it parks when there is no work.
package actor InferenceEngine: TextGenerator {
    private nonisolated let executor: EngineExecutor
    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    package nonisolated let model: LlamaModel
    package nonisolated let tokenizer: any Tokenizer
    package nonisolated let configuration: EngineConfiguration
    let cache: KVCache
    let scratch: ScratchSpace
    let pool: ThreadPool
    var scheduler: Scheduler
    var prefixCache: PrefixCache
    var requests: [Int: RequestState] = [:]
    private var nextRequestID = 1
    var nextSequenceID = 1
    private var wakeup: CheckedContinuation<Void, Never>?
    private var isShuttingDown = false
    private var loopStarted = false
    private nonisolated let snapshot: Mutex<EngineMetrics>
    var counters: EngineMetrics
    /// Measured cost of a prompt token in a large step (seconds, moving average), starting from a guess.
    var secondsPerPromptToken = 0.005

    /// Creates the engine and its threads; call `start()` before submitting.
    package init(model: LlamaModel, tokenizer: any Tokenizer, configuration: EngineConfiguration) {
        let h = model.hyperparameters
        let blocks = KVCache.blockCount(
            budgetBytes: configuration.kvCacheBytes, layers: h.blockCount, kvHeads: h.kvHeadCount,
            headDimension: h.headDimension, blockSize: configuration.kvBlockSize,
            isHalf: configuration.halfPrecisionKV)
        executor = EngineExecutor()
        self.model = model
        self.tokenizer = tokenizer
        self.configuration = configuration
        cache = KVCache(
            layers: h.blockCount, kvHeads: h.kvHeadCount, headDimension: h.headDimension,
            blockSize: configuration.kvBlockSize, blockCount: blocks, isHalf: configuration.halfPrecisionKV)
        let logitsRows = max(configuration.maxLogitsRows, configuration.maxRunning)
        scratch = ScratchSpace(
            hyperparameters: h, tokenCapacity: configuration.maxBatchTokens, logitsCapacity: logitsRows,
            contextCapacity: configuration.contextLength, workerCount: configuration.threads)
        pool = ThreadPool(threadCount: configuration.threads)
        scheduler = Scheduler(
            maxRunning: configuration.maxRunning, maxBatchTokens: configuration.maxBatchTokens, maxLogitsRows: logitsRows)
        prefixCache = PrefixCache(capacity: configuration.prefixCaching ? blocks : 0)
        var initial = EngineMetrics()
        initial.kvBlocksTotal = blocks
        initial.kvBlockSize = configuration.kvBlockSize
        initial.kvBytesTotal = 2 * h.blockCount * blocks * configuration.kvBlockSize * h.kvWidth
            * (configuration.halfPrecisionKV ? 2 : 4)
        counters = initial
        snapshot = Mutex(initial)
    }

    /// Starts the step loop.
    package nonisolated func start() {
        Task { await self.runLoop() }
    }

    /// The latest counters, without waiting for the current step.
    package nonisolated var metrics: EngineMetrics { snapshot.withLock { $0 } }

    /// The number of tokens the KV cache holds in all.
    package nonisolated var kvCapacityTokens: Int { metrics.kvBlocksTotal * configuration.kvBlockSize }

    // MARK: - Submitting

    package func generate(
        _ request: GenerationRequest
    ) throws(InferenceError) -> AsyncThrowingStream<GenerationEvent, any Error> {
        guard !isShuttingDown else { throw .shuttingDown }
        try validate(request)
        guard scheduler.waitingCount < configuration.maxQueue else { throw .queueFull }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
        let id = nextRequestID
        nextRequestID += 1
        let state = RequestState(id: id, request: request, continuation: continuation, arrival: .now)
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination {
                Task { await self?.cancel(requestID: id) }
            }
        }
        requests[id] = state
        scheduler.enqueue(state)
        publish()
        wake()
        return stream
    }

    private func validate(_ request: GenerationRequest) throws(InferenceError) {
        let vocabularySize = model.hyperparameters.vocabularySize
        guard !request.prompt.isEmpty else { throw .emptyPrompt }
        if let bad = request.prompt.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw .invalidToken(bad, vocabularySize: vocabularySize)
        }
        do {
            try request.sampling.validate(vocabularySize: vocabularySize)
        } catch {
            throw .invalidParameter(error)
        }
        guard request.maxTokens >= 0 else { throw .invalidRequest("max_tokens", "must be >= 0") }
        guard (1...configuration.maxChoices).contains(request.choices) else {
            throw .invalidRequest("n", "must be between 1 and \(configuration.maxChoices)")
        }
        if let n = request.promptLogprobs, !(0...SamplingParameters.maximumTopLogprobs).contains(n) {
            throw .invalidRequest("logprobs", "must be between 0 and \(SamplingParameters.maximumTopLogprobs)")
        }
        let limit = configuration.contextLength
        guard request.prompt.count + request.maxTokens <= limit else {
            throw .contextLengthExceeded(promptTokens: request.prompt.count, maxTokens: request.maxTokens, limit: limit)
        }
        let needed = request.prompt.count + request.maxTokens + 1
        guard cache.blocksNeeded(forTokens: needed) <= cache.blockCount else {
            throw .insufficientMemory(neededTokens: needed, capacityTokens: cache.blockCount * cache.blockSize)
        }
    }

    /// Stops admitting requests and waits until running and queued ones have finished.
    package func shutdown() async {
        isShuttingDown = true
        while !scheduler.isIdle {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: - The loop

    private func runLoop() async {
        guard !loopStarted else { return }
        loopStarted = true
        while true {
            if scheduler.isIdle {
                await withCheckedContinuation { wakeup = $0 }
                continue
            }
            if !step() {
                // Nothing could run (waiting requests blocked on memory held by no one): fail them rather than
                // spin; validation makes this unreachable in practice.
                failBlockedRequests()
            }
            publish()
            await Task.yield()
        }
    }

    private func wake() {
        wakeup?.resume()
        wakeup = nil
    }

    func publish() {
        counters.runningSequences = scheduler.running.count
        counters.waitingRequests = scheduler.waitingCount
        counters.kvBlocksUsed = cache.usedBlockCount
        counters.prefixCacheQueriedTokens = prefixCache.queriedTokens
        counters.prefixCacheHitTokens = prefixCache.hitTokens
        counters.prefixCacheBlocks = prefixCache.count
        counters.preemptionsTotal = scheduler.preemptionCount
        let current = counters
        snapshot.withLock { $0 = current }
    }

    private func failBlockedRequests() {
        guard scheduler.running.isEmpty else { return }
        for request in scheduler.waiting {
            _ = scheduler.removeWaiting(request)
            requests[request.id] = nil
            request.continuation.finish(
                throwing: InferenceError.insufficientMemory(
                    neededTokens: request.request.prompt.count, capacityTokens: cache.blockCount * cache.blockSize))
        }
    }

    /// Ends a request whose client went away: between steps, its sequences stop and their KV is freed.
    func cancel(requestID: Int) {
        guard let request = requests[requestID] else { return }
        if scheduler.removeWaiting(request) {
            requests[requestID] = nil
            publish()
            return
        }
        for sequence in request.sequences where !sequence.isFinished {
            finish(sequence, reason: .cancelled, flush: false)
        }
        requests[requestID] = nil
        request.sequences.removeAll()
        publish()
    }
}
