import Tokenization

/// What to generate: a tokenized prompt, how to sample, and when to stop.
package struct GenerationRequest: Sendable {
    /// The prompt's token ids (BOS included when the model wants one). Must not be empty.
    package var prompt: [TokenID]
    /// Sampling parameters (validated by the engine against the vocabulary).
    package var sampling: SamplingParameters
    /// The most tokens to generate per choice; 0 only evaluates the prompt (prompt log-probabilities).
    package var maxTokens: Int
    /// Texts that end generation when they appear in the output; they are not part of it.
    package var stop: [String]
    /// Keep generating past end-of-generation tokens (they are never chosen).
    package var ignoresEndOfGeneration: Bool
    /// The number of independent choices; they share the prompt's KV.
    package var choices: Int
    /// Report log-probabilities of every prompt token (and this many alternatives; nil: none).
    package var promptLogprobs: Int?
    /// Remove the SentencePiece dummy-prefix space from the first generated text, as Meta's decode does for
    /// chat replies.
    package var removesLeadingSpace: Bool

    package init(
        prompt: [TokenID], sampling: SamplingParameters = SamplingParameters(), maxTokens: Int, stop: [String] = [],
        ignoresEndOfGeneration: Bool = false, choices: Int = 1, promptLogprobs: Int? = nil,
        removesLeadingSpace: Bool = false
    ) {
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
        self.ignoresEndOfGeneration = ignoresEndOfGeneration
        self.choices = choices
        self.promptLogprobs = promptLogprobs
        self.removesLeadingSpace = removesLeadingSpace
    }
}

/// Why a choice stopped.
package enum FinishReason: String, Sendable, Equatable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` or the context length was reached.
    case length
    /// The client went away or the request was aborted.
    case cancelled
}

/// One generated token with its log-probabilities (when requested).
package struct GeneratedToken: Sendable, Equatable {
    package var token: TokenID
    package var logprob: Float
    package var topLogprobs: [TokenLogprob]
}

/// The log-probability of one prompt token given the ones before it, with alternatives.
package struct PromptTokenLogprob: Sendable, Equatable {
    package var token: TokenID
    package var logprob: Float
    package var topLogprobs: [TokenLogprob]
}

/// What the engine reports while it works on a request.
package enum GenerationEvent: Sendable, Equatable {
    /// The prompt has been processed. `logprobs` has one entry per prompt token after the first (when asked).
    case promptProcessed(promptTokens: Int, cachedTokens: Int, logprobs: [PromptTokenLogprob]?)
    /// New output for one choice: the text that is now final (possibly empty while a character or a possible
    /// stop string is held back) and the tokens it came from.
    case output(choice: Int, text: String, tokens: [GeneratedToken])
    /// A choice finished; `completionTokens` counts its generated tokens.
    case finished(choice: Int, reason: FinishReason, completionTokens: Int)
}
