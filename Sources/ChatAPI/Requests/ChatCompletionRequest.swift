import Inference

/// A parsed and validated `POST /v1/chat/completions` body.
struct ChatCompletionRequest {
    var messages: [ChatMessage]
    var options: GenerationOptions
    var logprobs = false
    var topLogprobs = 0

    static func parse(_ body: [UInt8], limits: APILimits) throws(APIError) -> ChatCompletionRequest {
        let r = try RequestObject.parse(body)
        guard let items = try r.array("messages") else {
            throw .invalid("messages", "messages is required: an array of {role, content} objects")
        }
        var request = ChatCompletionRequest(
            messages: try parseMessages(items), options: try .parse(r, limits: limits, minimumMaxTokens: 1))
        request.logprobs = try r.bool("logprobs") ?? false
        if let top = try r.integer("top_logprobs", in: 0...SamplingParameters.maximumTopLogprobs) {
            guard request.logprobs else { throw .invalid("top_logprobs", "top_logprobs requires logprobs: true") }
            request.topLogprobs = top
        }
        if request.logprobs { request.options.sampling.topLogprobs = request.topLogprobs }
        return request
    }

    /// Parses a `messages` array: objects with a role (system, user, assistant; developer means system) and
    /// text content.
    static func parseMessages(_ items: [JSONValue]) throws(APIError) -> [ChatMessage] {
        guard !items.isEmpty else { throw .invalid("messages", "messages must not be empty") }
        var messages: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            let field = "messages[\(i)]"
            guard case .object(let object) = item else {
                throw .invalid(field, "\(field) must be an object with role and content, not \(item.typeName)")
            }
            let m = RequestObject(object, path: field + ".")
            guard var role = try m.string("role") else { throw .invalid(field + ".role", "\(field).role is required") }
            if role == "developer" { role = "system" }
            guard ["system", "user", "assistant"].contains(role) else {
                throw .invalid(field + ".role", "\(field).role '\(role)' is not supported (use system, user or assistant)")
            }
            messages.append(ChatMessage(role: role, content: try content(m, field: field, role: role)))
        }
        return messages
    }

    /// A message's text: a string, or an array of text parts (images and audio are refused).
    private static func content(_ m: RequestObject, field: String, role: String) throws(APIError) -> String {
        guard let value = m.value("content") else {
            if role == "assistant" { return "" }
            throw .invalid(field + ".content", "\(field).content is required")
        }
        switch value {
        case .string(let text): return text
        case .array(let parts):
            var text = ""
            for (j, part) in parts.enumerated() {
                guard case .object(let object) = part else {
                    throw .invalid(field + ".content", "\(field).content[\(j)] must be a content part object")
                }
                let p = RequestObject(object, path: "\(field).content[\(j)].")
                let type = try p.string("type")
                guard type == "text", let partText = try p.string("text") else {
                    throw .invalid(field + ".content", "\(field).content[\(j)] has type '\(type ?? "none")'; only text parts are supported")
                }
                text += partText
            }
            return text
        default:
            throw .invalid(field + ".content", "\(field).content must be a string or an array of text parts, not \(value.typeName)")
        }
    }
}
