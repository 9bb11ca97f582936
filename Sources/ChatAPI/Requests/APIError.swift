/// An error in OpenAI's shape: `{"error":{"message","type","param","code"}}` with an HTTP status.
package struct APIError: Error, Equatable, CustomStringConvertible {
    package var status: Int
    package var message: String
    package var type: String
    package var param: String?
    package var code: String?
    /// Seconds after which a retry may succeed (sent as `Retry-After`).
    package var retryAfter: Int?

    package init(
        status: Int, message: String, type: String = "invalid_request_error", param: String? = nil,
        code: String? = nil, retryAfter: Int? = nil
    ) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    package var description: String { message }

    /// A 400 for a request field.
    package static func invalid(_ param: String, _ message: String) -> APIError {
        APIError(status: 400, message: message, param: param)
    }

    /// The JSON body.
    package var json: String {
        var w = JSONWriter()
        w.raw("{\"error\":{")
        w.key("message"); w.string(message); w.raw(",")
        w.key("type"); w.string(type); w.raw(",")
        w.key("param"); if let param { w.string(param) } else { w.null() }
        w.raw(",")
        w.key("code"); if let code { w.string(code) } else { w.null() }
        w.raw("}}")
        return w.string
    }
}
