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
        pieces = PieceTable(count: vocabulary.count) { id, bytes in
            Self.renderPiece(TokenID(id), vocabulary: vocabulary, into: &bytes)
        }
        fallbackTokens = (0..<256).map { byte in
            if vocabulary.byteTokens[byte] >= 0 { return vocabulary.byteTokens[byte] }
            if byte < 0x80, let id = vocabulary.token(forText: String(UnicodeScalar(UInt8(byte)))),
                vocabulary.types[Int(id)].isMergeable
            {
                return id
            }
            return vocabulary.specialTokens.unknown ?? -1
        }
        mergesWordByWord = (0..<vocabulary.count).allSatisfy { id in
            guard vocabulary.types[id].isMergeable else { return true }
            return vocabulary.textBytes(of: TokenID(id)).withUnsafeBufferPointer { text in
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

    private static func renderPiece(_ token: TokenID, vocabulary: Vocabulary, into bytes: inout [UInt8]) {
        let text = vocabulary.textBytes(of: token)
        switch vocabulary.type(of: token) {
        case .normal:
            // `▁` (E2 96 81) → space.
            var index = text.startIndex
            while index < text.endIndex {
                if text[index] == 0xE2, index + 2 < text.endIndex, text[index + 1] == 0x96, text[index + 2] == 0x81 {
                    bytes.append(0x20)
                    index += 3
                } else {
                    bytes.append(text[index])
                    index += 1
                }
            }
        case .byte:
            // The vocabulary validated every byte token's text.
            bytes.append(Vocabulary.byteValue(ofByteTokenText: text)!)
        case .control, .unknown, .userDefined:
            bytes.append(contentsOf: text)
        case .unused, .undefined:
            break
        }
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
    /// Symbols of the word being merged, a doubly linked list over `text`; grown as needed, never shrunk.
    var symbols: [Symbol] = []
    var queue = BinaryHeap<Candidate>()

    struct Symbol {
        /// Byte range in `text`; `length` is 0 once merged into its left neighbour.
        var start: Int32
        var length: Int32
        var previous: Int32
        var next: Int32
        /// The token the symbol is, once known from a merge; -1 for a single character not looked up yet.
        var token: TokenID
    }

    /// A pair of adjacent symbols whose concatenation is a token.
    struct Candidate: Comparable {
        var score: Float
        var left: Int32
        var right: Int32
        /// The byte length of the concatenation when queued; a different sum later means the pair is stale.
        var size: Int32
        var token: TokenID

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
        guard !range.isEmpty else { return }
        if symbols.count < range.count {
            symbols = Array(repeating: Symbol(start: 0, length: 0, previous: 0, next: 0, token: -1), count: range.count)
        }
        queue.removeAll()
        symbols.withUnsafeMutableBufferPointer { symbols in
            // One symbol per UTF-8 character (the input is valid UTF-8; a truncated tail is clamped).
            var count = 0
            var offset = range.lowerBound
            while offset < range.upperBound {
                let lead = text[offset]
                let size = min(lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4, range.upperBound - offset)
                symbols[count] = Symbol(
                    start: Int32(offset), length: Int32(size), previous: Int32(count - 1),
                    next: offset + size < range.upperBound ? Int32(count + 1) : -1, token: -1)
                count += 1
                offset += size
            }

            func enqueue(_ left: Int32, _ right: Int32) {
                let from = Int(symbols[Int(left)].start)
                let size = symbols[Int(left)].length + symbols[Int(right)].length
                let joined = UnsafeBufferPointer(rebasing: text[from..<(from + Int(size))])
                guard let id = Self.mergeableToken(joined, vocabulary: vocabulary) else { return }
                queue.insert(Candidate(score: vocabulary.score(of: id), left: left, right: right, size: size, token: id))
            }
            for right in 1..<count { enqueue(Int32(right - 1), Int32(right)) }
            while let candidate = queue.popMin() {
                let left = Int(candidate.left), right = Int(candidate.right)
                let (leftLength, rightLength) = (symbols[left].length, symbols[right].length)
                guard leftLength > 0, rightLength > 0, leftLength + rightLength == candidate.size else { continue }
                symbols[left].length += rightLength
                symbols[left].token = candidate.token
                symbols[right].length = 0
                let following = symbols[right].next
                symbols[left].next = following
                if following >= 0 { symbols[Int(following)].previous = Int32(left) }
                if symbols[left].previous >= 0 { enqueue(symbols[left].previous, Int32(left)) }
                if following >= 0 { enqueue(Int32(left), following) }
            }

            var index = 0
            while index >= 0 {
                let symbol = symbols[index]
                if symbol.token >= 0 {
                    output.append(symbol.token)
                } else {
                    let bytes = UnsafeBufferPointer(rebasing: text[Int(symbol.start)..<Int(symbol.start + symbol.length)])
                    if let id = Self.mergeableToken(bytes, vocabulary: vocabulary) {
                        output.append(id)
                    } else {
                        for byte in bytes where fallbackTokens[Int(byte)] >= 0 { output.append(fallbackTokens[Int(byte)]) }
                    }
                }
                index = Int(symbol.next)
            }
        }
    }

    private static func mergeableToken(_ bytes: UnsafeBufferPointer<UInt8>, vocabulary: Vocabulary) -> TokenID? {
        guard let id = vocabulary.texts.id(of: bytes), vocabulary.types[Int(id)].isMergeable else { return nil }
        return id
    }
}
