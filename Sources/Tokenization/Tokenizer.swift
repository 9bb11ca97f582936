/// Turns text into token ids and token ids back into text for one vocabulary.
///
/// Encoding follows llama.cpp (build b4748) exactly for ordinary text; see `SentencePieceTokenizer` and
/// `BytePairTokenizer` for the algorithms and the few deliberate differences.
///
/// Decoding (`decode`, `StreamingDetokenizer`) renders each token's piece:
/// - normal tokens: their text, with `▁` as a space (SentencePiece) or mapped back from the byte-level
///   alphabet (byte-level BPE); SentencePiece byte tokens `<0xNN>`: the byte;
/// - control and unknown tokens (`<s>`, `<|im_end|>`, `<unk>`): their text when `unparseSpecial` is set,
///   nothing otherwise; user-defined tokens: always their text; unused and undefined tokens: nothing;
/// - ids outside the vocabulary: nothing.
/// Bytes that do not form valid UTF-8 become U+FFFD.
package protocol Tokenizer: Sendable {
    /// The vocabulary this tokenizer encodes with.
    var vocabulary: Vocabulary { get }

    /// Encodes segments as one text (see `TextSegment`).
    ///
    /// - Parameter addSpecial: put BOS first and EOS last when the vocabulary asks for them
    ///   (`Vocabulary.addsBOS`, `addsEOS`), as llama.cpp's `add_special`.
    func encode(_ segments: [TextSegment], addSpecial: Bool) -> [TokenID]

    /// The bytes `token` stands for, with control tokens rendered as their text: `▁Hello` → " Hello",
    /// `ĠHello` → " Hello", `<0x0A>` → "\n", `<s>` → "<s>". Empty for unused/undefined tokens and invalid ids.
    func piece(for token: TokenID) -> [UInt8]
}

extension Tokenizer {
    /// Encodes one text.
    ///
    /// - Parameters:
    ///   - addSpecial: add BOS/EOS as the vocabulary asks (`Vocabulary.addsBOS`, `addsEOS`).
    ///   - parseSpecial: read control-token text (`<s>`, `<|im_start|>`) as those tokens. Only for trusted
    ///     text such as a rendered template; text from users must be encoded with it off.
    package func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [TokenID] {
        encode([parseSpecial ? .markup(text) : .text(text)], addSpecial: addSpecial)
    }

    /// Decodes tokens to text, the inverse of `encode`: for a text `s` and flags `a`, `p`,
    /// `decode(encode(s, addSpecial: a, parseSpecial: p), removeSpecial: a, unparseSpecial: p) == s`
    /// (with SentencePiece, unless `s` contains `▁` itself, which comes back as a space).
    ///
    /// - Parameters:
    ///   - removeSpecial: drop a leading BOS when the vocabulary adds BOS, and a trailing EOS when it adds
    ///     EOS (llama.cpp's `remove_special`).
    ///   - unparseSpecial: render control and unknown tokens as their text (llama.cpp's `unparse_special`).
    ///
    /// With a SentencePiece dummy prefix (`Vocabulary.addsSpacePrefix`), one leading space is removed from
    /// the first text token and from the first text token after each special token, because that is where
    /// `encode` added it. llama.cpp removes it only at the very start, and not at all after removing a BOS;
    /// its rule does not invert its own encoder (`[BOS, ▁Hello]` decodes to " Hello" there, "Hello" here).
    package func decode(_ tokens: [TokenID], removeSpecial: Bool = false, unparseSpecial: Bool = false) -> String {
        var body = tokens[...]
        if removeSpecial {
            let vocabulary = self.vocabulary
            if vocabulary.addsBOS, let bos = vocabulary.specialTokens.beginOfSequence, body.first == bos {
                body = body.dropFirst()
            }
            if vocabulary.addsEOS, let eos = vocabulary.specialTokens.endOfSequence, body.last == eos {
                body = body.dropLast()
            }
        }
        var renderer = PieceRenderer(
            unparseSpecial: unparseSpecial, removesDummyPrefix: vocabulary.addsSpacePrefix)
        var bytes: [UInt8] = []
        for token in body { renderer.append(token, from: self, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Picks the tokenizer for the vocabulary's model: `SentencePieceTokenizer` for "llama",
/// `BytePairTokenizer` for "gpt2". A `Vocabulary` exists only for supported models, so this cannot fail.
package func makeTokenizer(for vocabulary: Vocabulary) -> any Tokenizer {
    switch vocabulary.model {
    case .sentencePiece: SentencePieceTokenizer(vocabulary: vocabulary)
    case .bytePair: BytePairTokenizer(vocabulary: vocabulary)
    }
}

/// Renders a sequence of tokens to bytes under the decoding rules of `Tokenizer`; shared by `decode` and
/// `StreamingDetokenizer` so both produce the same text.
struct PieceRenderer {
    let unparseSpecial: Bool
    let removesDummyPrefix: Bool
    /// Whether the next text token starts a text fragment (sequence start, or after a special token).
    private var atFragmentStart = true

    init(unparseSpecial: Bool, removesDummyPrefix: Bool) {
        self.unparseSpecial = unparseSpecial
        self.removesDummyPrefix = removesDummyPrefix
    }

    mutating func append(_ token: TokenID, from tokenizer: some Tokenizer, to bytes: inout [UInt8]) {
        let vocabulary = tokenizer.vocabulary
        guard vocabulary.contains(token) else { return }
        switch vocabulary.type(of: token) {
        case .control, .unknown:
            if unparseSpecial { bytes.append(contentsOf: tokenizer.piece(for: token)) }
            atFragmentStart = true
        case .userDefined:
            bytes.append(contentsOf: tokenizer.piece(for: token))
            atFragmentStart = true
        case .normal, .byte:
            let piece = tokenizer.piece(for: token)
            if removesDummyPrefix, atFragmentStart, vocabulary.type(of: token) == .normal, piece.first == 0x20 {
                bytes.append(contentsOf: piece.dropFirst())
            } else {
                bytes.append(contentsOf: piece)
            }
            atFragmentStart = false
        case .unused, .undefined:
            break
        }
    }
}

/// Token pieces precomputed into one buffer, so rendering a token is a slice, not a conversion.
struct PieceTable: Sendable {
    private let bytes: [UInt8]
    private let offsets: [Int32]

    /// Builds the table from a function that appends each token's piece to the buffer it is given.
    init(count: Int, render: (Int, inout [UInt8]) -> Void) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * 8)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(count + 1)
        for id in 0..<count {
            render(id, &bytes)
            offsets.append(Int32(truncatingIfNeeded: bytes.count))
        }
        self.bytes = bytes
        self.offsets = offsets
    }

    /// The piece of token `id`, or empty for an id outside the table.
    func piece(_ id: TokenID) -> ArraySlice<UInt8> {
        guard id >= 0, Int(id) + 1 < offsets.count else { return [] }
        return bytes[Int(offsets[Int(id)])..<Int(offsets[Int(id) + 1])]
    }
}
