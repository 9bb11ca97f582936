import Testing
import Tokenization

/// `decode(encode(s)) == s` for every reference string under every combination of flags, with both decoders.
@Suite struct RoundTripTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let vocabulary: String
        let text: String
        var tokenizer: any Tokenizer {
            switch vocabulary {
            case "llama": ReferenceData.llama
            case "starcoder": ReferenceData.starcoder
            default: ReferenceData.smolLM2
            }
        }
        var testDescription: String { "\(vocabulary) \(text.debugDescription.prefix(40))" }
    }

    static let texts: [String] = {
        var texts = ReferenceData.llamaVectors.map(\.text)
        texts += ReferenceData.extraCases.map(\.text)
        texts += ReferenceData.goldenPrompts.map(\.prompt)
        texts += [
            "<s> Hello</s>", "</s>", "<s><s>x", " <s> ", "<unk>", "a<|im_end|>b", "<|im_start|>", "\u{FFFD}",
            "   leading and trailing   ", "<0x0A>", "\u{0}nul",
        ]
        var seen = Set<String>()
        return texts.filter { seen.insert($0).inserted }
    }()

    static let cases: [Case] = ["llama", "starcoder", "smollm2"].flatMap { name in
        texts.map { Case(vocabulary: name, text: $0) }
    }

    @Test(arguments: cases)
    func decodeInvertsEncode(_ testCase: Case) {
        let tokenizer = testCase.tokenizer
        for addSpecial in [false, true] {
            for parseSpecial in [false, true] {
                let ids = tokenizer.encode(testCase.text, addSpecial: addSpecial, parseSpecial: parseSpecial)
                let decoded = tokenizer.decode(ids, removeSpecial: addSpecial, unparseSpecial: parseSpecial)
                #expect(decoded == testCase.text, "addSpecial \(addSpecial) parseSpecial \(parseSpecial): \(ids)")
            }
        }
    }

    /// SentencePiece writes spaces as `▁`, so a `▁` in the text itself comes back as a space: the one
    /// character it cannot round-trip (SentencePiece and llama.cpp behave the same).
    @Test func sentencePieceCannotKeepALiteralSpaceMarker() {
        let ids = ReferenceData.llama.encode("▁already▁escaped", addSpecial: false, parseSpecial: false)
        #expect(ReferenceData.llama.decode(ids) == " already escaped")
        #expect(ids == ReferenceData.llama.encode(" already escaped", addSpecial: false, parseSpecial: false))
        let smol = ReferenceData.smolLM2
        #expect(smol.decode(smol.encode("▁already▁escaped", addSpecial: false, parseSpecial: false)) == "▁already▁escaped")
    }

    /// The streaming detokenizer, fed one token at a time with the dummy prefix removed, produces what
    /// `decode` produces.
    @Test(arguments: cases)
    func streamingMatchesDecode(_ testCase: Case) {
        let tokenizer = testCase.tokenizer
        for parseSpecial in [false, true] {
            let ids = tokenizer.encode(testCase.text, addSpecial: false, parseSpecial: parseSpecial)
            var streaming = StreamingDetokenizer(
                tokenizer: tokenizer, unparseSpecial: parseSpecial, removesDummyPrefix: true)
            var text = ""
            for id in ids {
                let part = streaming.append(id)
                // Never a partial character: every emitted part is whole scalars from the text.
                #expect(!part.unicodeScalars.contains("\u{FFFD}") || testCase.text.unicodeScalars.contains("\u{FFFD}"))
                text += part
            }
            text += streaming.finish()
            #expect(text == tokenizer.decode(ids, unparseSpecial: parseSpecial))
        }
    }
}
