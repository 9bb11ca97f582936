import Kernels

/// The key/value cache: one memory budget shared by all sequences, handed out in fixed-size blocks of token
/// slots (paged, as vLLM does), so a short sequence holds only the blocks it fills.
///
/// Storage, for keys and for values separately:
/// ```
/// layer 0: block 0 … block N-1    (each block: kvHeads × blockSize × headDimension elements, see PagedKVLayer)
/// layer 1: …
/// ```
/// Blocks are reference-counted so sequences can share a prefix (forks, prefix caching); a shared block is
/// never written: `makeWritable` copies it first.
package final class KVCache: @unchecked Sendable {
    // Sendable because the engine confines all use to its own thread; the class is not otherwise synchronized.
    /// Whether elements are stored as `Float16` (otherwise `Float`).
    package let isHalf: Bool
    /// Token slots per block.
    package let blockSize: Int
    /// Total number of blocks.
    package let blockCount: Int
    package let layers: Int
    package let kvHeads: Int
    package let headDimension: Int

    private let keys: UnsafeMutableRawPointer
    private let values: UnsafeMutableRawPointer
    private let blockBytes: Int
    private var freeBlocks: [Int32]
    private var referenceCounts: [Int32]

    /// The number of blocks the given memory budget holds for a model of this shape.
    package static func blockCount(
        budgetBytes: Int, layers: Int, kvHeads: Int, headDimension: Int, blockSize: Int, isHalf: Bool
    ) -> Int {
        let perBlock = 2 * layers * kvHeads * headDimension * blockSize * (isHalf ? 2 : 4)
        return max(0, budgetBytes / perBlock)
    }

    /// Allocates the cache. Memory is reserved, not touched: pages become resident as blocks are first written.
    package init(layers: Int, kvHeads: Int, headDimension: Int, blockSize: Int = 16, blockCount: Int, isHalf: Bool = true) {
        precondition(blockCount < Int(Int32.max), "too many KV blocks")
        self.isHalf = isHalf
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDimension = headDimension
        blockBytes = kvHeads * blockSize * headDimension * (isHalf ? 2 : 4)
        let total = max(1, layers * blockCount * blockBytes)
        keys = .allocate(byteCount: total, alignment: 64)
        values = .allocate(byteCount: total, alignment: 64)
        freeBlocks = (0..<Int32(blockCount)).reversed()
        referenceCounts = [Int32](repeating: 0, count: blockCount)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes reserved for keys and values.
    package var byteCount: Int { 2 * layers * blockCount * blockBytes }
    /// Blocks currently held by at least one sequence.
    package var usedBlockCount: Int { blockCount - freeBlocks.count }
    /// Blocks available.
    package var freeBlockCount: Int { freeBlocks.count }
    /// Bytes of the blocks currently in use.
    package var usedByteCount: Int { 2 * layers * usedBlockCount * blockBytes }

    /// The view of layer `layer` the attention kernels read and write.
    package func layer(_ layer: Int) -> PagedKVLayer {
        let offset = layer * blockCount * blockBytes
        return PagedKVLayer(
            keys: keys + offset, values: values + offset, isHalf: isHalf, blockSize: blockSize, kvHeads: kvHeads,
            headDimension: headDimension)
    }

    /// How many blocks `tokens` token slots need.
    package func blocksNeeded(forTokens tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// Grows `sequence`'s block table to hold `tokens` tokens. Returns false, changing nothing, when there are
    /// not enough free blocks.
    package func reserve(_ sequence: inout KVSequence, tokens: Int) -> Bool {
        let needed = blocksNeeded(forTokens: tokens) - sequence.blocks.count
        guard needed > 0 else { return true }
        guard needed <= freeBlocks.count else { return false }
        for _ in 0..<needed {
            let block = freeBlocks.removeLast()
            referenceCounts[Int(block)] = 1
            sequence.blocks.append(block)
        }
        return true
    }

    /// Returns all of `sequence`'s blocks (those still shared stay with their other holders).
    package func release(_ sequence: inout KVSequence) {
        for block in sequence.blocks { releaseBlock(block) }
        sequence.blocks.removeAll()
        sequence.length = 0
    }

    /// Shortens `sequence` to its first `length` tokens, returning blocks past them.
    package func truncate(_ sequence: inout KVSequence, to length: Int) {
        let keep = blocksNeeded(forTokens: length)
        while sequence.blocks.count > keep { releaseBlock(sequence.blocks.removeLast()) }
        sequence.length = min(sequence.length, length)
    }

    /// A new sequence sharing `sequence`'s blocks (its prefix). Writes to either go through `makeWritable`.
    package func fork(_ sequence: KVSequence) -> KVSequence {
        for block in sequence.blocks { referenceCounts[Int(block)] += 1 }
        return sequence
    }

    /// A new sequence holding `blocks` (each gets one more reference) as the KV of its first `length` tokens.
    package func share(blocks: [Int32], length: Int) -> KVSequence {
        for block in blocks { referenceCounts[Int(block)] += 1 }
        return KVSequence(blocks: blocks, length: length)
    }

    /// The number of holders of `block`.
    package func referenceCount(_ block: Int32) -> Int { Int(referenceCounts[Int(block)]) }

    /// Takes one reference to `block` (for a cache that keeps blocks beyond their sequence's life).
    package func retain(_ block: Int32) { referenceCounts[Int(block)] += 1 }

    /// Drops one reference to `block`, freeing it when none remain.
    package func releaseBlock(_ block: Int32) {
        let i = Int(block)
        precondition(referenceCounts[i] > 0, "KV block released more often than held")
        referenceCounts[i] -= 1
        if referenceCounts[i] == 0 { freeBlocks.append(block) }
    }

    /// Ensures every block of `sequence` holding positions at or after `position` is owned by it alone, copying
    /// shared ones (copy-on-write). Returns false when no free block is left for a copy.
    package func makeWritable(_ sequence: inout KVSequence, from position: Int) -> Bool {
        var index = position / blockSize
        while index < sequence.blocks.count {
            let block = sequence.blocks[index]
            if referenceCounts[Int(block)] > 1 {
                guard let copy = freeBlocks.popLast() else { return false }
                referenceCounts[Int(copy)] = 1
                for l in 0..<layers {
                    let base = l * blockCount * blockBytes
                    (keys + base + Int(copy) * blockBytes).copyMemory(
                        from: keys + base + Int(block) * blockBytes, byteCount: blockBytes)
                    (values + base + Int(copy) * blockBytes).copyMemory(
                        from: values + base + Int(block) * blockBytes, byteCount: blockBytes)
                }
                releaseBlock(block)
                sequence.blocks[index] = copy
            }
            index += 1
        }
        return true
    }
}

/// One sequence's share of the KV cache: its block table and the number of positions written.
package struct KVSequence: Sendable, Equatable {
    /// Block ids in position order: position `p` lives in `blocks[p / blockSize]`, slot `p % blockSize`.
    package var blocks: [Int32]
    /// Positions `0..<length` hold computed keys and values.
    package var length: Int

    package init(blocks: [Int32] = [], length: Int = 0) {
        self.blocks = blocks
        self.length = length
    }
}
