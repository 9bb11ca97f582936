import Tokenization

/// One message of a chat request.
package struct ChatMessage: Sendable, Equatable {
    package var role: String
    package var content: String

    package init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Why a conversation cannot be rendered; the message is shown to the client as a 400.
package struct ChatTemplateError: Error, Equatable, CustomStringConvertible {
    package let description: String
    /// The request field at fault (`messages`, `messages[2].role`, …).
    package let parameter: String

    package init(_ description: String, parameter: String = "messages") {
        self.description = description
        self.parameter = parameter
    }
}

/// A type that lays out a conversation as the prompt a model was trained on.
///
/// Templates return segments, not a string: message text is `.text` (never parsed for special tokens), the
/// template's own markup is `.markup`, and BOS/EOS are `.token` ids, so no user text can become a control
/// token and no BOS is ever spelled as the text `<s>`.
package protocol ChatTemplate: Sendable {
    /// The name used by `--chat-template` and shown by `llamaserve info`.
    var name: String { get }
    /// Renders `messages` (already checked to be non-empty) ending with the prompt for the assistant's reply.
    func render(_ messages: [ChatMessage], vocabulary: Vocabulary) throws(ChatTemplateError) -> [TextSegment]
}

extension ChatTemplate {
    /// The ids of the rendered prompt (the template places every BOS/EOS itself).
    package func tokens(
        _ messages: [ChatMessage], tokenizer: any Tokenizer
    ) throws(ChatTemplateError) -> [TokenID] {
        tokenizer.encode(try render(messages, vocabulary: tokenizer.vocabulary), addSpecial: false)
    }
}

/// Checks the role sequence templates with strict alternation need: an optional system message, then user and
/// assistant in turn, ending with user.
func checkAlternatingRoles(_ messages: [ChatMessage]) throws(ChatTemplateError) {
    let body = messages.first?.role == "system" ? Array(messages.dropFirst()) : messages
    let offset = messages.count - body.count
    guard !body.isEmpty else {
        throw ChatTemplateError("messages must contain a user message after the system message")
    }
    for (i, message) in body.enumerated() {
        let expected = i % 2 == 0 ? "user" : "assistant"
        guard message.role == expected else {
            let problem = message.role == "system"
                ? "a system message is only allowed as the first message"
                : "roles must alternate user/assistant after an optional system message"
            throw ChatTemplateError(
                "messages[\(i + offset)].role is '\(message.role)', expected '\(expected)': \(problem)",
                parameter: "messages[\(i + offset)].role")
        }
    }
    guard body.last?.role == "user" else {
        throw ChatTemplateError(
            "the last message must have role 'user' (got '\(body.last!.role)')", parameter: "messages")
    }
}

/// Python's `str.strip()` for the whitespace that matters here.
func stripped(_ s: String) -> String {
    var scalars = Substring(s)
    while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
    while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
    return String(scalars)
}

/// The id of a special token the template needs, or an error naming it.
func requiredToken(_ id: TokenID?, _ name: String) throws(ChatTemplateError) -> TokenID {
    guard let id else { throw ChatTemplateError("the model's vocabulary has no \(name) token, which this chat template needs") }
    return id
}
