#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One log-probability: a token and its log-probability under the model.
package struct TokenLogprob: Sendable, Equatable {
    package var token: Int32
    package var logprob: Float

    package init(token: Int32, logprob: Float) {
        self.token = token
        self.logprob = logprob
    }
}

/// The token a sampler chose, with its log-probability and the requested alternatives.
package struct SampledToken: Sendable, Equatable {
    package var token: Int32
    /// The chosen token's log-probability under the model's raw distribution (log-softmax of the logits, before
    /// penalties, bias, temperature or filters), as lm-evaluation-harness and OpenAI clients expect. Only
    /// computed when log-probabilities were requested; 0 otherwise.
    package var logprob: Float
    /// The most likely tokens under the same raw distribution, best first (empty unless requested).
    package var topLogprobs: [TokenLogprob]
}

/// Chooses tokens from logits for one sequence: penalties, bias, temperature, top-k, top-p, min-p, and a seeded
/// generator. A value type with no concurrency: the engine owns one per running sequence.
package struct Sampler {
    package let parameters: SamplingParameters
    private var generator: RandomGenerator
    private var seen: Set<Int32>
    private var generatedCounts: [Int32: Int] = [:]
    private var working: [Float] = []
    private var candidates: [(token: Int32, score: Float)] = []

    /// Creates a sampler. `promptTokens` feed the repetition penalty (vLLM's convention: prompt and output).
    package init(parameters: SamplingParameters, promptTokens: [Int32] = []) {
        self.parameters = parameters
        generator = RandomGenerator(seed: parameters.seed ?? UInt64.random(in: .min ... .max))
        seen = parameters.repetitionPenalty != 1 ? Set(promptTokens) : []
    }

    /// Records a generated token for the penalties.
    package mutating func accept(_ token: Int32) {
        if parameters.repetitionPenalty != 1 { seen.insert(token) }
        if parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0 { generatedCounts[token, default: 0] += 1 }
    }

    /// Chooses the next token from `logits` (one per vocabulary entry); `banned` tokens are never chosen
    /// (end-of-generation tokens under `ignore_eos`).
    package mutating func sample(_ logits: UnsafeBufferPointer<Float>, banned: [Int32] = []) -> SampledToken {
        let p = parameters
        working.removeAll(keepingCapacity: true)
        // NaN (only from a corrupt model) counts as impossible, so no comparison below sees one.
        working.append(contentsOf: logits.lazy.map { $0.isNaN ? -.infinity : $0 })
        applyAdjustments()
        for token in banned where Int(token) < working.count { working[Int(token)] = -.infinity }

        let chosen: Int32
        if p.temperature == 0 {
            chosen = Sampler.argmax(working)
        } else {
            chosen = sampleWithTemperature()
        }
        var result = SampledToken(token: chosen, logprob: 0, topLogprobs: [])
        if let n = p.topLogprobs {
            let normalizer = Sampler.logSumExp(logits)
            result.logprob = Sampler.clean(logits[Int(chosen)]) - normalizer
            result.topLogprobs = Sampler.largest(n, of: logits).map {
                TokenLogprob(token: $0, logprob: Sampler.clean(logits[Int($0)]) - normalizer)
            }
        }
        return result
    }

    // MARK: - Steps

    private mutating func applyAdjustments() {
        let p = parameters
        for (token, bias) in p.logitBias where Int(token) < working.count { working[Int(token)] += bias }
        if p.repetitionPenalty != 1 {
            for token in seen where Int(token) < working.count {
                let v = working[Int(token)]
                working[Int(token)] = v > 0 ? v / p.repetitionPenalty : v * p.repetitionPenalty
            }
        }
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            for (token, count) in generatedCounts where Int(token) < working.count {
                working[Int(token)] -= p.presencePenalty + p.frequencyPenalty * Float(count)
            }
        }
    }

    private mutating func sampleWithTemperature() -> Int32 {
        let p = parameters
        let inverseTemperature = 1 / p.temperature
        var maximum = -Float.infinity
        for v in working { maximum = max(maximum, v) }
        guard maximum > -.infinity else { return Sampler.argmax(working) }
        let scaledMaximum = maximum * inverseTemperature
        // Tokens below this score cannot survive min-p; with top-p, tokens e^30 times less likely than the best
        // are dropped before sorting (their total mass is below 1e-8 for any real vocabulary).
        var floor = -Float.infinity
        if p.minP > 0 { floor = scaledMaximum + logf(p.minP) }
        if p.topP < 1 { floor = max(floor, scaledMaximum - 30) }
        candidates.removeAll(keepingCapacity: true)
        for (i, v) in working.enumerated() {
            let s = v * inverseTemperature
            if s >= floor && s > -.infinity { candidates.append((Int32(i), s)) }
        }
        if p.topK > 0 && candidates.count > p.topK {
            candidates.sort(by: Sampler.better)
            candidates.removeLast(candidates.count - p.topK)
        }
        if p.topP < 1 {
            if !(p.topK > 0 && candidates.count <= p.topK) { candidates.sort(by: Sampler.better) }
            var total: Float = 0
            for c in candidates { total += expf(c.score - scaledMaximum) }
            var cumulative: Float = 0
            var keep = candidates.count
            for (i, c) in candidates.enumerated() {
                cumulative += expf(c.score - scaledMaximum) / total
                if cumulative >= p.topP {
                    keep = i + 1
                    break
                }
            }
            candidates.removeLast(candidates.count - keep)
        }
        var total: Float = 0
        for c in candidates { total += expf(c.score - scaledMaximum) }
        let target = generator.nextUnitFloat() * total
        var cumulative: Float = 0
        for c in candidates {
            cumulative += expf(c.score - scaledMaximum)
            if target < cumulative { return c.token }
        }
        return candidates.last?.token ?? Sampler.argmax(working)
    }

    // MARK: - Helpers

    private static func better(_ a: (token: Int32, score: Float), _ b: (token: Int32, score: Float)) -> Bool {
        a.score != b.score ? a.score > b.score : a.token < b.token
    }

    /// The index of the largest value; the lowest index wins a tie.
    static func argmax(_ values: [Float]) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in values.enumerated() where v > bestValue {
            best = i
            bestValue = v
        }
        return Int32(best)
    }

    private static func clean(_ v: Float) -> Float { v.isNaN ? -.infinity : v }

    /// log Σ exp(logits), stable, computed in Double so it is the same for every caller.
    static func logSumExp(_ logits: UnsafeBufferPointer<Float>) -> Float {
        var maximum = -Float.infinity
        for v in logits where !v.isNaN { maximum = max(maximum, v) }
        guard maximum.isFinite else { return maximum }
        var sum: Double = 0
        for v in logits where !v.isNaN { sum += exp(Double(v - maximum)) }
        return maximum + Float(log(sum))
    }

    /// The `n` largest logits' token ids, best first (ties: lower id first).
    static func largest(_ n: Int, of logits: UnsafeBufferPointer<Float>) -> [Int32] {
        guard n > 0 else { return [] }
        var best: [(token: Int32, score: Float)] = []
        best.reserveCapacity(n + 1)
        for (i, raw) in logits.enumerated() {
            let v = clean(raw)
            if best.count == n, let last = best.last, !(v > last.score) { continue }
            let item = (Int32(i), v)
            let index = best.firstIndex { better(item, $0) } ?? best.count
            best.insert(item, at: index)
            if best.count > n { best.removeLast() }
        }
        return best.map(\.token)
    }
}
