/// Why a vocabulary cannot be built. Vocabulary data comes from untrusted files, so every inconsistency that
/// could make a tokenizer index out of bounds or produce nonsense is refused here, once, with one sentence
/// that names the offending key or token.
package enum VocabularyError: Error, Equatable, CustomStringConvertible {
    /// A required metadata key is absent.
    case missingKey(String)
    /// A metadata key holds a value of the wrong type.
    case wrongType(key: String, expected: String, found: String)
    /// `tokenizer.ggml.model` names a tokenizer this project does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this project does not implement (or is absent).
    case unsupportedPreTokenizer(String?)
    /// The token list is empty.
    case noTokens
    /// More tokens than a 32-bit token id can address.
    case tooManyTokens(Int)
    /// A per-token array has a different length from the token list.
    case lengthMismatch(key: String, count: Int, tokenCount: Int)
    /// A `token_type` value outside 0…6.
    case invalidTokenType(token: Int, value: Int32)
    /// A score that is not a number.
    case invalidScore(token: Int)
    /// The token texts total 2 GiB or more.
    case textsTooLarge(byteCount: Int)
    /// Two tokens with the same text, so text cannot be mapped back to one id.
    case duplicateText(first: Int, second: Int, text: String)
    /// A byte-type token whose text is not `<0xNN>` with exactly two hex digits.
    case invalidByteToken(token: Int, text: String)
    /// Two byte-type tokens for the same byte.
    case duplicateByteToken(first: Int, second: Int, byte: UInt8)
    /// A malformed merge rule.
    case invalidMerge(index: Int, merge: String, reason: String)
    /// A special-token id outside the vocabulary.
    case specialTokenOutOfRange(key: String, id: Int, tokenCount: Int)
    /// The vocabulary asks for BOS/EOS to be added but has no such token.
    case missingSpecialToken(flag: String, role: String)

    package var description: String {
        switch self {
        case .missingKey(let key): "the model file has no \(key)"
        case .wrongType(let key, let expected, let found): "\(key) must be \(expected), not \(found)"
        case .unsupportedModel(let name):
            "tokenizer model '\(name)' is not supported (supported: 'llama' SentencePiece, 'gpt2' byte-level BPE)"
        case .unsupportedPreTokenizer(let name?):
            "pre-tokenizer '\(name)' (tokenizer.ggml.pre) is not supported"
        case .unsupportedPreTokenizer(nil):
            "the byte-level BPE vocabulary names no pre-tokenizer (tokenizer.ggml.pre), so its word splitting is unknown"
        case .noTokens: "the vocabulary (tokenizer.ggml.tokens) has no tokens"
        case .tooManyTokens(let n): "the vocabulary has \(n) tokens, more than a 32-bit token id can address"
        case .lengthMismatch(let key, let count, let tokenCount):
            "\(key) has \(count) entries but the vocabulary has \(tokenCount) tokens"
        case .invalidTokenType(let token, let value): "token \(token) has unknown token type \(value)"
        case .invalidScore(let token): "token \(token) has a score that is not a number"
        case .textsTooLarge(let n): "the token texts total \(n) bytes, more than the 2 GiB a vocabulary may hold"
        case .duplicateText(let first, let second, let text):
            "tokens \(first) and \(second) have the same text '\(text)'"
        case .invalidByteToken(let token, let text):
            "byte token \(token) has text '\(text)', not <0xNN> with two hex digits"
        case .duplicateByteToken(let first, let second, let byte):
            "tokens \(first) and \(second) both stand for byte 0x\(hex(byte))"
        case .invalidMerge(let index, let merge, let reason): "merge \(index) '\(merge)' \(reason)"
        case .specialTokenOutOfRange(let key, let id, let tokenCount):
            "\(key) is \(id), outside the vocabulary's \(tokenCount) tokens"
        case .missingSpecialToken(let flag, let role): "\(flag) is set but the vocabulary has no \(role) token"
        }
    }
}

/// Two upper-case hex digits.
func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}
