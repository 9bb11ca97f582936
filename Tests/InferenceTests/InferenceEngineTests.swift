import GGUF
import Inference
import Model
import Testing
import TestSupport
import Tokenization

/// End-to-end tests of the engine on the default model (greedy, so outputs are exact).
@Suite(.serialized) struct InferenceEngineTests {
    struct Outcome: Equatable {
        var text = ""
        var tokens: [TokenID] = []
        var logprobs: [Float] = []
        var reason: FinishReason?
        var cachedTokens = 0
    }

    static let loaded: (LlamaModel, any Tokenizer)? = {
        guard Fixtures.exists(Fixtures.defaultModel), let file = try? GGUFFile(contentsOf: Fixtures.defaultModel),
            let model = try? LlamaModel(file: file), let vocabulary = try? Vocabulary(gguf: file)
        else { return nil }
        return (model, makeTokenizer(for: vocabulary))
    }()

    static func engine(prefixCaching: Bool = true, maxQueue: Int = 64, maxBatchTokens: Int = 128) -> InferenceEngine {
        let (model, tokenizer) = loaded!
        var configuration = EngineConfiguration(threads: 2, contextLength: 512, kvCacheBytes: 64 << 20)
        configuration.prefixCaching = prefixCaching
        configuration.maxQueue = maxQueue
        configuration.maxBatchTokens = maxBatchTokens
        let engine = InferenceEngine(model: model, tokenizer: tokenizer, configuration: configuration)
        engine.start()
        return engine
    }

    static func prompt(_ text: String) -> [TokenID] {
        loaded!.1.encode(text, addSpecial: true, parseSpecial: true)
    }

    static func greedy(_ text: String, maxTokens: Int = 24, logprobs: Bool = false) -> GenerationRequest {
        var sampling = SamplingParameters()
        sampling.temperature = 0
        if logprobs { sampling.topLogprobs = 2 }
        return GenerationRequest(prompt: prompt(text), sampling: sampling, maxTokens: maxTokens)
    }

    static func collect(_ stream: AsyncThrowingStream<GenerationEvent, any Error>) async throws -> [Outcome] {
        var outcomes: [Int: Outcome] = [:]
        var cached = 0
        for try await event in stream {
            switch event {
            case .promptProcessed(_, let cachedTokens, _): cached = cachedTokens
            case .output(let choice, let text, let tokens):
                outcomes[choice, default: Outcome()].text += text
                outcomes[choice, default: Outcome()].tokens += tokens.map(\.token)
                outcomes[choice, default: Outcome()].logprobs += tokens.map(\.logprob)
            case .finished(let choice, let reason, _): outcomes[choice, default: Outcome()].reason = reason
            }
        }
        return outcomes.keys.sorted().map { var o = outcomes[$0]!; o.cachedTokens = cached; return o }
    }

    static let available = loaded != nil

    @Test(.enabled(if: available)) func greedyOutputIsIdenticalAloneAndWithSevenOthersStreaming() async throws {
        let engine = Self.engine()
        let probe = Self.greedy("The capital of France is", maxTokens: 24, logprobs: true)
        let alone = try await Self.collect(try await engine.generate(probe))
        let others = [
            "Once upon a time", "def fibonacci(n):", "1, 2, 3, 4,", "The quick brown fox jumps over the lazy dog and",
            "<|im_start|>user\nWrite a haiku about rain.<|im_end|>\n<|im_start|>assistant\n", "Paris is", "import numpy as np\n",
        ]
        let together = try await withThrowingTaskGroup(of: (Int, [Outcome]).self) { group in
            for (i, text) in others.enumerated() {
                group.addTask { (i + 1, try await Self.collect(try await engine.generate(Self.greedy(text, maxTokens: 10 + 4 * i)))) }
            }
            group.addTask { (0, try await Self.collect(try await engine.generate(probe))) }
            var results: [Int: [Outcome]] = [:]
            for try await (i, outcome) in group { results[i] = outcome }
            return results
        }
        var first = alone[0]
        var second = together[0]![0]
        first.cachedTokens = 0
        second.cachedTokens = 0
        #expect(first == second)
        #expect(first.tokens.count == 24)
        #expect(engine.metrics.runningSequences == 0)
    }

