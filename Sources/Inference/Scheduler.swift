import Model

/// A contiguous run of one sequence's tokens to compute in this step.
struct ScheduledChunk {
    let sequence: SequenceState
    /// The first position computed.
    let start: Int
    /// How many tokens.
    let count: Int
    /// Positions at or after this one (within the chunk) need logits.
    let logitsFrom: Int

    var logitsCount: Int { start + count - logitsFrom }
}

/// Decides what each engine step computes, as vLLM's scheduler does: no prefill or decode phases, only
/// sequences whose computed tokens catch up with their known tokens, under a per-step token budget.
///
/// Running sequences come first (one decode token each, then prompt chunks in admission order); then waiting
/// requests are admitted in arrival order while the budget, the running limit and the KV cache allow, so no
/// request overtakes an earlier one. When the cache cannot grow a running sequence, cached prefixes are evicted,
/// then the most recently admitted sequence is preempted (its KV freed, to be recomputed later).
/// Synchronous and confined to the engine's thread.
struct Scheduler {
    let maxRunning: Int
    let maxBatchTokens: Int
    let maxLogitsRows: Int
    private(set) var waiting: [RequestState] = []
    private(set) var preempted: [SequenceState] = []
    private(set) var running: [SequenceState] = []
    private var admissions = 0
    private(set) var preemptionCount = 0

    init(maxRunning: Int, maxBatchTokens: Int, maxLogitsRows: Int) {
        precondition(maxLogitsRows >= maxRunning, "every running sequence needs a logits row")
        self.maxRunning = maxRunning
        self.maxBatchTokens = maxBatchTokens
        self.maxLogitsRows = maxLogitsRows
    }

    var waitingCount: Int { waiting.count + preempted.count }
    var isIdle: Bool { waiting.isEmpty && preempted.isEmpty && running.isEmpty }

    mutating func enqueue(_ request: RequestState) { waiting.append(request) }

    /// Removes a request that has not been admitted yet (cancelled or timed out). Returns whether it was waiting.
    mutating func removeWaiting(_ request: RequestState) -> Bool {
        guard let index = waiting.firstIndex(where: { $0 === request }) else { return false }
        waiting.remove(at: index)
        return true
    }

    /// Removes a sequence from the running (or preempted) set; the caller releases its KV.
    mutating func remove(_ sequence: SequenceState) {
        running.removeAll { $0 === sequence }
        preempted.removeAll { $0 === sequence }
    }

    /// Adds a sequence forked from a running one (a sibling choice), already computed up to its parent.
    mutating func addRunning(_ sequence: SequenceState) {
        admissions += 1
        sequence.admission = admissions
        running.append(sequence)
    }

    /// Running slots in use, counting the choices that requests still in their prompt will fork.
    private var slotsInUse: Int {
        running.count + preempted.count
            + running.filter { $0.choice == 0 && !$0.request.promptReported }
                .reduce(0) { $0 + $1.request.request.choices - 1 }
    }

    /// Whether any running sequence is decoding (then prompt chunks are kept short, see `schedule`).
    var hasDecodingSequences: Bool { running.contains { !$0.isPrefilling } }

    /// Plans one step. `makeSequence` creates the first sequence of a newly admitted request.
    ///
    /// - Parameter promptBudget: the most prompt tokens this step may compute; the engine lowers it while
    ///   sequences are decoding, so a long prompt that arrives delays their next token by one short step, not
    ///   by its whole prefill.
    mutating func schedule(
        cache: KVCache, prefixCache: inout PrefixCache, promptBudget: Int? = nil,
        makeSequence: (RequestState) -> SequenceState
    ) -> [ScheduledChunk] {
        var chunks: [ScheduledChunk] = []
        var budget = maxBatchTokens
        var logitsBudget = maxLogitsRows

        // Decode tokens first: every running sequence that has computed all but its newest token.
        var index = 0
        while index < running.count {
            let sequence = running[index]
            index += 1
            guard !sequence.isPrefilling, budget > 0, logitsBudget > 0 else { continue }
            guard grow(sequence, to: sequence.tokens.count, cache: cache, prefixCache: &prefixCache) else {
                // It was preempted itself; the list shrank.
                index = running.firstIndex { $0 === sequence }.map { $0 + 1 } ?? index - 1
                continue
            }
            chunks.append(ScheduledChunk(sequence: sequence, start: sequence.computed, count: 1, logitsFrom: sequence.computed))
            budget -= 1
            logitsBudget -= 1
        }
        // Prompt tokens share what is left, up to the prompt budget.
        budget = min(budget, max(2, promptBudget ?? budget))
        // Running prompts, in admission order.
        for sequence in running where sequence.isPrefilling && !chunks.contains(where: { $0.sequence === sequence }) {
            guard budget > 0, logitsBudget > 0 else { break }
            guard let chunk = prefillChunk(sequence, budget: budget, logitsBudget: logitsBudget) else { continue }
            guard grow(sequence, to: chunk.start + chunk.count, cache: cache, prefixCache: &prefixCache, preempting: false)
            else { break }
            chunks.append(chunk)
            budget -= chunk.count
            logitsBudget -= chunk.logitsCount
        }
        // Preempted sequences come back before any new request.
        while let sequence = preempted.first, budget > 0, logitsBudget > 0, running.count < maxRunning {
            guard let chunk = prefillChunk(sequence, budget: budget, logitsBudget: logitsBudget),
                canHold(tokens: sequence.tokens.count, cache: cache, prefixCache: &prefixCache),
                grow(sequence, to: chunk.start + chunk.count, cache: cache, prefixCache: &prefixCache, preempting: false)
            else { break }
            preempted.removeFirst()
            addRunning(sequence)
            chunks.append(chunk)
            budget -= chunk.count
            logitsBudget -= chunk.logitsCount
        }
        // New requests, first come first served.
        while let request = waiting.first, preempted.isEmpty, budget > 0, logitsBudget > 0,
            slotsInUse + request.request.choices <= maxRunning
        {
            let prompt = request.request.prompt
            let cached = request.wantsPromptLogprobs ? [] : prefixCache.lookup(prompt, blockSize: cache.blockSize)
            let cachedTokens = cached.count * cache.blockSize
            let needed = cache.blocksNeeded(forTokens: prompt.count + 1) - cached.count
            guard needed <= cache.freeBlockCount || makeRoom(blocks: needed, cache: cache, prefixCache: &prefixCache)
            else { break }
            waiting.removeFirst()
            let sequence = makeSequence(request)
            sequence.kv = cache.share(blocks: cached, length: cachedTokens)
            sequence.computed = cachedTokens
            request.cachedTokens = cachedTokens
            addRunning(sequence)
            guard let chunk = prefillChunk(sequence, budget: budget, logitsBudget: logitsBudget),
                grow(sequence, to: chunk.start + chunk.count, cache: cache, prefixCache: &prefixCache, preempting: false)
            else { continue }
            chunks.append(chunk)
            budget -= chunk.count
            logitsBudget -= chunk.logitsCount
        }
        return chunks
    }

