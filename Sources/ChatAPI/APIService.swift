#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HTTP
import Inference
import Synchronization
import Tokenization

/// Everything the API endpoints need once the model is loaded.
package final class APIService: Sendable {
    package let generator: any TextGenerator
    package let tokenizer: any Tokenizer
    package let template: any ChatTemplate
    /// The model's own chat template text (`tokenizer.chat_template`), reported by `/tokenizer_info`.
    package let modelTemplate: String?
    /// The id clients see in `/v1/models` and responses.
    package let modelName: String
    package let limits: APILimits
    /// How often an SSE comment keeps the connection alive while no token has been sent yet.
    package let pingInterval: Duration
    package let created: Int
    /// Called once per finished generation with its timings and token counts (metrics, access log).
    package let observer: (@Sendable (GenerationRecord) -> Void)?
    /// What to do with chats longer than the context.
    package let contextPolicy: ContextPolicy

    package init(
        generator: any TextGenerator, tokenizer: any Tokenizer, template: any ChatTemplate, modelTemplate: String?,
        modelName: String, limits: APILimits, pingInterval: Duration = .seconds(10),
        contextPolicy: ContextPolicy = .error, observer: (@Sendable (GenerationRecord) -> Void)? = nil
    ) {
        self.contextPolicy = contextPolicy
        self.generator = generator
        self.tokenizer = tokenizer
        self.template = template
        self.modelTemplate = modelTemplate
        self.modelName = modelName
        self.limits = limits
        self.pingInterval = pingInterval
        self.created = Int(time(nil))
        self.observer = observer
    }

    /// Reports a finished generation to the observer (metrics) and the request's access-log annotations.
    func finished(_ record: GenerationRecord) {
        observer?(record)
        RequestAnnotations.current?.record(record)
    }

    /// Whether the vocabulary adds SentencePiece's dummy prefix, whose space Meta's decode drops from replies.
    var removesLeadingSpace: Bool { tokenizer.vocabulary.addsSpacePrefix }

    /// A fresh response id with the given prefix (`chatcmpl-`, `cmpl-`).
    static func responseID(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        return prefix + String(decoding: (0..<24).map { _ in digits[Int(generator.next() % 16)] }, as: UTF8.self)
    }
}

/// Timings and counts of one finished generation request.
package struct GenerationRecord: Sendable {
    package var promptTokens: Int
    package var completionTokens: Int
    package var cachedTokens: Int
    /// From arrival to the first generated token (nil if none was generated).
    package var timeToFirstToken: Duration?
    package var duration: Duration
    package var endpoint: String
}

/// Whether the model is loaded: the API answers 503 while it loads.
package final class APIState: Sendable {
    package enum Phase: Sendable {
        case loading
        case ready(APIService)
        case failed(String)
    }

    private let phase = Mutex(Phase.loading)

    package init() {}

    package func set(_ new: Phase) { phase.withLock { $0 = new } }

    package var current: Phase { phase.withLock { $0 } }

    /// The service, or the 503 to send while there is none.
    func service() throws(APIError) -> APIService {
        switch current {
        case .ready(let service): return service
        case .loading: throw APIError(status: 503, message: "Loading model", type: "unavailable_error", retryAfter: 5)
        case .failed(let reason): throw APIError(status: 503, message: "The model failed to load: \(reason)", type: "unavailable_error")
        }
    }
}

/// Builds the router for every endpoint of the API.
package func makeAPIRouter(state: APIState) -> Router {
    var router = Router()
    for path in ["/health", "/v1/health"] {
        router.addImmediate(.get, path) { _, _ in healthResponse(state) }
    }
    router.add(.post, "/v1/chat/completions") { request, _ in
        try await ChatCompletionsResponder(service: try state.service()).respond(to: request)
    }
    router.add(.post, "/v1/completions") { request, _ in
        try await CompletionsResponder(service: try state.service()).respond(to: request)
    }
    router.add(.get, "/v1/models") { _, _ in try modelsResponse(try state.service(), id: nil) }
    router.add(.get, "/v1/models/{id}") { _, parameters in try modelsResponse(try state.service(), id: parameters["id"]) }
    router.add(.post, "/tokenize") { request, _ in try tokenizeResponse(try state.service(), request) }
    router.add(.post, "/detokenize") { request, _ in try detokenizeResponse(try state.service(), request) }
    router.add(.get, "/tokenizer_info") { _, _ in tokenizerInfoResponse(try state.service()) }
    router.add(.post, "/apply-template") { request, _ in try applyTemplateResponse(try state.service(), request) }
    return router
}

func healthResponse(_ state: APIState) -> HTTPResponse {
    switch state.current {
    case .ready: return .json(#"{"status":"ok"}"#)
    case .loading:
        return HTTPResponse(
            status: HTTPStatus(code: 503), headers: ["Content-Type": "application/json", "Retry-After": "5"],
            body: .bytes(Array(#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#.utf8)))
    case .failed(let reason):
        var w = JSONWriter()
        w.raw(#"{"error":{"code":503,"message":"#)
        w.string("The model failed to load: \(reason)")
        w.raw(#","type":"unavailable_error"}}"#)
        return HTTPResponse(status: HTTPStatus(code: 503), contentType: "application/json", body: w.string)
    }
}
