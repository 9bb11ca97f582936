/// Decodes tokens one at a time for streamed replies without ever emitting part of a UTF-8 character.
///
/// A byte-level token can hold the first bytes of a character whose rest comes in the next token (an emoji
/// is often 2–4 tokens). `append` returns only complete characters and keeps the bytes of a character that
/// may still complete; `finish` flushes them. Concatenating every `append` result and `finish` gives
/// exactly `String(decoding:)` of all the pieces' bytes, so no byte is lost and invalid bytes become U+FFFD
/// as soon as they are known to be invalid (a dangling start of a character becomes U+FFFD at `finish`).
///
/// Tokens are rendered by the rules described on `Tokenizer` (control tokens only with `unparseSpecial`).
package struct StreamingDetokenizer: Sendable {
    private let tokenizer: any Tokenizer
    private var renderer: PieceRenderer
    /// Rendered bytes not yet returned: at most the first three bytes of one character.
    private var pending: [UInt8] = []

    /// - Parameters:
    ///   - tokenizer: the tokenizer whose vocabulary the tokens come from.
    ///   - unparseSpecial: render control and unknown tokens as their text (off for replies: `</s>` and
    ///     `<|im_end|>` are not text).
    ///   - removesDummyPrefix: remove the SentencePiece dummy-prefix space from the first text token and the
    ///     first text token after each special token, as `decode` does, when the vocabulary adds one. Off by
    ///     default, which matches llama-server's streamed text (" Paris" for `▁Paris`).
    package init(tokenizer: any Tokenizer, unparseSpecial: Bool = false, removesDummyPrefix: Bool = false) {
        self.tokenizer = tokenizer
        renderer = PieceRenderer(
            unparseSpecial: unparseSpecial,
            removesDummyPrefix: removesDummyPrefix && tokenizer.vocabulary.addsSpacePrefix)
    }

    /// Adds one token and returns the text that is now complete (often empty while a character is split).
    package mutating func append(_ token: TokenID) -> String {
        renderer.append(token, from: tokenizer, to: &pending)
        let split = Self.incompleteSuffixStart(pending)
        guard split > 0 else { return "" }
        let text = String(decoding: pending[..<split], as: UTF8.self)
        pending.removeFirst(split)
        return text
    }

    /// Returns whatever is held back and resets the held bytes; an unfinished character becomes U+FFFD.
    package mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Where the trailing bytes that could still become a valid character begin (`bytes.count` when there
    /// are none): a lead byte followed by fewer continuation bytes than it needs, each allowed in its place.
    static func incompleteSuffixStart(_ bytes: [UInt8]) -> Int {
        var start = bytes.count
        // A character is at most 4 bytes, so an incomplete one starts at most 3 bytes from the end.
        while start > 0, bytes.count - start < 3, bytes[start - 1] & 0xC0 == 0x80 { start -= 1 }
        guard start > 0 else { return bytes.count }
        let lead = bytes[start - 1]
        let needed: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: needed = 1
        case 0xE0: needed = 2; secondRange = 0xA0...0xBF
        case 0xED: needed = 2; secondRange = 0x80...0x9F
        case 0xE1...0xEF: needed = 2
        case 0xF0: needed = 3; secondRange = 0x90...0xBF
        case 0xF4: needed = 3; secondRange = 0x80...0x8F
        case 0xF1...0xF3: needed = 3
        default: return bytes.count
        }
        let continuations = bytes.count - start
        guard continuations < needed else { return bytes.count }
        if continuations >= 1, !secondRange.contains(bytes[start]) { return bytes.count }
        return start - 1
    }
}
