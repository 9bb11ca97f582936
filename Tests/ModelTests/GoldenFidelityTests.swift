import Foundation
import GGUF
import Kernels
import Model
import Testing
import TestSupport

/// Fidelity against llama.cpp's greedy output on the default model (`../shared/fixtures/golden`).
@Suite(.serialized) struct GoldenFidelityTests {
    struct Step {
        let token: Int32
        let probability: Double
        let top1: Int32
        let gap: Double  // top-1 minus top-2 probability
    }

    struct Case {
        let id: String
        let prompt: [Int32]
        let steps: [Step]
    }

    static func loadCases() throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.sharedFixtures + "/golden/smollm2-greedy.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        return try cases.map { c in
            let prompt = try #require(c["prompt_token_ids"] as? [Int]).map(Int32.init)
            let steps = try #require(c["steps"] as? [[String: Any]]).map { s in
                let top = s["top"] as! [[String: Any]]
                let p1 = top[0]["prob"] as! Double
                let p2 = top[1]["prob"] as! Double
                return Step(
                    token: Int32(s["token_id"] as! Int), probability: top[0]["prob"] as! Double,
                    top1: Int32(top[0]["id"] as! Int), gap: p1 - p2)
            }
            return Case(id: c["id"] as! String, prompt: prompt, steps: steps)
        }
    }

    /// Softmax probabilities of the logits row.
    static func probabilities(_ logits: UnsafeBufferPointer<Float>) -> [Double] {
        let maximum = logits.max()!
        let exps = logits.map { Foundation.exp(Double($0 - maximum)) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }

    static func argmax(_ p: [Double]) -> Int32 {
        Int32(p.indices.max { p[$0] < p[$1] }!)
    }

    // At 0.03 this needs llama.cpp's arithmetic bit for bit: through 30 layers of 8-bit re-quantization a one-ulp
    // difference anywhere (a SiLU, a rotation) moves the worst step by up to 0.09 (Docs/Fidelity.md). With the
    // emulation complete our logits equal the recorded ones to their printed digits at every step.
    @Test(.enabled(if: Fixtures.exists(Fixtures.defaultModel), "default model not fetched (make model)"))
    func teacherForcedTop1AndProbabilitiesMatch() throws {
        let runner = try ModelRunner(path: Fixtures.defaultModel)
        for c in try Self.loadCases() {
            runner.reset()
            var logits = runner.step(c.prompt)
            for (i, step) in c.steps.enumerated() {
                let p = Self.probabilities(logits)
                if step.gap >= 0.02 {
                    #expect(Self.argmax(p) == step.top1, "\(c.id) step \(i): top-1 differs")
                }
                let ours = p[Int(step.top1)]
                #expect(abs(ours - step.probability) <= 0.03, "\(c.id) step \(i): p=\(ours) golden \(step.probability)")
                if i + 1 < c.steps.count { logits = runner.step([step.token]) }
            }
        }
    }

    @Test(.enabled(if: Fixtures.exists(Fixtures.defaultModel), "default model not fetched (make model)"))
    func freeRunningGreedyReproducesGoldenTokens() throws {
        let runner = try ModelRunner(path: Fixtures.defaultModel)
        for c in try Self.loadCases() {
            runner.reset()
            // Up to 16 steps, or up to the first near-tie where an exact engine may pick the other token.
            let limit = min(16, c.steps.firstIndex { $0.gap < 0.02 } ?? c.steps.count)
            var logits = runner.step(c.prompt)
            for i in 0..<limit {
                let chosen = Self.argmax(Self.probabilities(logits))
                #expect(chosen == c.steps[i].token, "\(c.id) step \(i)")
                if chosen != c.steps[i].token { break }
                logits = runner.step([chosen])
            }
        }
    }
}

/// Runs one sequence through the model token by token or in chunks, for tests.
final class ModelRunner {
    let model: LlamaModel
    let cache: KVCache
    let scratch: ScratchSpace
    let pool: ThreadPool
    var sequence = KVSequence()

    init(path: String, threads: Int = 2, tokenCapacity: Int = 64) throws {
        model = try LlamaModel(file: try GGUFFile(contentsOf: path))
        let h = model.hyperparameters
        cache = KVCache(layers: h.blockCount, kvHeads: h.kvHeadCount, headDimension: h.headDimension, blockCount: 64)
        scratch = ScratchSpace(
            hyperparameters: h, tokenCapacity: tokenCapacity, logitsCapacity: 8, contextCapacity: 1024,
            workerCount: threads)
        pool = ThreadPool(threadCount: threads)
    }

    func reset() { cache.release(&sequence) }

    /// Feeds `tokens` and returns the logits after the last one.
    func step(_ tokens: [Int32]) -> UnsafeBufferPointer<Float> {
        precondition(cache.reserve(&sequence, tokens: sequence.length + tokens.count))
        var batch = ForwardBatch()
        for (i, token) in tokens.enumerated() {
            batch.append(token: token, position: sequence.length + i, sequence: 0, needsLogits: i == tokens.count - 1)
        }
        model.forward(batch, sequences: [sequence], cache: cache, scratch: scratch, pool: pool)
        sequence.length += tokens.count
        return scratch.logits(row: 0)
    }
}
