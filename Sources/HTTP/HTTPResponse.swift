/// A response: status, headers and a body that is either complete or streamed.
///
/// The transport adds `Date`, `Server`, `Content-Length` or `Transfer-Encoding` and `Connection`; a
/// `Content-Length` or `Transfer-Encoding` set here is replaced by the framing the transport chooses.
package struct HTTPResponse: Sendable {
    /// The status.
    package var status: HTTPStatus
    /// Header fields chosen by the handler.
    package var headers: HTTPHeaders
    /// The body.
    package var body: ResponseBody
    /// Facts the handler records while producing the response (token counts), read when the access-log line is
    /// written, after the last byte.
    package var annotations: (any AccessLogAnnotations)?

    /// Creates a response.
    package init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: ResponseBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Creates a response with a UTF-8 body and the given content type.
    package init(status: HTTPStatus = .ok, contentType: String, body: String) {
        self.init(status: status, headers: ["Content-Type": contentType], body: .bytes(Array(body.utf8)))
    }

    /// Creates a `200 OK` JSON response from already-encoded JSON text.
    package static func json(_ json: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: json)
    }

    /// Creates a server-sent-event stream response (`text/event-stream`, `Cache-Control: no-cache`).
    ///
    /// - Parameter produce: writes events through the writer; each `write` is flushed promptly and suspends
    ///   while the client is not keeping up. It throws (and its task is cancelled) when the client goes away.
    package static func eventStream(
        headers extra: HTTPHeaders = HTTPHeaders(),
        _ produce: @escaping @Sendable (any ResponseBodyWriter) async throws -> Void
    ) -> HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "text/event-stream", "Cache-Control": "no-cache"]
        for field in extra { headers.replaceOrAdd(name: field.name, value: field.value) }
        return HTTPResponse(status: .ok, headers: headers, body: .stream(produce))
    }
}

/// A reference a handler fills in while it responds, whose fields end up on the request's access-log line.
package protocol AccessLogAnnotations: AnyObject, Sendable {
    /// Name/value pairs to log (never prompts or secrets).
    var fields: [(name: String, value: String)] { get }
}

/// A response body: bytes known up front (sent with `Content-Length`), or a producer that streams them
/// (sent chunked to HTTP/1.1 clients and delimited by closing the connection for HTTP/1.0).
package enum ResponseBody: Sendable {
    /// A complete body.
    case bytes([UInt8])
    /// A body written piece by piece through a writer; the stream ends when the closure returns.
    case stream(@Sendable (any ResponseBodyWriter) async throws -> Void)
}

/// A type that sends the pieces of a streamed response body to the client.
package protocol ResponseBodyWriter: Sendable {
    /// Queues `bytes` for sending; each call becomes one chunk on the wire.
    ///
    /// Suspends while the connection's bounded outbound buffer is full (backpressure); throws when the client
    /// is gone or the write timed out.
    func write(_ bytes: [UInt8]) async throws
}

extension ResponseBodyWriter {
    /// Writes the UTF-8 bytes of `text`.
    package func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    /// Writes one encoded server-sent event.
    package func write(_ event: ServerSentEvent) async throws { try await write(event.encoded()) }
}
