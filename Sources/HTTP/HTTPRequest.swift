/// A complete request: head and fully received body.
package struct HTTPRequest: Sendable {
    /// The request method.
    package var method: HTTPMethod
    /// The request-target exactly as received (origin-form `/a?b`, absolute-form, `*`, or authority-form).
    package var target: String
    /// The path part of the target, not percent-decoded; `*` for `OPTIONS *`.
    package var path: String
    /// The query after `?`, without the `?`, or nil when the target has none.
    package var query: String?
    /// The protocol version from the request line.
    package var version: HTTPVersion
    /// The header fields in the order received.
    package var headers: HTTPHeaders
    /// The body, de-chunked; empty when the request has none.
    package var body: [UInt8]

    /// Creates a request; `path` and `query` are derived from `target` unless given.
    package init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        (path, query) = HTTPRequest.splitTarget(target)
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// Creates a request from parts the parser has already split.
    init(
        method: HTTPMethod, target: String, path: String, query: String?, version: HTTPVersion,
        headers: HTTPHeaders, body: [UInt8]
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// A Boolean value indicating whether the connection stays open after this request (RFC 9112 §9.3):
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    package var isKeepAlive: Bool {
        if version == .http1_1 { return !headers.containsToken("close", in: "connection") }
        return version == .http1_0 && headers.containsToken("keep-alive", in: "connection")
            && !headers.containsToken("close", in: "connection")
    }

    /// Splits a target into path and query; absolute-form targets lose their scheme and authority.
    static func splitTarget(_ target: String) -> (path: String, query: String?) {
        var bytes = Array(target.utf8)[...]
        if bytes.first != ASCII.slash, let colon = bytes.firstIndex(of: ASCII.colon),
            bytes[colon...].starts(with: "://".utf8)
        {
            bytes = bytes[(colon + 3)...]
            guard let pathStart = bytes.firstIndex(where: { $0 == ASCII.slash || $0 == ASCII.questionMark }) else {
                return ("/", nil)
            }
            bytes = bytes[pathStart...]
        }
        let mark = bytes.firstIndex(of: ASCII.questionMark)
        var path = String(decoding: bytes[..<(mark ?? bytes.endIndex)], as: UTF8.self)
        if path.isEmpty { path = "/" }
        return (path, mark.map { String(decoding: bytes[($0 + 1)...], as: UTF8.self) })
    }
}
