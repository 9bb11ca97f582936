import GGUF
@testable import Inference
import Testing
import TestSupport
import Tokenization

@testable import ChatAPI

/// The legacy completions `logprobs` object: what lm-evaluation-harness reads from it.
@Suite struct LegacyLogprobsTests {
    static let tokenizer = APIStreamingTests.tokenizer

    static func json(_ logprobs: LegacyLogprobs) -> String {
        var w = JSONWriter()
        logprobs.write(into: &w)
        return w.string
    }

    static func alternative(_ token: TokenID, _ logprob: Float) -> TokenLogprob {
        TokenLogprob(token: token, logprob: logprob)
    }

    @Test func echoedPromptOffsetsIndexTheTextAndTheChosenValueIsExact() {
        // "Hello world" as the server sends it: BOS added by the server, then ▁Hello ▁world.
        let prompt = CompletionsResponder.Prompt(tokens: [1, 15043, 3186], text: "Hello world", addedBOS: true)
        var logprobs = LegacyLogprobs(tokenizer: Self.tokenizer, alternatives: 1)
        logprobs.appendPrompt(prompt, logprobs: [
            PromptTokenLogprob(token: 15043, logprob: -2.5, topLogprobs: [Self.alternative(450, -0.75)]),
            PromptTokenLogprob(token: 3186, logprob: -0.125, topLogprobs: [Self.alternative(3186, -0.125)]),
        ])
        #expect(logprobs.tokens == ["<s>", " Hello", " world"])
        #expect(logprobs.tokenLogprobs == [nil, -2.5, -0.125])
        #expect(logprobs.textOffsets == [0, 0, 5])
        #expect(Self.json(logprobs).contains(#""top_logprobs":[null,{" The":-0.75," Hello":-2.5},{" world":-0.125}]"#))
        #expect(logprobs.offset == 11)
    }

    @Test func tokenPromptsRenderTheirBOSAsText() {
        let prompt = CompletionsResponder.Prompt(tokens: [1, 15043], text: "<s>Hello", addedBOS: false)
        var logprobs = LegacyLogprobs(tokenizer: Self.tokenizer, alternatives: 0)
        logprobs.appendPrompt(prompt, logprobs: [PromptTokenLogprob(token: 15043, logprob: -1, topLogprobs: [])])
        #expect(logprobs.textOffsets == [0, 3] && logprobs.offset == 8)
        // With no alternatives asked for, the chosen token is still there with its own value.
        #expect(Self.json(logprobs).contains(#""top_logprobs":[null,{" Hello":-1.0}]"#))
    }

    @Test func missingPromptLogprobsAreNullNotACrash() {
        let prompt = CompletionsResponder.Prompt(tokens: [1, 15043, 3186], text: "Hello world", addedBOS: true)
        var logprobs = LegacyLogprobs(tokenizer: Self.tokenizer, alternatives: 1)
        logprobs.appendPrompt(prompt, logprobs: [])
        #expect(logprobs.tokenLogprobs == [nil, nil, nil])
    }

    @Test func generatedByteTokensShareTheirCharactersOffset() {
        // "é" as two byte tokens <0xC3><0xA9> (ids 198, 172), then ▁a.
        var logprobs = LegacyLogprobs(tokenizer: Self.tokenizer, alternatives: 2)
        logprobs.appendGenerated([
            GeneratedToken(token: 198, logprob: -1, topLogprobs: []), GeneratedToken(token: 172, logprob: -1, topLogprobs: []),
            GeneratedToken(token: 263, logprob: -1, topLogprobs: []),
        ])
        #expect(logprobs.textOffsets == [0, 0, 1])
    }

    @Test func alternativesWithTheSameTextBecomeOneKeyAndTheChosenOneKeepsItsValue() {
        var logprobs = LegacyLogprobs(tokenizer: Self.tokenizer, alternatives: 3)
        // Byte tokens 198 and 199 both render as U+FFFD on their own; 199 was chosen.
        logprobs.appendGenerated([GeneratedToken(
            token: 199, logprob: -2, topLogprobs: [Self.alternative(198, -1), Self.alternative(199, -2), Self.alternative(450, -3)])])
        let json = Self.json(logprobs)
        #expect(json.contains(#""top_logprobs":[{"\#u{FFFD}":-2.0," The":-3.0}]"#), "\(json)")
    }

    @Test func streamedChunksContinueTheOffsets() {
        var logprobs = LegacyLogprobs(tokenizer: Self.tokenizer, alternatives: 0)
        logprobs.appendGenerated([GeneratedToken(token: 15043, logprob: -1, topLogprobs: [])])
        #expect(logprobs.textOffsets == [0])
        logprobs.removeEntries()
        #expect(logprobs.isEmpty)
        logprobs.appendGenerated([GeneratedToken(token: 3186, logprob: -1, topLogprobs: [])])
        #expect(logprobs.textOffsets == [6] && logprobs.tokens == [" world"])
    }
}
