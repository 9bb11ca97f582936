/// How to choose each next token, and which log-probabilities to report.
///
/// Defaults are OpenAI's (temperature 1, top-p 1) with every other filter off.
package struct SamplingParameters: Sendable, Equatable {
    /// 0 picks the most likely token (greedy); higher values flatten the distribution.
    package var temperature: Float = 1
    /// Keep only the `topK` most likely tokens (0: all).
    package var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probabilities sum to at least `topP`, in (0, 1].
    package var topP: Float = 1
    /// Drop tokens less likely than `minP` times the most likely one, in [0, 1].
    package var minP: Float = 0
    /// Divide positive logits (multiply negative ones) of tokens already in the prompt or output; 1 is off.
    package var repetitionPenalty: Float = 1
    /// Subtracted from the logit of every token already generated, in [-2, 2].
    package var presencePenalty: Float = 0
    /// Subtracted once per earlier occurrence in the generated tokens, in [-2, 2].
    package var frequencyPenalty: Float = 0
    /// Added to the logits of specific token ids, each in [-100, 100].
    package var logitBias: [Int32: Float] = [:]
    /// The random seed; nil draws one.
    package var seed: UInt64?
    /// How many alternative tokens to report with log-probabilities (0–20); nil reports none.
    package var topLogprobs: Int?

    package init() {}

    /// The largest `topLogprobs` accepted (OpenAI's limit).
    package static let maximumTopLogprobs = 20

    /// Checks every parameter against its range and the vocabulary size.
    ///
    /// - Throws: `SamplingError` naming the parameter and what is wrong.
    package func validate(vocabularySize: Int) throws(SamplingError) {
        guard temperature.isFinite, temperature >= 0 else {
            throw .invalid("temperature", "must be a number >= 0, not \(temperature)")
        }
        guard topK >= 0 else { throw .invalid("top_k", "must be >= 0 (0 disables it), not \(topK)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw .invalid("top_p", "must be in (0, 1], not \(topP)") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw .invalid("min_p", "must be in [0, 1], not \(minP)") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0, repetitionPenalty <= 10 else {
            throw .invalid("repetition_penalty", "must be in (0, 10], not \(repetitionPenalty)")
        }
        guard presencePenalty.isFinite, abs(presencePenalty) <= 2 else {
            throw .invalid("presence_penalty", "must be in [-2, 2], not \(presencePenalty)")
        }
        guard frequencyPenalty.isFinite, abs(frequencyPenalty) <= 2 else {
            throw .invalid("frequency_penalty", "must be in [-2, 2], not \(frequencyPenalty)")
        }
        for (token, bias) in logitBias {
            guard token >= 0, Int(token) < vocabularySize else {
                throw .invalid("logit_bias", "token id \(token) is not in the vocabulary (0..<\(vocabularySize))")
            }
            guard bias.isFinite, abs(bias) <= 100 else {
                throw .invalid("logit_bias", "bias for token \(token) must be in [-100, 100], not \(bias)")
            }
        }
        if let topLogprobs {
            guard (0...Self.maximumTopLogprobs).contains(topLogprobs) else {
                throw .invalid("top_logprobs", "must be in 0...\(Self.maximumTopLogprobs), not \(topLogprobs)")
            }
        }
    }
}

/// An invalid sampling parameter.
package enum SamplingError: Error, Equatable, CustomStringConvertible {
    case invalid(_ parameter: String, _ problem: String)

    /// The parameter's name, as the API spells it.
    package var parameter: String {
        switch self { case .invalid(let p, _): p }
    }

    package var description: String {
        switch self { case .invalid(let p, let problem): "\(p) \(problem)" }
    }
}
