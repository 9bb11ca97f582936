import Tokenization

/// Llama 3 / 3.1 chat: `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`, contents trimmed.
package struct Llama3ChatTemplate: ChatTemplate {
    package let name = "llama3"

    package init() {}

    package func render(_ messages: [ChatMessage], vocabulary: Vocabulary) throws(ChatTemplateError) -> [TextSegment] {
        var segments: [TextSegment] = [.token(try requiredToken(vocabulary.specialTokens.beginOfSequence, "BOS"))]
        for (i, message) in messages.enumerated() {
            guard ["system", "user", "assistant"].contains(message.role) else {
                throw ChatTemplateError(
                    "messages[\(i)].role '\(message.role)' is not one of system, user, assistant",
                    parameter: "messages[\(i)].role")
            }
            segments += [
                .markup("<|start_header_id|>\(message.role)<|end_header_id|>\n\n"), .text(stripped(message.content)),
                .markup("<|eot_id|>"),
            ]
        }
        segments.append(.markup("<|start_header_id|>assistant<|end_header_id|>\n\n"))
        return segments
    }
}

/// Mistral instruct: `[BOS][INST] user [/INST]answer[EOS][INST] user [/INST]`; a system message is prepended to
/// the first user message.
package struct MistralChatTemplate: ChatTemplate {
    package let name = "mistral"

    package init() {}

    package func render(_ messages: [ChatMessage], vocabulary: Vocabulary) throws(ChatTemplateError) -> [TextSegment] {
        try checkAlternatingRoles(messages)
        let bos = try requiredToken(vocabulary.specialTokens.beginOfSequence, "BOS")
        let eos = try requiredToken(vocabulary.specialTokens.endOfSequence, "EOS")
        var dialog = messages
        if dialog[0].role == "system" {
            dialog = [ChatMessage(role: "user", content: dialog[0].content + "\n\n" + dialog[1].content)] + dialog.dropFirst(2)
        }
        var segments: [TextSegment] = [.token(bos)]
        for message in dialog {
            if message.role == "user" {
                segments += [.markup("[INST] "), .text(message.content), .markup(" [/INST]")]
            } else {
                segments += [.text(message.content), .token(eos)]
            }
        }
        return segments
    }
}

/// Zephyr: `<|system|>\n…</s>\n<|user|>\n…</s>\n<|assistant|>\n…</s>\n`, ending with `<|assistant|>\n`.
package struct ZephyrChatTemplate: ChatTemplate {
    package let name = "zephyr"

    package init() {}

    package func render(_ messages: [ChatMessage], vocabulary: Vocabulary) throws(ChatTemplateError) -> [TextSegment] {
        let eos = try requiredToken(vocabulary.specialTokens.endOfSequence, "EOS")
        var segments: [TextSegment] = []
        for (i, message) in messages.enumerated() {
            guard ["system", "user", "assistant"].contains(message.role) else {
                throw ChatTemplateError(
                    "messages[\(i)].role '\(message.role)' is not one of system, user, assistant",
                    parameter: "messages[\(i)].role")
            }
            segments += [.markup("<|\(message.role)|>\n"), .text(message.content), .token(eos), .markup("\n")]
        }
        segments.append(.markup("<|assistant|>\n"))
        return segments
    }
}

/// Chooses the template for a model, from `--chat-template NAME` or by recognising the GGUF's
/// `tokenizer.chat_template`.
package enum ChatTemplates {
    /// The names `--chat-template` accepts.
    package static let names = ["llama2", "chatml", "llama3", "mistral", "zephyr"]

    /// The template named `name`, or nil for an unknown name.
    package static func named(_ name: String, modelTemplate: String? = nil, allowsSpecialTags: Bool = false) -> (any ChatTemplate)? {
        switch name {
        case "llama2": Llama2ChatTemplate(allowsSpecialTags: allowsSpecialTags)
        case "chatml": ChatMLTemplate(defaultSystemMessage: modelTemplate.flatMap(ChatMLTemplate.defaultSystemMessage))
        case "llama3": Llama3ChatTemplate()
        case "mistral": MistralChatTemplate()
        case "zephyr": ZephyrChatTemplate()
        default: nil
        }
    }

    /// The template a model's own template text corresponds to. A Llama model with no template gets Llama 2's
    /// (early Llama 2 conversions carry none; llama.cpp's ChatML default is wrong for them).
    package static func detect(from modelTemplate: String?, allowsSpecialTags: Bool = false) -> any ChatTemplate {
        guard let t = modelTemplate, !t.isEmpty else { return Llama2ChatTemplate(allowsSpecialTags: allowsSpecialTags) }
        let name: String
        if t.contains("<|im_start|>") {
            name = "chatml"
        } else if t.contains("<|start_header_id|>") {
            name = "llama3"
        } else if t.contains("<|user|>") && t.contains("<|assistant|>") {
            name = "zephyr"
        } else if t.contains("[INST]") && (t.contains("<<SYS>>") || t.contains("B_SYS")) {
            name = "llama2"
        } else if t.contains("[INST]") {
            name = "mistral"
        } else {
            name = "llama2"
        }
        return named(name, modelTemplate: t, allowsSpecialTags: allowsSpecialTags)!
    }
}
