/// An ordered list of header fields with case-insensitive lookup by name.
///
/// Order and duplicates are kept as received (RFC 9110 §5.3); lookups compare names ignoring ASCII case.
package struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, Equatable {
    /// One header field as a name and a value, both without surrounding whitespace.
    package typealias Field = (name: String, value: String)

    private var fields: [Field]

    /// Creates an empty header list.
    package init() { fields = [] }

    /// Creates a header list from fields in order.
    package init(_ fields: [Field]) { self.fields = fields }

    /// Creates a header list from a literal, in the order written.
    package init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { (name: $0.0, value: $0.1) }
    }

    /// The number of fields, counting duplicates.
    package var count: Int { fields.count }

    /// A Boolean value indicating whether there are no fields.
    package var isEmpty: Bool { fields.isEmpty }

    /// Iterates over the fields in order.
    package func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The value of the first field named `name`, or nil.
    package subscript(name: String) -> String? {
        for field in fields where ASCII.caseInsensitiveEquals(field.name, name) { return field.value }
        return nil
    }

    /// The values of every field named `name`, in order.
    package func values(for name: String) -> [String] {
        fields.filter { ASCII.caseInsensitiveEquals($0.name, name) }.map(\.value)
    }

    /// A Boolean value indicating whether a field named `name` is present.
    package func contains(_ name: String) -> Bool { self[name] != nil }

    /// Appends a field, keeping any existing fields of the same name.
    package mutating func add(name: String, value: String) { fields.append((name, value)) }

    /// Replaces the first field named `name` (removing later duplicates), or appends one.
    package mutating func replaceOrAdd(name: String, value: String) {
        if let index = fields.firstIndex(where: { ASCII.caseInsensitiveEquals($0.name, name) }) {
            fields[index].value = value
            var next = index + 1
            while next < fields.count {
                if ASCII.caseInsensitiveEquals(fields[next].name, name) { fields.remove(at: next) } else { next += 1 }
            }
        } else {
            fields.append((name, value))
        }
    }

    /// Removes every field named `name`.
    package mutating func remove(name: String) {
        fields.removeAll { ASCII.caseInsensitiveEquals($0.name, name) }
    }

    /// A Boolean value indicating whether any `name` field lists `token` in its comma-separated value,
    /// ignoring case (for `Connection: close, upgrade` and similar).
    package func containsToken(_ token: String, in name: String) -> Bool {
        for field in fields where ASCII.caseInsensitiveEquals(field.name, name) {
            for element in field.value.utf8.split(separator: ASCII.comma) {
                let trimmed = element.drop(while: ASCII.isWhitespace).reversed().drop(while: ASCII.isWhitespace)
                if ASCII.caseInsensitiveEquals(trimmed.reversed(), token.utf8) { return true }
            }
        }
        return false
    }

    /// Whether both lists have the same fields in the same order (names compared exactly).
    package static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}
