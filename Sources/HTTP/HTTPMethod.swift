/// A request method: a token such as `GET` or `POST`, compared case-sensitively as RFC 9110 §9.1 requires.
///
/// Any syntactically valid token is representable, so an unknown method reaches the router (which answers
/// `405` or `404`) instead of failing in the parser.
package struct HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    /// The method token exactly as received, for example `"GET"`.
    package let rawValue: String

    /// Creates a method from its token; the caller is responsible for it being a valid token.
    package init(_ rawValue: String) { self.rawValue = rawValue }

    /// The method token.
    package var description: String { rawValue }

    /// The GET method.
    package static let get = HTTPMethod("GET")
    /// The HEAD method.
    package static let head = HTTPMethod("HEAD")
    /// The POST method.
    package static let post = HTTPMethod("POST")
    /// The PUT method.
    package static let put = HTTPMethod("PUT")
    /// The DELETE method.
    package static let delete = HTTPMethod("DELETE")
    /// The PATCH method.
    package static let patch = HTTPMethod("PATCH")
    /// The OPTIONS method.
    package static let options = HTTPMethod("OPTIONS")
    /// The CONNECT method.
    package static let connect = HTTPMethod("CONNECT")
    /// The TRACE method.
    package static let trace = HTTPMethod("TRACE")

    /// Returns the method for `bytes`, reusing the shared constants for common methods.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
        switch bytes.count {
        case 3 where bytes.elementsEqual("GET".utf8): .get
        case 4 where bytes.elementsEqual("POST".utf8): .post
        case 4 where bytes.elementsEqual("HEAD".utf8): .head
        default: HTTPMethod(String(decoding: bytes, as: UTF8.self))
        }
    }
}
