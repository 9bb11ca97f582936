import Foundation
import GGUF
import Inference
import Model
import Tokenization

/// A model file loaded for serving or generating: the mapped file, the model, its tokenizer, and an engine.
struct LoadedModel {
    let file: GGUFFile
    let model: LlamaModel
    let tokenizer: any Tokenizer
    let engine: InferenceEngine

    /// Loads `path` and starts an engine.
    ///
    /// - Parameters:
    ///   - contextLength: per-request context; nil uses the model's, capped at 8192.
    ///   - kvCacheMiB: KV budget; nil sizes it for `min(parallel, 4)` full contexts.
    ///   - file: the model file, when the caller has opened it already (`serve` reads it through once first); the
    ///     same mapping must be used, so that pages dropped after repacking weights are not kept by another.
    static func load(
        path: String, file opened: GGUFFile? = nil, repackWeights: Bool = true, threads: Int, contextLength: Int?,
        parallel: Int, kvCacheMiB: Int?,
        batchTokens: Int = 512, maxQueue: Int = 64, queueTimeout: Duration = .seconds(300), prefixCaching: Bool = true,
        maxChoices: Int = 8
    ) throws -> LoadedModel {
        let file = try opened ?? GGUFFile(contentsOf: path)
        let model = try LlamaModel(file: file, loadThreads: threads, repackWeights: repackWeights)
        let vocabulary = try Vocabulary(gguf: file)
        let h = model.hyperparameters
        guard vocabulary.count == h.vocabularySize else {
            throw CLIError(
                "model vocabulary has \(vocabulary.count) tokens but the embedding has \(h.vocabularySize) rows")
        }
        let tokenizer = makeTokenizer(for: vocabulary)
        let context = contextLength ?? min(h.contextLength, 8192)
        let bytesPerToken = 2 * h.blockCount * h.kvWidth * 2
        let kvBytes = kvCacheMiB.map { $0 << 20 } ?? (bytesPerToken * (context + 16) * min(parallel, 4))
        var configuration = EngineConfiguration(threads: threads, contextLength: context, kvCacheBytes: kvBytes)
        configuration.maxRunning = parallel
        configuration.maxBatchTokens = batchTokens
        configuration.maxLogitsRows = max(64, parallel)
        configuration.maxQueue = maxQueue
        configuration.queueTimeout = queueTimeout
        configuration.prefixCaching = prefixCaching
        configuration.maxChoices = maxChoices
        let engine = InferenceEngine(model: model, tokenizer: tokenizer, configuration: configuration)
        engine.start()
        return LoadedModel(file: file, model: model, tokenizer: tokenizer, engine: engine)
    }
}
