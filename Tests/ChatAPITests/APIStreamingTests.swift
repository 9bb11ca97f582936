import ChatAPI
import GGUF
import HTTP
import Inference
import Model
import Synchronization
import Testing
import TestSupport
import Tokenization

/// The router and the streaming responders against a scripted generator: event order, errors after the stream
/// started, keep-alive pings during a long prefill, a client that goes away, and `/health` while loading.
@Suite struct APIStreamingTests {
    static let tokenizer: any Tokenizer = {
        let file = try! GGUFFile(contentsOf: Fixtures.llamaVocabulary)
        return makeTokenizer(for: try! Vocabulary(gguf: file))
    }()

    static func router(_ generator: ScriptedGenerator, pingInterval: Duration = .seconds(10)) -> Router {
        let state = APIState()
        state.set(.ready(APIService(
            generator: generator, tokenizer: tokenizer, template: Llama2ChatTemplate(), modelTemplate: nil,
            modelName: "test-model", limits: APILimits(contextLength: 64, vocabularySize: 32000),
            pingInterval: pingInterval)))
        return makeAPIRouter(state: state)
    }

    static func post(_ path: String, _ json: String) -> HTTPRequest {
        HTTPRequest(method: .post, target: path, headers: ["Content-Type": "application/json"], body: Array(json.utf8))
    }

    static let chat = #"{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"stream":true"#

    /// Runs a streamed response to the end and returns its SSE events: data payloads and `:comments`.
    static func events(_ response: HTTPResponse, writer: RecordingWriter = RecordingWriter()) async throws -> [String] {
        guard case .stream(let produce) = response.body else {
            Issue.record("not a stream: \(response.status.code)")
            return []
        }
        try await produce(writer)
        return writer.events
    }

