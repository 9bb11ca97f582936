import GGUF
import Kernels

/// A Llama-architecture transformer (Llama 2, TinyLlama, SmolLM2, …) running on the CPU directly over the
/// quantized weights of a memory-mapped GGUF file.
package final class LlamaModel: Sendable {
    package let hyperparameters: ModelHyperparameters
    package let weights: LlamaWeights
    package let rotaryEmbedding: RotaryEmbedding

    /// Loads the model described by `file`, validating hyperparameters and every tensor's shape and type;
    /// `loadThreads` threads repack weights that have a faster layout unless `repackWeights` is false (see
    /// `LlamaWeights`).
    package init(file: GGUFFile, loadThreads: Int = 1, repackWeights: Bool = true) throws(ModelError) {
        let h = try ModelHyperparameters(file: file)
        hyperparameters = h
        weights = try LlamaWeights(file: file, hyperparameters: h, loadThreads: loadThreads, repack: repackWeights)
        rotaryEmbedding = RotaryEmbedding(
            dimensions: h.ropeDimensions, base: h.ropeBase, positionScale: h.ropePositionScale,
            frequencyFactors: weights.ropeFrequencyFactors)
    }

    /// Runs one forward pass over `batch`, writing each token's keys and values into the cache and the logits of
    /// the tokens that need them into `scratch.logits` (in batch order).
    ///
    /// The caller has reserved (and made writable) cache blocks for every position in the batch; token ids are
    /// below the vocabulary size. Each sequence's results are independent of what else is in the batch.
    ///
    /// - Returns: the number of logits rows written.
    @discardableResult
    package func forward(
        _ batch: ForwardBatch, sequences: [KVSequence], cache: KVCache, scratch: ScratchSpace, pool: ThreadPool
    ) -> Int {
        let h = hyperparameters
        let count = batch.count
        let d = h.embeddingLength
        precondition(count <= scratch.tokenCapacity, "batch larger than the scratch space")
        precondition(batch.logitsCount <= scratch.logitsCapacity, "too many logits rows for the scratch space")
        guard count > 0 else { return 0 }

        // Embedding lookup and rotation tables, per token.
        pool.parallelFor(count) { range, _ in
            for t in range {
                let token = Int(batch.tokens[t])
                precondition(token >= 0 && token < h.vocabularySize, "token id out of range")
                precondition(batch.positions[t] < scratch.contextCapacity, "position beyond the context capacity")
                dequantize(
                    weights.tokenEmbedding.format, weights.tokenEmbedding.row(token), count: d,
                    into: scratch.hidden + t * d)
                rotaryEmbedding.fillTable(position: batch.positions[t], into: scratch.rope + t * h.ropeDimensions)
            }
        }

        // llama.cpp sums attention in another order when a step computes more than one token (see
        // `AttentionSummation`). We choose per sequence, by its own tokens in this call, so that its numbers do
        // not depend on its batch-mates.
        var tokensPerSequence = [Int](repeating: 0, count: sequences.count)
        for t in 0..<count { tokensPerSequence[batch.sequences[t]] += 1 }
        let summation = tokensPerSequence.map { $0 > 1 ? AttentionSummation.tokenBatch : .singleToken }

        for (layerIndex, block) in weights.blocks.enumerated() {
            attentionSublayer(
                block, layer: cache.layer(layerIndex), batch: batch, sequences: sequences, summation: summation,
                scratch: scratch, pool: pool)
            feedForwardSublayer(block, count: count, scratch: scratch, pool: pool)
        }

        // Final norm and output head for the tokens that need logits only.
        var rows = 0
        for t in 0..<count where batch.needsLogits[t] {
            (scratch.selected + rows * d).update(from: scratch.hidden + t * d, count: d)
            rows += 1
        }
        guard rows > 0 else { return 0 }
        normalize(scratch.selected, weight: weights.outputNorm, rows: rows, into: scratch.selected, pool: pool)
        project(weights.output, scratch.selected, rows: rows, quantized: scratch.quantizedEmbedding,
                into: scratch.logits, pool: pool)
        return rows
    }

    // MARK: - Sublayers

    private func attentionSublayer(
        _ block: LlamaBlockWeights, layer: PagedKVLayer, batch: ForwardBatch, sequences: [KVSequence],
        summation: [AttentionSummation], scratch: ScratchSpace, pool: ThreadPool
    ) {
        let h = hyperparameters
        let count = batch.count
        let hd = h.headDimension
        normalize(scratch.hidden, weight: block.attentionNorm, rows: count, into: scratch.normalized, pool: pool)
        let input = quantizedInput(
            scratch.normalized, rows: count, columns: h.embeddingLength, q8: scratch.quantizedEmbedding,
            needed: block.query.usesQuantizedInput || block.key.usesQuantizedInput
                || block.value.usesQuantizedInput, pool: pool)
        multiply(
            (block.query, block.key, block.value), input, into: (scratch.query, scratch.key, scratch.value), pool: pool)

        // Rotate queries and keys, then store every token's keys and values before any token attends: later
        // tokens of a sequence in this batch read the earlier ones from the cache.
        pool.parallelFor(count) { range, _ in
            for t in range {
                let table = UnsafePointer(scratch.rope + t * h.ropeDimensions)
                rotaryEmbedding.apply(scratch.query + t * h.queryWidth, heads: h.headCount, headDimension: hd, table: table)
                rotaryEmbedding.apply(scratch.key + t * h.kvWidth, heads: h.kvHeadCount, headDimension: hd, table: table)
                let position = batch.positions[t]
                let sequence = sequences[batch.sequences[t]]
                layer.store(
                    keys: scratch.key + t * h.kvWidth, values: scratch.value + t * h.kvWidth,
                    block: Int(sequence.blocks[position / layer.blockSize]), slot: position % layer.blockSize)
            }
        }

        let scale = 1 / Float(hd).squareRoot()
        pool.parallelFor(count * h.headCount) { range, worker in
            let workspace = scratch.attentionScratch + worker * scratch.attentionScratchStride
            for item in range {
                let t = item / h.headCount
                let head = item % h.headCount
                let sequence = sequences[batch.sequences[t]]
                sequence.blocks.withUnsafeBufferPointer { table in
                    attendHead(
                        query: scratch.query + t * h.queryWidth + head * hd, kvHead: head / h.groupSize, layer: layer,
                        blockTable: table.baseAddress!, length: batch.positions[t] + 1, scale: scale,
                        summation: summation[batch.sequences[t]], scratch: workspace,
                        into: scratch.attention + t * h.queryWidth + head * hd)
                }
            }
        }

        project(block.attentionOutput, scratch.attention, rows: count, quantized: scratch.quantizedAttention,
                into: scratch.projected, pool: pool)
        addResidual(scratch.projected, into: scratch.hidden, count: count * h.embeddingLength)
    }

    private func feedForwardSublayer(_ block: LlamaBlockWeights, count: Int, scratch: ScratchSpace, pool: ThreadPool) {
        let h = hyperparameters
        let ff = h.feedForwardLength
        normalize(scratch.hidden, weight: block.feedForwardNorm, rows: count, into: scratch.normalized, pool: pool)
        let input = quantizedInput(
            scratch.normalized, rows: count, columns: h.embeddingLength, q8: scratch.quantizedEmbedding,
            needed: block.gate.usesQuantizedInput || block.up.usesQuantizedInput, pool: pool)
        multiply((block.gate, block.up, nil), input, into: (scratch.gate, scratch.up, nil), pool: pool)
        pool.parallelFor(count) { range, _ in
            for t in range { swiGLU(gate: scratch.gate + t * ff, up: scratch.up + t * ff, count: ff) }
        }
        project(block.down, scratch.gate, rows: count, quantized: scratch.quantizedFeedForward,
                into: scratch.projected, pool: pool)
        addResidual(scratch.projected, into: scratch.hidden, count: count * h.embeddingLength)
    }

    // MARK: - Helpers

    private func normalize(
        _ x: UnsafeMutablePointer<Float>, weight: [Float], rows: Int, into y: UnsafeMutablePointer<Float>,
        pool: ThreadPool
    ) {
        let d = hyperparameters.embeddingLength
        let epsilon = hyperparameters.rmsEpsilon
        weight.withUnsafeBufferPointer { w in
            pool.parallelFor(rows) { range, _ in
                rmsNorm(
                    x + range.lowerBound * d, weight: w.baseAddress!, count: d, rows: range.count, epsilon: epsilon,
                    into: y + range.lowerBound * d)
            }
        }
    }

    private func quantizedInput(
        _ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, q8: Q8Activations, needed: Bool, pool: ThreadPool
    ) -> MatrixInput {
        if needed {
            pool.parallelFor(rows) { range, _ in
                q8.quantize(x + range.lowerBound * columns, rows: range.count, firstRow: range.lowerBound)
            }
        }
        return MatrixInput(floats: x, quantized: needed ? q8 : nil, count: rows, columns: columns)
    }

    private func project(
        _ weights: MatrixView, _ x: UnsafeMutablePointer<Float>, rows: Int, quantized: Q8Activations,
        into y: UnsafeMutablePointer<Float>, pool: ThreadPool
    ) {
        let input = quantizedInput(
            x, rows: rows, columns: weights.columns, q8: quantized, needed: weights.usesQuantizedInput, pool: pool)
        multiply(weights, input, into: y, pool: pool)
    }

    private func addResidual(_ x: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        addInPlace(y, x, count: count)
    }
}
