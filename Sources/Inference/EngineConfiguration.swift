/// How the engine uses the machine: threads, batch sizes, KV memory, queue limits.
package struct EngineConfiguration: Sendable, Equatable {
    /// Compute threads (the engine's own thread included).
    package var threads: Int
    /// The most sequences decoding at once (`--parallel`).
    package var maxRunning: Int = 8
    /// The most tokens one forward pass processes (the per-step budget; prompts are chunked to fit).
    package var maxBatchTokens: Int = 512
    /// The longest sequence (prompt plus output) one request may use (`--ctx-size`); independent of
    /// `maxRunning`.
    package var contextLength: Int
    /// The KV cache budget shared by all sequences, in bytes (`--kv-cache-mib`).
    package var kvCacheBytes: Int
    /// Token slots per KV block.
    package var kvBlockSize: Int = 16
    /// Store keys and values as binary16 (otherwise float32).
    package var halfPrecisionKV: Bool = true
    /// Requests allowed to wait for a running slot; beyond this, new requests are refused at once.
    package var maxQueue: Int = 64
    /// How long a request may wait in the queue before it fails.
    package var queueTimeout: Duration = .seconds(300)
    /// The most choices (`n`) one request may ask for.
    package var maxChoices: Int = 8
    /// Reuse the KV of computed prompt prefixes.
    package var prefixCaching: Bool = true
    /// While sequences are decoding, a step computes only as many prompt tokens as fit in about this many
    /// seconds (chunked prefill), so streams keep flowing while a long prompt is processed.
    package var interactiveStepSeconds: Double = 0.2
    /// Logits rows one step may produce (decode tokens, prompt ends, prompt log-probabilities).
    package var maxLogitsRows: Int = 64

    package init(threads: Int, contextLength: Int, kvCacheBytes: Int) {
        self.threads = threads
        self.contextLength = contextLength
        self.kvCacheBytes = kvCacheBytes
    }
}