    @Test func chatStreamOrderRoleContentFinishUsageDone() async throws {
        let generator = ScriptedGenerator(events: [
            .promptProcessed(promptTokens: 9, cachedTokens: 0, logprobs: nil),
            .output(choice: 0, text: "Hel", tokens: []), .output(choice: 0, text: "lo", tokens: []),
            .finished(choice: 0, reason: .length, completionTokens: 2),
        ])
        let response = try await Self.router(generator).respond(to: Self.post(
            "/v1/chat/completions", Self.chat + #","stream_options":{"include_usage":true}}"#))
        #expect(response.headers["X-Accel-Buffering"] == "no")
        #expect(response.headers["Content-Type"] == "text/event-stream")
        let events = try await Self.events(response)
        #expect(events.count == 6)
        #expect(events[0].contains(#""delta":{"role":"assistant","content":""}"#))
        #expect(events[1].contains(#""delta":{"content":"Hel"}"#) && events[1].contains(#""usage":null"#))
        #expect(events[2].contains(#""delta":{"content":"lo"}"#))
        #expect(events[3].contains(#""delta":{}"#) && events[3].contains(#""finish_reason":"length""#))
        #expect(events[4].contains(#""choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11"#))
        #expect(events[5] == "data: [DONE]")
    }

    @Test func anErrorAfterTheStreamStartedIsAnErrorEvent() async throws {
        let generator = ScriptedGenerator(
            events: [.promptProcessed(promptTokens: 9, cachedTokens: 0, logprobs: nil)],
            failure: .queueTimeout(seconds: 3))
        let response = try await Self.router(generator).respond(to: Self.post("/v1/chat/completions", Self.chat + "}"))
        #expect(response.status.code == 200)
        let events = try await Self.events(response)
        #expect(events.contains {
            $0.hasPrefix(#"data: {"error":{"message":"#) && $0.contains(#""code":"queue_timeout""#)
        })
        #expect(events.last == "data: [DONE]")
    }

    @Test func completionStreamErrorIsAnErrorEventToo() async throws {
        let generator = ScriptedGenerator(events: [], failure: .shuttingDown)
        let response = try await Self.router(generator).respond(to: Self.post(
            "/v1/completions", #"{"prompt":"Hi","stream":true}"#))
        let events = try await Self.events(response)
        #expect(events.contains { $0.hasPrefix(#"data: {"error":"#) && $0.contains("shutting_down") })
    }

    @Test func pingsKeepTheStreamAliveWhileThePromptIsProcessed() async throws {
        // The generator yields nothing until the writer has seen a keep-alive comment: the test cannot pass
        // without pings, and needs no clock.
        let writer = RecordingWriter()
        let generator = ScriptedGenerator(
            events: [.promptProcessed(promptTokens: 9, cachedTokens: 0, logprobs: nil),
                     .output(choice: 0, text: "ok", tokens: []), .finished(choice: 0, reason: .stop, completionTokens: 1)],
            startWhen: { writer.events.contains(": ping") })
        let response = try await Self.router(generator, pingInterval: .milliseconds(5)).respond(
            to: Self.post("/v1/chat/completions", Self.chat + "}"))
        let events = try await Self.events(response, writer: writer)
        let ping = try #require(events.firstIndex(of: ": ping"))
        let content = try #require(events.firstIndex { $0.contains(#""content":"ok""#) })
        #expect(ping > 0 && ping < content)
    }

    @Test func aClientThatGoesAwayCancelsGeneration() async throws {
        let generator = ScriptedGenerator(
            events: [.promptProcessed(promptTokens: 9, cachedTokens: 0, logprobs: nil)]
                + Array(repeating: .output(choice: 0, text: "x", tokens: []), count: 50),
            holdOpen: true)
        let router = Self.router(generator)
        let writer = RecordingWriter(failAfter: 3)
        // As the transport does when a write fails: the response, and with it the engine's stream, is released.
        await #expect(throws: RecordingWriter.Gone.self) {
            _ = try await Self.events(try await router.respond(to: Self.post("/v1/chat/completions", Self.chat + "}")), writer: writer)
        }
        #expect(await generator.waitUntilTerminated())
        #expect(generator.wasCancelled)
    }

    @Test func healthIs503WhileLoadingAnd200WhenReady() throws {
        let state = APIState()
        let router = makeAPIRouter(state: state)
        let loading = try #require(router.respondImmediately(to: HTTPRequest(method: .get, target: "/health")))
        #expect(loading.status.code == 503 && loading.headers["Retry-After"] == "5")
        state.set(.ready(APIService(
            generator: ScriptedGenerator(events: []), tokenizer: Self.tokenizer, template: Llama2ChatTemplate(),
            modelTemplate: nil, modelName: "m", limits: APILimits(contextLength: 64, vocabularySize: 32000))))
        let ready = try #require(router.respondImmediately(to: HTTPRequest(method: .get, target: "/health")))
        #expect(ready.status.code == 200)
    }

    @Test func apiRoutesAre503WhileLoading() async throws {
        let router = makeAPIRouter(state: APIState())
        let response = await router.respondRenderingErrors(to: Self.post("/v1/chat/completions", Self.chat + "}"))
        #expect(response.status.code == 503)
    }

    @Test func contextLengthIsCheckedBeforeTheEngine() async throws {
        let generator = ScriptedGenerator(events: [])
        let router = Self.router(generator)
        let tooLong = String(repeating: "word ", count: 80)
        let response = await router.respondRenderingErrors(to: Self.post(
            "/v1/chat/completions", #"{"messages":[{"role":"user","content":"\#(tooLong)"}]}"#))
        #expect(response.status.code == 400)
        guard case .bytes(let body) = response.body else { return }
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#""param":"messages","code":"context_length_exceeded""#))
        #expect(text.contains("maximum context length is 64 tokens"))
        #expect(generator.submitted == 0)
    }
}

/// A generator that replays a script: its events, then an optional failure; it can wait for a condition first
/// and stay open at the end (a long generation).
final class ScriptedGenerator: TextGenerator, @unchecked Sendable {
    let script: [GenerationEvent]
    let failure: InferenceError?
    let startWhen: @Sendable () -> Bool
    let holdOpen: Bool
    private let state = Mutex((submitted: 0, cancelled: false, terminated: false))
    private let requests = Mutex([GenerationRequest]())

    init(events: [GenerationEvent], failure: InferenceError? = nil, startWhen: @escaping @Sendable () -> Bool = { true },
         holdOpen: Bool = false) {
        script = events
        self.failure = failure
        self.startWhen = startWhen
        self.holdOpen = holdOpen
    }

    var submitted: Int { state.withLock { $0.submitted } }
    /// Every request submitted so far, in order.
    var received: [GenerationRequest] { requests.withLock { $0 } }
    var wasCancelled: Bool { state.withLock { $0.cancelled } }
    var metrics: EngineMetrics { EngineMetrics() }

    func generate(_ request: GenerationRequest) async throws(InferenceError) -> AsyncThrowingStream<GenerationEvent, any Error> {
        state.withLock { $0.submitted += 1 }
        requests.withLock { $0.append(request) }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
        let task = Task { [script, failure, startWhen, holdOpen] in
            while !startWhen() && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(1)) }
            for event in script { continuation.yield(event) }
            if let failure { continuation.finish(throwing: failure) } else if !holdOpen { continuation.finish() }
        }
        continuation.onTermination = { termination in
            task.cancel()
            self.state.withLock {
                if case .cancelled = termination { $0.cancelled = true }
                $0.terminated = true
            }
        }
        return stream
    }

    /// Whether the stream's consumer went away, waiting a bounded number of scheduler turns for it.
    func waitUntilTerminated() async -> Bool {
        for _ in 0..<100_000 where !state.withLock({ $0.terminated }) { await Task.yield() }
        return state.withLock { $0.terminated }
    }
}

/// Records what a response writes, split into SSE events; can fail like a socket whose client went away.
final class RecordingWriter: ResponseBodyWriter, @unchecked Sendable {
    private let recorded = Mutex((bytes: [UInt8](), writes: 0))
    let failAfter: Int?

    init(failAfter: Int? = nil) { self.failAfter = failAfter }

    struct Gone: Error {}

    func write(_ bytes: [UInt8]) async throws {
        try recorded.withLock {
            if let failAfter, $0.writes >= failAfter { throw Gone() }
            $0.writes += 1
            $0.bytes += bytes
        }
    }

    /// Each event without its trailing blank line.
    var events: [String] {
        let text = String(decoding: recorded.withLock { $0.bytes }, as: UTF8.self)
        return text.split(separator: "\n\n", omittingEmptySubsequences: true).map(String.init)
    }
}
