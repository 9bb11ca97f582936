import HTTP
import Inference
import Tokenization

/// `POST /v1/completions`: raw prompts (text or token ids, one or many), with `echo` and legacy log-probabilities
/// of prompt and output tokens, so lm-evaluation-harness can score likelihoods.
struct CompletionsResponder {
    let service: APIService

    /// One choice's accumulated output.
    struct Choice {
        var text = ""
        var tokens: [GeneratedToken] = []
        var reason: FinishReason = .length
    }

    func respond(to httpRequest: HTTPRequest) async throws -> HTTPResponse {
        let request = try CompletionRequest.parse(httpRequest.body, limits: service.limits)
        let tokenizer = service.tokenizer
        var prompts: [(tokens: [TokenID], text: String)] = []
        for prompt in request.prompts {
            switch prompt {
            case .text(let text):
                // As llama.cpp's /completion: special-token text is parsed, BOS follows the vocabulary.
                let tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
                guard !tokens.isEmpty else { throw APIError.invalid("prompt", "the prompt is empty") }
                prompts.append((tokens, text))
            case .tokens(let tokens):
                guard !tokens.isEmpty else { throw APIError.invalid("prompt", "a token prompt must not be empty") }
                prompts.append((tokens, tokenizer.decode(tokens, removeSpecial: false, unparseSpecial: true)))
            }
        }
        let wantsPromptLogprobs = request.echo && request.logprobs != nil
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        for prompt in prompts {
            let maxTokens = request.options.maxTokens ?? min(16, max(0, service.limits.contextLength - prompt.tokens.count))
            let generation = GenerationRequest(
                prompt: prompt.tokens, sampling: request.options.sampling, maxTokens: maxTokens,
                stop: request.options.stop, ignoresEndOfGeneration: request.options.ignoresEndOfGeneration,
                choices: request.options.choices, promptLogprobs: wantsPromptLogprobs ? request.logprobs : nil)
            streams.append(try await submit(generation, to: service.generator))
        }
        let id = APIService.responseID("cmpl-")
        if request.options.stream {
            return stream(merge(streams), request: request, prompts: prompts.map(\.text), id: id)
        }
        return try await complete(merge(streams), request: request, prompts: prompts, id: id)
    }

    private func complete(
        _ events: AsyncThrowingStream<(Int, GenerationEvent), any Error>, request: CompletionRequest,
        prompts: [(tokens: [TokenID], text: String)], id: String
    ) async throws -> HTTPResponse {
        let n = request.options.choices
        var choices = [Choice](repeating: Choice(), count: prompts.count * n)
        var promptLogprobs = [[PromptTokenLogprob]?](repeating: nil, count: prompts.count)
        var usage = UsageTracker()
        do {
            for try await (index, event) in events {
                usage.record(event)
                switch event {
                case .promptProcessed(_, _, let logprobs): promptLogprobs[index] = logprobs
                case .output(let choice, let text, let tokens):
                    choices[index * n + choice].text += text
                    choices[index * n + choice].tokens += tokens
                case .finished(let choice, let reason, _): choices[index * n + choice].reason = reason
                }
            }
        } catch let error as InferenceError {
            throw APIError(error)
        }
        try Task.checkCancellation()
        service.finished(usage.record(endpoint: "/v1/completions"))
        var w = JSONWriter()
        w.raw("{")
        w.key("id"); w.string(id); w.raw(",")
        w.key("object"); w.string("text_completion"); w.raw(",")
        w.key("created"); w.number(ContinuousClock.unixTime); w.raw(",")
        w.key("model"); w.string(service.modelName); w.raw(",")
        w.key("choices"); w.raw("[")
        for (i, choice) in choices.enumerated() {
            if i > 0 { w.raw(",") }
            let prompt = prompts[i / n]
            w.raw("{"); w.key("index"); w.number(i); w.raw(",")
            w.key("text"); w.string(request.echo ? prompt.text + choice.text : choice.text); w.raw(",")
            w.key("logprobs")
            if let alternatives = request.logprobs {
                legacyLogprobs(
                    choice, prompt: request.echo ? prompt.tokens : nil, promptLogprobs: promptLogprobs[i / n],
                    alternatives: alternatives
                ).write(into: &w)
            } else {
                w.null()
            }
            w.raw(","); w.key("finish_reason"); w.string(choice.reason.openAIValue)
            w.raw("}")
        }
        w.raw("],"); w.key("usage"); usage.writeUsage(into: &w)
        w.raw("}")
        return .json(w.string)
    }

