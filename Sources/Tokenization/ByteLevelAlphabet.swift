/// GPT-2's byte-level alphabet: the reversible map from the 256 byte values to printable characters in which
/// byte-level BPE vocabularies write their tokens (`Ġ` is the space byte, `Ċ` the line feed).
///
/// The printable bytes `!`–`~`, `¡`–`¬` and `®`–`ÿ` stand for themselves; the other 68 bytes, in increasing
/// order, map to U+0100, U+0101, … (OpenAI's `bytes_to_unicode`).
enum ByteLevelAlphabet {
    /// The character standing for each byte.
    static let characterForByte: [Unicode.Scalar] = {
        var result = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 0x100
        for byte in 0..<256 {
            if standsForItself(UInt8(byte)) {
                result[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                result[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return result
    }()

    /// The UTF-8 of the character standing for each byte.
    static let utf8ForByte: [[UInt8]] = characterForByte.map { Array(String($0).utf8) }

    /// The byte a character stands for, or nil for characters outside the alphabet.
    static func byte(for character: Unicode.Scalar) -> UInt8? {
        let value = character.value
        if value < 0x100 { return standsForItself(UInt8(value)) ? UInt8(value) : nil }
        let index = Int(value) - 0x100
        guard index < remappedBytes.count else { return nil }
        return remappedBytes[index]
    }

    /// The bytes that do not stand for themselves, in the order they take U+0100, U+0101, ….
    private static let remappedBytes: [UInt8] = (0...255).map(UInt8.init).filter { !standsForItself($0) }

    private static func standsForItself(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The bytes a byte-level token's text stands for. Characters outside the alphabet (which only a broken
    /// vocabulary has) are kept as their own UTF-8, so nothing is silently dropped. Decodes the UTF-8 by
    /// hand: this runs for every token when a tokenizer is made.
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        decode(text, into: &result)
        return result
    }

    /// Appends the bytes a byte-level token's text stands for to `result`.
    static func decode(_ text: ArraySlice<UInt8>, into result: inout [UInt8]) {
        var index = text.startIndex
        while index < text.endIndex {
            let lead = text[index]
            // Alphabet characters are U+0021–U+0143: one byte, or two with a C2–C5 lead.
            if lead < 0x80, let byte = byte(for: Unicode.Scalar(lead)) {
                result.append(byte)
                index += 1
            } else if (0xC2...0xC5).contains(lead), index + 1 < text.endIndex, text[index + 1] & 0xC0 == 0x80,
                let byte = byte(for: Unicode.Scalar(UInt32(lead & 0x1F) << 6 | UInt32(text[index + 1] & 0x3F))!)
            {
                result.append(byte)
                index += 2
            } else {
                // Not in the alphabet: copy the whole character.
                let size = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                let end = min(index + size, text.endIndex)
                result.append(contentsOf: text[index..<end])
                index = end
            }
        }
    }
}
