import ChatAPI
import GGUF
import Model
import Testing
import TestSupport
import Tokenization

/// The Llama 2 template against Meta's reference layout, on the real Llama 2 vocabulary.
@Suite struct Llama2ChatTemplateTests {
    static let tokenizer: any Tokenizer = {
        let file = try! GGUFFile(contentsOf: Fixtures.llamaVocabulary)
        return makeTokenizer(for: try! Vocabulary(gguf: file))
    }()

    /// Meta's `tokenizer.encode(s, bos:, eos:)`: SentencePiece with its dummy prefix, BOS/EOS as ids.
    static func meta(_ s: String, bos: Bool, eos: Bool) -> [TokenID] {
        (bos ? [1] : []) + tokenizer.encode(s, addSpecial: false, parseSpecial: false) + (eos ? [2] : [])
    }

    static func render(_ messages: [(String, String)], allowTags: Bool = false) throws -> [TokenID] {
        try Llama2ChatTemplate(allowsSpecialTags: allowTags).tokens(
            messages.map { ChatMessage(role: $0.0, content: $0.1) }, tokenizer: tokenizer)
    }

    @Test func workedExampleAWithSystemPromptWrittenOutByHand() throws {
        let ids = try Self.render([("system", "You are assistant."), ("user", "hello")])
        #expect(ids == [
            1, 518, 25580, 29962, 3532, 14816, 29903, 6778, 13, 3492, 526, 20255, 29889, 13, 29966, 829, 14816,
            29903, 6778, 13, 13, 12199, 518, 29914, 25580, 29962,
        ])
    }

    @Test func workedExampleBMultiTurnWrittenOutByHand() throws {
        let ids = try Self.render([
            ("system", "You are assistant."), ("user", "hello"), ("assistant", "how can I help you?"),
            ("user", "how much is 2+2?"),
        ])
        let first: [TokenID] = [
            1, 518, 25580, 29962, 3532, 14816, 29903, 6778, 13, 3492, 526, 20255, 29889, 13, 29966, 829, 14816,
            29903, 6778, 13, 13, 12199, 518, 29914, 25580, 29962, 920, 508, 306, 1371, 366, 29973, 29871, 2,
        ]
        let second: [TokenID] = [1, 518, 25580, 29962, 920, 1568, 338, 29871, 29906, 29974, 29906, 29973, 518, 29914, 25580, 29962]
        #expect(ids == first + second)
    }

    @Test func noSystemPrompt() throws {
        #expect(try Self.render([("user", "Hi there")]) == Self.meta("[INST] Hi there [/INST]", bos: true, eos: false))
    }

    @Test func multiTurnEqualsSegmentEncodings() throws {
        let ids = try Self.render([
            ("user", "What is Swift?"), ("assistant", "A language."), ("user", "By whom?"), ("assistant", "Apple."),
            ("user", "When?"),
        ])
        let expected = Self.meta("[INST] What is Swift? [/INST] A language. ", bos: true, eos: true)
            + Self.meta("[INST] By whom? [/INST] Apple. ", bos: true, eos: true)
            + Self.meta("[INST] When? [/INST]", bos: true, eos: false)
        #expect(ids == expected)
    }

    @Test func emptySystemPromptStillEmitsTheBlock() throws {
        let ids = try Self.render([("system", ""), ("user", "hello")])
        #expect(ids == Self.meta("[INST] <<SYS>>\n\n<</SYS>>\n\nhello [/INST]", bos: true, eos: false))
    }

    @Test func whitespaceIsStrippedAsMetaStripsIt() throws {
        // Contents are stripped; the system text is merged before stripping, so only the ends of the merged
        // text lose whitespace.
        let ids = try Self.render([("system", "  Be brief.  "), ("user", "  hi  \n"), ("assistant", "\n yes \t"), ("user", " ok ")])
        let expected = Self.meta("[INST] <<SYS>>\n  Be brief.  \n<</SYS>>\n\n  hi [/INST] yes ", bos: true, eos: true)
            + Self.meta("[INST] ok [/INST]", bos: true, eos: false)
        #expect(ids == expected)
    }

    @Test func controlTokenTextInMessagesStaysText() throws {
        let ids = try Self.render([("user", "say </s> and <s> please")])
        #expect(ids == Self.meta("[INST] say </s> and <s> please [/INST]", bos: true, eos: false))
        #expect(ids.filter { $0 == 1 } == [1])
        #expect(!ids.contains(2))
    }

    @Test(arguments: [
        [("assistant", "hi")],
        [("user", "a"), ("user", "b")],
        [("user", "a"), ("assistant", "b")],
        [("user", "a"), ("system", "b"), ("user", "c")],
        [("system", "only")],
    ])
    func invalidRoleOrdersAreRefused(messages: [(String, String)]) {
        #expect(throws: ChatTemplateError.self) { try Self.render(messages) }
    }

    @Test func reservedTagsAreRefusedUnlessAllowed() throws {
        #expect(throws: ChatTemplateError.self) { try Self.render([("user", "ignore [INST] this")]) }
        #expect(throws: ChatTemplateError.self) { try Self.render([("system", "<<SYS>>"), ("user", "x")]) }
        let allowed = try Self.render([("user", "ignore [INST] this")], allowTags: true)
        #expect(allowed == Self.meta("[INST] ignore [INST] this [/INST]", bos: true, eos: false))
    }

    @Test func detectionPicksLlama2ForNoTemplateAndForMetaStyleTemplates() {
        #expect(ChatTemplates.detect(from: nil).name == "llama2")
        #expect(ChatTemplates.detect(from: "{% if messages[0]['role'] == 'system' %}...[INST] <<SYS>>...").name == "llama2")
        #expect(ChatTemplates.detect(from: "{{ bos_token }}{% for m in messages %}[INST] {{ m.content }} [/INST]").name == "mistral")
        #expect(ChatTemplates.detect(from: "<|im_start|>{{ role }}").name == "chatml")
        #expect(ChatTemplates.detect(from: "<|start_header_id|>").name == "llama3")
        #expect(ChatTemplates.detect(from: "<|user|>\n{{ c }}</s><|assistant|>").name == "zephyr")
    }
}
