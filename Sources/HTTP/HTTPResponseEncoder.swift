/// How a response body is delimited on the wire (RFC 9112 §6).
package enum ResponseFraming: Equatable, Sendable {
    /// `Content-Length: n`, then n bytes (or none, for HEAD).
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
    /// No length: the body ends when the connection closes (streams to HTTP/1.0 clients).
    case closeDelimited
    /// No body and no length field (1xx, 204, and 304 responses).
    case none
}

/// Serializes response heads and chunk framing into a byte buffer, so a whole response can go out in one
/// `write`.
package enum HTTPResponseEncoder {
    /// The framing for `response` to a request with `method` and `version`.
    package static func framing(for response: HTTPResponse, method: HTTPMethod, version: HTTPVersion)
        -> ResponseFraming
    {
        if response.status.forbidsBody { return .none }
        switch response.body {
        case .bytes(let bytes): return .contentLength(bytes.count)
        case .stream: return version == .http1_1 ? .chunked : .closeDelimited
        }
    }

    /// Appends the status line and header section of `response`.
    ///
    /// Adds `Content-Length` or `Transfer-Encoding` from `framing`, `Connection`, `Date` and `Server`
    /// (unless the handler set them); drops handler fields the transport owns and any field whose name or
    /// value is not valid, so a handler cannot split the response.
    package static func encodeHead(
        _ response: HTTPResponse, framing: ResponseFraming, keepAlive: Bool, requestVersion: HTTPVersion,
        date: String, server: String?, into buffer: inout [UInt8]
    ) {
        buffer.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(response.status.code, to: &buffer)
        buffer.append(ASCII.space)
        buffer.append(contentsOf: response.status.reasonPhrase.utf8.lazy.filter(ASCII.isFieldValue))
        buffer.append(contentsOf: crlf)
        var hasDate = false
        var hasServer = false
        for field in response.headers {
            if isTransportOwned(field.name) { continue }
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(ASCII.isToken),
                field.value.utf8.allSatisfy(ASCII.isFieldValue)
            else { continue }
            if !hasDate && ASCII.caseInsensitiveEquals(field.name, "date") { hasDate = true }
            if !hasServer && ASCII.caseInsensitiveEquals(field.name, "server") { hasServer = true }
            appendField(field.name, field.value, to: &buffer)
        }
        switch framing {
        case .contentLength(let length):
            buffer.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(length, to: &buffer)
            buffer.append(contentsOf: crlf)
        case .chunked:
            buffer.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        case .closeDelimited, .none:
            break
        }
        if !keepAlive {
            buffer.append(contentsOf: "Connection: close\r\n".utf8)
        } else if requestVersion == .http1_0 {
            buffer.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        if !hasDate { appendField("Date", date, to: &buffer) }
        if !hasServer, let server { appendField("Server", server, to: &buffer) }
        buffer.append(contentsOf: crlf)
    }

    /// Appends one chunk (`size-in-hex CRLF data CRLF`); an empty `bytes` appends nothing, because an empty
    /// chunk would end the body.
    package static func encodeChunk(_ bytes: [UInt8], into buffer: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        appendHex(bytes.count, to: &buffer)
        buffer.append(contentsOf: crlf)
        buffer.append(contentsOf: bytes)
        buffer.append(contentsOf: crlf)
    }

    /// The last chunk with an empty trailer section, which ends a chunked body.
    package static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// The interim response sent for `Expect: 100-continue`.
    package static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private static let crlf: [UInt8] = [ASCII.cr, ASCII.lf]

    private static func isTransportOwned(_ name: String) -> Bool {
        switch name.utf8.count {
        case 10: ASCII.caseInsensitiveEquals(name, "connection")
        case 14: ASCII.caseInsensitiveEquals(name, "content-length")
        case 17: ASCII.caseInsensitiveEquals(name, "transfer-encoding")
        default: false
        }
    }

    private static func appendField(_ name: String, _ value: String, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: name.utf8)
        buffer.append(ASCII.colon)
        buffer.append(ASCII.space)
        buffer.append(contentsOf: value.utf8)
        buffer.append(contentsOf: crlf)
    }

    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        precondition(value >= 0, "lengths and status codes are never negative")
        if value >= 10 { appendDecimal(value / 10, to: &buffer) }
        buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10))
    }

    static func appendHex(_ value: Int, to buffer: inout [UInt8]) {
        if value >= 16 { appendHex(value >> 4, to: &buffer) }
        let digit = UInt8(truncatingIfNeeded: value & 0xF)
        buffer.append(digit < 10 ? UInt8(ascii: "0") &+ digit : UInt8(ascii: "a") &+ digit &- 10)
    }
}
