import Testing
@testable import Tokenization

/// SentencePiece merging word by word (the fast path) gives the same ids as one queue over the fragment.
@Suite struct SentencePieceWordByWordTests {
    @Test func llamaVocabularyQualifies() throws {
        let tokenizer = try #require(ReferenceData.llama as? SentencePieceTokenizer)
        #expect(tokenizer.mergesWordByWord)
    }

    @Test(arguments: RoundTripTests.texts + [
        String(repeating: "the quick  brown\tfox   jumps\n", count: 40) + "日本語 テキスト 🦙 w048 7tuijk",
    ])
    func wordByWordMatchesWholeFragment(_ text: String) throws {
        let fast = try #require(ReferenceData.llama as? SentencePieceTokenizer)
        var slow = fast
        slow.mergesWordByWord = false
        for parseSpecial in [false, true] {
            #expect(fast.encode(text, addSpecial: true, parseSpecial: parseSpecial)
                == slow.encode(text, addSpecial: true, parseSpecial: parseSpecial))
        }
    }
}
