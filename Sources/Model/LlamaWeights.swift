import GGUF
import Kernels

/// The weights of one transformer block, as views into the mapped file (norm vectors are copied to floats).
package struct LlamaBlockWeights: Sendable {
    package let attentionNorm: [Float]      // (embedding)
    package let query: MatrixView           // (queryWidth rows, embedding columns)
    package let key: MatrixView             // (kvWidth, embedding)
    package let value: MatrixView           // (kvWidth, embedding)
    package let attentionOutput: MatrixView // (embedding, queryWidth)
    package let feedForwardNorm: [Float]    // (embedding)
    package let gate: MatrixView            // (feedForward, embedding)
    package let up: MatrixView              // (feedForward, embedding)
    package let down: MatrixView            // (embedding, feedForward)
}

/// All weights of a Llama model. Matrices point into the memory-mapped GGUF file, which this value keeps alive,
/// or (Q4_0, Q4_K, Q5_K and Q6_K on x86-64) into interleaved copies of it.
package struct LlamaWeights: Sendable {
    package let file: GGUFFile
    package let tokenEmbedding: MatrixView  // (vocabulary rows, embedding columns)
    package let blocks: [LlamaBlockWeights]
    package let outputNorm: [Float]         // (embedding)
    /// The output head; the token embedding when the model ties them (no `output.weight`).
    package let output: MatrixView          // (vocabulary, embedding)
    /// Whether the output head is the token embedding.
    package let isOutputTied: Bool
    /// Per-pair RoPE frequency divisors (`rope_freqs.weight`), when the model has them.
    package let ropeFrequencyFactors: [Float]?

    /// Maps every tensor the model needs and checks its shape and type against `hyperparameters`.
    ///
    /// With `repack` (on x86-64), Q4_0, Q4_K, Q5_K and Q6_K matrices are copied into the interleaved layout their
    /// fastest kernels read (Decision 5) by `loadThreads` threads, and the copied tensors' file pages are dropped
    /// from resident memory. A matrix the memory cannot be had for stays in the file's layout: same results.
    package init(
        file: GGUFFile, hyperparameters h: ModelHyperparameters, loadThreads: Int = 1, repack: Bool = true
    ) throws(ModelError) {
        self.file = file
        let d = h.embeddingLength
        let tokenEmbedding = try LlamaWeights.matrix(file, "token_embd.weight", rows: h.vocabularySize, columns: d)
        self.tokenEmbedding = tokenEmbedding
        var pool: ThreadPool?
        /// A matrix product's weights, interleaved where that is the faster layout.
        func product(_ name: String, rows: Int, columns: Int) throws(ModelError) -> MatrixView {
            let view = try LlamaWeights.matrix(file, name, rows: rows, columns: columns)
            guard repack && view.canInterleave else { return view }
            if pool == nil { pool = ThreadPool(threadCount: max(1, loadThreads)) }
            // The embedding lookup still reads a tied output head's rows from the file.
            let release = name == "token_embd.weight" ? nil : file.tensor(named: name)
            let rowBytes = view.rowByteCount
            guard let interleaved = view.interleaved(pool: pool!, copied: { rows in
                if let info = release { file.releasePages(of: info, bytes: (rows.lowerBound * rowBytes)..<(rows.upperBound * rowBytes)) }
            }) else { return view }
            // The pages that straddled two slabs.
            if let info = release { file.releasePages(of: info) }
            return interleaved
        }
        var blocks: [LlamaBlockWeights] = []
        for i in 0..<h.blockCount {
            let p = "blk.\(i)."
            blocks.append(LlamaBlockWeights(
                attentionNorm: try LlamaWeights.vector(file, p + "attn_norm.weight", count: d),
                query: try product(p + "attn_q.weight", rows: h.queryWidth, columns: d),
                key: try product(p + "attn_k.weight", rows: h.kvWidth, columns: d),
                value: try product(p + "attn_v.weight", rows: h.kvWidth, columns: d),
                attentionOutput: try product(p + "attn_output.weight", rows: d, columns: h.queryWidth),
                feedForwardNorm: try LlamaWeights.vector(file, p + "ffn_norm.weight", count: d),
                gate: try product(p + "ffn_gate.weight", rows: h.feedForwardLength, columns: d),
                up: try product(p + "ffn_up.weight", rows: h.feedForwardLength, columns: d),
                down: try product(p + "ffn_down.weight", rows: d, columns: h.feedForwardLength)))
        }
        self.blocks = blocks
        outputNorm = try LlamaWeights.vector(file, "output_norm.weight", count: d)
        if file.tensor(named: "output.weight") != nil {
            output = try product("output.weight", rows: h.vocabularySize, columns: d)
            isOutputTied = false
        } else {
            output = repack && tokenEmbedding.canInterleave
                ? try product("token_embd.weight", rows: h.vocabularySize, columns: d) : tokenEmbedding
            isOutputTied = true
        }
        if file.tensor(named: "rope_freqs.weight") != nil {
            ropeFrequencyFactors = try LlamaWeights.vector(file, "rope_freqs.weight", count: h.ropeDimensions / 2)
        } else {
            ropeFrequencyFactors = nil
        }
    }

    /// The compute format of a GGUF tensor type, or nil when the engine has no kernel for it.
    package static func weightFormat(_ type: GGMLType) -> WeightFormat? {
        switch type {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q5_0: .q5_0
        case .q5_1: .q5_1
        case .q8_0: .q8_0
        case .q2_K: .q2_K
        case .q3_K: .q3_K
        case .q4_K: .q4_K
        case .q5_K: .q5_K
        case .q6_K: .q6_K
        default: nil
        }
    }

    private static func matrix(_ file: GGUFFile, _ name: String, rows: Int, columns: Int) throws(ModelError) -> MatrixView {
        guard let info = file.tensor(named: name) else { throw .missingTensor(name) }
        guard info.dimensions == [columns, rows] else {
            throw .tensorShape(name, expected: [columns, rows], actual: info.dimensions)
        }
        guard let format = weightFormat(info.type) else { throw .unsupportedTensorType(name, info.type) }
        // The parser checked that the data lies within the file and that rows are whole blocks.
        return MatrixView(format: format, rows: rows, columns: columns, base: file.bytes(of: info).baseAddress!)
    }

    private static func vector(_ file: GGUFFile, _ name: String, count: Int) throws(ModelError) -> [Float] {
        guard let info = file.tensor(named: name) else { throw .missingTensor(name) }
        guard info.elementCount == count, info.dimensions.count == 1 else {
            throw .tensorShape(name, expected: [count], actual: info.dimensions)
        }
        guard let format = weightFormat(info.type) else { throw .unsupportedTensorType(name, info.type) }
        let bytes = file.bytes(of: info)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            dequantize(format, bytes.baseAddress!, count: count, into: buffer.baseAddress!)
            initialized = count
        }
    }
}
