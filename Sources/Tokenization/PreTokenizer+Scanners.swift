/// The hand-written equivalents of the pre-tokenizer regular expressions. Each scanner walks the piece once,
/// trying the expression's alternatives in order at the current position, as a backtracking regex engine
/// would, and reports the matched word.
///
/// Positions outside `range` have no class (see `ClassifiedText`), which is how a lookahead such as
/// `(?!\S)` sees the end of the piece.
extension ClassifiedText {
    private static let apostrophe: UInt32 = 0x27
    private static let space: UInt32 = 0x20
    private static let carriageReturn: UInt32 = 0x0D
    private static let lineFeed: UInt32 = 0x0A

    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    func splitGPT2(_ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var position = range.lowerBound
        while position < range.upperBound {
            let end = gpt2Match(at: position, in: range)
            body(position..<end)
            position = end
        }
    }

    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maximumDigits}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    func splitLlama3(_ range: Range<Int>, maximumDigits: Int, _ body: (Range<Int>) -> Void) {
        var position = range.lowerBound
        while position < range.upperBound {
            let end = llama3Match(at: position, in: range, maximumDigits: maximumDigits)
            body(position..<end)
            position = end
        }
    }

    /// The end of the GPT-2 word that starts at `start`.
    private func gpt2Match(at start: Int, in range: Range<Int>) -> Int {
        if let end = contractionEnd(at: start, in: range, ignoringCase: false) { return end }
        let first = scalar(start, in: range)
        // ` ?X+`: an optional space, then a run of one class. Without the space the run would have to start
        // at the space itself, which no run class contains, so only the with-space form needs trying.
        let runStart = first == Self.space ? start + 1 : start
        let runClass = unicodeClass(runStart, in: range)
        if runClass.contains(.letter) { return runEnd(from: runStart, in: range) { $0.contains(.letter) } }
        if runClass.contains(.number) { return runEnd(from: runStart, in: range) { $0.contains(.number) } }
        if Self.isOther(runClass) { return runEnd(from: runStart, in: range, while: Self.isOther) }
        return whitespaceEnd(at: start, in: range)
    }

    /// The end of the Llama 3 word that starts at `start`.
    private func llama3Match(at start: Int, in range: Range<Int>, maximumDigits: Int) -> Int {
        if let end = contractionEnd(at: start, in: range, ignoringCase: true) { return end }
        let first = scalar(start, in: range)
        let firstClass = unicodeClass(start, in: range)
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if first != Self.carriageReturn, first != Self.lineFeed, !firstClass.contains(.number) {
            if firstClass.contains(.letter) {
                return runEnd(from: start, in: range) { $0.contains(.letter) }
            }
            if unicodeClass(start + 1, in: range).contains(.letter) {
                return runEnd(from: start + 1, in: range) { $0.contains(.letter) }
            }
        }
        // `\p{N}{1,3}`
        if firstClass.contains(.number) {
            let end = runEnd(from: start, in: range) { $0.contains(.number) }
            return min(end, start + maximumDigits)
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let runStart = first == Self.space ? start + 1 : start
        if Self.isOther(unicodeClass(runStart, in: range)) {
            var end = runEnd(from: runStart, in: range, while: Self.isOther)
            while end < range.upperBound, scalars[end] == Self.carriageReturn || scalars[end] == Self.lineFeed {
                end += 1
            }
            return end
        }
        // `\s*[\r\n]+`: the longest whitespace run from here, cut after its last line break.
        let whitespaceRunEnd = runEnd(from: start, in: range) { $0.contains(.whitespace) }
        var lastBreakEnd = -1
        for index in start..<whitespaceRunEnd where scalars[index] == Self.carriageReturn || scalars[index] == Self.lineFeed {
            lastBreakEnd = index + 1
        }
        if lastBreakEnd > 0 { return lastBreakEnd }
        return whitespaceEnd(at: start, in: range)
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, optionally case-insensitive. Only ASCII letters lower-case to these
    /// letters under Unicode's simple case mapping, which is what llama.cpp applies.
    private func contractionEnd(at start: Int, in range: Range<Int>, ignoringCase: Bool) -> Int? {
        guard scalar(start, in: range) == Self.apostrophe, start + 1 < range.upperBound else { return nil }
        func letter(_ position: Int) -> UInt32 {
            let value = scalar(position, in: range)
            return ignoringCase && (0x41...0x5A).contains(value) ? value + 0x20 : value
        }
        switch letter(start + 1) {
        case 0x73, 0x74, 0x6D, 0x64: return start + 2  // s t m d
        case 0x72, 0x76: return letter(start + 2) == 0x65 ? start + 3 : nil  // re ve
        case 0x6C: return letter(start + 2) == 0x6C ? start + 3 : nil  // ll
        default: return nil
        }
    }

    /// `\s+(?!\S)|\s+` at `start`: a whitespace run, minus its last character when a non-space follows it
    /// (that character then leads the next word, as in " world"); a single character when nothing matches.
    private func whitespaceEnd(at start: Int, in range: Range<Int>) -> Int {
        let end = runEnd(from: start, in: range) { $0.contains(.whitespace) }
        let length = end - start
        if length == 0 { return start + 1 }  // no alternative matched: the character stands alone
        if length > 1, end < range.upperBound { return end - 1 }
        return end
    }

    /// `[^\s\p{L}\p{N}]`, for a character inside the piece.
    @inline(__always)
    private static func isOther(_ unicodeClass: UnicodeClass) -> Bool {
        unicodeClass.contains(.inRange) && unicodeClass.isDisjoint(with: [.letter, .number, .whitespace])
    }

    /// The first position from `start` whose class fails `test`.
    @inline(__always)
    private func runEnd(from start: Int, in range: Range<Int>, while test: (UnicodeClass) -> Bool) -> Int {
        var end = start
        while end < range.upperBound, test(classes[end]) { end += 1 }
        return end
    }
}
