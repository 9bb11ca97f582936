import Foundation
import Inference
import Testing

@Suite struct SamplerTests {
    static func sample(_ logits: [Float], _ p: SamplingParameters, banned: [Int32] = []) -> SampledToken {
        var sampler = Sampler(parameters: p)
        return logits.withUnsafeBufferPointer { sampler.sample($0, banned: banned) }
    }

    static func greedy() -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }

    @Test func greedyPicksTheLargestLogitAndTheLowestIdOnTies() {
        #expect(Self.sample([1, 5, 3, 5], Self.greedy()).token == 1)
        #expect(Self.sample([-3, -1, -2], Self.greedy()).token == 1)
    }

    @Test func bannedTokensAreNeverChosen() {
        #expect(Self.sample([1, 9, 3], Self.greedy(), banned: [1]).token == 2)
    }

    @Test func logitBiasShiftsTheChoice() {
        var p = Self.greedy()
        p.logitBias = [0: 10]
        #expect(Self.sample([1, 5, 3], p).token == 0)
        p.logitBias = [1: -100]
        #expect(Self.sample([1, 5, 3], p).token == 2)
    }

    @Test func nanLogitsAreTreatedAsImpossible() {
        #expect(Self.sample([.nan, 2, 1], Self.greedy()).token == 1)
        var p = SamplingParameters()
        p.seed = 1
        for _ in 0..<20 { #expect(Self.sample([.nan, 2, .nan], p).token == 1) }
    }

    @Test func sameSeedSameTokens() {
        var p = SamplingParameters()
        p.temperature = 1.2
        p.seed = 42
        let logits: [Float] = (0..<100).map { Float($0 % 7) * 0.3 }
        func run() -> [Int32] {
            var sampler = Sampler(parameters: p)
            return (0..<50).map { _ in logits.withUnsafeBufferPointer { sampler.sample($0).token } }
        }
        let first = run()
        #expect(first == run())
        p.seed = 43
        var other = Sampler(parameters: p)
        let third = (0..<50).map { _ in logits.withUnsafeBufferPointer { other.sample($0).token } }
        #expect(third != first)
    }

    @Test func topKOneIsGreedy() {
        var p = SamplingParameters()
        p.topK = 1
        p.seed = 7
        for _ in 0..<20 { #expect(Self.sample([0, 1, 4, 2], p).token == 2) }
    }

    @Test func topPKeepsOnlyTheNucleus() {
        // Probabilities ~ [0.64, 0.24, 0.09, 0.03]: top_p 0.5 keeps only the first.
        var p = SamplingParameters()
        p.topP = 0.5
        let logits: [Float] = [3, 2, 1, 0]
        for seed in 0..<30 {
            p.seed = UInt64(seed)
            #expect(Self.sample(logits, p).token == 0)
        }
        // top_p 0.8 keeps the first two, and over many seeds both appear.
        p.topP = 0.8
        var seen = Set<Int32>()
        for seed in 0..<200 {
            p.seed = UInt64(seed)
            seen.insert(Self.sample(logits, p).token)
        }
        #expect(seen == [0, 1])
    }

    @Test func minPDropsUnlikelyTokens() {
        var p = SamplingParameters()
        p.minP = 0.5  // keeps tokens at least half as likely as the best: e^(l - max) >= 0.5
        let logits: [Float] = [0, -0.5, -1, -5]
        var seen = Set<Int32>()
        for seed in 0..<300 {
            p.seed = UInt64(seed)
            seen.insert(Self.sample(logits, p).token)
        }
        #expect(seen == [0, 1])
    }

    @Test func samplingFrequenciesFollowTheDistribution() {
        // logits ln(1), ln(3): expect about 25% / 75%.
        var p = SamplingParameters()
        p.seed = 99
        var sampler = Sampler(parameters: p)
        let logits: [Float] = [0, logf3]
        var ones = 0
        for _ in 0..<4000 where logits.withUnsafeBufferPointer({ sampler.sample($0).token }) == 1 { ones += 1 }
        #expect(abs(Double(ones) / 4000 - 0.75) < 0.03)
    }

    @Test func penaltiesApplyToSeenTokens() {
        var p = Self.greedy()
        p.presencePenalty = 2
        var sampler = Sampler(parameters: p)
        let logits: [Float] = [1.5, 0]
        #expect(logits.withUnsafeBufferPointer { sampler.sample($0).token } == 0)
        sampler.accept(0)
        #expect(logits.withUnsafeBufferPointer { sampler.sample($0).token } == 1)

        var r = Self.greedy()
        r.repetitionPenalty = 2
        var repeating = Sampler(parameters: r, promptTokens: [0])
        // 1.5 / 2 = 0.75 < 1.0
        #expect([Float(1.5), 1.0].withUnsafeBufferPointer { repeating.sample($0).token } == 1)
    }

    @Test func logprobsAreRawLogSoftmaxAndTheChosenMatchesItsTopEntry() {
        var p = Self.greedy()
        p.topLogprobs = 2
        p.logitBias = [2: 50]  // bias changes the choice but not the reported distribution
        let logits: [Float] = [2, 1, 0]
        let result = Self.sample(logits, p)
        #expect(result.token == 2)
        let lse = log(exp(2.0) + exp(1.0) + exp(0.0))
        #expect(abs(Double(result.logprob) - (0 - lse)) < 1e-5)
        #expect(result.topLogprobs.map(\.token) == [0, 1])
        #expect(abs(Double(result.topLogprobs[0].logprob) - (2 - lse)) < 1e-5)
    }

    static let invalidCases: [(String, SamplingParameters)] = {
        func make(_ change: (inout SamplingParameters) -> Void) -> SamplingParameters {
            var p = SamplingParameters()
            change(&p)
            return p
        }
        return [
            ("temperature", make { $0.temperature = -1 }),
            ("top_p", make { $0.topP = 0 }),
            ("top_p", make { $0.topP = 1.5 }),
            ("min_p", make { $0.minP = 2 }),
            ("top_k", make { $0.topK = -1 }),
            ("presence_penalty", make { $0.presencePenalty = 3 }),
            ("frequency_penalty", make { $0.frequencyPenalty = .nan }),
            ("repetition_penalty", make { $0.repetitionPenalty = 0 }),
            ("logit_bias", make { $0.logitBias = [100: 1] }),
            ("logit_bias", make { $0.logitBias = [-1: 1] }),
            ("logit_bias", make { $0.logitBias = [1: 101] }),
            ("top_logprobs", make { $0.topLogprobs = 21 }),
        ]
    }()

    @Test(arguments: invalidCases)
    func invalidParametersAreRejectedNamingTheField(field: String, parameters: SamplingParameters) {
        #expect(throws: SamplingError.self) { try parameters.validate(vocabularySize: 100) }
        do {
            try parameters.validate(vocabularySize: 100)
        } catch {
            #expect(error.parameter == field)
        }
    }
}

private let logf3 = Float(log(3.0))
