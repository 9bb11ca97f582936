import Testing
@testable import Tokenization

/// The character classes the pre-tokenizers use, defined as llama.cpp defines them.
@Suite struct UnicodeClassTests {
    @Test func unicodeClassesFollowLlamaCpp() {
        #expect(UnicodeClass.of(0x41).contains(.letter))
        #expect(UnicodeClass.of(0x01C5).contains(.letter))  // ǅ, titlecase
        #expect(UnicodeClass.of(0x00BD).contains(.number))  // ½
        #expect(UnicodeClass.of(0x2167).contains(.number))  // Ⅷ, letter number
        #expect(UnicodeClass.of(0x3000).contains(.whitespace))
        #expect(UnicodeClass.of(0x0085).contains(.whitespace))
        #expect(!UnicodeClass.of(0x200B).contains(.whitespace))  // zero-width space is a format character
        #expect(!UnicodeClass.of(0x001C).contains(.whitespace))  // not White_Space, unlike Python's str.isspace
        #expect(UnicodeClass.of(0x1D400).contains(.letter))  // 𝐀, beyond the basic plane
        #expect(UnicodeClass.of(0x0378) == .inRange)  // unassigned: in range, no class
    }

    /// The hard-coded whitespace list equals the standard library's `White_Space` property everywhere.
    @Test func whitespaceListMatchesTheProperty() {
        let mismatches = (UInt32(0)...0x10FFFF).filter { value in
            guard let scalar = Unicode.Scalar(value) else { return false }
            return UnicodeClass.of(value).contains(.whitespace) != scalar.properties.isWhitespace
        }
        #expect(mismatches.isEmpty)
    }
}
