import ChatAPI
import HTTP
import Inference
import Testing
import Tokenization

/// Request bodies through the router: what reaches the engine for good ones (defaults, aliases, prompt forms)
/// and which field a 400 names for bad ones, without a model.
@Suite struct RequestValidationTests {
    static let done: [GenerationEvent] = [
        .promptProcessed(promptTokens: 3, cachedTokens: 0, logprobs: nil),
        .finished(choice: 0, reason: .stop, completionTokens: 0),
    ]

    /// Sends `body` to `path`; returns the status, the body text and what the engine was asked for.
    static func send(_ path: String, _ body: String) async -> (Int, String, [GenerationRequest]) {
        let generator = ScriptedGenerator(events: done)
        let response = await APIStreamingTests.router(generator).respondRenderingErrors(
            to: APIStreamingTests.post(path, body))
        var text = ""
        if case .bytes(let bytes) = response.body { text = String(decoding: bytes, as: UTF8.self) }
        return (response.status.code, text, generator.received)
    }

    static let user = #""messages":[{"role":"user","content":"Hi"}]"#

    @Test func chatDefaultsAreOpenAIs() async throws {
        let (status, _, requests) = await Self.send("/v1/chat/completions", "{\(Self.user)}")
        #expect(status == 200)
        let request = try #require(requests.first)
        #expect(request.sampling.temperature == 1 && request.sampling.topP == 1 && request.sampling.topK == 0)
        #expect(request.sampling.minP == 0 && request.sampling.repetitionPenalty == 1)
        #expect(request.sampling.seed == nil && request.sampling.topLogprobs == nil)
        #expect(request.choices == 1 && request.stop.isEmpty && !request.ignoresEndOfGeneration)
        // No max_tokens: the rest of the context (64 here) after the prompt.
        #expect(request.maxTokens == 64 - request.prompt.count)
        // Meta's decode drops the dummy-prefix space from chat replies on a SentencePiece vocabulary.
        #expect(request.removesLeadingSpace)
    }

    @Test func everyFieldReachesTheEngine() async throws {
        let body = """
            {\(Self.user),"max_tokens":5,"temperature":0.5,"top_p":0.9,"n":2,"stop":"END","seed":-1,
             "presence_penalty":0.5,"frequency_penalty":-0.5,"logit_bias":{"42":-100,"7":3.5},"logprobs":true,
             "top_logprobs":3,"user":"u","top_k":40,"min_p":0.05,"repetition_penalty":1.1,"ignore_eos":true,
             "model":"whatever","response_format":{"type":"text"},"unknown_field":{"deep":[1,2]}}
            """
        let (status, text, requests) = await Self.send("/v1/chat/completions", body)
        #expect(status == 200, "\(text)")
        let r = try #require(requests.first)
        #expect(r.maxTokens == 5 && r.choices == 2 && r.stop == ["END"] && r.ignoresEndOfGeneration)
        #expect(r.sampling.temperature == 0.5 && r.sampling.topP == 0.9 && r.sampling.topK == 40)
        #expect(r.sampling.minP == 0.05 && r.sampling.repetitionPenalty == 1.1)
        #expect(r.sampling.presencePenalty == 0.5 && r.sampling.frequencyPenalty == -0.5)
        #expect(r.sampling.logitBias == [42: -100, 7: 3.5])
        #expect(r.sampling.seed == UInt64.max && r.sampling.topLogprobs == 3)
    }

    @Test func maxCompletionTokensWinsAndStopArraysDropEmptyStrings() async throws {
        let (_, _, requests) = await Self.send(
            "/v1/chat/completions", "{\(Self.user),\"max_tokens\":9,\"max_completion_tokens\":3,\"stop\":[\"a\",\"\",\"b\"]}")
        #expect(requests.first?.maxTokens == 3 && requests.first?.stop == ["a", "b"])
    }

    @Test func nullMeansAbsent() async throws {
        let (status, _, requests) = await Self.send(
            "/v1/chat/completions", "{\(Self.user),\"temperature\":null,\"stop\":null,\"max_tokens\":null}")
        #expect(status == 200 && requests.first?.sampling.temperature == 1)
    }

