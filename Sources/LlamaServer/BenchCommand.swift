import Foundation
import GGUF
import Kernels
import Model

/// `llamaserve bench`: prompt-processing and text-generation speed, defined as llama.cpp's `llama-bench` does.
enum BenchCommand {
    static let help = """
        usage: llamaserve bench --model MODEL.gguf [-p 512] [-n 128] [-t THREADS] [-r REPS] [--no-repack] [--json]

        pp: prompt tokens / time of one batched prefill of -p tokens.
        tg: generated tokens / time of -n single-token decode steps of one sequence (after no prompt), as
            llama-bench measures them. Each test runs once to warm up, then -r times; figures are mean ± stddev.
          -p N          prompt tokens (0 skips pp; default 512)
          -n N          generated tokens (0 skips tg; default 128)
          -t N          threads (default: all cores)
          -r N          repetitions (default 5)
          -b N          prefill batch size: the prompt is processed in chunks of at most N tokens (default 512)
          --no-repack   keep Q4_0/Q4_K/Q5_K/Q6_K weights in the file's layout (see serve --help, repack_weights)
          --json        print one JSON line instead of a table
        """

    static func run(_ arguments: [String]) throws {
        let args = try CommandLineArguments(
            arguments, valued: ["--model", "-p", "-n", "-t", "-r", "-b"], flags: ["--help", "--json", "--no-repack"],
            aliases: ["-h": "--help", "-m": "--model", "--threads": "-t", "--repetitions": "-r"])
        if args.flag("--help") { print(help); return }
        let path = try args.required("--model")
        let promptTokens = try args.integer("-p", default: 512, in: 0...65536)
        let generatedTokens = try args.integer("-n", default: 128, in: 0...65536)
        let threads = try args.integer("-t", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...256)
        let repetitions = try args.integer("-r", default: 5, in: 1...1000)
        let batchSize = try args.integer("-b", default: 512, in: 1...8192)

        let file = try GGUFFile(contentsOf: path)
        let model = try LlamaModel(file: file, loadThreads: threads, repackWeights: !args.flag("--no-repack"))
        let h = model.hyperparameters
        let context = promptTokens + generatedTokens + 1
        let blockSize = 16
        let cache = KVCache(
            layers: h.blockCount, kvHeads: h.kvHeadCount, headDimension: h.headDimension, blockSize: blockSize,
            blockCount: (context + blockSize - 1) / blockSize)
        let scratch = ScratchSpace(
            hyperparameters: h, tokenCapacity: max(1, min(batchSize, max(promptTokens, 1))), logitsCapacity: 1,
            contextCapacity: context, workerCount: threads)
        let pool = ThreadPool(threadCount: threads)
        var random = SystemRandomNumberGenerator()
        func token() -> Int32 { Int32.random(in: 0..<Int32(h.vocabularySize), using: &random) }

        /// Runs `tokens` tokens through one fresh sequence in chunks of `chunk`, returning the elapsed seconds.
        func run(tokens: Int, chunk: Int) -> Double {
            var sequence = KVSequence()
            precondition(cache.reserve(&sequence, tokens: tokens))
            defer { cache.release(&sequence) }
            let start = ContinuousClock.now
            var position = 0
            while position < tokens {
                let n = min(chunk, tokens - position)
                var batch = ForwardBatch()
                for i in 0..<n {
                    batch.append(token: token(), position: position + i, sequence: 0, needsLogits: i == n - 1)
                }
                model.forward(batch, sequences: [sequence], cache: cache, scratch: scratch, pool: pool)
                position += n
                sequence.length = position
            }
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }

        func measure(tokens: Int, chunk: Int) -> (mean: Double, deviation: Double) {
            _ = run(tokens: tokens, chunk: chunk)  // warm-up: page in the weights, settle the threads
            let rates = (0..<repetitions).map { _ in Double(tokens) / run(tokens: tokens, chunk: chunk) }
            let mean = rates.reduce(0, +) / Double(rates.count)
            let variance = rates.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, rates.count - 1))
            return (mean, variance.squareRoot())
        }

        let pp = promptTokens > 0 ? measure(tokens: promptTokens, chunk: batchSize) : nil
        let tg = generatedTokens > 0 ? measure(tokens: generatedTokens, chunk: 1) : nil
        let name = (path as NSString).lastPathComponent
        if args.flag("--json") {
            var fields = ["\"model\":\(jsonString(name))", "\"threads\":\(threads)", "\"repetitions\":\(repetitions)"]
            if let pp {
                fields += ["\"pp_tokens\":\(promptTokens)", "\"pp_tps\":\(rounded(pp.mean))", "\"pp_stddev\":\(rounded(pp.deviation))"]
            }
            if let tg {
                fields += ["\"tg_tokens\":\(generatedTokens)", "\"tg_tps\":\(rounded(tg.mean))", "\"tg_stddev\":\(rounded(tg.deviation))"]
            }
            print("{" + fields.joined(separator: ",") + "}")
        } else {
            print("| model | size | threads | test | t/s |")
            print("| --- | ---: | ---: | --- | ---: |")
            let size = String(format: "%.1f MiB", Double(file.byteCount) / 1_048_576)
            if let pp { print("| \(name) | \(size) | \(threads) | pp\(promptTokens) | \(format(pp)) |") }
            if let tg { print("| \(name) | \(size) | \(threads) | tg\(generatedTokens) | \(format(tg)) |") }
        }
    }

    private static func format(_ m: (mean: Double, deviation: Double)) -> String {
        String(format: "%.2f ± %.2f", m.mean, m.deviation)
    }

    private static func rounded(_ v: Double) -> String { String(format: "%.3f", v) }

    private static func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s])
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }
}
