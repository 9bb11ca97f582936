import GGUF
import Model
import Testing
import TestSupport
import Tokenization

/// Untrusted vocabulary data is refused with one clear sentence, never a trap.
@Suite struct VocabularyValidationTests {
    /// A small SentencePiece vocabulary: `<unk> <s> </s> <0x00>…<0xFF> ▁ a b ▁a ab`.
    static func sentencePiece() -> VocabularyDescription {
        var tokens = ["<unk>", "<s>", "</s>"]
        tokens += (0..<256).map { "<0x\(String($0, radix: 16, uppercase: true).leftPadded(2))>" }
        tokens += ["▁", "a", "b", "▁a", "ab"]
        var types: [Int32] = [2, 3, 3] + Array(repeating: 6, count: 256)
        types += Array(repeating: 1, count: 5)
        let scores = (0..<tokens.count).map { -Float($0) }
        return VocabularyDescription(model: "llama", tokens: tokens, scores: scores, tokenTypes: types)
    }

    /// A small byte-level BPE vocabulary: the 256 byte characters, then merges `a b`, `ab c`.
    static func bytePair(pre: String? = "gpt-2") -> VocabularyDescription {
        var tokens = (0..<256).map { byteLevelCharacter(UInt8($0)) }
        tokens += ["ab", "abc", "xyz", "<|end|>"]
        var types = [Int32](repeating: 1, count: tokens.count)
        types[types.count - 1] = 3
        return VocabularyDescription(
            model: "gpt2", preTokenizer: pre, tokens: tokens, tokenTypes: types, merges: ["a b", "ab c"])
    }

    /// GPT-2's byte-to-character map, written out independently of the code under test.
    static func byteLevelCharacter(_ byte: UInt8) -> String {
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        if printable { return String(UnicodeScalar(byte)) }
        let rank = (0..<Int(byte)).filter { b in
            !((0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b))
        }.count
        return String(UnicodeScalar(UInt32(0x100 + rank))!)
    }

