/// Builds JSON text. Values are appended in order; callers write keys and separators through the helpers.
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []

    package init() { bytes.reserveCapacity(256) }

    /// The text written so far.
    package var string: String { String(decoding: bytes, as: UTF8.self) }

    package mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Writes a JSON string literal, escaping quotes, backslashes and control characters.
    package mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func number(_ value: Int) { raw(String(value)) }

    /// Writes a float; non-finite values (JSON has none) become -9999.0, OpenAI's stand-in for "impossible".
    package mutating func number(_ value: Float) {
        raw(value.isFinite ? Self.format(Double(value)) : "-9999.0")
    }

    package mutating func number(_ value: Double) {
        raw(value.isFinite ? Self.format(value) : "-9999.0")
    }

    package mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }

    package mutating func null() { raw("null") }

    /// Writes `"key":` (the caller writes the value and any comma).
    package mutating func key(_ key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes any parsed value.
    package mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): if let i = n.integer { number(i) } else { number(n.value) }
        case .string(let s): string(s)
        case .array(let a):
            raw("[")
            for (i, e) in a.enumerated() {
                if i > 0 { raw(",") }
                value(e)
            }
            raw("]")
        case .object(let o):
            raw("{")
            for (i, pair) in o.pairs.enumerated() {
                if i > 0 { raw(",") }
                key(pair.key)
                value(pair.value)
            }
            raw("}")
        }
    }

    /// Swift's shortest round-trip form, which is valid JSON except for the bare `inf`/`nan` excluded above.
    private static func format(_ value: Double) -> String {
        let text = "\(value)"
        return text
    }
}
