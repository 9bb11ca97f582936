/// Byte-level BPE as GPT-2, StarCoder, SmolLM2 and Llama 3 use it, matching llama.cpp's `llm_tokenizer_bpe`
/// (build b4748):
///
/// 1. Special tokens are cut out (`PartitionedText`); there is no dummy prefix.
/// 2. Each text fragment is split into words by the vocabulary's `PreTokenizer`.
/// 3. With `Vocabulary.ignoresMerges` (Llama 3), a word that is itself a token is emitted whole.
/// 4. Otherwise each byte of the word starts as the token of its byte-level character, and the adjacent
///    pair with the best (lowest) merge rank is merged until no rule applies (ties: the leftmost). Symbols
///    are token ids and rules are looked up by id pair (`MergeTable`), so no string is built.
///    Words up to `scanLimit` bytes scan their pairs with cached ranks; longer ones (a CJK run can be
///    thousands of bytes) use a priority queue, O(n log n).
///
/// A byte whose character has no token is dropped, as llama.cpp drops it; complete byte-level vocabularies
/// have all 256.
package struct BytePairTokenizer: Tokenizer {
    package let vocabulary: Vocabulary
    private let pieces: PieceTable
    /// The token of each byte's byte-level character, -1 where there is none.
    private let byteTokens: [TokenID]

    /// Longest word merged by scanning instead of with the priority queue.
    static let scanLimit = 96

    package init(vocabulary: Vocabulary) {
        precondition(vocabulary.model == .bytePair, "BytePairTokenizer needs a byte-level BPE vocabulary")
        self.vocabulary = vocabulary
        pieces = PieceTable(count: vocabulary.count) { id, bytes in
            switch vocabulary.types[id] {
            case .normal: ByteLevelAlphabet.decode(vocabulary.textBytes(of: TokenID(id)), into: &bytes)
            case .control, .unknown, .userDefined: bytes.append(contentsOf: vocabulary.textBytes(of: TokenID(id)))
            case .byte, .unused, .undefined: break  // llama.cpp renders nothing for these in BPE vocabularies
            }
        }
        byteTokens = ByteLevelAlphabet.characterForByte.map { character in
            guard let id = vocabulary.texts.id(of: Array(String(character).utf8)),
                vocabulary.types[Int(id)].isMergeable
            else { return -1 }
            return id
        }
    }

    package func piece(for token: TokenID) -> [UInt8] { Array(pieces.piece(token)) }

    package func encode(_ segments: [TextSegment], addSpecial: Bool) -> [TokenID] {
        let partitioned = PartitionedText(segments, vocabulary: vocabulary)
        var output: [TokenID] = []
        output.reserveCapacity(partitioned.bytes.count / 3 + 2)
        if addSpecial, vocabulary.addsBOS, let bos = vocabulary.specialTokens.beginOfSequence { output.append(bos) }
        var session = WordMerger(vocabulary: vocabulary, byteTokens: byteTokens)
        partitioned.bytes.withUnsafeBufferPointer { bytes in
            for fragment in partitioned.fragments {
                switch fragment {
                case .token(let id): output.append(id)
                case .text(let range): session.encode(UnsafeBufferPointer(rebasing: bytes[range]), into: &output)
                }
            }
        }
        if addSpecial, vocabulary.addsEOS, let eos = vocabulary.specialTokens.endOfSequence { output.append(eos) }
        return output
    }

    /// Encodes one word with the scanning merger (`byScanning: true`) or the priority-queue merger, whatever
    /// its length; for tests that check the two agree.
    func encodeWord(_ word: [UInt8], byScanning: Bool) -> [TokenID] {
        var session = WordMerger(vocabulary: vocabulary, byteTokens: byteTokens)
        var output: [TokenID] = []
        word.withUnsafeBufferPointer { session.mergeWord($0, byScanning: byScanning, into: &output) }
        return output
    }
}

/// Pre-tokenizes fragments and merges their words. Its buffers grow to the longest fragment and word seen
/// and are then reused; the hot loops work on unsafe buffers with explicit counts, because per-element
/// `append` (a uniqueness check each) was a large share of the time.
private struct WordMerger {
    let vocabulary: Vocabulary
    let byteTokens: [TokenID]
    private var scalars: [UInt32] = []
    private var classes: [UnicodeClass] = []
    /// Byte offset of each scalar, plus the fragment's length after the last.
    private var offsets: [Int] = []
    private var symbols: [TokenID] = []
    private var ranks: [Int32] = []
    private var results: [TokenID] = []
    private var spelled: [UInt8] = []
    private var queue = MergeQueue()

