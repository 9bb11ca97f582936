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
        pieces = PieceTable(count: vocabulary.count) { id in
            switch vocabulary.types[id] {
            case .normal: ByteLevelAlphabet.decode(vocabulary.textBytes(of: TokenID(id)))
            case .control, .unknown, .userDefined: Array(vocabulary.textBytes(of: TokenID(id)))
            case .byte, .unused, .undefined: []  // llama.cpp renders nothing for these in BPE vocabularies
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

/// Pre-tokenizes fragments and merges their words; buffers are reused across words and fragments.
private struct WordMerger {
    let vocabulary: Vocabulary
    let byteTokens: [TokenID]
    private var scalars: [UInt32] = []
    private var classes: [UnicodeClass] = []
    /// Byte offset of each scalar, plus the fragment's length at the end.
    private var offsets: [Int] = []
    private var symbols: [TokenID] = []
    private var ranks: [Int32] = []
    private var spelled: [UInt8] = []
    private var queue = MergeQueue()

    init(vocabulary: Vocabulary, byteTokens: [TokenID]) {
        self.vocabulary = vocabulary
        self.byteTokens = byteTokens
    }

    mutating func encode(_ fragment: UnsafeBufferPointer<UInt8>, into output: inout [TokenID]) {
        decodeScalars(fragment)
        // Local copies share storage with the buffers (nothing below mutates them), and let the word
        // merger mutate `self` while these are being read.
        let (scalars, classes, offsets) = (self.scalars, self.classes, self.offsets)
        scalars.withUnsafeBufferPointer { scalars in
            classes.withUnsafeBufferPointer { classes in
                vocabulary.preTokenizer.split(scalars, classes: classes) { words in
                    let word = UnsafeBufferPointer(rebasing: fragment[offsets[words.lowerBound]..<offsets[words.upperBound]])
                    mergeWord(word, byScanning: word.count <= BytePairTokenizer.scanLimit, into: &output)
                }
            }
        }
    }

    /// Decodes the fragment's UTF-8 (valid: it comes from `String`s) into scalars, classes and offsets.
    private mutating func decodeScalars(_ fragment: UnsafeBufferPointer<UInt8>) {
        scalars.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
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
            for continuation in 1..<max(size, 1) { value = value << 6 | UInt32(fragment[index + continuation] & 0x3F) }
            offsets.append(index)
            scalars.append(value)
            classes.append(UnicodeClass.of(value))
            index += size
        }
        offsets.append(fragment.count)
    }

    mutating func mergeWord(_ word: UnsafeBufferPointer<UInt8>, byScanning: Bool, into output: inout [TokenID]) {
        if vocabulary.ignoresMerges, let whole = wholeWordToken(word) {
            output.append(whole)
            return
        }
        symbols.removeAll(keepingCapacity: true)
        for byte in word { symbols.append(byteTokens[Int(byte)]) }
        if byScanning { mergeByScanning() } else { queue.merge(&symbols, merges: vocabulary.merges) }
        for symbol in symbols where symbol >= 0 { output.append(symbol) }
    }

    /// The token spelled exactly like the word, if it is mergeable.
    private mutating func wholeWordToken(_ word: UnsafeBufferPointer<UInt8>) -> TokenID? {
        spelled.removeAll(keepingCapacity: true)
        for byte in word { spelled.append(contentsOf: String(ByteLevelAlphabet.characterForByte[Int(byte)]).utf8) }
        guard let id = spelled.withUnsafeBufferPointer({ vocabulary.texts.id(of: $0) }),
            vocabulary.types[Int(id)].isMergeable
        else { return nil }
        return id
    }

    /// Repeatedly merges the best-ranked adjacent pair, keeping each pair's rank so that a merge only
    /// re-looks-up the two pairs it changed.
    private mutating func mergeByScanning() {
        let merges = vocabulary.merges
        ranks.removeAll(keepingCapacity: true)
        for index in 0..<max(symbols.count - 1, 0) {
            ranks.append(merges.merge(symbols[index], symbols[index + 1])?.rank ?? .max)
        }
        while !ranks.isEmpty {
            var best = 0
            for index in 1..<ranks.count where ranks[index] < ranks[best] { best = index }
            guard ranks[best] != .max, let rule = merges.merge(symbols[best], symbols[best + 1]) else { break }
            symbols[best] = rule.merged
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            if best > 0 { ranks[best - 1] = merges.merge(symbols[best - 1], symbols[best])?.rank ?? .max }
            if best < ranks.count { ranks[best] = merges.merge(symbols[best], symbols[best + 1])?.rank ?? .max }
        }
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
