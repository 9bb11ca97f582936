import Model
import Tokenization

/// The engine's record of one choice of one request: its tokens, how many are computed, its KV blocks, and
/// its sampler, detokenizer and stop checker. Confined to the engine's thread.
final class SequenceState {
    let id: Int
    /// Strong: the request and its sequences reference each other until the request completes, when the
    /// engine empties `request.sequences`.
    let request: RequestState
    /// Which choice of the request (0 for the first).
    let choice: Int
    /// Prompt followed by the generated tokens.
    var tokens: [TokenID]
    let promptCount: Int
    /// Tokens `0..<computed` have keys and values in the cache (vLLM's `num_computed_tokens`).
    var computed = 0
    var kv = KVSequence()
    var sampler: Sampler
    var detokenizer: StreamingDetokenizer
    var stopChecker: StopChecker
    /// Generated tokens whose text has not been emitted yet (held by the detokenizer or the stop checker).
    var pendingTokens: [GeneratedToken] = []
    var hasEmittedText = false
    var isFinished = false
    /// When the sequence was admitted to the running set, to order preemption (latest first).
    var admission = 0

    init(id: Int, request: RequestState, choice: Int, tokens: [TokenID], sampler: Sampler, tokenizer: any Tokenizer) {
        self.id = id
        self.request = request
        self.choice = choice
        self.tokens = tokens
        self.promptCount = request.request.prompt.count
        self.sampler = sampler
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        stopChecker = StopChecker(stops: request.request.stop)
    }

    var generatedCount: Int { tokens.count - promptCount }
    /// Tokens known but not yet computed.
    var remaining: Int { tokens.count - computed }
    /// Whether the sequence is still working through its prompt (or through a re-prefill after preemption).
    var isPrefilling: Bool { remaining > 1 || computed < promptCount }
}

/// One submitted request: its choices, its event stream, and when it arrived.
final class RequestState {
    let id: Int
    let request: GenerationRequest
    let continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation
    let arrival: ContinuousClock.Instant
    var sequences: [SequenceState] = []
    var finishedChoices = 0
    var promptReported = false
    var promptLogprobs: [PromptTokenLogprob] = []
    var cachedTokens = 0

    init(
        id: Int, request: GenerationRequest,
        continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation, arrival: ContinuousClock.Instant
    ) {
        self.id = id
        self.request = request
        self.continuation = continuation
        self.arrival = arrival
    }

    var wantsPromptLogprobs: Bool { request.promptLogprobs != nil }
}