    init(vocabulary: Vocabulary, byteTokens: [TokenID]) {
        self.vocabulary = vocabulary
        self.byteTokens = byteTokens
    }

    mutating func encode(_ fragment: UnsafeBufferPointer<UInt8>, into output: inout [TokenID]) {
        let count = decodeScalars(fragment)
        // Local copies share storage with the buffers (nothing below mutates them), and let the word
        // merger mutate `self` while these are being read.
        let (scalars, classes, offsets) = (self.scalars, self.classes, self.offsets)
        scalars.withUnsafeBufferPointer { scalars in
            classes.withUnsafeBufferPointer { classes in
                offsets.withUnsafeBufferPointer { offsets in
                    vocabulary.preTokenizer.split(
                        UnsafeBufferPointer(rebasing: scalars[..<count]), classes: UnsafeBufferPointer(rebasing: classes[..<count])
                    ) { words in
                        let word = UnsafeBufferPointer(rebasing: fragment[offsets[words.lowerBound]..<offsets[words.upperBound]])
                        mergeWord(word, byScanning: word.count <= BytePairTokenizer.scanLimit, into: &output)
                    }
                }
            }
        }
    }

    /// Decodes the fragment's UTF-8 (valid: it comes from `String`s) into scalars, classes and offsets, and
    /// returns the number of scalars.
    private mutating func decodeScalars(_ fragment: UnsafeBufferPointer<UInt8>) -> Int {
        // A fragment has at most one scalar per byte.
        if scalars.count < fragment.count {
            scalars = Array(repeating: 0, count: fragment.count)
            classes = Array(repeating: [], count: fragment.count)
            offsets = Array(repeating: 0, count: fragment.count + 1)
        }
        var count = 0
        UnicodeClass.withBasicPlaneTable { table in
            scalars.withUnsafeMutableBufferPointer { scalars in
                classes.withUnsafeMutableBufferPointer { classes in
                    offsets.withUnsafeMutableBufferPointer { offsets in
                        var index = 0
                        while index < fragment.count {
                            let lead = UInt32(fragment[index])
                            var value: UInt32
                            var size: Int
                            switch lead {
                            case ..<0x80: (value, size) = (lead, 1)
                            case ..<0xE0: (value, size) = (lead & 0x1F, 2)
                            case ..<0xF0: (value, size) = (lead & 0x0F, 3)
                            default: (value, size) = (lead & 0x07, 4)
                            }
                            size = min(size, fragment.count - index)
                            var continuation = 1
                            while continuation < size {
                                value = value << 6 | UInt32(fragment[index + continuation] & 0x3F)
                                continuation += 1
                            }
                            offsets[count] = index
                            scalars[count] = value
                            classes[count] = UnicodeClass.of(value, basicPlane: table)
                            count += 1
                            index += size
                        }
                        offsets[count] = fragment.count
                    }
                }
            }
        }
        return count
    }

    mutating func mergeWord(_ word: UnsafeBufferPointer<UInt8>, byScanning: Bool, into output: inout [TokenID]) {
        if vocabulary.ignoresMerges, let whole = wholeWordToken(word) {
            output.append(whole)
            return
        }
        if word.count == 1 {
            let token = byteTokens[Int(word[0])]
            if token >= 0 { output.append(token) }
            return
        }
        guard byScanning else {
            var symbols = word.map { byteTokens[Int($0)] }
            queue.merge(&symbols, merges: vocabulary.merges)
            for symbol in symbols where symbol >= 0 { output.append(symbol) }
            return
        }
        if symbols.count < word.count {
            symbols = Array(repeating: 0, count: word.count)
            ranks = Array(repeating: 0, count: word.count)
            results = Array(repeating: 0, count: word.count)
        }
        let merges = vocabulary.merges
        let tokenForByte = byteTokens
        symbols.withUnsafeMutableBufferPointer { symbols in
            ranks.withUnsafeMutableBufferPointer { ranks in
                results.withUnsafeMutableBufferPointer { results in
                    for index in 0..<word.count { symbols[index] = tokenForByte[Int(word[index])] }
                    let count = Self.mergeByScanning(symbols, count: word.count, ranks: ranks, results: results, merges: merges)
                    for index in 0..<count where symbols[index] >= 0 { output.append(symbols[index]) }
                }
            }
        }
    }

