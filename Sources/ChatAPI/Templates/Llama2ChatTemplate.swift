import Tokenization

/// Llama 2 chat, exactly as Meta's reference `chat_completion` lays out tokens (`llama/generation.py`):
///
/// ```
/// [BOS] "[INST] {user} [/INST] {assistant} " [EOS]   for every completed exchange
/// [BOS] "[INST] {user} [/INST]"                      for the final user turn
/// ```
/// Each string is encoded on its own (so it gets SentencePiece's dummy-prefix space), contents are stripped,
/// and a leading system message is merged into the first user message as `<<SYS>>\n{system}\n<</SYS>>\n\n`.
/// Like Meta's reference, messages containing `[INST]`, `[/INST]`, `<<SYS>>` or `<</SYS>>` are refused unless
/// `allowsSpecialTags` (a configuration switch) says otherwise.
package struct Llama2ChatTemplate: ChatTemplate {
    package let name = "llama2"
    package var allowsSpecialTags: Bool

    package static let specialTags = ["[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"]

    package init(allowsSpecialTags: Bool = false) { self.allowsSpecialTags = allowsSpecialTags }

    package func render(_ messages: [ChatMessage], vocabulary: Vocabulary) throws(ChatTemplateError) -> [TextSegment] {
        try checkAlternatingRoles(messages)
        if !allowsSpecialTags {
            for (i, message) in messages.enumerated() {
                if let tag = Self.specialTags.first(where: { message.content.contains($0) }) {
                    throw ChatTemplateError(
                        "messages[\(i)].content contains '\(tag)', which the Llama 2 chat format reserves "
                            + "(special tags are not allowed as part of the prompt)",
                        parameter: "messages[\(i)].content")
                }
            }
        }
        let bos = try requiredToken(vocabulary.specialTokens.beginOfSequence, "BOS")
        let eos = try requiredToken(vocabulary.specialTokens.endOfSequence, "EOS")
        var dialog = messages
        if dialog[0].role == "system" {
            // Meta merges first and strips the combined text later: the system text itself is not stripped.
            let merged = "<<SYS>>\n" + dialog[0].content + "\n<</SYS>>\n\n" + dialog[1].content
            dialog = [ChatMessage(role: dialog[1].role, content: merged)] + dialog.dropFirst(2)
        }
        var segments: [TextSegment] = []
        var index = 0
        while index + 1 < dialog.count {
            let user = stripped(dialog[index].content)
            let answer = stripped(dialog[index + 1].content)
            segments += [.token(bos), .text("[INST] \(user) [/INST] \(answer) "), .token(eos)]
            index += 2
        }
        segments += [.token(bos), .text("[INST] \(stripped(dialog[index].content)) [/INST]")]
        return segments
    }
}