    /// The legacy logprobs of a choice: the prompt's tokens first when echoing (the first without a value), then
    /// the generated ones.
    private func legacyLogprobs(
        _ choice: Choice, prompt: [TokenID]?, promptLogprobs: [PromptTokenLogprob]?, alternatives: Int
    ) -> LegacyLogprobs {
        let tokenizer = service.tokenizer
        func piece(_ token: TokenID) -> String { String(decoding: tokenizer.piece(for: token), as: UTF8.self) }
        var result = LegacyLogprobs()
        if let prompt {
            for (i, token) in prompt.enumerated() {
                if i == 0 {
                    result.append(piece(token), logprob: nil, alternatives: nil)
                } else if let entry = promptLogprobs?[i - 1] {
                    result.append(
                        piece(token), logprob: entry.logprob,
                        alternatives: entry.topLogprobs.map { (piece($0.token), $0.logprob) })
                }
            }
        }
        for token in choice.tokens {
            result.append(
                piece(token.token), logprob: token.logprob,
                alternatives: token.topLogprobs.prefix(alternatives).map { (piece($0.token), $0.logprob) })
        }
        return result
    }

    private func stream(
        _ events: AsyncThrowingStream<(Int, GenerationEvent), any Error>, request: CompletionRequest, prompts: [String],
        id: String
    ) -> HTTPResponse {
        let service = self.service
        let n = request.options.choices
        return .eventStream(headers: ["X-Accel-Buffering": "no"]) { writer in
            let sse = SerialWriter(writer)
            let pinger = startPinging(sse, every: service.pingInterval)
            defer { pinger.cancel() }
            var usage = UsageTracker()
            let created = ContinuousClock.unixTime
            func chunk(index: Int, text: String, finish: FinishReason?) -> String {
                var w = JSONWriter()
                w.raw("{"); w.key("id"); w.string(id); w.raw(",")
                w.key("object"); w.string("text_completion"); w.raw(",")
                w.key("created"); w.number(created); w.raw(",")
                w.key("model"); w.string(service.modelName); w.raw(",")
                w.key("choices"); w.raw("[{"); w.key("index"); w.number(index); w.raw(",")
                w.key("text"); w.string(text); w.raw(","); w.key("logprobs"); w.null(); w.raw(",")
                w.key("finish_reason"); if let finish { w.string(finish.openAIValue) } else { w.null() }
                w.raw("}]")
                if request.options.includeUsage { w.raw(","); w.key("usage"); w.null() }
                w.raw("}")
                return w.string
            }
            if request.echo {
                for (p, text) in prompts.enumerated() {
                    for c in 0..<n { try await sse.send(json: chunk(index: p * n + c, text: text, finish: nil)) }
                }
            }
            do {
                for try await (p, event) in events {
                    usage.record(event)
                    switch event {
                    case .output(let c, let text, _) where !text.isEmpty:
                        try await sse.send(json: chunk(index: p * n + c, text: text, finish: nil))
                    case .finished(let c, let reason, _):
                        try await sse.send(json: chunk(index: p * n + c, text: "", finish: reason))
                    default:
                        break
                    }
                }
            } catch let error as InferenceError {
                try await sse.send(json: streamErrorJSON(error))
            }
            try Task.checkCancellation()
            if request.options.includeUsage {
                var w = JSONWriter()
                w.raw("{"); w.key("id"); w.string(id); w.raw(",")
                w.key("object"); w.string("text_completion"); w.raw(",")
                w.key("created"); w.number(created); w.raw(",")
                w.key("model"); w.string(service.modelName); w.raw(",")
                w.key("choices"); w.raw("[],"); w.key("usage"); usage.writeUsage(into: &w); w.raw("}")
                try await sse.send(json: w.string)
            }
            try await sse.send(ServerSentEvent(data: "[DONE]").encoded())
            service.finished(usage.record(endpoint: "/v1/completions"))
        }
    }
}
