@testable import ChatAPI
import GGUF
import Model
import Testing
import TestSupport
import Tokenization

/// Truncation drops the oldest turns and keeps the system prompt and the last user message.
@Suite struct ContextPolicyTests {
    static let tokenizer = Llama2ChatTemplateTests.tokenizer
    static let conversation: [ChatMessage] = [
        ChatMessage(role: "system", content: "Always answer in French."),
        ChatMessage(role: "user", content: String(repeating: "first question ", count: 20)),
        ChatMessage(role: "assistant", content: String(repeating: "first answer ", count: 20)),
        ChatMessage(role: "user", content: String(repeating: "second question ", count: 20)),
        ChatMessage(role: "assistant", content: String(repeating: "second answer ", count: 20)),
        ChatMessage(role: "user", content: "And the capital of Italy?"),
    ]

    @Test func truncateDropsWholeTurnsFromTheFrontUntilItFits() throws {
        let template = Llama2ChatTemplate()
        let full = try template.promptTokens(Self.conversation, tokenizer: Self.tokenizer)
        let limit = full.count - 40 + 16  // room for the reply only after dropping at least one turn
        let fitted = try template.fitted(Self.conversation, tokenizer: Self.tokenizer, policy: .truncate, limit: limit, reserve: 16)
        #expect(fitted.droppedMessages == 2)
        #expect(fitted.tokens.count + 16 <= limit)
        let expected = try template.promptTokens(
            [Self.conversation[0]] + Self.conversation[3...], tokenizer: Self.tokenizer)
        #expect(fitted.tokens == expected)
    }

    @Test func truncateKeepsSystemAndLastUserEvenWhenThatIsAllThatIsLeft() throws {
        let template = Llama2ChatTemplate()
        let fitted = try template.fitted(Self.conversation, tokenizer: Self.tokenizer, policy: .truncate, limit: 60, reserve: 8)
        #expect(fitted.droppedMessages == 4)
        let minimal = try template.promptTokens([Self.conversation[0], Self.conversation[5]], tokenizer: Self.tokenizer)
        #expect(fitted.tokens == minimal)
    }

    @Test func errorPolicyLeavesThePromptAlone() throws {
        let template = Llama2ChatTemplate()
        let fitted = try template.fitted(Self.conversation, tokenizer: Self.tokenizer, policy: .error, limit: 60, reserve: 8)
        #expect(fitted.droppedMessages == 0)
        #expect(fitted.tokens == (try template.promptTokens(Self.conversation, tokenizer: Self.tokenizer)))
    }
}
