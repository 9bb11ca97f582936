/// BPE merge rules keyed by the pair of token ids they join: `(left, right) → (rank, merged token)`.
///
/// Keys are id pairs, not strings, so the merge loop never concatenates or hashes text: a symbol is a token
/// id from the start (every byte has a token in a byte-level vocabulary) and stays one after each merge,
/// because the loader requires every merge's result to be a token. Open addressing with linear probing on a
/// power-of-two table at most half full.
package struct MergeTable: Sendable {
    /// Per slot: `left << 32 | right`, or `emptyKey`.
    private let keys: [UInt64]
    /// Per slot: `rank << 32 | merged`.
    private let values: [UInt64]
    private let mask: Int
    /// The number of distinct rules.
    package let count: Int

    private static let emptyKey = UInt64.max

    /// A table with no rules (SentencePiece vocabularies).
    package static let empty = MergeTable(rules: [])

    /// One rule: `left` followed by `right` becomes `merged`.
    package struct Rule: Sendable, Equatable {
        package var left: TokenID
        package var right: TokenID
        package var merged: TokenID
        package init(left: TokenID, right: TokenID, merged: TokenID) {
            self.left = left
            self.right = right
            self.merged = merged
        }
    }

    /// Builds the table. A rule's rank is its position in `rules`; when a pair appears twice the first (best)
    /// rank wins, as in llama.cpp's `bpe_ranks.emplace`.
    package init(rules: [Rule]) {
        var capacity = 16
        while capacity < rules.count * 2 { capacity <<= 1 }
        var keys = [UInt64](repeating: Self.emptyKey, count: capacity)
        var values = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        var count = 0
        for (rank, rule) in rules.enumerated() {
            let key = Self.key(rule.left, rule.right)
            var slot = Self.slot(for: key, mask: mask)
            while keys[slot] != Self.emptyKey, keys[slot] != key { slot = (slot + 1) & mask }
            guard keys[slot] == Self.emptyKey else { continue }
            keys[slot] = key
            values[slot] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: rule.merged))
            count += 1
        }
        self.keys = keys
        self.values = values
        self.mask = mask
        self.count = count
    }

    /// The rank and result of merging `left` with `right`, or nil when no rule joins them.
    @inline(__always)
    package func merge(_ left: TokenID, _ right: TokenID) -> (rank: Int32, merged: TokenID)? {
        let key = Self.key(left, right)
        var slot = Self.slot(for: key, mask: mask)
        while true {
            let found = keys[slot]
            if found == key {
                let value = values[slot]
                return (Int32(truncatingIfNeeded: value >> 32), TokenID(truncatingIfNeeded: value & 0xFFFF_FFFF))
            }
            if found == Self.emptyKey { return nil }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private static func key(_ left: TokenID, _ right: TokenID) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(for key: UInt64, mask: Int) -> Int {
        // Fibonacci hashing: the multiply spreads both halves of the key over the high bits.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }
}
