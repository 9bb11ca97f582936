/// BPE merge rules keyed by the pair of token ids they join: `(left, right) → (rank, merged token)`.
///
/// Keys are id pairs, not strings, so the merge loop never concatenates or hashes text: a symbol is a token
/// id from the start (every byte has a token in a byte-level vocabulary) and stays one after each merge,
/// because the loader requires every merge's result to be a token. Open addressing with linear probing on a
/// power-of-two table at most half full.
package struct MergeTable: Sendable {
    /// One slot: key `left << 32 | right` (or `emptyKey`) and value `rank << 32 | merged`, side by side so a
    /// probe touches one cache line.
    private struct Slot {
        var key: UInt64
        var value: UInt64
    }

    private let slots: [Slot]
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
        var slots = [Slot](repeating: Slot(key: Self.emptyKey, value: 0), count: capacity)
        let mask = capacity - 1
        var count = 0
        for (rank, rule) in rules.enumerated() {
            let key = Self.key(rule.left, rule.right)
            var slot = Self.slot(for: key, mask: mask)
            while slots[slot].key != Self.emptyKey, slots[slot].key != key { slot = (slot + 1) & mask }
            guard slots[slot].key == Self.emptyKey else { continue }
            slots[slot] = Slot(key: key, value: UInt64(rank) << 32 | UInt64(UInt32(bitPattern: rule.merged)))
            count += 1
        }
        self.slots = slots
        self.mask = mask
        self.count = count
    }

    /// The rank and result of merging `left` with `right`, or nil when no rule joins them.
    @inline(__always)
    package func merge(_ left: TokenID, _ right: TokenID) -> (rank: Int32, merged: TokenID)? {
        let key = Self.key(left, right)
        var slot = Self.slot(for: key, mask: mask)
        while true {
            let found = slots[slot].key
            if found == key {
                let value = slots[slot].value
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
