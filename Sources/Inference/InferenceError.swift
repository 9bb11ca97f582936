/// Why the engine did not (or could not finish to) serve a request.
package enum InferenceError: Error, Equatable, CustomStringConvertible {
    /// The prompt plus the requested tokens do not fit the context.
    case contextLengthExceeded(promptTokens: Int, maxTokens: Int, limit: Int)
    /// The prompt holds no tokens.
    case emptyPrompt
    /// A token id is outside the vocabulary.
    case invalidToken(Int32, vocabularySize: Int)
    /// A sampling parameter is out of range.
    case invalidParameter(SamplingError)
    /// A request field is out of range (name, problem).
    case invalidRequest(String, String)
    /// The waiting queue is full; try again later.
    case queueFull
    /// The request waited longer than the queue timeout.
    case queueTimeout(seconds: Double)
    /// The engine is shutting down and admits no new work.
    case shuttingDown
    /// The KV cache cannot hold even this one request.
    case insufficientMemory(neededTokens: Int, capacityTokens: Int)

    package var description: String {
        switch self {
        case .contextLengthExceeded(let prompt, let maxTokens, let limit):
            "This model's maximum context length is \(limit) tokens. However, you requested \(prompt + maxTokens) "
                + "tokens (\(prompt) in the prompt, \(maxTokens) for the completion). Please reduce the length of "
                + "the prompt or the completion."
        case .emptyPrompt: "the prompt is empty"
        case .invalidToken(let token, let size): "token id \(token) is not in the vocabulary (0..<\(size))"
        case .invalidParameter(let error): error.description
        case .invalidRequest(let field, let problem): "\(field) \(problem)"
        case .queueFull: "the server is at capacity (request queue full); retry later"
        case .queueTimeout(let seconds): "the request waited \(Int(seconds)) s in the queue without starting"
        case .shuttingDown: "the server is shutting down"
        case .insufficientMemory(let needed, let capacity):
            "the request needs \(needed) tokens of KV cache but the cache holds only \(capacity)"
        }
    }
}
