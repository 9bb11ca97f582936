import Inference
import Tokenization

/// Writes chat-style log-probabilities: `{"content":[{token, logprob, bytes, top_logprobs:[…]}]}`.
func writeChatLogprobs(_ tokens: [GeneratedToken], tokenizer: any Tokenizer, into w: inout JSONWriter) {
    func entry(_ token: TokenID, _ logprob: Float) {
        let bytes = tokenizer.piece(for: token)
        w.key("token"); w.string(String(decoding: bytes, as: UTF8.self)); w.raw(",")
        w.key("logprob"); w.number(logprob); w.raw(",")
        w.key("bytes"); w.raw("[")
        for (i, b) in bytes.enumerated() {
            if i > 0 { w.raw(",") }
            w.number(Int(b))
        }
        w.raw("]")
    }
    w.raw("{"); w.key("content"); w.raw("[")
    for (i, token) in tokens.enumerated() {
        if i > 0 { w.raw(",") }
        w.raw("{")
        entry(token.token, token.logprob)
        w.raw(","); w.key("top_logprobs"); w.raw("[")
        for (j, alternative) in token.topLogprobs.enumerated() {
            if j > 0 { w.raw(",") }
            w.raw("{")
            entry(alternative.token, alternative.logprob)
            w.raw("}")
        }
        w.raw("]}")
    }
    w.raw("]}")
}

/// The legacy completions `logprobs` object, built token by token: `tokens`, `token_logprobs`, `top_logprobs`
/// and `text_offset`.
///
/// `text_offset` indexes the `text` the response returns, in characters as Python counts them (Unicode
/// scalars): a BOS the server added and SentencePiece's dummy-prefix space take no room in an echoed prompt, and
/// a character split over several byte tokens starts at the first of them. (vLLM adds up piece lengths instead,
/// which drifts from the text at the first BOS.)
struct LegacyLogprobs {
    let tokenizer: any Tokenizer
    /// Alternatives reported per generated token.
    let alternatives: Int
    var tokens: [String] = []
    var tokenLogprobs: [Float?] = []
    var topLogprobs: [[(String, Float)]?] = []
    var textOffsets: [Int] = []
    /// The offset of the next token in the returned text.
    private(set) var offset = 0
    /// Renders generated tokens exactly as the engine does for completions, so widths add up to their text.
    private var generated: StreamingDetokenizer

    init(tokenizer: any Tokenizer, alternatives: Int) {
        self.tokenizer = tokenizer
        self.alternatives = alternatives
        generated = StreamingDetokenizer(tokenizer: tokenizer)
    }

    /// Adds an echoed prompt: its first token has no log-probability; `logprobs` hold one entry per later token.
    mutating func appendPrompt(_ prompt: CompletionsResponder.Prompt, logprobs: [PromptTokenLogprob]?) {
        let start = offset
        // Rendered as `decode` renders a prompt, so the widths add up to the echoed text.
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, unparseSpecial: true, removesDummyPrefix: true)
        for (i, token) in prompt.tokens.enumerated() {
            let width = i == 0 && prompt.addedBOS ? 0 : detokenizer.append(token).unicodeScalars.count
            let entry = i > 0 ? logprobs.flatMap { i - 1 < $0.count ? $0[i - 1] : nil } : nil
            append(token, logprob: entry?.logprob, alternatives: entry?.topLogprobs, width: width)
        }
        offset = start + prompt.text.unicodeScalars.count
    }

    /// Adds generated tokens with their alternatives.
    mutating func appendGenerated(_ tokens: [GeneratedToken]) {
        for token in tokens {
            let width = generated.append(token.token).unicodeScalars.count
            append(token.token, logprob: token.logprob, alternatives: Array(token.topLogprobs.prefix(alternatives)), width: width)
        }
    }

    /// Forgets the entries written so far but not the offset, for the next chunk of a stream.
    mutating func removeEntries() {
        tokens.removeAll()
        tokenLogprobs.removeAll()
        topLogprobs.removeAll()
        textOffsets.removeAll()
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Adds one token. Its alternatives become a map from text to log-probability, as the legacy shape has them:
    /// the chosen token appears in it with exactly its own value (lm-evaluation-harness decides greediness with
    /// `==`), and where several tokens render to the same text only the first (most likely) is kept, so the
    /// JSON object never repeats a key.
    private mutating func append(_ token: TokenID, logprob: Float?, alternatives: [TokenLogprob]?, width: Int) {
        let piece = text(token)
        tokens.append(piece)
        tokenLogprobs.append(logprob)
        if let alternatives {
            var seen: Set<String> = []
            var top: [(String, Float)] = []
            for alternative in alternatives {
                let text = self.text(alternative.token)
                guard seen.insert(text).inserted else { continue }
                top.append((text, text == piece ? (logprob ?? alternative.logprob) : alternative.logprob))
            }
            if let logprob, !seen.contains(piece) { top.append((piece, logprob)) }
            topLogprobs.append(top)
        } else {
            topLogprobs.append(nil)
        }
        textOffsets.append(offset)
        offset += width
    }

    private func text(_ token: TokenID) -> String { String(decoding: tokenizer.piece(for: token), as: UTF8.self) }

    func write(into w: inout JSONWriter) {
        w.raw("{"); w.key("tokens"); w.raw("[")
        for (i, t) in tokens.enumerated() {
            if i > 0 { w.raw(",") }
            w.string(t)
        }
        w.raw("],"); w.key("token_logprobs"); w.raw("[")
        for (i, lp) in tokenLogprobs.enumerated() {
            if i > 0 { w.raw(",") }
            if let lp { w.number(lp) } else { w.null() }
        }
        w.raw("],"); w.key("top_logprobs"); w.raw("[")
        for (i, top) in topLogprobs.enumerated() {
            if i > 0 { w.raw(",") }
            guard let top else { w.null(); continue }
            w.raw("{")
            for (j, (token, lp)) in top.enumerated() {
                if j > 0 { w.raw(",") }
                w.key(token)
                w.number(lp)
            }
            w.raw("}")
        }
        w.raw("],"); w.key("text_offset"); w.raw("[")
        for (i, o) in textOffsets.enumerated() {
            if i > 0 { w.raw(",") }
            w.number(o)
        }
        w.raw("]}")
    }
}
