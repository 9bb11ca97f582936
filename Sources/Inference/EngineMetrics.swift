/// A snapshot of the engine's state and counters for `/metrics` and logs, readable without waiting for the
/// engine (which may be in the middle of a forward pass).
package struct EngineMetrics: Sendable, Equatable {
    package var runningSequences = 0
    package var waitingRequests = 0
    package var kvBlocksUsed = 0
    package var kvBlocksTotal = 0
    package var kvBlockSize = 0
    package var kvBytesTotal = 0
    package var prefixCacheQueriedTokens = 0
    package var prefixCacheHitTokens = 0
    package var prefixCacheBlocks = 0
    package var promptTokensTotal = 0
    package var generatedTokensTotal = 0
    package var preemptionsTotal = 0
    package var stepsTotal = 0
    package var requestsFinished = 0

    package init() {}

    /// The fraction of KV blocks in use, 0…1.
    package var kvUsage: Double { kvBlocksTotal == 0 ? 0 : Double(kvBlocksUsed) / Double(kvBlocksTotal) }
}
