import Model
import Tokenization

/// Keeps the KV blocks of computed prompt prefixes so later sequences that start the same way (a shared system
/// prompt, the earlier turns of a conversation) reuse them instead of recomputing, as vLLM's automatic prefix
/// caching does.
///
/// Only full blocks are cached. An entry is keyed by its parent entry's serial number and its own tokens, so a
/// match is exact (no hash collisions) and an evicted parent makes its descendants unreachable for good.
/// Entries hold one reference on their block; when the cache needs room it evicts, least recently used first,
/// entries whose block no running sequence holds.
struct PrefixCache {
    private struct Key: Hashable {
        let parent: Int
        let tokens: [TokenID]
    }

    private struct Entry {
        let serial: Int
        let block: Int32
        var lastUse: Int
    }

    private var entries: [Key: Entry] = [:]
    private var keysBySerial: [Int: Key] = [:]
    private var nextSerial = 1
    private var clock = 0
    /// Bound on cached blocks (the LRU bound), beyond the KV budget's own.
    let capacity: Int
    /// Prompt tokens looked up, and how many of them were found cached (for /metrics).
    private(set) var queriedTokens = 0
    private(set) var hitTokens = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { entries.count }

    /// The cached blocks covering the longest prefix of `tokens` made of full blocks, leaving at least two
    /// tokens to compute (the last one's logits are needed, and a lone prompt token would be summed in decode
    /// order, unlike the same token computed without the cache). Each returned block is not yet retained for the
    /// caller.
    mutating func lookup(_ tokens: [TokenID], blockSize: Int) -> [Int32] {
        clock += 1
        queriedTokens += tokens.count
        var blocks: [Int32] = []
        var parent = 0
        let usable = max(0, tokens.count - 2) / blockSize
        for index in 0..<usable {
            let key = Key(parent: parent, tokens: Array(tokens[(index * blockSize)..<((index + 1) * blockSize)]))
            guard var entry = entries[key] else { break }
            entry.lastUse = clock
            entries[key] = entry
            blocks.append(entry.block)
            parent = entry.serial
        }
        hitTokens += blocks.count * blockSize
        return blocks
    }

    /// Records the full, computed blocks of a sequence (`computed` tokens of `tokens` are in `blocks`).
    mutating func insert(_ tokens: [TokenID], computed: Int, blocks: [Int32], cache: KVCache) {
        clock += 1
        var parent = 0
        let full = min(computed / cache.blockSize, blocks.count)
        for index in 0..<full {
            let key = Key(parent: parent, tokens: Array(tokens[(index * cache.blockSize)..<((index + 1) * cache.blockSize)]))
            if let entry = entries[key] {
                parent = entry.serial
                continue
            }
            if entries.count >= capacity && !evictOne(cache: cache) { return }
            let serial = nextSerial
            nextSerial += 1
            cache.retain(blocks[index])
            entries[key] = Entry(serial: serial, block: blocks[index], lastUse: clock)
            keysBySerial[serial] = key
            parent = serial
        }
    }

    /// Frees the least recently used entry whose block only the cache holds. Returns false if there is none.
    @discardableResult
    mutating func evictOne(cache: KVCache) -> Bool {
        var victim: (Key, Entry)?
        for (key, entry) in entries where cache.referenceCount(entry.block) == 1 {
            if victim.map({ entry.lastUse < $0.1.lastUse }) ?? true { victim = (key, entry) }
        }
        guard let (key, entry) = victim else { return false }
        entries[key] = nil
        keysBySerial[entry.serial] = nil
        cache.releaseBlock(entry.block)
        return true
    }

    /// Drops every entry (their blocks are released).
    mutating func removeAll(cache: KVCache) {
        for entry in entries.values { cache.releaseBlock(entry.block) }
        entries.removeAll()
        keysBySerial.removeAll()
    }
}
