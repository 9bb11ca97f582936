import HTTP
import Inference
import Tokenization

/// `POST /v1/chat/completions`: validates, applies the chat template, submits to the engine and relays its
/// events as one `chat.completion` object or as `chat.completion.chunk` server-sent events.
struct ChatCompletionsResponder {
    let service: APIService

    func respond(to httpRequest: HTTPRequest) async throws -> HTTPResponse {
        let request = try ChatCompletionRequest.parse(httpRequest.body, limits: service.limits)
        let limit = service.limits.contextLength
        // Under the truncate policy, leave room for the requested reply (or a quarter of the context).
        let reserve = request.options.maxTokens ?? max(1, limit / 4)
        let prompt = try service.template.fitted(
            request.messages, tokenizer: service.tokenizer, policy: service.contextPolicy, limit: limit, reserve: reserve
        ).tokens
        // Without max_tokens a reply may fill the context; a prompt that leaves no room for one token is refused.
        let maxTokens = request.options.maxTokens ?? max(1, limit - prompt.count)
        try checkContextLength(promptTokens: prompt.count, maxTokens: maxTokens, limit: limit, promptField: "messages")
        let generation = GenerationRequest(
            prompt: prompt, sampling: request.options.sampling, maxTokens: maxTokens, stop: request.options.stop,
            ignoresEndOfGeneration: request.options.ignoresEndOfGeneration, choices: request.options.choices,
            removesLeadingSpace: service.removesLeadingSpace)
        let events = try await submit(generation, to: service.generator)
        let id = APIService.responseID("chatcmpl-")
        if request.options.stream {
            return stream(events, request: request, id: id)
        }
        return try await complete(events, request: request, id: id)
    }

    // MARK: - Whole response

    private func complete(
        _ events: AsyncThrowingStream<GenerationEvent, any Error>, request: ChatCompletionRequest, id: String
    ) async throws -> HTTPResponse {
        var usage = UsageTracker()
        let n = request.options.choices
        var texts = [String](repeating: "", count: n)
        var tokens = [[GeneratedToken]](repeating: [], count: n)
        var reasons = [FinishReason](repeating: .length, count: n)
        do {
            for try await event in events {
                usage.record(event)
                switch event {
                case .output(let choice, let text, let generated):
                    texts[choice] += text
                    tokens[choice] += generated
                case .finished(let choice, let reason, _):
                    reasons[choice] = reason
                case .promptProcessed:
                    break
                }
            }
        } catch let error as InferenceError {
            throw APIError(error)
        }
        try Task.checkCancellation()
        service.finished(usage.record(endpoint: "/v1/chat/completions"))
        var w = JSONWriter()
        w.raw("{")
        header(&w, id: id, object: "chat.completion")
        w.key("choices"); w.raw("[")
        for choice in 0..<n {
            if choice > 0 { w.raw(",") }
            w.raw("{"); w.key("index"); w.number(choice); w.raw(",")
            w.key("message"); w.raw("{"); w.key("role"); w.string("assistant"); w.raw(",")
            w.key("content"); w.string(texts[choice]); w.raw("},")
            w.key("logprobs")
            if request.logprobs { writeChatLogprobs(tokens[choice], tokenizer: service.tokenizer, into: &w) } else { w.null() }
            w.raw(","); w.key("finish_reason"); w.string(reasons[choice].openAIValue)
            w.raw("}")
        }
        w.raw("],"); w.key("usage"); usage.writeUsage(into: &w)
        w.raw("}")
        return .json(w.string)
    }

    // MARK: - Streaming

    private func stream(
        _ events: AsyncThrowingStream<GenerationEvent, any Error>, request: ChatCompletionRequest, id: String
    ) -> HTTPResponse {
        let service = self.service
        return .eventStream(headers: ["X-Accel-Buffering": "no"]) { writer in
            let sse = SerialWriter(writer)
            let pinger = startPinging(sse, every: service.pingInterval)
            defer { pinger.cancel() }
            var usage = UsageTracker()
            let encoder = ChunkEncoder(service: service, id: id, includeUsage: request.options.includeUsage)
            // The first chunk of each choice carries the role, as OpenAI's does (some clients require it).
            for choice in 0..<request.options.choices {
                try await sse.send(json: encoder.chunk(choice: choice, role: true, content: "", logprobs: nil, finish: nil))
            }
            do {
                for try await event in events {
                    usage.record(event)
                    switch event {
                    case .output(let choice, let text, let tokens):
                        guard !text.isEmpty || (request.logprobs && !tokens.isEmpty) else { continue }
                        try await sse.send(json: encoder.chunk(
                            choice: choice, role: false, content: text, logprobs: request.logprobs ? tokens : nil,
                            finish: nil))
                    case .finished(let choice, let reason, _):
                        try await sse.send(json: encoder.chunk(
                            choice: choice, role: false, content: nil, logprobs: nil, finish: reason))
                    case .promptProcessed:
                        break
                    }
                }
            } catch let error as InferenceError {
                try await sse.send(json: streamErrorJSON(error))
            }
            try Task.checkCancellation()
            if request.options.includeUsage {
                var w = JSONWriter()
                w.raw("{")
                encoder.header(&w)
                w.key("choices"); w.raw("[],"); w.key("usage"); usage.writeUsage(into: &w); w.raw("}")
                try await sse.send(json: w.string)
            }
            try await sse.send(ServerSentEvent(data: "[DONE]").encoded())
            service.finished(usage.record(endpoint: "/v1/chat/completions"))
        }
    }

    private func header(_ w: inout JSONWriter, id: String, object: String) {
        w.key("id"); w.string(id); w.raw(",")
        w.key("object"); w.string(object); w.raw(",")
        w.key("created"); w.number(Int(ContinuousClock.unixTime)); w.raw(",")
        w.key("model"); w.string(service.modelName); w.raw(",")
    }
}

/// Encodes `chat.completion.chunk` objects.
struct ChunkEncoder {
    let service: APIService
    let id: String
    let includeUsage: Bool
    let created = ContinuousClock.unixTime

    func header(_ w: inout JSONWriter) {
        w.key("id"); w.string(id); w.raw(",")
        w.key("object"); w.string("chat.completion.chunk"); w.raw(",")
        w.key("created"); w.number(created); w.raw(",")
        w.key("model"); w.string(service.modelName); w.raw(",")
    }

    func chunk(choice: Int, role: Bool, content: String?, logprobs: [GeneratedToken]?, finish: FinishReason?) -> String {
        var w = JSONWriter()
        w.raw("{")
        header(&w)
        w.key("choices"); w.raw("[{")
        w.key("index"); w.number(choice); w.raw(",")
        w.key("delta"); w.raw("{")
        if role {
            w.key("role"); w.string("assistant")
            if content != nil { w.raw(",") }
        }
        if let content { w.key("content"); w.string(content) }
        w.raw("},")
        w.key("logprobs")
        if let logprobs { writeChatLogprobs(logprobs, tokenizer: service.tokenizer, into: &w) } else { w.null() }
        w.raw(","); w.key("finish_reason")
        if let finish { w.string(finish.openAIValue) } else { w.null() }
        w.raw("}]")
        if includeUsage { w.raw(","); w.key("usage"); w.null() }
        w.raw("}")
        return w.string
    }
}

extension FinishReason {
    /// The value OpenAI clients expect (a cancelled choice never reaches a client).
    var openAIValue: String {
        switch self {
        case .stop: "stop"
        case .length: "length"
        case .cancelled: "stop"
        }
    }
}