    /// The next prompt chunk of `sequence` within the budgets, or nil if none fits.
    private func prefillChunk(_ sequence: SequenceState, budget: Int, logitsBudget: Int) -> ScheduledChunk? {
        let start = sequence.computed
        var count = min(sequence.remaining, budget)
        let scoresPrompt = sequence.request.wantsPromptLogprobs && !sequence.request.promptReported
        if scoresPrompt {
            // Every prompt position's logits score the next prompt token.
            count = min(count, logitsBudget)
            if sequence.remaining >= 2 {
                if sequence.remaining - count == 1 { count -= 1 }
                if count < 2 { return nil }
            }
            guard count > 0 else { return nil }
            return ScheduledChunk(sequence: sequence, start: start, count: count, logitsFrom: start)
        }
        // A prompt token computed alone sums its attention in decode order, a chunk of two or more in batch order
        // (as llama.cpp does); never leave or take a lone token, so a prompt's numbers do not depend on how the
        // budget happened to split it.
        if sequence.remaining >= 2 {
            if sequence.remaining - count == 1 { count -= 1 }
            if count < 2 { return nil }
        }
        guard count > 0 else { return nil }
        let reachesEnd = start + count == sequence.tokens.count
        return ScheduledChunk(
            sequence: sequence, start: start, count: count, logitsFrom: reachesEnd ? start + count - 1 : start + count)
    }

    /// Whether the cache could hold `tokens` tokens for one more sequence, evicting cached prefixes if needed.
    private func canHold(tokens: Int, cache: KVCache, prefixCache: inout PrefixCache) -> Bool {
        let needed = cache.blocksNeeded(forTokens: tokens)
        return needed <= cache.freeBlockCount || makeRoom(blocks: needed, cache: cache, prefixCache: &prefixCache)
    }

    private func makeRoom(blocks: Int, cache: KVCache, prefixCache: inout PrefixCache) -> Bool {
        while cache.freeBlockCount < blocks {
            if !prefixCache.evictOne(cache: cache) { return false }
        }
        return true
    }

    /// Reserves blocks so `sequence` can hold `tokens` tokens and makes its blocks from `computed` on writable.
    /// When memory runs out: evict cached prefixes, then (if `preempting`) preempt the latest admitted running
    /// sequences, possibly `sequence` itself (then returns false).
    private mutating func grow(
        _ sequence: SequenceState, to tokens: Int, cache: KVCache, prefixCache: inout PrefixCache,
        preempting: Bool = true
    ) -> Bool {
        while true {
            if cache.reserve(&sequence.kv, tokens: tokens) && cache.makeWritable(&sequence.kv, from: sequence.computed) {
                return true
            }
            if prefixCache.evictOne(cache: cache) { continue }
            guard preempting, let victim = running.max(by: { $0.admission < $1.admission }) else { return false }
            preempt(victim, cache: cache)
            if victim === sequence { return false }
        }
    }

    private mutating func preempt(_ sequence: SequenceState, cache: KVCache) {
        running.removeAll { $0 === sequence }
        cache.release(&sequence.kv)
        sequence.computed = 0
        preempted.append(sequence)
        preemptionCount += 1
    }
}
