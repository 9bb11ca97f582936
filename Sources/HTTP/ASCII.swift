/// Byte classes from RFC 9110 §5.6 and RFC 9112, as lookups that cost one load and one test per byte.
enum ASCII {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let slash: UInt8 = 0x2F
    static let questionMark: UInt8 = 0x3F
    static let asterisk: UInt8 = 0x2A

    private static let tokenBit: UInt8 = 1
    private static let fieldValueBit: UInt8 = 2
    private static let targetBit: UInt8 = 4
    private static let hostBit: UInt8 = 8

    /// One flag byte per octet; built once so the parser's inner loops stay branch-light.
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        for byte in Array("!#$%&'*+-.^_`|~0123456789".utf8) { table[Int(byte)] |= tokenBit }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] |= tokenBit | hostBit }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] |= tokenBit | hostBit }
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] |= hostBit }
        // field-value octets: VCHAR / obs-text, plus SP and HTAB inside the value (RFC 9110 §5.5).
        for byte in 0x21...0xFF where byte != 0x7F { table[byte] |= fieldValueBit }
        table[Int(space)] |= fieldValueBit
        table[Int(tab)] |= fieldValueBit
        // request-target: printable ASCII only; RFC 3986 has no raw octets above 0x7E.
        for byte in 0x21...0x7E { table[byte] |= targetBit }
        // Host = uri-host [ ":" port ]: reg-name, IP-literal and IPv4 characters (RFC 3986 §3.2.2).
        for byte in Array("-._~!$&'()*+,;=:%[]".utf8) { table[Int(byte)] |= hostBit }
        return table
    }()

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool { table[Int(byte)] & tokenBit != 0 }
    @inline(__always) static func isFieldValue(_ byte: UInt8) -> Bool { table[Int(byte)] & fieldValueBit != 0 }
    @inline(__always) static func isTarget(_ byte: UInt8) -> Bool { table[Int(byte)] & targetBit != 0 }
    @inline(__always) static func isHost(_ byte: UInt8) -> Bool { table[Int(byte)] & hostBit != 0 }
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always) static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte &- UInt8(ascii: "A") &+ 10)
        default: nil
        }
    }

    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// Whether two byte strings are equal ignoring ASCII case.
    static func caseInsensitiveEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { lowercased($0) == lowercased($1) }
    }

    /// Whether two strings are equal ignoring ASCII case (header names, tokens).
    static func caseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
        caseInsensitiveEquals(a.utf8, b.utf8)
    }
}
