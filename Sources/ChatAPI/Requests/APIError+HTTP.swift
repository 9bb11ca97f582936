import HTTP
import Inference

extension APIError: HTTPResponseConvertible {
    /// The error as an HTTP response in OpenAI's shape, with `Retry-After` when a retry may succeed.
    package var response: HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        if let retryAfter { headers.replaceOrAdd(name: "Retry-After", value: String(retryAfter)) }
        return HTTPResponse(status: HTTPStatus(code: status), headers: headers, body: .bytes(Array(json.utf8)))
    }

    /// The API error for an engine refusal.
    init(_ error: InferenceError) {
        switch error {
        case .contextLengthExceeded:
            self.init(status: 400, message: error.description, param: "messages", code: "context_length_exceeded")
        case .emptyPrompt:
            self.init(status: 400, message: "the prompt is empty after templating and tokenization", param: "prompt")
        case .invalidToken:
            self.init(status: 400, message: error.description, param: "prompt")
        case .invalidParameter(let sampling):
            self.init(status: 400, message: sampling.description, param: sampling.parameter)
        case .invalidRequest(let field, _):
            self.init(status: 400, message: error.description, param: field)
        case .queueFull:
            self.init(status: 429, message: error.description, type: "rate_limit_error", code: "server_busy", retryAfter: 1)
        case .queueTimeout:
            self.init(status: 503, message: error.description, type: "server_error", code: "queue_timeout", retryAfter: 1)
        case .shuttingDown:
            self.init(status: 503, message: error.description, type: "server_error", code: "shutting_down", retryAfter: 5)
        case .insufficientMemory:
            self.init(status: 400, message: error.description, code: "context_length_exceeded")
        }
    }
}
