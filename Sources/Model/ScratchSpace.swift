import Kernels

/// Preallocated activations for forward calls of up to `tokenCapacity` tokens (llama2.c's `RunState`), so that
/// nothing is allocated per token.
package final class ScratchSpace: @unchecked Sendable {
    // Sendable because only the engine thread that owns the model uses it.
    package let tokenCapacity: Int
    package let logitsCapacity: Int
    package let contextCapacity: Int
    package let workerCount: Int

    let hidden: UnsafeMutablePointer<Float>       // (token, embedding) residual stream
    let normalized: UnsafeMutablePointer<Float>   // (token, embedding)
    let query: UnsafeMutablePointer<Float>        // (token, queryWidth)
    let key: UnsafeMutablePointer<Float>          // (token, kvWidth)
    let value: UnsafeMutablePointer<Float>        // (token, kvWidth)
    let attention: UnsafeMutablePointer<Float>    // (token, queryWidth)
    let projected: UnsafeMutablePointer<Float>    // (token, embedding) attention output / FFN output
    let gate: UnsafeMutablePointer<Float>         // (token, feedForward)
    let up: UnsafeMutablePointer<Float>           // (token, feedForward)
    let rope: UnsafeMutablePointer<Float>         // (token, ropeDimensions) cos/sin pairs
    let attentionScratch: UnsafeMutablePointer<Float>  // (worker, attentionScratchStride)
    let attentionScratchStride: Int
    let selected: UnsafeMutablePointer<Float>     // (logits row, embedding) final hidden states needing logits
    /// Logits of the tokens that asked for them, in batch order: (logits row, vocabulary).
    package let logits: UnsafeMutablePointer<Float>
    let quantizedEmbedding: Q8Activations
    let quantizedAttention: Q8Activations
    let quantizedFeedForward: Q8Activations
    let vocabularySize: Int

    /// Allocates scratch space for `model`'s shape.
    package init(
        hyperparameters h: ModelHyperparameters, tokenCapacity: Int, logitsCapacity: Int, contextCapacity: Int,
        workerCount: Int
    ) {
        self.tokenCapacity = tokenCapacity
        self.logitsCapacity = logitsCapacity
        self.contextCapacity = contextCapacity
        self.workerCount = workerCount
        vocabularySize = h.vocabularySize
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            p.initialize(repeating: 0, count: max(1, count))
            return p
        }
        let t = tokenCapacity
        hidden = buffer(t * h.embeddingLength)
        normalized = buffer(t * h.embeddingLength)
        query = buffer(t * h.queryWidth)
        key = buffer(t * h.kvWidth)
        value = buffer(t * h.kvWidth)
        attention = buffer(t * h.queryWidth)
        projected = buffer(t * h.embeddingLength)
        gate = buffer(t * h.feedForwardLength)
        up = buffer(t * h.feedForwardLength)
        rope = buffer(t * h.ropeDimensions)
        attentionScratchStride = attentionScratchCount(context: contextCapacity, headDimension: h.headDimension)
        attentionScratch = buffer(workerCount * attentionScratchStride)
        selected = buffer(logitsCapacity * h.embeddingLength)
        logits = buffer(logitsCapacity * h.vocabularySize)
        quantizedEmbedding = Q8Activations(rowLength: h.embeddingLength, rowCapacity: max(t, logitsCapacity))
        quantizedAttention = Q8Activations(rowLength: h.queryWidth, rowCapacity: t)
        quantizedFeedForward = Q8Activations(rowLength: h.feedForwardLength, rowCapacity: t)
    }

    deinit {
        for p in [hidden, normalized, query, key, value, attention, projected, gate, up, rope, attentionScratch, selected, logits] {
            p.deallocate()
        }
        quantizedEmbedding.deallocate()
        quantizedAttention.deallocate()
        quantizedFeedForward.deallocate()
    }

    /// The logits of the `row`-th token that asked for them.
    package func logits(row: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: logits + row * vocabularySize, count: vocabularySize)
    }
}
