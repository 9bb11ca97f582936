import GGUF

/// The shape of a Llama-architecture model, read from `llama.*` metadata.
package struct ModelHyperparameters: Sendable, Equatable {
    /// The context length the model was trained with.
    package var contextLength: Int
    /// Width of the residual stream (`n_embd`).
    package var embeddingLength: Int
    /// Number of transformer blocks.
    package var blockCount: Int
    /// Hidden width of the feed-forward network.
    package var feedForwardLength: Int
    /// Number of query heads.
    package var headCount: Int
    /// Number of key/value heads (smaller than `headCount` with grouped-query attention).
    package var kvHeadCount: Int
    /// Width of one attention head.
    package var headDimension: Int
    /// RMSNorm epsilon.
    package var rmsEpsilon: Float
    /// RoPE frequency base.
    package var ropeBase: Double
    /// Number of rotated dimensions per head.
    package var ropeDimensions: Int
    /// Linear RoPE position scale (1 / scaling factor; 1 when unscaled).
    package var ropePositionScale: Double
    /// Vocabulary size (rows of the embedding table).
    package var vocabularySize: Int

    /// Query heads per key/value head.
    package var groupSize: Int { headCount / kvHeadCount }
    /// Width of all query heads together.
    package var queryWidth: Int { headCount * headDimension }
    /// Width of all key (or value) heads together.
    package var kvWidth: Int { kvHeadCount * headDimension }

    /// Limits that keep a hostile file from asking for absurd allocations before any tensor is checked.
    static let maximumBlocks = 512
    static let maximumWidth = 1 << 17

    /// Reads and validates the hyperparameters of `file`.
    package init(file: GGUFFile) throws(ModelError) {
        let metadata = file.metadata
        guard let architecture = metadata["general.architecture"]?.stringValue else {
            throw .missingKey("general.architecture")
        }
        guard architecture == "llama" else { throw .unsupportedArchitecture(architecture) }
        func integer(_ key: String, default value: Int? = nil) throws(ModelError) -> Int {
            let full = "llama." + key
            guard let raw = metadata[full] else {
                if let value { return value }
                throw .missingKey(full)
            }
            guard let v = raw.intValue else { throw .invalidKey(full, reason: "is a \(raw.typeDescription), not an integer") }
            return v
        }
        func number(_ key: String, default value: Double) throws(ModelError) -> Double {
            let full = "llama." + key
            guard let raw = metadata[full] else { return value }
            guard let v = raw.doubleValue, v.isFinite else {
                throw .invalidKey(full, reason: "is not a finite number")
            }
            return v
        }
        contextLength = try integer("context_length")
        embeddingLength = try integer("embedding_length")
        blockCount = try integer("block_count")
        feedForwardLength = try integer("feed_forward_length")
        headCount = try integer("attention.head_count")
        kvHeadCount = try integer("attention.head_count_kv", default: headCount)
        guard headCount > 0, embeddingLength > 0 else {
            throw .invalidHyperparameters("embedding length and head count must be positive")
        }
        headDimension = try integer("attention.key_length", default: embeddingLength / headCount)
        rmsEpsilon = Float(try number("attention.layer_norm_rms_epsilon", default: 1e-5))
        ropeBase = try number("rope.freq_base", default: 10_000)
        ropeDimensions = try integer("rope.dimension_count", default: headDimension)
        var scale = 1.0
        if let type = metadata["llama.rope.scaling.type"]?.stringValue, type != "none" {
            guard type == "linear" else {
                throw .invalidKey("llama.rope.scaling.type", reason: "is '\(type)'; only 'linear' scaling is supported")
            }
            let factor = try number("rope.scaling.factor", default: 1)
            guard factor > 0 else { throw .invalidKey("llama.rope.scaling.factor", reason: "must be positive") }
            scale = 1 / factor
        } else if metadata["llama.rope.scale_linear"] != nil {
            let factor = try number("rope.scale_linear", default: 1)
            guard factor > 0 else { throw .invalidKey("llama.rope.scale_linear", reason: "must be positive") }
            scale = 1 / factor
        }
        ropePositionScale = scale
        if let embedding = file.tensor(named: "token_embd.weight"), embedding.dimensions.count == 2 {
            vocabularySize = embedding.dimensions[1]
        } else {
            vocabularySize = try integer("vocab_size", default: metadata["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0)
        }
        try validate()
    }

    /// Creates hyperparameters directly (tests, synthetic models); they are validated.
    package init(
        contextLength: Int, embeddingLength: Int, blockCount: Int, feedForwardLength: Int, headCount: Int,
        kvHeadCount: Int, rmsEpsilon: Float = 1e-5, ropeBase: Double = 10_000, vocabularySize: Int
    ) throws(ModelError) {
        self.contextLength = contextLength
        self.embeddingLength = embeddingLength
        self.blockCount = blockCount
        self.feedForwardLength = feedForwardLength
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDimension = embeddingLength / max(1, headCount)
        self.rmsEpsilon = rmsEpsilon
        self.ropeBase = ropeBase
        self.ropeDimensions = headDimension
        self.ropePositionScale = 1
        self.vocabularySize = vocabularySize
        try validate()
    }

    private func validate() throws(ModelError) {
        func check(_ condition: Bool, _ reason: String) throws(ModelError) {
            if !condition { throw .invalidHyperparameters(reason) }
        }
        try check(contextLength > 0, "context length must be positive")
        try check((1...Self.maximumBlocks).contains(blockCount), "block count \(blockCount) is outside 1–\(Self.maximumBlocks)")
        for (name, value) in [
            ("embedding length", embeddingLength), ("feed-forward length", feedForwardLength),
            ("head dimension", headDimension), ("vocabulary size", vocabularySize),
        ] {
            try check((1...Self.maximumWidth * 4).contains(value), "\(name) \(value) is out of range")
        }
        try check(kvHeadCount > 0 && headCount % kvHeadCount == 0,
                  "head count \(headCount) is not a multiple of the key/value head count \(kvHeadCount)")
        try check(embeddingLength % 32 == 0 && feedForwardLength % 32 == 0 && queryWidth % 32 == 0,
                  "widths must be multiples of 32")
        try check(headDimension % 2 == 0, "head dimension must be even")
        try check(ropeDimensions > 0 && ropeDimensions <= headDimension && ropeDimensions % 2 == 0,
                  "RoPE dimension count \(ropeDimensions) must be even and at most the head dimension \(headDimension)")
        try check(rmsEpsilon.isFinite && rmsEpsilon >= 0, "RMS epsilon must be a non-negative number")
        try check(ropeBase > 0, "RoPE base must be positive")
    }
}