    @Test(.enabled(if: available)) func prefixReuseGivesTheSameOutputAsRecomputing() async throws {
        let system = "<|im_start|>system\nYou are a terse assistant who answers in one sentence and never uses lists, "
            + "and who always mentions the weather in Paris when asked anything at all.<|im_end|>\n"
        let question = system + "<|im_start|>user\nWhat is a cat?<|im_end|>\n<|im_start|>assistant\n"
        let cached = Self.engine(prefixCaching: true)
        _ = try await Self.collect(try await cached.generate(Self.greedy(system + "<|im_start|>user\nHi<|im_end|>\n")))
        let reused = try await Self.collect(try await cached.generate(Self.greedy(question, logprobs: true)))
        let fresh = try await Self.collect(try await Self.engine(prefixCaching: false).generate(Self.greedy(question, logprobs: true)))
        #expect(reused[0].cachedTokens >= 32)
        #expect(fresh[0].cachedTokens == 0)
        #expect(reused[0].tokens == fresh[0].tokens)
        #expect(reused[0].logprobs == fresh[0].logprobs)
        #expect(cached.metrics.prefixCacheHitTokens >= 32)
    }

    @Test(.enabled(if: available)) func clientsThatDisconnectLeaveNothingRunning() async throws {
        let engine = Self.engine()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    guard let stream = try? await engine.generate(Self.greedy("Story number \(i): once", maxTokens: 200))
                    else { return }
                    var seen = 0
                    // Stop reading after a varying number of events, as a client that disconnects does.
                    do {
                        for try await _ in stream {
                            seen += 1
                            if seen > i % 7 { break }
                        }
                    } catch {}
                }
            }
        }
        // Cancellation is processed between steps; give the engine a few.
        for _ in 0..<200 where engine.metrics.runningSequences + engine.metrics.waitingRequests > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let metrics = engine.metrics
        #expect(metrics.runningSequences == 0)
        #expect(metrics.waitingRequests == 0)
        // Only the prefix cache holds blocks once everything has gone.
        #expect(metrics.kvBlocksUsed == metrics.prefixCacheBlocks)
    }

    @Test(.enabled(if: available)) func aFullQueueRefusesAtOnce() async throws {
        let engine = Self.engine(maxQueue: 1)
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        var refused = 0
        for i in 0..<12 {
            do {
                streams.append(try await engine.generate(Self.greedy("Count \(i):", maxTokens: 50)))
            } catch .queueFull {
                refused += 1
            }
        }
        #expect(refused > 0)
        streams.removeAll()
    }

    @Test(.enabled(if: available)) func stopStringsMaxTokensAndChoices() async throws {
        let engine = Self.engine()
        var request = Self.greedy("The capital of France is", maxTokens: 30)
        request.stop = ["."]
        let stopped = try await Self.collect(try await engine.generate(request))
        #expect(stopped[0].reason == .stop)
        #expect(!stopped[0].text.contains("."))
        #expect(stopped[0].text == " Paris")

        let limited = try await Self.collect(try await engine.generate(Self.greedy("Once upon a time", maxTokens: 5)))
        #expect(limited[0].reason == .length)
        #expect(limited[0].tokens.count == 5)

        var two = Self.greedy("Once upon a time", maxTokens: 6)
        two.choices = 2
        let choices = try await Self.collect(try await engine.generate(two))
        #expect(choices.count == 2)
        #expect(choices[0].tokens == choices[1].tokens)  // greedy: siblings agree
        #expect(choices[0].tokens == limited[0].tokens + choices[0].tokens.dropFirst(5))
    }

    @Test(.enabled(if: available)) func invalidRequestsAreRefusedWithReasons() async throws {
        let engine = Self.engine()
        await #expect(throws: InferenceError.emptyPrompt) { _ = try await engine.generate(GenerationRequest(prompt: [], maxTokens: 1)) }
        await #expect(throws: InferenceError.invalidToken(999_999, vocabularySize: 49152)) {
            _ = try await engine.generate(GenerationRequest(prompt: [999_999], maxTokens: 1))
        }
        await #expect(throws: InferenceError.contextLengthExceeded(promptTokens: 1, maxTokens: 600, limit: 512)) {
            _ = try await engine.generate(GenerationRequest(prompt: [1], maxTokens: 600))
        }
    }
}
