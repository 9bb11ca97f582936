import Testing
@testable import Tokenization

/// The two byte-level mergers (scanning for short words, priority queue for long ones) agree.
@Suite struct BytePairMergeTests {
    static let tokenizer = ReferenceData.smolLM2 as! BytePairTokenizer

    static let words: [[UInt8]] = {
        var random = SplitMix64(seed: 7)
        let samples = ["hello", "internationalization", "日本語のテキスト", "🦙🦙🦙", "aaaaaaaaaaaaaaaaaaaa", " the", "----====----"]
        var words = samples.map { Array($0.utf8) }
        let alphabet = Array("etaoinshrdlu ETAOIN.,-'日本語語文🙂".utf8)
        for length in [2, 3, 5, 8, 13, 40, 97, 300, 2000] {
            words.append((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        }
        return words
    }()

    @Test(arguments: words)
    func scanningAndQueueAgree(_ word: [UInt8]) {
        let scanned = Self.tokenizer.encodeWord(word, byScanning: true)
        let queued = Self.tokenizer.encodeWord(word, byScanning: false)
        #expect(scanned == queued)
        #expect(Self.tokenizer.decode(queued) == String(decoding: word, as: UTF8.self))
    }

    /// A long run of letters with no space (one pre-tokenized word) goes through the queue.
    @Test func longCJKRunMatchesShortPieces() {
        let text = String(repeating: "中文文本", count: 500)
        let ids = Self.tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        #expect(Self.tokenizer.decode(ids) == text)
        #expect(ids.count < text.utf8.count)
    }
}
