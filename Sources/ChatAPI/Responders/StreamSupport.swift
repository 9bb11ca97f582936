import HTTP
import Inference

/// Serializes writes to one response stream, so keep-alive pings and events never interleave.
actor SerialWriter {
    private let writer: any ResponseBodyWriter
    private(set) var lastWrite = ContinuousClock.now

    init(_ writer: any ResponseBodyWriter) { self.writer = writer }

    func send(_ bytes: [UInt8]) async throws {
        try await writer.write(bytes)
        lastWrite = .now
    }

    /// `data: {json}\n\n`
    func send(json: String) async throws {
        try await send(ServerSentEvent(data: json).encoded())
    }

    /// Sends an SSE comment if nothing was written for `interval`.
    func pingIfIdle(after interval: Duration) async throws {
        if ContinuousClock.now - lastWrite >= interval { try await send(ServerSentEvent.comment("ping")) }
    }
}

/// Keeps a stream alive with SSE comments while the prompt is being processed (proxies drop silent streams).
func startPinging(_ writer: SerialWriter, every interval: Duration) -> Task<Void, Never> {
    Task {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            try? await writer.pingIfIdle(after: interval)
        }
    }
}

/// Merges the event streams of several engine requests into one, tagged with each stream's index. The merged
/// stream fails with the first error; ending its iteration cancels them all.
func merge(
    _ streams: [AsyncThrowingStream<GenerationEvent, any Error>]
) -> AsyncThrowingStream<(Int, GenerationEvent), any Error> {
    let (merged, continuation) = AsyncThrowingStream.makeStream(of: (Int, GenerationEvent).self)
    let task = Task {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, stream) in streams.enumerated() {
                    group.addTask {
                        for try await event in stream { continuation.yield((index, event)) }
                    }
                }
                try await group.waitForAll()
            }
            continuation.finish()
        } catch {
            continuation.finish(throwing: error)
        }
    }
    continuation.onTermination = { _ in task.cancel() }
    return merged
}

/// Per-request bookkeeping shared by the responders: usage and timings.
struct UsageTracker {
    let start = ContinuousClock.now
    var promptTokens = 0
    var cachedTokens = 0
    var completionTokens = 0
    var firstToken: ContinuousClock.Instant?

    mutating func record(_ event: GenerationEvent) {
        switch event {
        case .promptProcessed(let prompt, let cached, _):
            promptTokens += prompt
            cachedTokens += cached
        case .output(_, _, let tokens):
            if firstToken == nil && !tokens.isEmpty { firstToken = .now }
        case .finished(_, _, let count):
            completionTokens += count
        }
    }

    func record(endpoint: String) -> GenerationRecord {
        GenerationRecord(
            promptTokens: promptTokens, completionTokens: completionTokens, cachedTokens: cachedTokens,
            timeToFirstToken: firstToken.map { $0 - start }, duration: .now - start, endpoint: endpoint)
    }

    func writeUsage(into w: inout JSONWriter) {
        w.raw("{")
        w.key("prompt_tokens"); w.number(promptTokens); w.raw(",")
        w.key("completion_tokens"); w.number(completionTokens); w.raw(",")
        w.key("total_tokens"); w.number(promptTokens + completionTokens); w.raw(",")
        w.key("prompt_tokens_details"); w.raw("{"); w.key("cached_tokens"); w.number(cachedTokens); w.raw("}")
        w.raw("}")
    }
}

/// Refuses a request whose prompt and `max_tokens` together do not fit the context, before the engine sees it,
/// naming the field to change: the prompt when it alone fills the context, `max_tokens` otherwise.
func checkContextLength(promptTokens: Int, maxTokens: Int, limit: Int, promptField: String) throws(APIError) {
    guard promptTokens + maxTokens > limit else { return }
    var error = APIError(InferenceError.contextLengthExceeded(promptTokens: promptTokens, maxTokens: maxTokens, limit: limit))
    error.param = promptTokens >= limit ? promptField : "max_tokens"
    throw error
}

/// Submits to the engine, turning its refusals into API errors.
func submit(_ request: GenerationRequest, to generator: any TextGenerator) async throws(APIError) -> AsyncThrowingStream<GenerationEvent, any Error> {
    do {
        return try await generator.generate(request)
    } catch {
        throw APIError(error)
    }
}

/// The error event sent when a stream fails after it started.
func streamErrorJSON(_ error: any Error) -> String {
    let api = (error as? InferenceError).map(APIError.init)
        ?? APIError(status: 500, message: "generation failed", type: "server_error")
    return api.json
}
