import Inference
import Model
import Testing
import Tokenization

/// A request scoring its prompt (`echo` with `logprobs`) that is preempted halfway through the prompt and
/// recomputed later reports each prompt position once, with the values it has when it runs alone.
@Suite(.serialized) struct PromptLogprobsPreemptionTests {
    static func engine() -> InferenceEngine {
        let (model, tokenizer) = InferenceEngineTests.loaded!
        let h = model.hyperparameters
        // Twelve blocks of 16 tokens: too few for both requests below at once.
        let bytesPerBlock = 2 * h.blockCount * h.kvHeadCount * h.headDimension * 16 * 2
        var configuration = EngineConfiguration(threads: 2, contextLength: 192, kvCacheBytes: 12 * bytesPerBlock)
        configuration.prefixCaching = false
        // Small steps, so the long prompt is still being processed when the other request needs its memory.
        configuration.maxBatchTokens = 4
        let engine = InferenceEngine(model: model, tokenizer: tokenizer, configuration: configuration)
        engine.start()
        return engine
    }

    static func scoring(_ prompt: [TokenID]) -> GenerationRequest {
        var sampling = SamplingParameters()
        sampling.temperature = 0
        return GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: 0, promptLogprobs: 1)
    }

    static func promptLogprobs(_ stream: AsyncThrowingStream<GenerationEvent, any Error>) async throws -> [PromptTokenLogprob] {
        var result: [PromptTokenLogprob] = []
        for try await event in stream {
            if case .promptProcessed(_, _, let logprobs) = event { result += logprobs ?? [] }
        }
        return result
    }

    @Test(.enabled(if: InferenceEngineTests.available)) func aPreemptedPromptIsScoredOnce() async throws {
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 13)
        let prompt = Array(InferenceEngineTests.prompt(text).prefix(150))
        let alone = try await Self.promptLogprobs(try await Self.engine().generate(Self.scoring(prompt)))
        #expect(alone.count == prompt.count - 1)

        let engine = Self.engine()
        #expect(engine.metrics.kvBlocksTotal == 12)
        // First a long generation, then the scoring request: when the generation outgrows the free blocks,
        // the scoring request, admitted last, is preempted and later computed again from its start.
        var longRequest = InferenceEngineTests.greedy("Once upon a time", maxTokens: 150)
        longRequest.prompt = Array(InferenceEngineTests.prompt(text).prefix(30))
        longRequest.ignoresEndOfGeneration = true
        let generation = try await engine.generate(longRequest)
        let scored = try await engine.generate(Self.scoring(prompt))
        async let drained = InferenceEngineTests.collect(generation)
        let together = try await Self.promptLogprobs(scored)
        _ = try await drained
        #expect(engine.metrics.preemptionsTotal > 0)
        #expect(together.count == prompt.count - 1)
        #expect(together.map(\.token) == Array(prompt.dropFirst()))
        #expect(together.map(\.logprob) == alone.map(\.logprob))
    }
}
