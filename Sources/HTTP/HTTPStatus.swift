/// A response status: a three-digit code and its reason phrase.
package struct HTTPStatus: Hashable, Sendable, CustomStringConvertible {
    /// The status code, 100 through 999.
    package var code: Int
    /// The reason phrase sent on the status line.
    package var reasonPhrase: String

    /// Creates a status with an explicit reason phrase.
    package init(code: Int, reasonPhrase: String) {
        self.code = code
        self.reasonPhrase = reasonPhrase
    }

    /// Creates a status with the standard reason phrase for `code` (empty when the code has none).
    package init(code: Int) {
        self.init(code: code, reasonPhrase: HTTPStatus.standardReasonPhrases[code] ?? "")
    }

    /// The code and reason phrase, as on the status line.
    package var description: String { "\(code) \(reasonPhrase)" }

    /// A Boolean value indicating whether a response with this status never carries a body (RFC 9110 §6.4.1).
    package var forbidsBody: Bool { code < 200 || code == 204 || code == 304 }

    /// `100 Continue`.
    package static let `continue` = HTTPStatus(code: 100)
    /// `200 OK`.
    package static let ok = HTTPStatus(code: 200)
    /// `201 Created`.
    package static let created = HTTPStatus(code: 201)
    /// `202 Accepted`.
    package static let accepted = HTTPStatus(code: 202)
    /// `204 No Content`.
    package static let noContent = HTTPStatus(code: 204)
    /// `301 Moved Permanently`.
    package static let movedPermanently = HTTPStatus(code: 301)
    /// `304 Not Modified`.
    package static let notModified = HTTPStatus(code: 304)
    /// `400 Bad Request`.
    package static let badRequest = HTTPStatus(code: 400)
    /// `401 Unauthorized`.
    package static let unauthorized = HTTPStatus(code: 401)
    /// `403 Forbidden`.
    package static let forbidden = HTTPStatus(code: 403)
    /// `404 Not Found`.
    package static let notFound = HTTPStatus(code: 404)
    /// `405 Method Not Allowed`.
    package static let methodNotAllowed = HTTPStatus(code: 405)
    /// `408 Request Timeout`.
    package static let requestTimeout = HTTPStatus(code: 408)
    /// `413 Content Too Large`.
    package static let contentTooLarge = HTTPStatus(code: 413)
    /// `414 URI Too Long`.
    package static let uriTooLong = HTTPStatus(code: 414)
    /// `415 Unsupported Media Type`.
    package static let unsupportedMediaType = HTTPStatus(code: 415)
    /// `417 Expectation Failed`.
    package static let expectationFailed = HTTPStatus(code: 417)
    /// `421 Misdirected Request`.
    package static let misdirectedRequest = HTTPStatus(code: 421)
    /// `422 Unprocessable Content`.
    package static let unprocessableContent = HTTPStatus(code: 422)
    /// `429 Too Many Requests`.
    package static let tooManyRequests = HTTPStatus(code: 429)
    /// `431 Request Header Fields Too Large`.
    package static let requestHeaderFieldsTooLarge = HTTPStatus(code: 431)
    /// `500 Internal Server Error`.
    package static let internalServerError = HTTPStatus(code: 500)
    /// `501 Not Implemented`.
    package static let notImplemented = HTTPStatus(code: 501)
    /// `503 Service Unavailable`.
    package static let serviceUnavailable = HTTPStatus(code: 503)
    /// `505 HTTP Version Not Supported`.
    package static let httpVersionNotSupported = HTTPStatus(code: 505)

    private static let standardReasonPhrases: [Int: String] = [
        100: "Continue", 101: "Switching Protocols",
        200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
        301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect",
        308: "Permanent Redirect",
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required",
        413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type", 417: "Expectation Failed",
        421: "Misdirected Request", 422: "Unprocessable Content", 429: "Too Many Requests",
        431: "Request Header Fields Too Large",
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    ]
}
