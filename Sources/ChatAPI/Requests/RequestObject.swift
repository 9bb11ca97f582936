/// Typed, range-checked access to the fields of a JSON request body. Every failure names the field.
struct RequestObject {
    let object: JSONObject
    /// The field path prefix for messages (`messages[2].`).
    let path: String

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    /// Parses a request body, which must be a JSON object.
    static func parse(_ body: [UInt8]) throws(APIError) -> RequestObject {
        guard !body.isEmpty else { throw APIError(status: 400, message: "the request body is empty; send a JSON object") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw APIError(status: 400, message: "the request body is not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw APIError(status: 400, message: "the request body must be a JSON object, not \(value.typeName)")
        }
        return RequestObject(object)
    }

    func name(_ key: String) -> String { path + key }

    /// The value, treating an explicit null as absent.
    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    func string(_ key: String) throws(APIError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw .invalid(name(key), "\(name(key)) must be a string, not \(v.typeName)") }
        return s
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw .invalid(name(key), "\(name(key)) must be a boolean, not \(v.typeName)") }
        return b
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let v = value(key) else { return nil }
        guard case .number(let n) = v, n.isInteger else {
            throw .invalid(name(key), "\(name(key)) must be an integer, not \(v.typeName)")
        }
        guard let i = n.integer, range.contains(i) else {
            throw .invalid(name(key), "\(name(key)) must be between \(range.lowerBound) and \(range.upperBound), not \(n.integer.map(String.init) ?? "\(n.value)")")
        }
        return i
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let v = value(key) else { return nil }
        guard case .number(let n) = v else { throw .invalid(name(key), "\(name(key)) must be a number, not \(v.typeName)") }
        guard range.contains(n.value) else {
            throw .invalid(name(key), "\(name(key)) must be between \(range.lowerBound) and \(range.upperBound), not \(n.value)")
        }
        return n.value
    }

    /// A number within the open-closed range (lower, upper].
    func number(_ key: String, above lower: Double, atMost upper: Double) throws(APIError) -> Double? {
        guard let v = try number(key, in: lower...upper) else { return nil }
        guard v > lower else { throw .invalid(name(key), "\(name(key)) must be greater than \(lower) and at most \(upper), not \(v)") }
        return v
    }

    func object(_ key: String) throws(APIError) -> RequestObject? {
        guard let v = value(key) else { return nil }
        guard case .object(let o) = v else { throw .invalid(name(key), "\(name(key)) must be an object, not \(v.typeName)") }
        return RequestObject(o, path: name(key) + ".")
    }

    func array(_ key: String) throws(APIError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let a) = v else { throw .invalid(name(key), "\(name(key)) must be an array, not \(v.typeName)") }
        return a
    }

    /// Refuses a field the server cannot honour, rather than silently ignoring it.
    func refuse(_ key: String, _ reason: String) throws(APIError) {
        if value(key) != nil { throw .invalid(name(key), "\(name(key)) is not supported: \(reason)") }
    }
}
