/// The character classes the pre-tokenizers test, defined as llama.cpp defines them (`unicode_cpt_flags`):
///
/// - `letter` is `\p{L}`: general categories Lu, Ll, Lt, Lm, Lo.
/// - `number` is `\p{N}`: Nd, Nl, No.
/// - `whitespace` is `\s`: the Unicode `White_Space` property, 25 code points (llama.cpp's
///   `unicode_set_whitespace` lists the same ones; a test checks the list against the standard library).
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

    /// The class of a scalar value, reading the basic plane from `table` (see `withBasicPlaneTable`), for
    /// loops that classify many scalars.
    @inline(__always)
    static func of(_ value: UInt32, basicPlane table: UnsafeBufferPointer<UInt8>) -> UnicodeClass {
        if value < 0x1_0000 { return UnicodeClass(rawValue: table[Int(value)]) }
        return computed(value)
    }

    /// Calls `body` with the basic-plane class table.
    static func withBasicPlaneTable<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        basicPlaneTable.withUnsafeBufferPointer(body)
    }

    /// Classes of U+0000–U+FFFF, computed on first use (about 10 ms): almost all text is in the Basic
    /// Multilingual Plane, and a table read is much cheaper than a property query.
    private static let basicPlaneTable: [UInt8] = (0..<UInt32(0x1_0000)).map { computed($0).rawValue }

    /// `White_Space`: a fixed list (the property has not changed since Unicode 6.0), checked directly
    /// because the property query costs as much as the category query.
    private static func isWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

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
        if isWhitespace(value) { result.insert(.whitespace) }
        return result
    }
}
