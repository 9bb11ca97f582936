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

    /// One prompt as the engine sees it, and the text `echo` returns for it.
    struct Prompt {
        var tokens: [TokenID]
        var text: String
        /// Whether the server put a BOS before the text's tokens: it is not part of the echoed text.
        var addedBOS: Bool
    }

    func respond(to httpRequest: HTTPRequest) async throws -> HTTPResponse {
        let request = try CompletionRequest.parse(httpRequest.body, limits: service.limits)
        let tokenizer = service.tokenizer
        var prompts: [Prompt] = []
        for prompt in request.prompts {
            switch prompt {
            case .text(let text):
                guard !text.isEmpty else { throw APIError.invalid("prompt", "the prompt is empty") }
                // As llama.cpp's /completion: special-token text is parsed, BOS follows the vocabulary.
                let tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
                guard !tokens.isEmpty else { throw APIError.invalid("prompt", "the prompt is empty") }
                let bos = tokenizer.vocabulary.specialTokens.beginOfSequence
                let addedBOS = tokenizer.vocabulary.addsBOS && bos != nil && tokens.first == bos
                    && tokenizer.encode(text, addSpecial: false, parseSpecial: true).first != bos
                prompts.append(Prompt(tokens: tokens, text: text, addedBOS: addedBOS))
            case .tokens(let tokens):
                guard !tokens.isEmpty else { throw APIError.invalid("prompt", "a token prompt must not be empty") }
                let text = tokenizer.decode(tokens, removeSpecial: false, unparseSpecial: true)
                prompts.append(Prompt(tokens: tokens, text: text, addedBOS: false))
            }
        }
        let wantsPromptLogprobs = request.echo && request.logprobs != nil
        let limit = service.limits.contextLength
        var generations: [GenerationRequest] = []
        for prompt in prompts {
            let maxTokens = request.options.maxTokens ?? min(16, max(0, limit - prompt.tokens.count))
            try checkContextLength(promptTokens: prompt.tokens.count, maxTokens: maxTokens, limit: limit, promptField: "prompt")
            generations.append(GenerationRequest(
                prompt: prompt.tokens, sampling: request.options.sampling, maxTokens: maxTokens,
                stop: request.options.stop, ignoresEndOfGeneration: request.options.ignoresEndOfGeneration,
                choices: request.options.choices, promptLogprobs: wantsPromptLogprobs ? request.logprobs : nil))
        }
        // Every prompt is checked before any is submitted, so a bad second prompt leaves no orphaned work.
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        for generation in generations { streams.append(try await submit(generation, to: service.generator)) }
        let id = APIService.responseID("cmpl-")
        if request.options.stream {
            return stream(merge(streams), request: request, prompts: prompts, id: id)
        }
        return try await complete(merge(streams), request: request, prompts: prompts, id: id)
    }

    private func complete(
        _ events: AsyncThrowingStream<(Int, GenerationEvent), any Error>, request: CompletionRequest,
        prompts: [Prompt], id: String
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
                var logprobs = LegacyLogprobs(tokenizer: service.tokenizer, alternatives: alternatives)
                if request.echo { logprobs.appendPrompt(prompt, logprobs: promptLogprobs[i / n]) }
                logprobs.appendGenerated(choice.tokens)
                logprobs.write(into: &w)
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

    private func stream(
        _ events: AsyncThrowingStream<(Int, GenerationEvent), any Error>, request: CompletionRequest, prompts: [Prompt],
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
            // One per choice: the offsets of a choice's tokens run on from chunk to chunk.
            var logprobs = request.logprobs.map { alternatives in
                [LegacyLogprobs](repeating: LegacyLogprobs(tokenizer: service.tokenizer, alternatives: alternatives),
                                 count: prompts.count * n)
            }
            func chunk(index: Int, text: String, finish: FinishReason?) -> String {
                var w = JSONWriter()
                w.raw("{"); w.key("id"); w.string(id); w.raw(",")
                w.key("object"); w.string("text_completion"); w.raw(",")
                w.key("created"); w.number(created); w.raw(",")
                w.key("model"); w.string(service.modelName); w.raw(",")
                w.key("choices"); w.raw("[{"); w.key("index"); w.number(index); w.raw(",")
                w.key("text"); w.string(text); w.raw(","); w.key("logprobs")
                if finish == nil, logprobs?[index].isEmpty == false {
                    logprobs![index].write(into: &w)
                    logprobs![index].removeEntries()
                } else {
                    w.null()
                }
                w.raw(","); w.key("finish_reason"); if let finish { w.string(finish.openAIValue) } else { w.null() }
                w.raw("}]")
                if request.options.includeUsage { w.raw(","); w.key("usage"); w.null() }
                w.raw("}")
                return w.string
            }
            do {
                for try await (p, event) in events {
                    usage.record(event)
                    switch event {
                    case .promptProcessed(_, _, let promptLogprobs) where request.echo:
                        // The echo goes first, with the prompt's log-probabilities once the engine has them.
                        for c in 0..<n {
                            logprobs?[p * n + c].appendPrompt(prompts[p], logprobs: promptLogprobs)
                            try await sse.send(json: chunk(index: p * n + c, text: prompts[p].text, finish: nil))
                        }
                    case .output(let c, let text, let tokens):
                        logprobs?[p * n + c].appendGenerated(tokens)
                        guard !text.isEmpty || logprobs?[p * n + c].isEmpty == false else { continue }
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
