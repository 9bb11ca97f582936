@testable import Inference
import Model
import Testing
import Tokenization

/// The scheduler on its own: budgets, FIFO admission, chunking rules, preemption, no leaks.
@Suite struct SchedulerTests {
    static let tokenizer: any Tokenizer = makeTokenizer(
        for: try! Vocabulary(VocabularyDescription(model: "llama", tokens: ["<unk>", "<s>", "</s>"] + (3..<16).map { "t\($0)" })))

    final class Harness {
        let cache: KVCache
        var scheduler: Scheduler
        var prefix = PrefixCache(capacity: 0)
        var nextID = 1
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []

        init(blocks: Int = 64, maxRunning: Int = 4, budget: Int = 32) {
            cache = KVCache(layers: 1, kvHeads: 1, headDimension: 2, blockSize: 4, blockCount: blocks)
            scheduler = Scheduler(maxRunning: maxRunning, maxBatchTokens: budget, maxLogitsRows: 16)
        }

        func request(promptLength: Int, choices: Int = 1) -> RequestState {
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
            streams.append(stream)
            let r = RequestState(
                id: nextID, request: GenerationRequest(prompt: [TokenID](repeating: 5, count: promptLength), maxTokens: 4, choices: choices),
                continuation: continuation, arrival: .now)
            nextID += 1
            scheduler.enqueue(r)
            return r
        }

        func step() -> [ScheduledChunk] {
            let chunks = scheduler.schedule(cache: cache, prefixCache: &prefix) { r in
                let s = SequenceState(id: r.id, request: r, choice: 0, tokens: r.request.prompt, sampler: Sampler(parameters: SamplingParameters()), tokenizer: SchedulerTests.tokenizer)
                r.sequences.append(s)
                return s
            }
            // Pretend the forward pass ran.
            for chunk in chunks {
                chunk.sequence.computed = chunk.start + chunk.count
                if chunk.sequence.computed == chunk.sequence.tokens.count { chunk.sequence.tokens.append(7) }
            }
            return chunks
        }
    }

    @Test func theBudgetIsNeverExceededAndPromptsAreChunked() {
        let h = Harness(budget: 10)
        _ = h.request(promptLength: 25)
        var sizes: [Int] = []
        for _ in 0..<5 {
            let chunks = h.step()
            #expect(chunks.reduce(0) { $0 + $1.count } <= 10)
            sizes += chunks.map(\.count)
        }
        #expect(sizes.prefix(3) == [10, 10, 5])
    }

    @Test func aPromptIsNeverLeftWithOrSplitIntoALoneToken() {
        let h = Harness(budget: 10)
        _ = h.request(promptLength: 11)  // 10 + 1 would leave a lone token: 9 + 2 instead
        #expect(h.step().map(\.count) == [9])
        #expect(h.step().map(\.count) == [2])
    }

    @Test func admissionIsFirstComeFirstServed() {
        let h = Harness(maxRunning: 1, budget: 64)
        let first = h.request(promptLength: 8)
        let second = h.request(promptLength: 2)
        let chunks = h.step()
        #expect(chunks.count == 1)
        #expect(chunks[0].sequence.request === first)
        #expect(h.scheduler.waiting.first === second)
    }

    @Test func choicesReserveRunningSlots() {
        let h = Harness(maxRunning: 3, budget: 64)
        _ = h.request(promptLength: 4, choices: 2)
        _ = h.request(promptLength: 4, choices: 2)
        #expect(h.step().count == 1)  // 2 + 2 slots would exceed 3
        #expect(h.scheduler.waiting.count == 1)
    }

    @Test func runningOutOfBlocksPreemptsTheLatestAndFreesItsBlocks() {
        let h = Harness(blocks: 4, maxRunning: 4, budget: 64)  // 16 token slots
        _ = h.request(promptLength: 6)
        _ = h.request(promptLength: 6)
        _ = h.step()  // both admitted: 2 blocks each
        #expect(h.cache.freeBlockCount == 0)
        // Decoding until they need more blocks forces a preemption of the later one.
        for _ in 0..<4 { _ = h.step() }
        #expect(h.scheduler.preemptionCount >= 1)
        #expect(h.cache.usedBlockCount <= 4)
    }

    @Test func removingSequencesReturnsEveryBlock() {
        let h = Harness()
        for _ in 0..<3 { _ = h.request(promptLength: 9) }
        _ = h.step()
        for sequence in h.scheduler.running {
            h.scheduler.remove(sequence)
            h.cache.release(&sequence.kv)
        }
        #expect(h.cache.usedBlockCount == 0)
        #expect(h.scheduler.isIdle)
    }
}
