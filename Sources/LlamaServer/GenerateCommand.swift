import Dispatch
import Foundation
import Inference
import Tokenization

/// `llamaserve generate`: completes a raw prompt and streams the text to stdout.
enum GenerateCommand {
    static let help = """
        usage: llamaserve generate --model MODEL.gguf --prompt TEXT [options]

        Completes TEXT as a raw prompt (as llama.cpp's /completion does: special-token text such as
        <|im_start|> is parsed, and BOS is added when the model asks for it) and streams the output.
          --max-tokens N        tokens to generate (default 128)
          --temperature T       0 is greedy (default 0.8)
          --top-k K             (default 40; 0 disables)
          --top-p P             (default 0.95)
          --min-p P             (default 0.05)
          --seed S              random seed (default: random)
          --top-logprobs N      alternatives recorded per step for --json (default 5)
          --no-parse-special    treat special-token text as plain text
          --ignore-eos          do not stop at end-of-generation tokens
          -t, --threads N       compute threads (default: all cores)
          -c, --ctx-size N      context length (default: the model's, at most 8192)
          --no-repack           keep Q4_0/Q4_K/Q5_K/Q6_K weights in the file's layout (see serve --help)
          --json                print one JSON line {"prompt_tokens","tokens","text","top_logprobs"} at the end
        """

    static func run(_ arguments: [String]) async throws {
        let args = try CommandLineArguments(
            arguments,
            valued: ["--model", "--prompt", "--max-tokens", "--temperature", "--top-k", "--top-p", "--min-p", "--seed",
                     "--top-logprobs", "--threads", "--ctx-size"],
            flags: ["--help", "--json", "--no-parse-special", "--ignore-eos", "--no-repack"],
            aliases: ["-h": "--help", "-m": "--model", "-p": "--prompt", "-n": "--max-tokens", "-t": "--threads",
                      "-c": "--ctx-size"])
        if args.flag("--help") { print(help); return }
        let path = try args.required("--model")
        let prompt = try args.required("--prompt")
        let maxTokens = try args.integer("--max-tokens", default: 128, in: 0...1_000_000)
        let threads = try args.integer("--threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...256)
        let context = args.value("--ctx-size") == nil ? nil : try args.integer("--ctx-size", default: 0, in: 16...1_048_576)
        var sampling = SamplingParameters()
        sampling.temperature = Float(try args.double("--temperature", in: 0...100) ?? 0.8)
        sampling.topK = try args.integer("--top-k", default: 40, in: 0...1_000_000)
        sampling.topP = Float(try args.double("--top-p", in: 0...1) ?? 0.95)
        sampling.minP = Float(try args.double("--min-p", in: 0...1) ?? 0.05)
        if let seed = args.value("--seed") {
            guard let value = UInt64(seed) else { throw CLIError("--seed must be a non-negative integer, not '\(seed)'") }
            sampling.seed = value
        }
        let json = args.flag("--json")
        if json { sampling.topLogprobs = try args.integer("--top-logprobs", default: 5, in: 0...20) }

        let loaded = try LoadedModel.load(
            path: path, repackWeights: !args.flag("--no-repack"), threads: threads, contextLength: context, parallel: 1,
            kvCacheMiB: nil)
        let promptTokens = loaded.tokenizer.encode(prompt, addSpecial: true, parseSpecial: !args.flag("--no-parse-special"))
        let request = GenerationRequest(
            prompt: promptTokens, sampling: sampling, maxTokens: maxTokens,
            ignoresEndOfGeneration: args.flag("--ignore-eos"))

        // Ctrl-C cancels the generation task; the engine stops the sequence and the text so far is kept.
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let task = Task { () throws -> ([GeneratedToken], String) in
            let events = try await loaded.engine.generate(request)
            var tokens: [GeneratedToken] = []
            var text = ""
            for try await event in events {
                if Task.isCancelled { break }
                if case .output(_, let delta, let generated) = event {
                    tokens += generated
                    text += delta
                    if !json {
                        FileHandle.standardOutput.write(Data(delta.utf8))
                    }
                }
            }
            return (tokens, text)
        }
        interrupt.setEventHandler { task.cancel() }
        interrupt.resume()
        let (tokens, text) = try await task.value
        if json {
            let object: [String: Any] = [
                "prompt_tokens": promptTokens.map(Int.init),
                "tokens": tokens.map { Int($0.token) },
                "text": text,
                "top_logprobs": tokens.map { step in
                    step.topLogprobs.map { ["id": Int($0.token), "logprob": Double($0.logprob)] as [String: Any] }
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print()
        }
    }
}
