import Foundation
import Testing
import GGUF
import Model
import TestSupport
import Tokenization

/// The reference vocabularies and test vectors, loaded once per test process.
enum ReferenceData {
    /// Llama 2 SentencePiece (vocab-only GGUF).
    static let llama: any Tokenizer = loadTokenizer(Fixtures.llamaVocabulary)
    /// StarCoder byte-level BPE (vocab-only GGUF), SmolLM2's pre-tokenizer.
    static let starcoder: any Tokenizer = loadTokenizer(Fixtures.starcoderVocabulary)
    /// SmolLM2-135M-Instruct's vocabulary, from the model file.
    static let smolLM2: any Tokenizer = loadTokenizer(Fixtures.defaultModel)

    static func loadTokenizer(_ path: String) -> any Tokenizer {
        do {
            return makeTokenizer(for: try Vocabulary(gguf: try GGUFFile(contentsOf: path)))
        } catch {
            fatalError("cannot load the vocabulary at \(path): \(error)")
        }
    }

    /// One llama.cpp `.inp`/`.out` test vector.
    struct Vector: Sendable, CustomTestStringConvertible {
        let index: Int
        let text: String
        let ids: [TokenID]
        var testDescription: String { "#\(index) \(text.debugDescription.prefix(40))" }
    }

    /// The 46 strings of `ggml-vocab-<name>.gguf.inp` with their ids from `.out`.
    static func vectors(_ name: String) -> [Vector] {
        let base = Fixtures.sharedFixtures + "/vocab/ggml-vocab-\(name).gguf"
        let input = String(decoding: Fixtures.read(base + ".inp") ?? [], as: UTF8.self)
        var texts = input.components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }
        let output = String(decoding: Fixtures.read(base + ".out") ?? [], as: UTF8.self)
        var lines = output.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        precondition(texts.count == lines.count, "\(name): \(texts.count) strings but \(lines.count) id lines")
        return zip(texts, lines).enumerated().map { index, pair in
            Vector(index: index, text: pair.0, ids: pair.1.split(separator: " ").map { TokenID($0)! })
        }
    }

    static let llamaVectors = vectors("llama-spm")
    static let starcoderVectors = vectors("starcoder")

    /// One record of `extra-cases.json`.
    struct ExtraCase: Decodable, Sendable, CustomTestStringConvertible {
        let `case`: Int
        let vocab: String
        let text: String
        let parse_special: Bool
        let add_bos: Bool
        let ids: [TokenID]
        var testDescription: String {
            "#\(self.case) \(vocab.prefix(12)) parse_special=\(parse_special) \(text.debugDescription.prefix(30))"
        }
        var tokenizer: any Tokenizer { vocab.hasPrefix("smollm2") ? ReferenceData.smolLM2 : ReferenceData.llama }
    }

    static let extraCases: [ExtraCase] = {
        struct File: Decodable { let cases: [ExtraCase] }
        let data = Data(Fixtures.read(Fixtures.sharedFixtures + "/vocab/extra-cases.json") ?? [])
        return (try? JSONDecoder().decode(File.self, from: data))?.cases ?? []
    }()

    /// One prompt of `golden/smollm2-greedy.json`.
    struct GoldenPrompt: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let prompt: String
        let prompt_token_ids: [TokenID]
        let prompt_token_ids_parse_special_false: [TokenID]
        let generated_token_ids: [TokenID]
        let generated_text: String
        var testDescription: String { id }
    }

    static let goldenPrompts: [GoldenPrompt] = {
        struct File: Decodable { let cases: [GoldenPrompt] }
        let data = Data(Fixtures.read(Fixtures.sharedFixtures + "/golden/smollm2-greedy.json") ?? [])
        return (try? JSONDecoder().decode(File.self, from: data))?.cases ?? []
    }()

    /// One expected pre-tokenizer split from `Tests/Fixtures/pretokenizer-splits.json`.
    struct Split: Decodable, Sendable, CustomTestStringConvertible {
        let preTokenizer: String
        let text: String
        let words: [String]
        var testDescription: String { "\(preTokenizer) \(text.debugDescription.prefix(40))" }
    }

    static let splits: [Split] = {
        struct File: Decodable { let cases: [Split] }
        let data = Data(Fixtures.read(Fixtures.testFixtures + "/pretokenizer-splits.json") ?? [])
        return (try? JSONDecoder().decode(File.self, from: data))?.cases ?? []
    }()
}
