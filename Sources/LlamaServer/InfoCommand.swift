import ChatAPI
import Foundation
import GGUF
import Model
import Tokenization

/// `llamaserve info MODEL.gguf`: a readable summary of a model file.
enum InfoCommand {
    static let help = """
        usage: llamaserve info MODEL.gguf [--metadata]

        Prints the architecture, file size, quantization mix, hyperparameters, tokenizer and chat template.
        Vocab-only files (no tensors) show the tokenizer only.
          --metadata   also list every metadata key (long arrays abbreviated)
        """

    static func run(_ arguments: [String]) throws {
        let args = try CommandLineArguments(arguments, valued: [], flags: ["--help", "--metadata"], aliases: ["-h": "--help"])
        if args.flag("--help") { print(help); return }
        guard args.positional.count == 1 else { throw CLIError("info takes one model path (see --help)") }
        let file = try GGUFFile(contentsOf: args.positional[0])
        let summary = ModelSummary(file: file, model: nil)
        func line(_ label: String, _ value: String) { print(label.padding(toLength: 18, withPad: " ", startingAt: 0) + value) }
        line("file", file.path)
        line("name", summary.name)
        line("architecture", summary.architecture)
        line("size", String(format: "%.1f MiB (%d bytes), GGUF v%d, %d tensors", Double(file.byteCount) / 1_048_576,
                            file.byteCount, file.version, file.tensors.count))
        if !file.tensors.isEmpty {
            line("parameters", String(format: "%.1fM", Double(summary.parameterCount) / 1e6))
            line("quantization", summary.quantizationMix)
            let h = try ModelHyperparameters(file: file)
            line("context length", "\(h.contextLength)")
            line("embedding", "\(h.embeddingLength)")
            line("blocks", "\(h.blockCount)")
            line("feed-forward", "\(h.feedForwardLength)")
            line("heads", "\(h.headCount) query, \(h.kvHeadCount) key/value" + (h.groupSize > 1 ? " (grouped-query, \(h.groupSize) per group)" : ""))
            line("head dimension", "\(h.headDimension)")
            line("RMS epsilon", "\(h.rmsEpsilon)")
            line("RoPE", "base \(h.ropeBase), \(h.ropeDimensions) dimensions" + (h.ropePositionScale != 1 ? ", linear scale \(1 / h.ropePositionScale)" : ""))
            line("output head", file.tensor(named: "output.weight") == nil ? "tied to the token embedding" : "separate")
            let bytesPerToken = 2 * h.blockCount * h.kvWidth * 2
            line("KV cache", "\(bytesPerToken / 1024) KiB per token (F16); \((bytesPerToken * h.contextLength) >> 20) MiB for a full context")
        }
        let vocabulary = try Vocabulary(gguf: file)
        let special = vocabulary.specialTokens
        func token(_ id: TokenID?) -> String { id.map { "\($0) \(vocabulary.text(of: $0).debugDescription)" } ?? "none" }
        line("tokenizer", "\(vocabulary.model) (\(file.metadata["tokenizer.ggml.model"]?.stringValue ?? "?"))"
            + (vocabulary.preTokenizerName.map { ", pre-tokenizer \($0)" } ?? "") + ", \(vocabulary.count) tokens"
            + (vocabulary.mergeCount > 0 ? ", \(vocabulary.mergeCount) merges" : ""))
        line("special tokens", "BOS \(token(special.beginOfSequence)), EOS \(token(special.endOfSequence)), unknown \(token(special.unknown))")
        line("end of generation", vocabulary.endOfGenerationTokens.map { token($0) }.joined(separator: ", "))
        line("add BOS / EOS", "\(vocabulary.addsBOS) / \(vocabulary.addsEOS)")
        let modelTemplate = file.metadata["tokenizer.chat_template"]?.stringValue
        line("chat template", ChatTemplates.detect(from: modelTemplate).name
            + (modelTemplate == nil ? " (the model has none: Llama 2's is used)" : " (recognised from tokenizer.chat_template)"))
        if args.flag("--metadata") {
            for key in file.contents.metadataKeys { print("  \(key) = \(abbreviated(file.metadata[key]!))") }
        }
    }

    private static func abbreviated(_ value: GGUFValue) -> String {
        if case .array(let array) = value { return "[\(array.count) × \(array.elementTypeDescription)]" }
        let text = "\(value)"
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
