/// Why a request could not be parsed; every case maps to the status the server answers with before it
/// closes the connection.
package enum HTTPParseError: Error, Equatable, Sendable, CaseIterable {
    /// The request line is not `method SP target SP version CRLF`.
    case invalidRequestLine
    /// The method is not a token.
    case invalidMethod
    /// The request-target has a forbidden byte or a form the method does not allow.
    case invalidTarget
    /// The version is not `HTTP/DIGIT.DIGIT`.
    case invalidVersion
    /// A well-formed version other than 1.0 and 1.1.
    case unsupportedVersion
    /// The request line is longer than the limit.
    case requestLineTooLong
    /// A line ends in a bare LF, or a CR appears that is not followed by LF.
    case invalidLineEnding
    /// A header name is empty or has a non-token byte.
    case invalidHeaderName
    /// Whitespace between a header name and its colon (RFC 9112 §5.1: MUST reject).
    case whitespaceBeforeColon
    /// A header line starts with whitespace: obsolete line folding (RFC 9112 §5.2).
    case obsoleteLineFolding
    /// A header value has a control character or NUL.
    case invalidHeaderValue
    /// The header section (or the trailer section) is larger than the limit.
    case headerSectionTooLarge
    /// More header fields than the limit.
    case tooManyHeaders
    /// HTTP/1.1 request without `Host`.
    case missingHost
    /// More than one `Host` field.
    case duplicateHost
    /// A `Host` value that is not `uri-host [":" port]`.
    case invalidHost
    /// Both `Content-Length` and `Transfer-Encoding`: the smuggling ambiguity of RFC 9112 §6.3.
    case contentLengthWithTransferEncoding
    /// `Content-Length` is not a plain decimal number.
    case invalidContentLength
    /// Several `Content-Length` values that differ.
    case conflictingContentLength
    /// `Transfer-Encoding` in an HTTP/1.0 request, whose framing cannot be trusted (RFC 9112 §6.1).
    case transferEncodingInHTTP10
    /// `Transfer-Encoding` whose last coding is not a single `chunked`.
    case invalidTransferEncoding
    /// A transfer coding other than `chunked`.
    case unsupportedTransferCoding
    /// A chunk size that is not 1 to 16 hex digits or overflows.
    case invalidChunkSize
    /// A chunk extension longer than the limit.
    case chunkExtensionTooLong
    /// A chunk extension with a control character.
    case invalidChunkExtension
    /// Chunk data not followed by CRLF.
    case invalidChunkTerminator
    /// The declared or received body is larger than the limit.
    case bodyTooLarge

    /// The status that answers this error.
    package var status: HTTPStatus {
        switch self {
        case .unsupportedVersion: .httpVersionNotSupported
        case .requestLineTooLong: .uriTooLong
        case .headerSectionTooLarge, .tooManyHeaders: .requestHeaderFieldsTooLarge
        case .unsupportedTransferCoding: .notImplemented
        case .bodyTooLarge: .contentTooLarge
        default: .badRequest
        }
    }

    /// A short description for the error body; it never echoes request bytes.
    package var message: String {
        switch self {
        case .invalidRequestLine: "Malformed request line."
        case .invalidMethod: "Invalid method."
        case .invalidTarget: "Invalid request target."
        case .invalidVersion: "Invalid HTTP version."
        case .unsupportedVersion: "Only HTTP/1.0 and HTTP/1.1 are supported."
        case .requestLineTooLong: "Request line too long."
        case .invalidLineEnding: "Lines must end with CRLF."
        case .invalidHeaderName: "Invalid header name."
        case .whitespaceBeforeColon: "Whitespace between header name and colon."
        case .obsoleteLineFolding: "Obsolete line folding is not accepted."
        case .invalidHeaderValue: "Invalid character in header value."
        case .headerSectionTooLarge: "Header section too large."
        case .tooManyHeaders: "Too many header fields."
        case .missingHost: "Missing Host header."
        case .duplicateHost: "More than one Host header."
        case .invalidHost: "Invalid Host header."
        case .contentLengthWithTransferEncoding: "Content-Length and Transfer-Encoding together."
        case .invalidContentLength: "Invalid Content-Length."
        case .conflictingContentLength: "Conflicting Content-Length values."
        case .transferEncodingInHTTP10: "Transfer-Encoding is not allowed in HTTP/1.0."
        case .invalidTransferEncoding: "Invalid Transfer-Encoding."
        case .unsupportedTransferCoding: "Unsupported transfer coding."
        case .invalidChunkSize: "Invalid chunk size."
        case .chunkExtensionTooLong: "Chunk extension too long."
        case .invalidChunkExtension: "Invalid chunk extension."
        case .invalidChunkTerminator: "Chunk data must end with CRLF."
        case .bodyTooLarge: "Request body too large."
        }
    }
}

extension HTTPParseError: HTTPResponseConvertible {
    /// The error as an OpenAI-shaped JSON response with its status.
    package var response: HTTPResponse { HTTPErrorResponse(status, message: message).response }
}
