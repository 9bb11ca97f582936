import Tokenization

/// ChatML (`<|im_start|>role\ncontent<|im_end|>\n`), used by SmolLM2, Qwen and many others.
///
/// Some models' templates add a default system message when the conversation has none (SmolLM2's does); it is
/// read from the model's template text.
package struct ChatMLTemplate: ChatTemplate {
    package let name = "chatml"
    package var defaultSystemMessage: String?

    package init(defaultSystemMessage: String? = nil) { self.defaultSystemMessage = defaultSystemMessage }

    package func render(_ messages: [ChatMessage], vocabulary: Vocabulary) throws(ChatTemplateError) -> [TextSegment] {
        var segments: [TextSegment] = []
        if let system = defaultSystemMessage, messages.first?.role != "system" {
            segments += [.markup("<|im_start|>system\n"), .text(system), .markup("<|im_end|>\n")]
        }
        for (i, message) in messages.enumerated() {
            guard ["system", "user", "assistant"].contains(message.role) else {
                throw ChatTemplateError(
                    "messages[\(i)].role '\(message.role)' is not one of system, user, assistant",
                    parameter: "messages[\(i)].role")
            }
            segments += [.markup("<|im_start|>\(message.role)\n"), .text(message.content), .markup("<|im_end|>\n")]
        }
        segments.append(.markup("<|im_start|>assistant\n"))
        return segments
    }

    /// The default system message a ChatML template inserts, if its text shows one.
    static func defaultSystemMessage(in template: String) -> String? {
        guard template.contains("!= 'system'") || template.contains("!= \"system\"") else { return nil }
        // Templates write the newline either as a real one or as a `\n` escape inside the Jinja string.
        for (marker, escaped) in [("<|im_start|>system\n", false), ("<|im_start|>system\\n", true)] {
            guard let start = template.firstRange(of: marker)?.upperBound,
                let end = template[start...].firstRange(of: "<|im_end|>")?.lowerBound
            else { continue }
            var text = String(template[start..<end])
            if text.contains("{{") || text.contains("{%") { return nil }
            if escaped { text = text.replacing("\\n", with: "\n") }
            return text
        }
        return nil
    }
}
