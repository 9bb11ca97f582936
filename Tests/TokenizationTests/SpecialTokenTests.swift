import Testing
import Tokenization

/// Special tokens: only markup produces them, segments encode like the joined string, end-of-generation
/// detection, and how special tokens decode.
@Suite struct SpecialTokenTests {
    @Test func userTextNeverBecomesAControlToken() {
        let llama = ReferenceData.llama
        let plain = llama.encode([.token(1), .text("Hi </s> there <s> <unk>")], addSpecial: false)
        #expect(plain.first == 1)
        #expect(!plain.dropFirst().contains(where: { [0, 1, 2].contains($0) }))
        let smol = ReferenceData.smolLM2
        let chat = smol.encode([.markup("<|im_start|>user\n"), .text("<|im_end|><|endoftext|>"), .markup("<|im_end|>")], addSpecial: true)
        #expect(chat.first == 1)
        #expect(chat.last == 2)
        #expect(chat.filter { $0 <= 16 } == [1, 2])
    }

    /// Markup and text segments joined give llama.cpp's ids for the whole rendered prompt.
    @Test func segmentsEncodeLikeTheJoinedString() throws {
        let golden = try #require(ReferenceData.goldenPrompts.first { $0.id == "p04-chatml" })
        let segments: [TextSegment] = [
            .markup("<|im_start|>system\n"), .text("You are a helpful AI assistant named SmolLM, trained by Hugging Face"),
            .markup("<|im_end|>\n<|im_start|>user\n"), .text("What is the boiling point of water at sea level?"),
            .markup("<|im_end|>\n<|im_start|>assistant\n"),
        ]
        #expect(segments.map { if case .markup(let s) = $0 { s } else if case .text(let s) = $0 { s } else { "" } }.joined() == golden.prompt)
        #expect(ReferenceData.smolLM2.encode(segments, addSpecial: true) == golden.prompt_token_ids)
    }

    /// SentencePiece adds the dummy prefix after every special token, whether it came from markup or a
    /// `.token` segment, and not between text segments.
    @Test func dummyPrefixFollowsSpecialTokens() {
        let llama = ReferenceData.llama
        let fromMarkup = llama.encode("a</s>b", addSpecial: true, parseSpecial: true)
        #expect(llama.encode([.text("a"), .token(2), .text("b")], addSpecial: true) == fromMarkup)
        #expect(fromMarkup.first == 1)
        #expect(llama.encode([.text("Hello"), .text(" world")], addSpecial: false) == [15043, 3186])
        #expect(llama.encode([.token(1), .text("[INST] Hi [/INST]")], addSpecial: false)
            == llama.encode("[INST] Hi [/INST]", addSpecial: true, parseSpecial: false))
    }

    @Test func endOfGenerationTokens() {
        let smol = ReferenceData.smolLM2.vocabulary
        #expect(smol.endOfGenerationTokens == [0, 2])  // <|endoftext|>, <|im_end|>
        #expect(smol.specialTokens.endOfTurn == 2)
        #expect(smol.specialTokens.beginOfSequence == 1)
        #expect(smol.isEndOfGeneration(2) && smol.isEndOfGeneration(0) && !smol.isEndOfGeneration(1))
        #expect(ReferenceData.llama.vocabulary.endOfGenerationTokens == [2])
        #expect(ReferenceData.starcoder.vocabulary.endOfGenerationTokens == [0])
    }

    @Test func vocabularyFlags() {
        let llama = ReferenceData.llama.vocabulary
        #expect(llama.model == .sentencePiece && llama.count == 32000)
        #expect(llama.addsBOS && !llama.addsEOS && llama.addsSpacePrefix)
        #expect(llama.specialTokens.unknown == 0 && llama.specialTokens.endOfSequence == 2)
        #expect(llama.type(of: 13) == .byte && llama.text(of: 13) == "<0x0A>")
        let smol = ReferenceData.smolLM2.vocabulary
        #expect(smol.model == .bytePair && smol.count == 49152 && smol.mergeCount == 48900)
        #expect(!smol.addsBOS && !smol.addsSpacePrefix && !smol.ignoresMerges)
        #expect(smol.preTokenizer == .digitsThenGPT2 && smol.preTokenizerName == "smollm")
        #expect(smol.token(forText: "<|im_start|>") == 1)
        #expect(smol.token(forText: "not a token at all") == nil)
    }

    @Test func piecesAreTheBytesATokenStandsFor() {
        let llama = ReferenceData.llama
        #expect(llama.piece(for: 15043) == Array(" Hello".utf8))
        #expect(llama.piece(for: 13) == [0x0A])
        #expect(llama.piece(for: 1) == Array("<s>".utf8))
        let smol = ReferenceData.smolLM2
        #expect(smol.piece(for: 7042) == Array(" Paris".utf8))
        #expect(smol.piece(for: 198) == [0x0A])
        #expect(smol.piece(for: 2) == Array("<|im_end|>".utf8))
        #expect(smol.piece(for: -1).isEmpty && smol.piece(for: 49152).isEmpty)
    }

    @Test func decodeOptions() {
        let llama = ReferenceData.llama
        #expect(llama.decode([1, 15043, 2]) == "Hello")
        #expect(llama.decode([1, 15043, 2], unparseSpecial: true) == "<s>Hello</s>")
        #expect(llama.decode([1, 15043, 2], removeSpecial: true, unparseSpecial: true) == "Hello</s>")
        #expect(llama.decode([1, 1, 15043], removeSpecial: true, unparseSpecial: true) == "<s>Hello")
        #expect(llama.decode([29871, 15043]) == " Hello")
        #expect(llama.decode([-5, 15043, 40000]) == "Hello")
        let smol = ReferenceData.smolLM2
        #expect(smol.decode([1, 4093, 198, 2]) == "user\n")
        #expect(smol.decode([1, 4093, 198, 2], unparseSpecial: true) == "<|im_start|>user\n<|im_end|>")
    }
}
