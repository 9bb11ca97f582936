/// SentencePiece BPE as Llama 2 uses it, matching llama.cpp's `llm_tokenizer_spm` (build b4748):
///
/// 1. Special tokens are cut out (`PartitionedText`). Each remaining text fragment gets the dummy-prefix
///    space when the vocabulary adds one and the fragment is first or follows a special token.
/// 2. Spaces become `▁` (U+2581); the fragment is split into characters.
/// 3. Repeatedly, the adjacent pair whose concatenation is the highest-scoring token is merged (ties: the
///    leftmost), using a priority queue of candidate pairs: O(n log n) in the fragment length.
/// 4. A symbol that is not a token is emitted byte by byte as `<0xNN>` tokens (byte fallback); without a
///    byte token, the single-byte token of that text, else the unknown token.
///
/// Difference from llama.cpp: merges never produce control, unknown, byte, unused or undefined tokens
/// (`TokenType.isMergeable`). llama.cpp looks every token text up, so plain text that happens to spell a
/// control token through merges could become it; SentencePiece itself never does that.
package struct SentencePieceTokenizer: Tokenizer {
    package let vocabulary: Vocabulary
    private let pieces: PieceTable
    /// For byte fallback: the token for each byte value, -1 where there is none at all.
    private let fallbackTokens: [TokenID]
    /// Whether fragments can be merged word by word (see `MergeSession.tokenize`): true when no mergeable
    /// token has a `▁` right after another character, as in every vocabulary SentencePiece trains with
    /// its default `split_by_whitespace`.
    var mergesWordByWord: Bool

    package init(vocabulary: Vocabulary) {
        precondition(vocabulary.model == .sentencePiece, "SentencePieceTokenizer needs a SentencePiece vocabulary")
        self.vocabulary = vocabulary
        pieces = PieceTable(count: vocabulary.count) { id in
            Self.renderPiece(TokenID(id), vocabulary: vocabulary)
        }
        fallbackTokens = (0..<256).map { byte in
            if vocabulary.byteTokens[byte] >= 0 { return vocabulary.byteTokens[byte] }
            if byte < 0x80, let id = vocabulary.token(forText: String(UnicodeScalar(UInt8(byte)))) { return id }
            return vocabulary.specialTokens.unknown ?? -1
        }
        mergesWordByWord = (0..<vocabulary.count).allSatisfy { id in
            guard vocabulary.types[id].isMergeable else { return true }
            let text = Array(vocabulary.textBytes(of: TokenID(id)))
            return text.withUnsafeBufferPointer { text in
                var position = 1
                while position + 2 < text.count {
                    if text[position] == 0xE2, text[position + 1] == 0x96, text[position + 2] == 0x81,
                        !Self.isSpaceMarker(text, endingAt: position)
                    {
                        return false
                    }
                    position += 1
                }
                return true
            }
        }
    }

    /// Whether the three bytes before `position` are `▁`.
    static func isSpaceMarker(_ text: UnsafeBufferPointer<UInt8>, endingAt position: Int) -> Bool {
        position >= 3 && text[position - 3] == 0xE2 && text[position - 2] == 0x96 && text[position - 1] == 0x81
    }

    package func piece(for token: TokenID) -> [UInt8] { Array(pieces.piece(token)) }

    private static func renderPiece(_ token: TokenID, vocabulary: Vocabulary) -> [UInt8] {
        let text = vocabulary.textBytes(of: token)
        switch vocabulary.type(of: token) {
        case .normal:
            return unescapingSpaces(text)
        case .byte:
            // The vocabulary validated every byte token's text.
            return [Vocabulary.byteValue(ofByteTokenText: text)!]
        case .control, .unknown, .userDefined:
            return Array(text)
        case .unused, .undefined:
            return []
        }
    }

    /// `▁` (E2 96 81) → space.
    private static func unescapingSpaces(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == 0xE2, index + 2 < text.endIndex, text[index + 1] == 0x96, text[index + 2] == 0x81 {
                result.append(0x20)
                index += 3
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    package func encode(_ segments: [TextSegment], addSpecial: Bool) -> [TokenID] {
        let partitioned = PartitionedText(segments, vocabulary: vocabulary)
        var output: [TokenID] = []
        output.reserveCapacity(partitioned.bytes.count / 3 + 2)
        if addSpecial, vocabulary.addsBOS, let bos = vocabulary.specialTokens.beginOfSequence { output.append(bos) }
        var session = MergeSession()
        var afterSpecial = true  // the first fragment gets the prefix too
        partitioned.bytes.withUnsafeBufferPointer { bytes in
            for fragment in partitioned.fragments {
                switch fragment {
                case .token(let id):
                    output.append(id)
                    afterSpecial = true
                case .text(let range):
                    session.escape(
                        UnsafeBufferPointer(rebasing: bytes[range]), addingPrefix: vocabulary.addsSpacePrefix && afterSpecial)
                    session.tokenize(
                        vocabulary: vocabulary, fallbackTokens: fallbackTokens, wordByWord: mergesWordByWord,
                        into: &output)
                    afterSpecial = false
                }
            }
        }
        if addSpecial, vocabulary.addsEOS, let eos = vocabulary.specialTokens.endOfSequence { output.append(eos) }
        return output
    }
}

/// The working state of one merge run, kept across fragments of an `encode` call so its buffers are
/// allocated once.
private struct MergeSession {
    /// The fragment with spaces escaped to `▁`.
    var text: [UInt8] = []
    /// Symbols as a doubly linked list over `text`: byte start, byte length (0 once merged away), neighbours.
    var start: [Int32] = []
    var length: [Int32] = []
    var previous: [Int32] = []
    var next: [Int32] = []
    var queue = BinaryHeap<Candidate>()

    /// A pair of adjacent symbols whose concatenation is a token.
    struct Candidate: Comparable {
        var score: Float
        var left: Int32
        var right: Int32
        /// The byte length of the concatenation when queued; a different sum later means the pair is stale.
        var size: Int32

        /// Served first: the higher score, then the leftmost pair.
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
    }

    mutating func escape(_ fragment: UnsafeBufferPointer<UInt8>, addingPrefix: Bool) {
        text.removeAll(keepingCapacity: true)
        text.reserveCapacity(fragment.count + 3)
        if addingPrefix { text.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for byte in fragment {
            if byte == 0x20 { text.append(contentsOf: [0xE2, 0x96, 0x81]) } else { text.append(byte) }
        }
    }

    /// Merges the escaped fragment and appends its tokens.
    ///
    /// - Parameter wordByWord: merge each word (a `▁` after a non-`▁` character starts one) separately.
    ///   Exact when no mergeable token has a `▁` after another character (`SentencePieceTokenizer`
    ///   checks): no pair can then span a word start, so merges in different words never interact and
    ///   their order within each word is the same as in one queue. Small queues are much faster.
    mutating func tokenize(
        vocabulary: Vocabulary, fallbackTokens: [TokenID], wordByWord: Bool, into output: inout [TokenID]
    ) {
        // A local copy shares storage with `text` (not mutated below) and lets the merge mutate `self`.
        let text = self.text
        text.withUnsafeBufferPointer { text in
            guard wordByWord else {
                merge(text, 0..<text.count, vocabulary: vocabulary, fallbackTokens: fallbackTokens, into: &output)
                return
            }
            var wordStart = 0
            var position = 1
            while position + 2 < text.count {
                if text[position] == 0xE2, text[position + 1] == 0x96, text[position + 2] == 0x81,
                    !SentencePieceTokenizer.isSpaceMarker(text, endingAt: position)
                {
                    merge(text, wordStart..<position, vocabulary: vocabulary, fallbackTokens: fallbackTokens, into: &output)
                    wordStart = position
                    position += 3
                } else {
                    position += 1
                }
            }
            merge(text, wordStart..<text.count, vocabulary: vocabulary, fallbackTokens: fallbackTokens, into: &output)
        }
    }

    /// Runs the merge queue over `range` of the escaped text and appends the resulting tokens.
    private mutating func merge(
        _ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, vocabulary: Vocabulary, fallbackTokens: [TokenID],
        into output: inout [TokenID]
    ) {
        splitIntoCharacters(text, range)
        guard !start.isEmpty else { return }
        queue.removeAll()
        for right in 1..<start.count { enqueue(Int32(right - 1), Int32(right), text: text, vocabulary: vocabulary) }
        while let candidate = queue.popMin() {
            let left = Int(candidate.left), right = Int(candidate.right)
            guard length[left] > 0, length[right] > 0, length[left] + length[right] == candidate.size else {
                continue
            }
            length[left] += length[right]
            length[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            if previous[left] >= 0 { enqueue(previous[left], Int32(left), text: text, vocabulary: vocabulary) }
            if next[left] >= 0 { enqueue(Int32(left), next[left], text: text, vocabulary: vocabulary) }
        }
        var symbol = 0
        while symbol >= 0 {
            let bytes = UnsafeBufferPointer(rebasing: text[Int(start[symbol])..<Int(start[symbol] + length[symbol])])
            if let id = mergeableToken(bytes, vocabulary: vocabulary) {
                output.append(id)
            } else {
                for byte in bytes where fallbackTokens[Int(byte)] >= 0 { output.append(fallbackTokens[Int(byte)]) }
            }
            symbol = Int(next[symbol])
        }
    }

    /// One symbol per UTF-8 character of `range` (the input is valid UTF-8; a truncated tail is clamped).
    private mutating func splitIntoCharacters(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        start.removeAll(keepingCapacity: true)
        length.removeAll(keepingCapacity: true)
        previous.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        var offset = range.lowerBound
        while offset < range.upperBound {
            let lead = text[offset]
            let size = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
            let clamped = min(size, range.upperBound - offset)
            previous.append(Int32(start.count - 1))
            start.append(Int32(offset))
            length.append(Int32(clamped))
            offset += clamped
            next.append(offset < range.upperBound ? Int32(start.count) : -1)
        }
    }

    private mutating func enqueue(_ left: Int32, _ right: Int32, text: UnsafeBufferPointer<UInt8>, vocabulary: Vocabulary) {
        let from = Int(start[Int(left)])
        let size = length[Int(left)] + length[Int(right)]
        let joined = UnsafeBufferPointer(rebasing: text[from..<(from + Int(size))])
        guard let id = mergeableToken(joined, vocabulary: vocabulary) else { return }
        queue.insert(Candidate(score: vocabulary.score(of: id), left: left, right: right, size: size))
    }

    private func mergeableToken(_ bytes: UnsafeBufferPointer<UInt8>, vocabulary: Vocabulary) -> TokenID? {
        guard let id = vocabulary.texts.id(of: bytes), vocabulary.types[Int(id)].isMergeable else { return nil }
        return id
    }
}