    static func error(_ description: VocabularyDescription) -> VocabularyError? {
        do {
            _ = try Vocabulary(description)
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsTheSmallVocabularies() throws {
        let spm = try Vocabulary(Self.sentencePiece())
        #expect(spm.count == 264 && spm.addsBOS && spm.specialTokens.unknown == 0)
        let tokenizer = makeTokenizer(for: spm)
        // "▁ab▁a": "▁a" (score -262) beats "ab" (-263), so both "▁a" pairs merge and "b" stays alone.
        #expect(tokenizer.encode("ab a", addSpecial: true, parseSpecial: false) == [1, 262, 261, 262])
        #expect(tokenizer.encode("é", addSpecial: false, parseSpecial: false) == [259, 0xC3 + 3, 0xA9 + 3])
        let bpe = try Vocabulary(Self.bytePair())
        #expect(bpe.mergeCount == 2 && !bpe.addsBOS)
        #expect(bpe.endOfGenerationTokens == [259])
    }

    /// Without byte tokens, an unknown character falls back to a single-character token, else `<unk>`.
    @Test func sentencePieceWithoutByteTokensUsesUnknown() throws {
        let description = VocabularyDescription(
            model: "llama", tokens: ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "<"],
            scores: [0, 0, 0, -1, -2, -3, -4, -5], tokenTypes: [2, 3, 3, 1, 1, 1, 1, 1])
        let tokenizer = makeTokenizer(for: try Vocabulary(description))
        #expect(tokenizer.encode("aé<", addSpecial: false, parseSpecial: false) == [6, 0, 0, 7])
        #expect(tokenizer.decode([6, 0, 0, 7]) == "a<")
        #expect(tokenizer.decode([6, 0, 0, 7], unparseSpecial: true) == "a<unk><unk><")
    }

    @Test func byteLevelMergesAndIgnoreMerges() throws {
        let gpt2 = makeTokenizer(for: try Vocabulary(Self.bytePair()))
        let a = TokenID(Character("a").asciiValue!)
        #expect(gpt2.encode("abc", addSpecial: false, parseSpecial: false) == [257])
        // Token ids equal byte values here; " ab" is the space byte's token then the merged "ab".
        #expect(gpt2.encode("xyz ab", addSpecial: false, parseSpecial: false) == [0x78, 0x79, 0x7A, 0x20, 256])
        #expect(gpt2.encode("ba", addSpecial: false, parseSpecial: false) == [a + 1, a])
        // Llama 3 emits a word that is itself a token whole, even with no merges leading to it.
        var llama3Description = Self.bytePair(pre: "llama-bpe")
        llama3Description.addBOS = false  // Llama 3 adds BOS by default; this vocabulary has none
        let llama3 = makeTokenizer(for: try Vocabulary(llama3Description))
        #expect(llama3.vocabulary.ignoresMerges)
        #expect(llama3.encode("xyz", addSpecial: false, parseSpecial: false) == [258])
        #expect(gpt2.encode("<|end|>", addSpecial: false, parseSpecial: true) == [259])
    }

    @Test func refusesInconsistentVocabularies() {
        var d = Self.sentencePiece()
        d.model = "bert"
        #expect(Self.error(d) == .unsupportedModel("bert"))

        #expect(Self.error(Self.bytePair(pre: "tekken")) == .unsupportedPreTokenizer("tekken"))
        #expect(Self.error(Self.bytePair(pre: nil)) == .unsupportedPreTokenizer(nil))

        d = Self.sentencePiece()
        d.tokens = []
        d.scores = nil
        d.tokenTypes = nil
        #expect(Self.error(d) == .noTokens)

        d = Self.sentencePiece()
        d.scores?.removeLast()
        #expect(Self.error(d) == .lengthMismatch(key: "tokenizer.ggml.scores", count: 263, tokenCount: 264))
        d = Self.sentencePiece()
        d.scores![5] = .nan
        #expect(Self.error(d) == .invalidScore(token: 5))
        d = Self.sentencePiece()
        d.tokenTypes![7] = 9
        #expect(Self.error(d) == .invalidTokenType(token: 7, value: 9))
        d = Self.sentencePiece()
        d.tokens[262] = "a"
        #expect(Self.error(d) == .duplicateText(first: 260, second: 262, text: "a"))
    }

    @Test(arguments: ["<0x-1>", "<0x1>", "<0xGG>", "<0x100>", "0x41", "<0x4 >"])
    func refusesMalformedByteTokens(_ text: String) {
        var d = Self.sentencePiece()
        d.tokens[3 + 0x41] = text
        #expect(Self.error(d) == .invalidByteToken(token: 3 + 0x41, text: text))
    }

    @Test func refusesDuplicateByteTokens() {
        var d = Self.sentencePiece()
        d.tokens[3 + 0x41] = "<0x0a>"  // lower-case hex is accepted, but 0x0A already has a token
        #expect(Self.error(d) == .duplicateByteToken(first: 3 + 0x0A, second: 3 + 0x41, byte: 0x0A))
    }

    @Test func refusesBadMerges() {
        var d = Self.bytePair()
        d.merges = ["a b", "abc"]
        #expect(Self.error(d) == .invalidMerge(index: 1, merge: "abc", reason: "is not two tokens separated by a space"))
        d.merges = ["a zz"]
        #expect(Self.error(d) == .invalidMerge(index: 0, merge: "a zz", reason: "refers to 'zz', which is not a token"))
        d.merges = ["x y"]
        #expect(Self.error(d) == .invalidMerge(index: 0, merge: "x y", reason: "produces 'xy', which is not a token"))
        d.merges = nil
        #expect(Self.error(d) == .missingKey("tokenizer.ggml.merges"))
    }

    @Test func refusesSpecialTokensOutsideTheVocabulary() {
        var d = Self.sentencePiece()
        d.specialTokenIDs[.endOfSequence] = 264
        #expect(Self.error(d) == .specialTokenOutOfRange(key: "tokenizer.ggml.eos_token_id", id: 264, tokenCount: 264))
        d.specialTokenIDs[.endOfSequence] = -1
        #expect(Self.error(d) == .specialTokenOutOfRange(key: "tokenizer.ggml.eos_token_id", id: -1, tokenCount: 264))
        var b = Self.bytePair()
        b.addBOS = true
        #expect(Self.error(b) == .missingSpecialToken(flag: "tokenizer.ggml.add_bos_token", role: "BOS"))
    }

    @Test func everyMessageIsOneSentence() {
        let errors: [VocabularyError] = [
            .missingKey("tokenizer.ggml.tokens"), .unsupportedModel("bert"), .unsupportedPreTokenizer(nil),
            .invalidByteToken(token: 3, text: "<0x-1>"), .duplicateByteToken(first: 1, second: 2, byte: 10),
            .invalidMerge(index: 0, merge: "a", reason: "is not two tokens separated by a space"),
            .wrongType(key: "tokenizer.ggml.scores", expected: "an array of float32", found: "array of uint8"),
        ]
        for error in errors {
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
        #expect(VocabularyError.duplicateByteToken(first: 1, second: 2, byte: 10).description.contains("0x0A"))
    }

    /// The GGUF loader checks key types before reading arrays.
    @Test func ggufLoaderChecksTypes() {
        func load(_ edit: (inout GGUFWriter) -> Void) -> VocabularyError? {
            var writer = GGUFWriter()
            edit(&writer)
            do {
                _ = try Vocabulary(gguf: try GGUFFile(contentsOf: Fixtures.temporaryFile(writer.encoded())))
                return nil
            } catch let error as VocabularyError {
                return error
            } catch {
                Issue.record("unexpected error \(error)")
                return nil
            }
        }
        let tokens = GGUFValue.array(.string(["<unk>", "<s>", "</s>", "▁a"]))
        #expect(load { $0.set("tokenizer.ggml.tokens", tokens) } == .missingKey("tokenizer.ggml.model"))
        #expect(load { $0.set("tokenizer.ggml.model", .string("llama")) } == .missingKey("tokenizer.ggml.tokens"))
        #expect(load {
            $0.set("tokenizer.ggml.model", .string("llama"))
            $0.set("tokenizer.ggml.tokens", tokens)
            $0.set("tokenizer.ggml.scores", .array(.uint8([0, 0, 0, 0])))
        } == .wrongType(key: "tokenizer.ggml.scores", expected: "an array of float32", found: "array of uint8"))
        #expect(load {
            $0.set("tokenizer.ggml.model", .string("llama"))
            $0.set("tokenizer.ggml.tokens", tokens)
            $0.set("tokenizer.ggml.token_type", .array(.float32([1, 1, 1, 1])))
        } == .wrongType(key: "tokenizer.ggml.token_type", expected: "an array of int32", found: "array of float32"))
        #expect(load {
            $0.set("tokenizer.ggml.model", .string("llama"))
            $0.set("tokenizer.ggml.tokens", tokens)
            $0.set("tokenizer.ggml.add_bos_token", .uint8(1))
        } == .wrongType(key: "tokenizer.ggml.add_bos_token", expected: "a bool", found: "uint8"))
        #expect(load {
            $0.set("tokenizer.ggml.model", .string("llama"))
            $0.set("tokenizer.ggml.tokens", tokens)
            $0.set("tokenizer.ggml.eos_token_id", .uint32(4))
        } == .specialTokenOutOfRange(key: "tokenizer.ggml.eos_token_id", id: 4, tokenCount: 4))
        #expect(load {
            $0.set("tokenizer.ggml.model", .string("llama"))
            $0.set("tokenizer.ggml.tokens", tokens)
        } == nil)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
