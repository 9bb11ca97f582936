/// The roles a vocabulary can assign to tokens, each named by its GGUF key `tokenizer.ggml.<rawValue>`.
package enum SpecialTokenRole: String, CaseIterable, Sendable {
    case beginOfSequence = "bos_token_id"
    case endOfSequence = "eos_token_id"
    case endOfTurn = "eot_token_id"
    case endOfMessage = "eom_token_id"
    case unknown = "unknown_token_id"
    /// Spelled as llama.cpp and the GGUF files spell it.
    case separator = "seperator_token_id"
    case padding = "padding_token_id"
    case mask = "mask_token_id"
    case fillInMiddlePrefix = "fim_pre_token_id"
    case fillInMiddleSuffix = "fim_suf_token_id"
    case fillInMiddleMiddle = "fim_mid_token_id"
    case fillInMiddlePad = "fim_pad_token_id"
    case fillInMiddleRepository = "fim_rep_token_id"
    case fillInMiddleSeparator = "fim_sep_token_id"

    /// The GGUF metadata key that stores this role's token id.
    package var metadataKey: String { "tokenizer.ggml." + rawValue }

    /// Older keys for the same roles (llama.cpp still reads them).
    package static let deprecatedMetadataKeys: [(key: String, role: SpecialTokenRole)] = [
        ("tokenizer.ggml.prefix_token_id", .fillInMiddlePrefix),
        ("tokenizer.ggml.suffix_token_id", .fillInMiddleSuffix),
        ("tokenizer.ggml.middle_token_id", .fillInMiddleMiddle),
    ]

    /// Token texts that identify the role when the file names no id for it, best first. llama.cpp
    /// (`llama_vocab::impl::load`) detects these by text and forces their type to control.
    var detectionTexts: [String] {
        switch self {
        case .endOfTurn:
            ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"]
        case .endOfMessage: ["<|eom_id|>"]
        case .fillInMiddlePrefix: ["<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>"]
        case .fillInMiddleSuffix: ["<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>"]
        case .fillInMiddleMiddle: ["<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>"]
        case .fillInMiddlePad: ["<|fim_pad|>", "<fim-pad>", "<PAD>"]
        case .fillInMiddleRepository: ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"]
        case .fillInMiddleSeparator: ["<|file_sep|>"]
        default: []
        }
    }

    /// Texts of tokens that end generation wherever they appear in a vocabulary (llama.cpp's EOG list).
    static let endOfGenerationTexts = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
    ]
}

/// The token ids a vocabulary assigns to special roles.
package struct SpecialTokens: Sendable, Equatable {
    private var ids: [SpecialTokenRole: TokenID] = [:]

    package init(_ ids: [SpecialTokenRole: TokenID] = [:]) { self.ids = ids }

    /// The token with `role`, if the vocabulary has one.
    package subscript(role: SpecialTokenRole) -> TokenID? {
        get { ids[role] }
        set { ids[role] = newValue }
    }

    /// BOS (`<s>`, `<|begin_of_text|>`).
    package var beginOfSequence: TokenID? { ids[.beginOfSequence] }
    /// EOS (`</s>`).
    package var endOfSequence: TokenID? { ids[.endOfSequence] }
    /// End of turn (`<|eot_id|>`, `<|im_end|>`).
    package var endOfTurn: TokenID? { ids[.endOfTurn] }
    /// The unknown token (`<unk>`).
    package var unknown: TokenID? { ids[.unknown] }
    /// Padding.
    package var padding: TokenID? { ids[.padding] }
}
