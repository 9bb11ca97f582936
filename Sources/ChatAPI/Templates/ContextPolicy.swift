import Tokenization

/// What to do when a chat does not fit the context.
package enum ContextPolicy: String, Sendable {
    /// Answer `context_length_exceeded`.
    case error
    /// Drop the oldest user/assistant turns, always keeping the system message and the last user message.
    case truncate
}

/// The prompt of a conversation fitted to the context under a policy.
struct FittedPrompt {
    var tokens: [TokenID]
    /// Messages dropped from the front of the conversation (0 when it fitted).
    var droppedMessages: Int
}

extension ChatTemplate {
    /// Renders `messages`; under `.truncate`, drops the oldest turns (a user message with the assistant reply
    /// after it, so strict templates keep alternating) until the prompt leaves `reserve` tokens of `limit`.
    /// The system message and the last user message are never dropped. Returns the prompt even when it still
    /// does not fit (the caller reports that).
    func fitted(
        _ messages: [ChatMessage], tokenizer: any Tokenizer, policy: ContextPolicy, limit: Int, reserve: Int
    ) throws(APIError) -> FittedPrompt {
        var tokens = try promptTokens(messages, tokenizer: tokenizer)
        guard policy == .truncate, tokens.count + reserve > limit else { return FittedPrompt(tokens: tokens, droppedMessages: 0) }
        let system = messages.first?.role == "system" ? [messages[0]] : []
        var body = Array(messages.dropFirst(system.count))
        var dropped = 0
        while body.count > 1 && tokens.count + reserve > limit {
            // One turn: the oldest message, and its reply when it is a user message answered by the assistant.
            let count = body.count > 2 && body[0].role == "user" && body[1].role == "assistant" ? 2 : 1
            guard body.count - count >= 1 else { break }
            body.removeFirst(count)
            dropped += count
            tokens = try promptTokens(system + body, tokenizer: tokenizer)
        }
        return FittedPrompt(tokens: tokens, droppedMessages: dropped)
    }
}