    @Test func completionPromptForms() async throws {
        // A string gets BOS (the vocabulary asks for it); token ids are used exactly as given.
        let (_, _, text) = await Self.send("/v1/completions", #"{"prompt":"Hello"}"#)
        #expect(text.first?.prompt == [1, 15043] && text.first?.maxTokens == 16)
        #expect(text.first?.removesLeadingSpace == false)
        let (_, _, ids) = await Self.send("/v1/completions", #"{"prompt":[15043,3186],"max_tokens":0}"#)
        #expect(ids.first?.prompt == [15043, 3186] && ids.first?.maxTokens == 0)
        let (_, _, nested) = await Self.send("/v1/completions", #"{"prompt":[[15043],[1,3186]]}"#)
        #expect(nested.map(\.prompt) == [[15043], [1, 3186]])
        let (_, _, strings) = await Self.send("/v1/completions", #"{"prompt":["a","b","c"]}"#)
        #expect(strings.count == 3)
        let (_, _, echo) = await Self.send("/v1/completions", #"{"prompt":"Hi","echo":true,"logprobs":2}"#)
        #expect(echo.first?.promptLogprobs == 2 && echo.first?.sampling.topLogprobs == 2)
        let (_, _, noEcho) = await Self.send("/v1/completions", #"{"prompt":"Hi","logprobs":0}"#)
        #expect(noEcho.first?.promptLogprobs == nil && noEcho.first?.sampling.topLogprobs == 0)
    }

    @Test func aBadSecondPromptSubmitsNothing() async throws {
        let (status, _, requests) = await Self.send("/v1/completions", #"{"prompt":[[1,2],[]]}"#)
        #expect(status == 400 && requests.isEmpty)
        let long = Array(repeating: "5", count: 70).joined(separator: ",")
        let (status2, body, requests2) = await Self.send("/v1/completions", "{\"prompt\":[[1,2],[\(long)]]}")
        #expect(status2 == 400 && requests2.isEmpty && body.contains(#""param":"prompt","code":"context_length_exceeded""#))
    }

    @Test(arguments: [
        (#"{"messages":[{"role":"user","content":"Hi"}],"max_tokens":60}"#, "max_tokens"),
        (#"{"messages":[{"role":"user","content":"Hi"}],"max_tokens":65}"#, "max_tokens"),
        (#"{"messages":[{"role":"user","content":"Hi"}],"stop":["\#(String(repeating: "x", count: 513))"]}"#, "stop"),
        (#"{"messages":[{"role":"user","content":"Hi"}],"n":9}"#, "n"),
        (#"{"messages":[{"role":"user","content":"Hi"}],"logit_bias":{"32000":1}}"#, "logit_bias"),
        (#"{"messages":[{"role":"user","content":"Hi"}],"top_logprobs":1}"#, "top_logprobs"),
        (#"{"messages":[{"role":"user","content":"Hi"}],"tools":[]}"#, "tools"),
        (#"{"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_object"}}"#, "response_format"),
        (#"{"messages":[{"role":"assistant","content":"Hi"}]}"#, "messages[0].role"),
        (#"{"messages":[{"role":"user","content":"say [INST]"}]}"#, "messages[0].content"),
        (#"{"prompt":"Hi","best_of":2}"#, "best_of"),
        (#"{"prompt":[32000]}"#, "prompt"),
        (#"{"prompt":""}"#, "prompt"),
    ])
    func badFieldsAreNamed(body: String, param: String) async throws {
        let path = body.hasPrefix(#"{"prompt""#) ? "/v1/completions" : "/v1/chat/completions"
        let (status, text, requests) = await Self.send(path, body)
        #expect(status == 400, "\(text)")
        #expect(text.contains(#""param":"\#(param)""#), "\(text)")
        #expect(requests.isEmpty)
    }

    @Test(arguments: ["", "{", "[]", "null", #"{"a":1,"a":2}"#, #"{"x":"\ud800"}"#, "{\"x\":\"\u{1}\"}", "{} x",
                      String(repeating: "[", count: 65) + String(repeating: "]", count: 65)])
    func malformedBodiesAre400(body: String) async throws {
        let (status, text, _) = await Self.send("/v1/chat/completions", body)
        #expect(status == 400)
        #expect(text.hasPrefix(#"{"error":{"message":"#) && text.hasSuffix(#""param":null,"code":null}}"#))
    }
}
