import Model
import Tokenization

extension InferenceEngine {
    /// Runs one step: expire queued requests, schedule, one forward pass, then sample and emit for every
    /// sequence whose known tokens are all computed. Returns false when nothing could be scheduled.
    func step() -> Bool {
        expireQueuedRequests()
        var scheduler = self.scheduler
        var prefixCache = self.prefixCache
        // While sequences decode, cap the prompt tokens of a step so the step takes about the interactive
        // target at the measured prompt speed; otherwise use the whole batch.
        let promptBudget = scheduler.hasDecodingSequences
            ? max(16, Int(configuration.interactiveStepSeconds / max(secondsPerPromptToken, 1e-6)))
            : configuration.maxBatchTokens
        let started = ContinuousClock.now
        let chunks = scheduler.schedule(cache: cache, prefixCache: &prefixCache, promptBudget: promptBudget) { request in
            makeSequence(for: request, choice: 0, tokens: request.request.prompt, seed: request.request.sampling.seed)
        }
        self.scheduler = scheduler
        self.prefixCache = prefixCache
        guard !chunks.isEmpty else { return false }

        var batch = ForwardBatch()
        for (index, chunk) in chunks.enumerated() {
            let sequence = chunk.sequence
            for position in chunk.start..<(chunk.start + chunk.count) {
                batch.append(
                    token: sequence.tokens[position], position: position, sequence: index,
                    needsLogits: position >= chunk.logitsFrom)
            }
        }
        model.forward(batch, sequences: chunks.map(\.sequence.kv), cache: cache, scratch: scratch, pool: pool)
        counters.stepsTotal += 1
        if batch.count >= 32 {
            // An estimate of the cost of one prompt token (decode tokens in the same step make it pessimistic).
            let elapsed = ContinuousClock.now - started
            let perToken = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
                / Double(batch.count)
            secondsPerPromptToken = 0.7 * secondsPerPromptToken + 0.3 * perToken
        }

        var row = 0
        for chunk in chunks {
            let sequence = chunk.sequence
            sequence.computed = chunk.start + chunk.count
            sequence.kv.length = sequence.computed
            if chunk.start < sequence.promptCount {
                counters.promptTokensTotal += min(chunk.start + chunk.count, sequence.promptCount) - chunk.start
            }
            for position in chunk.logitsFrom..<(chunk.start + chunk.count) {
                let logits = scratch.logits(row: row)
                row += 1
                if sequence.isFinished { continue }
                let request = sequence.request
                // `position == count`: a prompt computed again after preemption is not scored twice.
                if request.wantsPromptLogprobs && !request.promptReported && position + 1 < sequence.promptCount
                    && position == request.promptLogprobs.count {
                    request.promptLogprobs.append(
                        promptLogprob(logits, token: sequence.tokens[position + 1], alternatives: request.request.promptLogprobs!))
                }
                if position == sequence.tokens.count - 1 {
                    advance(sequence, logits: logits)
                }
            }
            if configuration.prefixCaching && !sequence.isFinished {
                self.prefixCache.insert(sequence.tokens, computed: sequence.computed, blocks: sequence.kv.blocks, cache: cache)
            }
        }
        return true
    }

    func makeSequence(for request: RequestState, choice: Int, tokens: [TokenID], seed: UInt64?) -> SequenceState {
        var parameters = request.request.sampling
        // Each choice draws its own tokens; a seeded request stays reproducible choice by choice.
        parameters.seed = seed.map { $0 &+ UInt64(choice) }
        let sequence = SequenceState(
            id: nextSequenceID, request: request, choice: choice, tokens: tokens,
            sampler: Sampler(parameters: parameters, promptTokens: request.request.prompt), tokenizer: tokenizer)
        nextSequenceID += 1
        request.sequences.append(sequence)
        return sequence
    }

    /// All of `sequence`'s known tokens are computed and `logits` predict the next: report the prompt if this
    /// is its end, start sibling choices, then sample.
    private func advance(_ sequence: SequenceState, logits: UnsafeBufferPointer<Float>) {
        let request = sequence.request
        if !request.promptReported {
            request.promptReported = true
            request.continuation.yield(.promptProcessed(
                promptTokens: sequence.promptCount, cachedTokens: request.cachedTokens,
                logprobs: request.wantsPromptLogprobs ? request.promptLogprobs : nil))
            for choice in 1..<request.request.choices {
                let sibling = makeSequence(
                    for: request, choice: choice, tokens: sequence.tokens, seed: request.request.sampling.seed)
                sibling.kv = cache.fork(sequence.kv)
                sibling.computed = sequence.computed
                scheduler.addRunning(sibling)
                sample(sibling, logits: logits)
            }
        }
        sample(sequence, logits: logits)
    }

