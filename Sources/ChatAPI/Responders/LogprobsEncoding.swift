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

/// The legacy completions `logprobs` object, built token by token.
struct LegacyLogprobs {
    var tokens: [String] = []
    var tokenLogprobs: [Float?] = []
    var topLogprobs: [[(String, Float)]?] = []
    var textOffsets: [Int] = []
    var offset = 0

    /// Adds one token: its text, its log-probability (nil for the first prompt token) and alternatives. The
    /// chosen token appears among the alternatives with exactly its own value.
    mutating func append(_ piece: String, logprob: Float?, alternatives: [(String, Float)]?) {
        tokens.append(piece)
        tokenLogprobs.append(logprob)
        if var alternatives, let logprob {
            if !alternatives.contains(where: { $0.0 == piece }) { alternatives.append((piece, logprob)) }
            topLogprobs.append(alternatives.map { $0.0 == piece ? ($0.0, logprob) : $0 })
        } else {
            topLogprobs.append(alternatives)
        }
        textOffsets.append(offset)
        offset += piece.unicodeScalars.count
    }

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
