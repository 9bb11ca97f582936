/// The character classes the pre-tokenizers test, defined as llama.cpp defines them (`unicode_cpt_flags`):
///
/// - `letter` is `\p{L}`: general categories Lu, Ll, Lt, Lm, Lo.
/// - `number` is `\p{N}`: Nd, Nl, No.
/// - `whitespace` is `\s`: the Unicode `White_Space` property (llama.cpp's `unicode_set_whitespace` lists the
///   same 25 code points).
/// - `inRange` is set for every real scalar. llama.cpp gives every code point some category flag (unassigned
///   ones get "undefined"), so its `flags.as_uint() != 0` tests mean only "not past the end of the piece";
///   an empty class stands for past-the-end.
///
/// Classes come from the standard library's Unicode tables (`Unicode.Scalar.Properties`), whose Unicode
/// version (16.0 in Swift 6.3) may be newer than llama.cpp's generated table: characters assigned in between
/// can classify differently, everything else agrees.
package struct UnicodeClass: OptionSet, Sendable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let inRange = UnicodeClass(rawValue: 1)
    package static let letter = UnicodeClass(rawValue: 2)
    package static let number = UnicodeClass(rawValue: 4)
    package static let whitespace = UnicodeClass(rawValue: 8)

    /// The class of a scalar value. Values that are not scalars (surrogates, past U+10FFFF) count as
    /// in-range symbols, as llama.cpp's table treats them.
    @inline(__always)
    package static func of(_ value: UInt32) -> UnicodeClass {
        if value < 0x1_0000 { return UnicodeClass(rawValue: basicPlaneTable[Int(value)]) }
        return computed(value)
    }

    /// Classes of U+0000–U+FFFF, computed once: almost all text is in the Basic Multilingual Plane, and a
    /// table read is much cheaper than a property query.
    private static let basicPlaneTable: [UInt8] = (0..<UInt32(0x1_0000)).map { computed($0).rawValue }

    private static func computed(_ value: UInt32) -> UnicodeClass {
        guard let scalar = Unicode.Scalar(value) else { return .inRange }
        let properties = scalar.properties
        var result: UnicodeClass = .inRange
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        default:
            break
        }
        if properties.isWhitespace { result.insert(.whitespace) }
        return result
    }
}
