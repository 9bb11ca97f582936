import Testing
@testable import Tokenization

/// The hand-written pre-tokenizer scanners against splits computed with Python's `regex` module
/// (`Tests/Fixtures/pretokenizer-splits.py`), plus llama.cpp-specific behaviour the regex cannot show.
@Suite struct PreTokenizerTests {
    static func words(_ text: String, _ preTokenizer: PreTokenizer) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        let classes = scalars.map(UnicodeClass.of)
        var words: [String] = []
        scalars.withUnsafeBufferPointer { scalarBuffer in
            classes.withUnsafeBufferPointer { classBuffer in
                preTokenizer.split(scalarBuffer, classes: classBuffer) { range in
                    var word = String.UnicodeScalarView()
                    for value in scalarBuffer[range] { word.append(Unicode.Scalar(value)!) }
                    words.append(String(word))
                }
            }
        }
        return words
    }

    @Test func fixtureIsPresent() {
        #expect(ReferenceData.splits.count >= 100)
        #expect(Set(ReferenceData.splits.map(\.preTokenizer)) == ["llama3", "gpt2", "digitsThenGPT2"])
    }

    @Test(arguments: ReferenceData.splits)
    func matchesTheRegularExpression(_ split: ReferenceData.Split) {
        let preTokenizer: PreTokenizer =
            switch split.preTokenizer {
            case "llama3": .llama3(maximumDigits: 3)
            case "gpt2": .gpt2
            default: .digitsThenGPT2
            }
        #expect(Self.words(split.text, preTokenizer) == split.words)
    }

    @Test func llama3HandSplits() {
        let llama3 = PreTokenizer.llama3(maximumDigits: 3)
        #expect(Self.words("I'M here", llama3) == ["I", "'M", " here"])
        #expect(Self.words("1234567", llama3) == ["123", "456", "7"])
        #expect(Self.words("a  \n\n b", llama3) == ["a", "  \n\n", " b"])
        #expect(Self.words("(hello)\n", llama3) == ["(hello", ")\n"])
        #expect(Self.words("x  ", llama3) == ["x", "  "])
        #expect(Self.words("", llama3) == [])
    }

    @Test func qwenStyleSplitsDigitsSingly() {
        #expect(Self.words("x 2024", .llama3(maximumDigits: 1)) == ["x", " ", "2", "0", "2", "4"])
    }

    /// The StarCoder/SmolLM split isolates every number character first, so a space before a digit stays a
    /// word of its own (GPT-2 alone would give " 2024").
    @Test func digitsAreIsolatedBeforeTheGPT2Split() {
        #expect(Self.words("in 2024!", .digitsThenGPT2) == ["in", " ", "2", "0", "2", "4", "!"])
        #expect(Self.words("in 2024!", .gpt2) == ["in", " 2024", "!"])
        #expect(Self.words("x½y", .digitsThenGPT2) == ["x", "½", "y"])
    }

    @Test func choosesPreTokenizersByName() {
        #expect(PreTokenizer.choice(forName: "smollm")?.preTokenizer == .digitsThenGPT2)
        #expect(PreTokenizer.choice(forName: "starcoder")?.preTokenizer == .digitsThenGPT2)
        let llama3 = PreTokenizer.choice(forName: "llama-bpe")
        #expect(llama3?.preTokenizer == .llama3(maximumDigits: 3))
        #expect(llama3?.ignoresMerges == true)
        #expect(llama3?.addsBOSByDefault == true)
        #expect(PreTokenizer.choice(forName: "gpt-2")?.preTokenizer == .gpt2)
        #expect(PreTokenizer.choice(forName: "tekken") == nil)
    }
}
