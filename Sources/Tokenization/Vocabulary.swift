/// Which algorithm turns text into tokens (`tokenizer.ggml.model`).
package enum TokenizerModel: String, Sendable {
    /// SentencePiece BPE as in Llama 2: score-ordered merges over characters, `▁` for spaces, byte fallback.
    case sentencePiece = "llama"
    /// Byte-level BPE as in GPT-2: pre-tokenized words, ranked merges over byte-level characters.
    case bytePair = "gpt2"
}

/// A validated tokenizer vocabulary: token texts, scores and types, merge rules, special tokens and the
/// flags that shape encoding. Build one with `init(_:)` from a `VocabularyDescription` (the `Model` module
/// reads one from GGUF metadata); once built, every id it holds is in range and every merge is consistent,
/// so the tokenizers never check again.
package struct Vocabulary: Sendable {
    /// The tokenizer algorithm.
    package let model: TokenizerModel
    /// How byte-level BPE splits text into words (`.none` for SentencePiece).
    package let preTokenizer: PreTokenizer
    /// The `tokenizer.ggml.pre` name the pre-tokenizer was chosen by, when the file has one.
    package let preTokenizerName: String?
    /// Token roles (BOS, EOS, unknown, end of turn, …).
    package let specialTokens: SpecialTokens
    /// Tokens that end generation, sorted: EOS, end of turn/message, FIM pad/repo/separator, and every
    /// token whose text is one of llama.cpp's end-of-generation texts (`<|im_end|>`, `<|endoftext|>`,
    /// `<|eot_id|>`, `<|end|>`, `<end_of_turn>`, `<|eom_id|>`, `<EOT>`).
    package let endOfGenerationTokens: [TokenID]
    /// Whether `encode(_:addSpecial: true, …)` puts BOS first (`tokenizer.ggml.add_bos_token`).
    package let addsBOS: Bool
    /// Whether `encode(_:addSpecial: true, …)` puts EOS last (`tokenizer.ggml.add_eos_token`).
    package let addsEOS: Bool
    /// Whether SentencePiece prepends the dummy-prefix space to text fragments
    /// (`tokenizer.ggml.add_space_prefix`, default true). Always false for byte-level BPE, which never
    /// adds one.
    package let addsSpacePrefix: Bool
    /// Whether a whole pre-tokenized word that is already a token skips merging (Llama 3).
    package let ignoresMerges: Bool

    let texts: TokenTextStorage
    /// Per-token scores; empty when the file has none (all scores are then 0).
    let scores: [Float]
    /// Per-token types.
    package let types: [TokenType]
    /// BPE merge rules (empty for SentencePiece).
    let merges: MergeTable
    /// SentencePiece byte-fallback tokens by byte value, -1 where the vocabulary has none (empty for BPE).
    let byteTokens: [TokenID]
    /// Tokens the special-token partition looks for in text (control, unknown and user-defined tokens with
    /// non-empty text), longest text first, then by id: llama.cpp's `cache_special_tokens` order.
    let partitionTokens: [TokenID]

    init(
        model: TokenizerModel, preTokenizer: PreTokenizer, preTokenizerName: String?, specialTokens: SpecialTokens,
        endOfGenerationTokens: [TokenID], addsBOS: Bool, addsEOS: Bool, addsSpacePrefix: Bool, ignoresMerges: Bool,
        texts: TokenTextStorage, scores: [Float], types: [TokenType], merges: MergeTable, byteTokens: [TokenID],
        partitionTokens: [TokenID]
    ) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.preTokenizerName = preTokenizerName
        self.specialTokens = specialTokens
        self.endOfGenerationTokens = endOfGenerationTokens
        self.addsBOS = addsBOS
        self.addsEOS = addsEOS
        self.addsSpacePrefix = addsSpacePrefix
        self.ignoresMerges = ignoresMerges
        self.texts = texts
        self.scores = scores
        self.types = types
        self.merges = merges
        self.byteTokens = byteTokens
        self.partitionTokens = partitionTokens
    }

    /// The number of tokens.
    package var count: Int { types.count }

    /// The number of BPE merge rules.
    package var mergeCount: Int { merges.count }

    /// Whether `token` is a valid id in this vocabulary.
    package func contains(_ token: TokenID) -> Bool { token >= 0 && Int(token) < types.count }

    /// The token's text exactly as the vocabulary stores it (`▁Hello`, `ĠHello`, `<0x0A>`, `<s>`).
    /// `token` must be valid.
    package func text(of token: TokenID) -> String {
        String(decoding: texts.text(of: Int(token)), as: UTF8.self)
    }

    /// The UTF-8 bytes of the token's stored text. `token` must be valid.
    package func textBytes(of token: TokenID) -> ArraySlice<UInt8> { texts.text(of: Int(token)) }

    /// The token's type. `token` must be valid.
    package func type(of token: TokenID) -> TokenType { types[Int(token)] }

    /// The token's score (0 when the vocabulary has no scores). `token` must be valid.
    package func score(of token: TokenID) -> Float { scores.isEmpty ? 0 : scores[Int(token)] }

    /// The token whose stored text is exactly `text` (`"<|im_start|>"`, `"▁Hello"`), if any.
    package func token(forText text: String) -> TokenID? { texts.id(of: Array(text.utf8)) }

    /// Whether generating `token` ends the reply.
    package func isEndOfGeneration(_ token: TokenID) -> Bool {
        // A handful of entries: a linear scan beats hashing.
        endOfGenerationTokens.contains(token)
    }
}

/// The parts of a vocabulary as a model file stores them, before validation.
package struct VocabularyDescription: Sendable {
    /// `tokenizer.ggml.model`: "llama" or "gpt2".
    package var model: String
    /// `tokenizer.ggml.pre`.
    package var preTokenizer: String?
    /// `tokenizer.ggml.tokens`.
    package var tokens: [String]
    /// `tokenizer.ggml.scores`, when present.
    package var scores: [Float]?
    /// `tokenizer.ggml.token_type`, when present (all tokens are normal otherwise).
    package var tokenTypes: [Int32]?
    /// `tokenizer.ggml.merges`: "left right" pairs, best first. Required for "gpt2".
    package var merges: [String]?
    /// Ids from the `tokenizer.ggml.*_token_id` keys, not yet range-checked.
    package var specialTokenIDs: [SpecialTokenRole: Int]
    /// `tokenizer.ggml.add_bos_token`, `add_eos_token`, `add_space_prefix`, when present.
    package var addBOS: Bool?
    package var addEOS: Bool?
    package var addSpacePrefix: Bool?

    package init(
        model: String, preTokenizer: String? = nil, tokens: [String], scores: [Float]? = nil,
        tokenTypes: [Int32]? = nil, merges: [String]? = nil, specialTokenIDs: [SpecialTokenRole: Int] = [:],
        addBOS: Bool? = nil, addEOS: Bool? = nil, addSpacePrefix: Bool? = nil
    ) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.scores = scores
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.specialTokenIDs = specialTokenIDs
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }
}
