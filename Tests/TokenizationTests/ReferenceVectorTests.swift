import Testing
import Tokenization

/// The acceptance vectors: llama.cpp's tokenizer tests, the extra cases and the golden prompts, each
/// encoded exactly and decoded back to its text.
@Suite struct ReferenceVectorTests {
    @Test func everyFixtureIsPresent() {
        #expect(ReferenceData.llamaVectors.count == 46)
        #expect(ReferenceData.starcoderVectors.count == 46)
        #expect(ReferenceData.extraCases.count == 80)
        #expect(ReferenceData.extraCases.filter { $0.vocab.hasPrefix("smollm2") }.count == 40)
        #expect(ReferenceData.goldenPrompts.count == 4)
    }

    /// llama.cpp's `test-tokenizer-0`: no BOS, no special parsing.
    @Test(arguments: ReferenceData.llamaVectors)
    func llamaSentencePiece(_ vector: ReferenceData.Vector) {
        let tokenizer = ReferenceData.llama
        let ids = tokenizer.encode(vector.text, addSpecial: false, parseSpecial: false)
        #expect(ids == vector.ids)
        #expect(tokenizer.decode(ids) == vector.text)
    }

    @Test(arguments: ReferenceData.starcoderVectors)
    func starcoderBytePair(_ vector: ReferenceData.Vector) {
        let tokenizer = ReferenceData.starcoder
        let ids = tokenizer.encode(vector.text, addSpecial: false, parseSpecial: false)
        #expect(ids == vector.ids)
        #expect(tokenizer.decode(ids) == vector.text)
    }

    /// `llama-tokenize` with `add_special = true`, parsing on or off.
    @Test(arguments: ReferenceData.extraCases)
    func extraCase(_ record: ReferenceData.ExtraCase) {
        let tokenizer = record.tokenizer
        let ids = tokenizer.encode(record.text, addSpecial: true, parseSpecial: record.parse_special)
        #expect(ids == record.ids)
        #expect(tokenizer.vocabulary.addsBOS == record.add_bos)
        let decoded = tokenizer.decode(ids, removeSpecial: true, unparseSpecial: record.parse_special)
        #expect(decoded == record.text)
    }

    /// The prompts llama-server fed SmolLM2, with special parsing on (as sent) and off.
    @Test(arguments: ReferenceData.goldenPrompts)
    func goldenPrompt(_ prompt: ReferenceData.GoldenPrompt) {
        let tokenizer = ReferenceData.smolLM2
        let parsed = tokenizer.encode(prompt.prompt, addSpecial: true, parseSpecial: true)
        #expect(parsed == prompt.prompt_token_ids)
        #expect(tokenizer.decode(parsed, removeSpecial: true, unparseSpecial: true) == prompt.prompt)
        let plain = tokenizer.encode(prompt.prompt, addSpecial: true, parseSpecial: false)
        #expect(plain == prompt.prompt_token_ids_parse_special_false)
        #expect(tokenizer.decode(plain, removeSpecial: true) == prompt.prompt)
    }

    /// The generated ids decode to the server's text (which leaves out the end-of-generation token).
    @Test(arguments: ReferenceData.goldenPrompts)
    func goldenGeneratedText(_ prompt: ReferenceData.GoldenPrompt) {
        let tokenizer = ReferenceData.smolLM2
        #expect(tokenizer.decode(prompt.generated_token_ids) == prompt.generated_text)
        var streaming = StreamingDetokenizer(tokenizer: tokenizer)
        var text = ""
        for id in prompt.generated_token_ids { text += streaming.append(id) }
        text += streaming.finish()
        #expect(text == prompt.generated_text)
    }
}
