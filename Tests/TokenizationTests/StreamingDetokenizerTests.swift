import Testing
@testable import Tokenization

/// The streaming detokenizer never emits part of a character and never loses bytes.
@Suite struct StreamingDetokenizerTests {
    /// Llama 2's byte tokens: `<0xNN>` is id NN + 3.
    static func byteToken(_ byte: UInt8) -> TokenID { TokenID(byte) + 3 }

    @Test func holdsAByteSplitCharacterUntilItCompletes() {
        var streaming = StreamingDetokenizer(tokenizer: ReferenceData.llama)
        let llama: [UInt8] = Array("🦙".utf8)
        #expect(streaming.append(Self.byteToken(llama[0])) == "")
        #expect(streaming.append(Self.byteToken(llama[1])) == "")
        #expect(streaming.append(Self.byteToken(llama[2])) == "")
        #expect(streaming.append(Self.byteToken(llama[3])) == "🦙")
        #expect(streaming.append(15043) == " Hello")
        #expect(streaming.finish() == "")
    }

    @Test func finishFlushesADanglingStartAsReplacementCharacter() {
        var streaming = StreamingDetokenizer(tokenizer: ReferenceData.llama)
        #expect(streaming.append(Self.byteToken(0x41)) == "A")
        #expect(streaming.append(Self.byteToken(0xE2)) == "")
        #expect(streaming.append(Self.byteToken(0x82)) == "")
        #expect(streaming.finish() == "\u{FFFD}")
        #expect(streaming.finish() == "")
    }

    @Test func invalidBytesAreReplacedAtOnce() {
        var streaming = StreamingDetokenizer(tokenizer: ReferenceData.llama)
        #expect(streaming.append(Self.byteToken(0x80)) == "\u{FFFD}")
        #expect(streaming.append(Self.byteToken(0xE2)) == "")
        #expect(streaming.append(Self.byteToken(0x41)) == "\u{FFFD}A")
    }

    @Test func splitsSmolLM2EmojiTokens() {
        // 🙂 is 10813 ('ðŁ') + 38887 in SmolLM2: the first token holds two of the four bytes.
        var streaming = StreamingDetokenizer(tokenizer: ReferenceData.smolLM2)
        #expect(streaming.append(10813) == "")
        #expect(streaming.append(38887) == "🙂")
    }

    @Test(arguments: [
        ([0xE2, 0x82] as [UInt8], 0), ([0x41, 0xE2], 1), ([0x41], 1), ([], 0), ([0xF0, 0x9F, 0xA6], 0),
        ([0xE0, 0x80], 2), ([0xF4, 0x90], 2), ([0xED, 0xA0], 2), ([0x80], 1), ([0xC0], 1), ([0xF5], 1),
        ([0xF0, 0x9F, 0xA6, 0x99], 4), ([0x41, 0xF0, 0x9F], 1),
    ])
    func incompleteSuffix(_ bytes: [UInt8], _ expected: Int) {
        #expect(StreamingDetokenizer.incompleteSuffixStart(bytes) == expected)
    }

    /// Random byte streams, including invalid UTF-8, stream to exactly `String(decoding:)` of all bytes.
    @Test(arguments: 0..<20)
    func randomBytesStreamLikeWholeDecoding(_ seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let interesting: [UInt8] = [0x41, 0x20, 0x80, 0xBF, 0xC2, 0xE0, 0xE2, 0xED, 0xF0, 0xF4, 0x9F, 0xA0, 0x90]
        let bytes: [UInt8] = (0..<200).map { _ in
            random.next() % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : interesting[Int(random.next() % 13)]
        }
        var streaming = StreamingDetokenizer(tokenizer: ReferenceData.llama)
        var text = ""
        for byte in bytes { text += streaming.append(Self.byteToken(byte)) }
        text += streaming.finish()
        #expect(text == String(decoding: bytes, as: UTF8.self))
    }
}

/// A small deterministic generator for test inputs.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
