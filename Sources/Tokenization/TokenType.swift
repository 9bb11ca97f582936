/// A token's index in its vocabulary. `Int32` because that is what GGUF stores and what llama.cpp uses.
package typealias TokenID = Int32

/// What kind of token a vocabulary entry is, as stored in `tokenizer.ggml.token_type` (llama.cpp's
/// `llama_token_type`).
package enum TokenType: Int32, Sendable, CaseIterable {
    case undefined = 0
    /// Ordinary text.
    case normal = 1
    /// The unknown token (`<unk>`).
    case unknown = 2
    /// A control token (`<s>`, `</s>`, `<|im_start|>`): produced from text only when special parsing is on.
    case control = 3
    /// A token added by the model author that is matched in any text, even without special parsing.
    case userDefined = 4
    case unused = 5
    /// A SentencePiece byte-fallback token, `<0xNN>`.
    case byte = 6

    /// Whether the special-token partition can produce this token from text: control and unknown tokens
    /// (only with special parsing) and user-defined tokens (always). After such a token the SentencePiece
    /// encoder adds the dummy-prefix space again, and the decoder removes it again.
    package var isSpecial: Bool { self == .control || self == .unknown || self == .userDefined }

    /// Whether merging plain text may produce the token: normal and user-defined tokens only. Control,
    /// unknown and byte tokens are reachable only through special parsing or byte fallback, so text a user
    /// types never merges into `</s>`; unused and undefined tokens decode to nothing, so producing them would
    /// lose text. (llama.cpp looks every text up; SentencePiece itself skips all of these.)
    package var isMergeable: Bool { self == .normal || self == .userDefined }
}
