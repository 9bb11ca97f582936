/// How a byte-level BPE vocabulary splits text into words before merging (`tokenizer.ggml.pre`).
///
/// Each kind is a hand-written scanner equivalent to the regular expression llama.cpp uses for it
/// (`llm_tokenizer_bpe` in `src/llama-vocab.cpp`), with llama.cpp's Unicode classes (`UnicodeClass`).
package enum PreTokenizer: Sendable, Equatable {
    /// No split: SentencePiece vocabularies tokenize each text fragment as one sequence.
    case none
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// StarCoder, SmolLM and relatives: every `\p{N}` character on its own first, then the GPT-2 expression
    /// inside each remaining piece.
    case digitsThenGPT2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    /// `maximumDigits` is the `3` of `\p{N}{1,3}`; Qwen 2 uses the same expression with `\p{N}` (1).
    case llama3(maximumDigits: Int)

    /// What a `tokenizer.ggml.pre` name selects, with the vocabulary defaults llama.cpp ties to it.
    package struct Choice: Sendable, Equatable {
        package var preTokenizer: PreTokenizer
        /// Whether a whole word that is already a token skips merging (llama.cpp's `ignore_merges`).
        package var ignoresMerges: Bool = false
        /// Whether BOS is added when the file has no `add_bos_token` key.
        package var addsBOSByDefault: Bool = false
    }

    /// The pre-tokenizer a `tokenizer.ggml.pre` name selects, or nil for names this project does not support.
    /// The names and their grouping follow llama.cpp's `llama_vocab::impl::load` (build b4748).
    package static func choice(forName name: String) -> Choice? {
        switch name {
        case "llama3", "llama-v3", "llama-bpe", "falcon3":
            Choice(preTokenizer: .llama3(maximumDigits: 3), ignoresMerges: true, addsBOSByDefault: true)
        case "dbrx", "smaug-bpe":
            Choice(preTokenizer: .llama3(maximumDigits: 3))
        case "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2":
            Choice(preTokenizer: .llama3(maximumDigits: 1))
        case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b":
            Choice(preTokenizer: .digitsThenGPT2)
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
            "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais":
            Choice(preTokenizer: .gpt2)
        default:
            nil
        }
    }

    /// Splits `scalars` into words and reports each word's scalar range, in order. The ranges cover the
    /// whole input without gaps.
    ///
    /// - Parameters:
    ///   - scalars: the text's Unicode scalar values.
    ///   - classes: `UnicodeClass` of each scalar (same count).
    ///   - body: called with each word's half-open scalar range.
    func split(
        _ scalars: UnsafeBufferPointer<UInt32>, classes: UnsafeBufferPointer<UnicodeClass>,
        _ body: (Range<Int>) -> Void
    ) {
        let text = ClassifiedText(scalars: scalars, classes: classes)
        switch self {
        case .none:
            if !scalars.isEmpty { body(0..<scalars.count) }
        case .gpt2:
            text.splitGPT2(0..<scalars.count, body)
        case .digitsThenGPT2:
            // Each number character is a piece of its own, and so is every run between them; the GPT-2
            // expression then splits the runs. A lone number piece is a single word either way.
            var runStart = 0
            for index in 0..<scalars.count where classes[index].contains(.number) {
                if runStart < index { text.splitGPT2(runStart..<index, body) }
                body(index..<(index + 1))
                runStart = index + 1
            }
            if runStart < scalars.count { text.splitGPT2(runStart..<scalars.count, body) }
        case .llama3(let maximumDigits):
            text.splitLlama3(0..<scalars.count, maximumDigits: maximumDigits, body)
        }
    }
}

/// A text's scalars with their classes, read with llama.cpp's bounds rule: outside the piece being split,
/// a position has no class at all (not even "defined") and an out-of-range scalar.
struct ClassifiedText {
    let scalars: UnsafeBufferPointer<UInt32>
    let classes: UnsafeBufferPointer<UnicodeClass>

    /// The value standing for "past the piece", which matches no character test.
    static let outOfRange: UInt32 = 0xFFFF_FFFF

    @inline(__always)
    func scalar(_ position: Int, in range: Range<Int>) -> UInt32 {
        range.contains(position) ? scalars[position] : Self.outOfRange
    }

    @inline(__always)
    func unicodeClass(_ position: Int, in range: Range<Int>) -> UnicodeClass {
        range.contains(position) ? classes[position] : []
    }
}