    /// The token spelled exactly like the word, if it is mergeable.
    private mutating func wholeWordToken(_ word: UnsafeBufferPointer<UInt8>) -> TokenID? {
        spelled.removeAll(keepingCapacity: true)
        for byte in word { spelled.append(contentsOf: ByteLevelAlphabet.utf8ForByte[Int(byte)]) }
        guard let id = spelled.withUnsafeBufferPointer({ vocabulary.texts.id(of: $0) }),
            vocabulary.types[Int(id)].isMergeable
        else { return nil }
        return id
    }

    /// Repeatedly merges the best-ranked adjacent pair of `symbols[..<count]` in place, keeping each pair's
    /// rank and result so that a merge only re-looks-up the two pairs it changed, and returns the new count.
    private static func mergeByScanning(
        _ symbols: UnsafeMutableBufferPointer<TokenID>, count initialCount: Int, ranks: UnsafeMutableBufferPointer<Int32>,
        results: UnsafeMutableBufferPointer<TokenID>, merges: MergeTable
    ) -> Int {
        var count = initialCount
        @inline(__always) func lookUp(_ pair: Int) {
            if let rule = merges.merge(symbols[pair], symbols[pair + 1]) {
                (ranks[pair], results[pair]) = (rule.rank, rule.merged)
            } else {
                ranks[pair] = .max
            }
        }
        for pair in 0..<(count - 1) { lookUp(pair) }
        while count > 1 {
            var best = 0
            var bestRank = ranks[0]
            for pair in 1..<(count - 1) where ranks[pair] < bestRank {
                best = pair
                bestRank = ranks[pair]
            }
            guard bestRank != .max else { break }
            symbols[best] = results[best]
            // Close the gap left by the absorbed right symbol.
            for index in (best + 1)..<(count - 1) { symbols[index] = symbols[index + 1] }
            for pair in best..<(count - 2) {
                ranks[pair] = ranks[pair + 1]
                results[pair] = results[pair + 1]
            }
            count -= 1
            if best > 0 { lookUp(best - 1) }
            if best < count - 1 { lookUp(best) }
        }
        return count
    }
}

/// The priority-queue merger for long words, O(n log n): llama.cpp's algorithm over token ids.
private struct MergeQueue {
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var heap = BinaryHeap<Candidate>()

    /// A queued pair: stale once either side has changed (its id differs from the one recorded here).
    struct Candidate: Comparable {
        var rank: Int32
        var left: Int32
        var right: Int32
        var leftToken: TokenID
        var rightToken: TokenID

        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
        }
    }

    /// Merges `symbols` in place; merged-away positions are removed at the end.
    mutating func merge(_ symbols: inout [TokenID], merges: MergeTable) {
        let count = symbols.count
        guard count > 1 else { return }
        previous = (0..<count).map { Int32($0 - 1) }
        next = (0..<count).map { $0 + 1 < count ? Int32($0 + 1) : -1 }
        heap.removeAll()
        func enqueue(_ left: Int32, _ right: Int32) {
            let (a, b) = (symbols[Int(left)], symbols[Int(right)])
            guard let rule = merges.merge(a, b) else { return }
            heap.insert(Candidate(rank: rule.rank, left: left, right: right, leftToken: a, rightToken: b))
        }
        for index in 1..<count { enqueue(Int32(index - 1), Int32(index)) }
        // Merged-away symbols are marked -2, which no candidate records, so their pairs read as stale.
        while let candidate = heap.popMin() {
            let left = Int(candidate.left), right = Int(candidate.right)
            guard symbols[left] == candidate.leftToken, symbols[right] == candidate.rightToken,
                let rule = merges.merge(candidate.leftToken, candidate.rightToken)
            else { continue }
            symbols[left] = rule.merged
            symbols[right] = -2
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            if previous[left] >= 0 { enqueue(previous[left], Int32(left)) }
            if next[left] >= 0 { enqueue(Int32(left), next[left]) }
        }
        symbols.removeAll { $0 == -2 }
    }
}
