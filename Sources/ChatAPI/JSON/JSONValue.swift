/// A parsed JSON value. Objects keep their keys in order; numbers keep whether they were written as integers,
/// so `max_tokens: 1.5` and `max_tokens: 2` can be told apart.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The name of the value's JSON type, for error messages.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let n): n.isInteger ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON number: its value, and its integer value when it was written without fraction or exponent.
package struct JSONNumber: Sendable, Equatable {
    package let value: Double
    /// The exact integer, when the literal is an integer that fits in `Int`.
    package let integer: Int?
    /// Whether the literal has no fraction and no exponent.
    package let isInteger: Bool

    package init(value: Double, integer: Int?, isInteger: Bool) {
        self.value = value
        self.integer = integer
        self.isInteger = isInteger
    }
}

/// A JSON object: key/value pairs in document order, with keys unique (the parser rejects duplicates).
package struct JSONObject: Sendable, Equatable {
    package private(set) var pairs: [(key: String, value: JSONValue)] = []
    private var index: [String: Int] = [:]

    package init() {}

    package init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    package subscript(key: String) -> JSONValue? {
        get { index[key].map { pairs[$0].value } }
        set {
            if let i = index[key] {
                if let newValue { pairs[i].value = newValue }
            } else if let newValue {
                index[key] = pairs.count
                pairs.append((key, newValue))
            }
        }
    }

    package var keys: [String] { pairs.map(\.key) }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
