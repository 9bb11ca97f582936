import Testing
@testable import Tokenization

/// GPT-2's byte-to-character alphabet and its inverse.
@Suite struct ByteLevelAlphabetTests {
    @Test func everyByteRoundTrips() {
        for byte in 0...255 {
            let text = ByteLevelAlphabet.utf8ForByte[byte]
            #expect(ByteLevelAlphabet.decode(text[...]) == [UInt8(byte)])
        }
        #expect(String(ByteLevelAlphabet.characterForByte[0x20]) == "Ġ")
        #expect(String(ByteLevelAlphabet.characterForByte[0x0A]) == "Ċ")
        // Characters outside the alphabet are kept as they are.
        #expect(ByteLevelAlphabet.decode(Array("aé日".utf8)[...]) == Array("a".utf8) + [0xE9] + Array("日".utf8))
    }
}
