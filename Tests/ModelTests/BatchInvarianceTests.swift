import GGUF
import Kernels
import Model
import Testing
import TestSupport

/// A sequence's logits must not depend on what else shares its forward pass.
@Suite(.serialized) struct BatchInvarianceTests {
    @Test(.enabled(if: Fixtures.exists(Fixtures.defaultModel), "default model not fetched (make model)"))
    func logitsAloneEqualLogitsInsideAMixedBatchOfEight() throws {
        let model = try LlamaModel(file: try GGUFFile(contentsOf: Fixtures.defaultModel))
        let h = model.hyperparameters
        let cache = KVCache(layers: h.blockCount, kvHeads: h.kvHeadCount, headDimension: h.headDimension, blockCount: 256)
        let scratch = ScratchSpace(
            hyperparameters: h, tokenCapacity: 256, logitsCapacity: 16, contextCapacity: 512, workerCount: 2)
        let pool = ThreadPool(threadCount: 2)
        // Eight prompts of different lengths; sequence 3 is the one under test.
        let prompts: [[Int32]] = (0..<8).map { (s: Int) -> [Int32] in
            (0..<(5 + 7 * s)).map { (p: Int) -> Int32 in Int32((p * 131 + s * 17) % 4000 + 10) }
        }
        let probe = 3

        func run(_ indices: [Int]) -> [Float] {
            var sequences = indices.map { _ in KVSequence() }
            for (i, s) in indices.enumerated() {
                precondition(cache.reserve(&sequences[i], tokens: prompts[s].count + 1))
            }
            // Prompt prefill of every sequence in one batch, then one decode step for all of them.
            var batch = ForwardBatch()
            for (i, s) in indices.enumerated() {
                for (p, token) in prompts[s].enumerated() { batch.append(token: token, position: p, sequence: i, needsLogits: false) }
            }
            model.forward(batch, sequences: sequences, cache: cache, scratch: scratch, pool: pool)
            var decode = ForwardBatch()
            for (i, s) in indices.enumerated() {
                decode.append(token: 42, position: prompts[s].count, sequence: i, needsLogits: true)
            }
            model.forward(decode, sequences: sequences, cache: cache, scratch: scratch, pool: pool)
            let row = indices.firstIndex(of: probe)!
            let logits = Array(scratch.logits(row: row))
            for i in sequences.indices { cache.release(&sequences[i]) }
            return logits
        }

        let alone = run([probe])
        let together = run([0, 1, 2, probe, 4, 5, 6, 7])
        let reordered = run([7, probe, 5, 1])
        #expect(alone == together)
        #expect(alone == reordered)
        #expect(cache.usedBlockCount == 0)
    }
}
