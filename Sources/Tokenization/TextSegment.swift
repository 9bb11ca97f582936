/// One part of a text to encode, saying whether special tokens may be read from it.
///
/// Chat templates build prompts from segments so that only their own markup can produce control tokens:
/// `[.markup("<|im_start|>user\n"), .text(userMessage), .markup("<|im_end|>\n")]`. A user who types
/// `<|im_end|>` or `</s>` gets those characters as plain text.
///
/// Segments are encoded as one text: adjacent text and markup are joined before merging (so the ids equal
/// llama.cpp's for the concatenated string whenever the user text contains no special-token text), and the
/// SentencePiece dummy-prefix space goes before the first text fragment and after every special token,
/// whichever segment it came from.
package enum TextSegment: Sendable, Equatable {
    /// Untrusted text: no control or unknown token is read from it. User-defined tokens are still matched,
    /// as every tokenizer does (they are ordinary vocabulary additions, not control tokens).
    case text(String)
    /// Trusted markup: the text of any control, unknown or user-defined token becomes that token
    /// (llama.cpp's `parse_special`).
    case markup(String)
    /// A token by id, such as BOS placed by a template. Counts as a special token for the dummy prefix.
    /// The id must be in the vocabulary (a precondition: ids come from code, not from users).
    case token(TokenID)
}

/// A text split into plain-text runs and special tokens: llama.cpp's `tokenizer_st_partition`.
///
/// For each special token, longest text first, every raw fragment it may appear in is cut at each
/// occurrence (leftmost first, not overlapping), so a longer token always wins over a shorter one it
/// overlaps. Control and unknown tokens are looked for only in markup; a match never spans two segments.
struct PartitionedText {
    enum Fragment: Equatable {
        /// Plain text: a range of `bytes`.
        case text(Range<Int>)
        /// A special token.
        case token(TokenID)
    }

    /// The UTF-8 of all text and markup segments, concatenated.
    private(set) var bytes: [UInt8] = []
    /// Text runs and tokens in order; adjacent text fragments are joined into one run.
    private(set) var fragments: [Fragment] = []

    init(_ segments: [TextSegment], vocabulary: Vocabulary) {
        enum Raw { case text(Range<Int>, markup: Bool), token(TokenID) }
        var raw: [Raw] = []
        for segment in segments {
            switch segment {
            case .text(let text), .markup(let text):
                let start = bytes.count
                bytes.append(contentsOf: text.utf8)
                let isMarkup = if case .markup = segment { true } else { false }
                if bytes.count > start { raw.append(.text(start..<bytes.count, markup: isMarkup)) }
            case .token(let id):
                precondition(vocabulary.contains(id), "token segment \(id) is outside the vocabulary")
                raw.append(.token(id))
            }
        }

        bytes.withUnsafeBufferPointer { text in
            for special in vocabulary.partitionTokens {
                let needsMarkup = vocabulary.types[Int(special)] != .userDefined
                guard raw.contains(where: { if case .text(_, let markup) = $0 { markup || !needsMarkup } else { false } })
                else { continue }
                let pattern = Array(vocabulary.textBytes(of: special))
                var next: [Raw] = []
                next.reserveCapacity(raw.count)
                pattern.withUnsafeBufferPointer { pattern in
                    for fragment in raw {
                        guard case .text(let range, let markup) = fragment, markup || !needsMarkup else {
                            next.append(fragment)
                            continue
                        }
                        var start = range.lowerBound
                        while let match = Self.find(pattern, in: text, range: start..<range.upperBound) {
                            if match > start { next.append(.text(start..<match, markup: markup)) }
                            next.append(.token(special))
                            start = match + pattern.count
                        }
                        if start < range.upperBound { next.append(.text(start..<range.upperBound, markup: markup)) }
                    }
                }
                raw = next
            }
        }

        for fragment in raw {
            switch fragment {
            case .token(let id): fragments.append(.token(id))
            case .text(let range, _):
                if case .text(let previous)? = fragments.last, previous.upperBound == range.lowerBound {
                    fragments[fragments.count - 1] = .text(previous.lowerBound..<range.upperBound)
                } else {
                    fragments.append(.text(range))
                }
            }
        }
    }

    /// The first occurrence of `pattern` lying wholly inside `range`.
    private static func find(
        _ pattern: UnsafeBufferPointer<UInt8>, in text: UnsafeBufferPointer<UInt8>, range: Range<Int>
    ) -> Int? {
        guard !pattern.isEmpty, range.count >= pattern.count else { return nil }
        let first = pattern[0]
        var position = range.lowerBound
        let last = range.upperBound - pattern.count
        while position <= last {
            if text[position] == first {
                var matched = 1
                while matched < pattern.count, text[position + matched] == pattern[matched] { matched += 1 }
                if matched == pattern.count { return position }
            }
            position += 1
        }
        return nil
    }
}