    private func sample(_ sequence: SequenceState, logits: UnsafeBufferPointer<Float>) {
        let request = sequence.request.request
        guard sequence.generatedCount < request.maxTokens else {
            finish(sequence, reason: .length, flush: true)
            return
        }
        let vocabulary = tokenizer.vocabulary
        let banned = request.ignoresEndOfGeneration ? vocabulary.endOfGenerationTokens : []
        let sampled = sequence.sampler.sample(logits, banned: banned)
        sequence.sampler.accept(sampled.token)
        sequence.tokens.append(sampled.token)
        counters.generatedTokensTotal += 1
        let generated = GeneratedToken(token: sampled.token, logprob: sampled.logprob, topLogprobs: sampled.topLogprobs)
        if !request.ignoresEndOfGeneration && vocabulary.isEndOfGeneration(sampled.token) {
            finish(sequence, reason: .stop, flush: true)
            return
        }
        sequence.pendingTokens.append(generated)
        var text = sequence.detokenizer.append(sampled.token)
        if request.removesLeadingSpace && !sequence.hasEmittedText && !text.isEmpty {
            if text.hasPrefix(" ") { text.removeFirst() }
            sequence.hasEmittedText = !text.isEmpty
        }
        let (safe, stopped) = sequence.stopChecker.append(text)
        if stopped {
            emit(sequence, text: safe)
            finish(sequence, reason: .stop, flush: false)
            return
        }
        if !safe.isEmpty { emit(sequence, text: safe) }
        if sequence.generatedCount >= request.maxTokens || sequence.tokens.count >= configuration.contextLength {
            finish(sequence, reason: .length, flush: true)
        }
    }

    private func emit(_ sequence: SequenceState, text: String) {
        guard !text.isEmpty || !sequence.pendingTokens.isEmpty else { return }
        sequence.request.continuation.yield(.output(choice: sequence.choice, text: text, tokens: sequence.pendingTokens))
        sequence.pendingTokens.removeAll()
    }

    /// Ends a choice: flushes held text (unless a stop string ended it), reports it, frees its KV (keeping full
    /// blocks in the prefix cache) and ends the request's stream when it was the last choice.
    func finish(_ sequence: SequenceState, reason: FinishReason, flush: Bool) {
        guard !sequence.isFinished else { return }
        sequence.isFinished = true
        let request = sequence.request
        if flush {
            var tail = sequence.detokenizer.finish()
            if request.request.removesLeadingSpace && !sequence.hasEmittedText && tail.hasPrefix(" ") {
                tail.removeFirst()
            }
            let (safe, _) = sequence.stopChecker.append(tail)
            emit(sequence, text: safe + sequence.stopChecker.finish())
        }
        if reason != .cancelled {
            request.continuation.yield(
                .finished(choice: sequence.choice, reason: reason, completionTokens: sequence.generatedCount))
        }
        scheduler.remove(sequence)
        if configuration.prefixCaching && reason != .cancelled {
            prefixCache.insert(sequence.tokens, computed: sequence.computed, blocks: sequence.kv.blocks, cache: cache)
        }
        cache.release(&sequence.kv)
        request.finishedChoices += 1
        if request.finishedChoices == request.request.choices || reason == .cancelled {
            if request.finishedChoices == request.request.choices {
                counters.requestsFinished += 1
            }
            if reason != .cancelled || request.finishedChoices == request.sequences.count {
                // Publish first, so a client that sees its stream end also sees the engine without it.
                publish()
                request.continuation.finish()
            }
            if request.finishedChoices >= request.request.choices {
                requests[request.id] = nil
                request.sequences.removeAll()
            }
        }
    }

    private func promptLogprob(_ logits: UnsafeBufferPointer<Float>, token: TokenID, alternatives: Int) -> PromptTokenLogprob {
        let normalizer = Sampler.logSumExp(logits)
        let value = logits[Int(token)]
        let logprob = (value.isNaN ? -.infinity : value) - normalizer
        let top = Sampler.largest(alternatives, of: logits).map {
            TokenLogprob(token: $0, logprob: (logits[Int($0)].isNaN ? -.infinity : logits[Int($0)]) - normalizer)
        }
        return PromptTokenLogprob(token: token, logprob: logprob, topLogprobs: top)
    }

    /// Fails requests that waited longer than the queue timeout.
    private func expireQueuedRequests() {
        let now = ContinuousClock.now
        for request in scheduler.waiting where now - request.arrival > configuration.queueTimeout {
            _ = scheduler.removeWaiting(request)
            requests[request.id] = nil
            let seconds = Double(configuration.queueTimeout.components.seconds)
            request.continuation.finish(throwing: InferenceError.queueTimeout(seconds: seconds))
        }
    }
}
