import GGUF
import Tokenization

extension Vocabulary {
    /// Reads the vocabulary from a GGUF file's `tokenizer.ggml.*` metadata (the file may have no tensors).
    ///
    /// Checks each key's type before using it, because the file is untrusted: `tokens` and `merges` must
    /// be string arrays, `scores` float32, `token_type` int32, special ids non-negative integers and the
    /// `add_*` flags booleans. `Vocabulary.init(_:)` then checks the contents (lengths, ranges, byte tokens,
    /// merges). Nothing is copied from the file beyond what the parser already decoded.
    ///
    /// - Throws: `VocabularyError`, one sentence naming the key or token at fault.
    package init(gguf file: GGUFFile) throws(VocabularyError) {
        let metadata = file.metadata
        guard let modelValue = metadata["tokenizer.ggml.model"] else { throw .missingKey("tokenizer.ggml.model") }
        guard let model = modelValue.stringValue else {
            throw .wrongType(key: "tokenizer.ggml.model", expected: "a string", found: modelValue.typeDescription)
        }
        guard let tokens = try Self.strings(metadata, "tokenizer.ggml.tokens") else {
            throw .missingKey("tokenizer.ggml.tokens")
        }
        var description = VocabularyDescription(model: model, tokens: tokens)
        if let pre = metadata["tokenizer.ggml.pre"] {
            guard let name = pre.stringValue else {
                throw .wrongType(key: "tokenizer.ggml.pre", expected: "a string", found: pre.typeDescription)
            }
            description.preTokenizer = name
        }
        if let scores = metadata["tokenizer.ggml.scores"] {
            guard case .array(.float32(let values)) = scores else {
                throw .wrongType(key: "tokenizer.ggml.scores", expected: "an array of float32", found: scores.typeDescription)
            }
            description.scores = values
        }
        if let types = metadata["tokenizer.ggml.token_type"] {
            guard case .array(.int32(let values)) = types else {
                throw .wrongType(key: "tokenizer.ggml.token_type", expected: "an array of int32", found: types.typeDescription)
            }
            description.tokenTypes = values
        }
        description.merges = try Self.strings(metadata, "tokenizer.ggml.merges")
        for role in SpecialTokenRole.allCases {
            if let id = try Self.tokenID(metadata, role.metadataKey) { description.specialTokenIDs[role] = id }
        }
        for (key, role) in SpecialTokenRole.deprecatedMetadataKeys where description.specialTokenIDs[role] == nil {
            if let id = try Self.tokenID(metadata, key) { description.specialTokenIDs[role] = id }
        }
        description.addBOS = try Self.flag(metadata, "tokenizer.ggml.add_bos_token")
        description.addEOS = try Self.flag(metadata, "tokenizer.ggml.add_eos_token")
        description.addSpacePrefix = try Self.flag(metadata, "tokenizer.ggml.add_space_prefix")
        try self.init(description)
    }

    private static func strings(_ metadata: [String: GGUFValue], _ key: String) throws(VocabularyError) -> [String]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(.string(let strings)) = value else {
            throw .wrongType(key: key, expected: "an array of strings", found: value.typeDescription)
        }
        return strings
    }

    /// A special-token id: any integer type (files use uint32), range-checked by `Vocabulary.init`.
    private static func tokenID(_ metadata: [String: GGUFValue], _ key: String) throws(VocabularyError) -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let id = value.intValue else {
            throw .wrongType(key: key, expected: "an integer", found: value.typeDescription)
        }
        return id
    }

    private static func flag(_ metadata: [String: GGUFValue], _ key: String) throws(VocabularyError) -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard let flag = value.boolValue else {
            throw .wrongType(key: key, expected: "a bool", found: value.typeDescription)
        }
        return flag
    }
}
