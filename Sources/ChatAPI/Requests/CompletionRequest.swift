import Inference
import Tokenization

/// A parsed and validated `POST /v1/completions` body.
struct CompletionRequest {
    /// One entry per prompt: text to tokenize, or token ids used as given (no BOS added).
    enum Prompt {
        case text(String)
        case tokens([TokenID])
    }

    var prompts: [Prompt]
    var options: GenerationOptions
    var echo = false
    /// Alternatives per token in the legacy logprobs shape; nil: no logprobs.
    var logprobs: Int?

    /// The most prompts one request may carry.
    static let maximumPrompts = 64

    static func parse(_ body: [UInt8], limits: APILimits) throws(APIError) -> CompletionRequest {
        let r = try RequestObject.parse(body)
        guard let prompt = r.value("prompt") else {
            throw .invalid("prompt", "prompt is required: a string, an array of strings, or token ids")
        }
        let prompts = try parsePrompt(prompt, vocabularySize: limits.vocabularySize)
        guard !prompts.isEmpty else { throw .invalid("prompt", "prompt must not be an empty array") }
        guard prompts.count <= maximumPrompts else {
            throw .invalid("prompt", "at most \(maximumPrompts) prompts are accepted per request")
        }
        var request = CompletionRequest(prompts: prompts, options: try .parse(r, limits: limits, minimumMaxTokens: 0))
        request.echo = try r.bool("echo") ?? false
        request.logprobs = try r.integer("logprobs", in: 0...SamplingParameters.maximumTopLogprobs)
        if let n = request.logprobs { request.options.sampling.topLogprobs = n }
        if try r.string("suffix").map({ !$0.isEmpty }) ?? false {
            throw .invalid("suffix", "suffix is not supported")
        }
        return request
    }

    private static func parsePrompt(_ value: JSONValue, vocabularySize: Int) throws(APIError) -> [Prompt] {
        func tokenList(_ items: [JSONValue], field: String) throws(APIError) -> [TokenID] {
            try items.map { (item: JSONValue) throws(APIError) -> TokenID in
                guard case .number(let n) = item, let id = n.integer, n.isInteger else {
                    throw .invalid("prompt", "\(field) must hold only integer token ids")
                }
                guard id >= 0, id < vocabularySize else {
                    throw .invalid("prompt", "token id \(id) in \(field) is not in the vocabulary (0..<\(vocabularySize))")
                }
                return TokenID(id)
            }
        }
        switch value {
        case .string(let text): return [.text(text)]
        case .array(let items):
            guard let first = items.first else { return [] }
            switch first {
            case .number: return [.tokens(try tokenList(items, field: "prompt"))]
            case .string:
                return try items.enumerated().map { (i, item) throws(APIError) -> Prompt in
                    guard case .string(let text) = item else { throw .invalid("prompt", "prompt[\(i)] must be a string") }
                    return .text(text)
                }
            case .array:
                return try items.enumerated().map { (i, item) throws(APIError) -> Prompt in
                    guard case .array(let inner) = item else { throw .invalid("prompt", "prompt[\(i)] must be an array of token ids") }
                    return .tokens(try tokenList(inner, field: "prompt[\(i)]"))
                }
            default:
                throw .invalid("prompt", "prompt must be a string, an array of strings, or token ids")
            }
        default:
            throw .invalid("prompt", "prompt must be a string, an array of strings, or token ids, not \(value.typeName)")
        }
    }
}
