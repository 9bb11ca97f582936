/// An error that renders itself as a response.
///
/// Handlers throw these for client errors (`400`, `404`, …); the router and the transport send `response`.
package protocol HTTPResponseConvertible: Error {
    /// The response that describes this error to the client.
    var response: HTTPResponse { get }
}

/// A ready-made OpenAI-style error: `{"error":{"message":…,"type":…,"param":null,"code":null}}`.
package struct HTTPErrorResponse: HTTPResponseConvertible, Sendable, Equatable {
    /// The status to send.
    package var status: HTTPStatus
    /// The human-readable message.
    package var message: String
    /// The OpenAI error type: `invalid_request_error` for 4xx, `server_error` for 5xx.
    package var type: String
    /// The OpenAI error code string, or nil for JSON `null`.
    package var code: String?
    /// Extra header fields (`Allow` on 405, `Retry-After` on 503).
    package var headers: HTTPHeaders

    /// Creates an error; `type` defaults from the status class.
    package init(
        _ status: HTTPStatus, message: String, type: String? = nil, code: String? = nil,
        headers: HTTPHeaders = HTTPHeaders()
    ) {
        self.status = status
        self.message = message
        self.type = type ?? (status.code >= 500 ? "server_error" : "invalid_request_error")
        self.code = code
        self.headers = headers
    }

    /// The error as a JSON response with its status and headers.
    package var response: HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: headers, body: .bytes(Array(jsonBody.utf8)))
    }

    /// The JSON text of the body.
    package var jsonBody: String {
        var json = #"{"error":{"message":"#
        JSONString.append(message, to: &json)
        json += #","type":"#
        JSONString.append(type, to: &json)
        json += #","param":null,"code":"#
        if let code { JSONString.append(code, to: &json) } else { json += "null" }
        json += "}}"
        return json
    }

    /// The response for any error thrown by a handler: its own rendering, or a generic `500` that reveals
    /// nothing of the error's contents.
    package static func response(for error: any Error) -> HTTPResponse {
        if let convertible = error as? any HTTPResponseConvertible { return convertible.response }
        return HTTPErrorResponse(.internalServerError, message: "The server had an error while processing your request.")
            .response
    }
}

/// JSON string literal encoding (RFC 8259 §7), by hand because `HTTP` does not import Foundation.
package enum JSONString {
    /// Appends `text` as a quoted, escaped JSON string.
    package static func append(_ text: String, to json: inout String) {
        json.append("\"")
        var pendingStart = text.unicodeScalars.startIndex
        var index = pendingStart
        let scalars = text.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String? =
                switch scalar {
                case "\"": "\\\""
                case "\\": "\\\\"
                case "\n": "\\n"
                case "\r": "\\r"
                case "\t": "\\t"
                case "\u{08}": "\\b"
                case "\u{0C}": "\\f"
                case "\u{00}"..."\u{1F}", "\u{2028}", "\u{2029}": hexEscape(scalar.value)
                default: nil
                }
            if let escape {
                json.unicodeScalars.append(contentsOf: scalars[pendingStart..<index])
                json.append(escape)
                pendingStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        json.unicodeScalars.append(contentsOf: scalars[pendingStart..<index])
        json.append("\"")
    }

    /// Returns `text` as a quoted, escaped JSON string.
    package static func quoted(_ text: String) -> String {
        var json = ""
        append(text, to: &json)
        return json
    }

    private static func hexEscape(_ value: UInt32) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var escape = "\\u"
        for shift in stride(from: 12, through: 0, by: -4) {
            escape.unicodeScalars.append(digits[Int((value >> UInt32(shift)) & 0xF)])
        }
        return escape
    }
}
