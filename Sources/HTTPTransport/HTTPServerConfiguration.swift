import HTTP

/// Where the server listens and the limits it enforces; every field has a safe default.
package struct HTTPServerConfiguration: Sendable {
    /// The address to bind: an IPv4 or IPv6 literal or a host name (`127.0.0.1`, `::`, `localhost`).
    package var host: String = "127.0.0.1"
    /// The port to bind; 0 lets the system pick one, which ``HTTPServer/start()`` returns.
    package var port: Int = 8080
    /// The listen backlog.
    package var backlog: Int32 = 511
    /// The most connections open at once; beyond it a new connection gets `503` and is closed.
    package var maxConnections: Int = 1024
    /// Parser limits: request line, header section, header count, body (`maxBodyBytes`, default 16 MiB).
    package var parserLimits = HTTPParserLimits()
    /// How long a request's head may take to arrive, from its first byte (`408`, then close): slowloris.
    package var headerTimeout: Duration = .seconds(10)
    /// How long a keep-alive connection may sit between requests before it is closed.
    package var idleTimeout: Duration = .seconds(60)
    /// How long a request body may go without receiving a byte (`408`, then close).
    package var bodyTimeout: Duration = .seconds(30)
    /// How long unsent response bytes may go without any progress before the connection is aborted.
    package var writeTimeout: Duration = .seconds(60)
    /// How long ``HTTPServer/shutdown()`` lets in-flight requests and streams finish before closing them.
    package var drainTimeout: Duration = .seconds(30)
    /// How long a connection closed after an error keeps reading (and discarding) so the client can read the
    /// error response instead of receiving a reset.
    package var lingerTimeout: Duration = .seconds(2)
    /// The most unsent response bytes a connection holds; a stream writer suspends above it (backpressure).
    package var maxOutboundBytes: Int = 256 * 1024
    /// The most bytes of pipelined requests read ahead while a response is in progress.
    package var maxReadAheadBytes: Int = 16 * 1024
    /// The number of serial I/O queues connections are spread over; 0 means half the processors, at least
    /// one. HTTP needs little CPU; the other half is left to the handlers (inference). On the 2-core
    /// benchmark machine one queue gives the same requests/s as two with half the p99 latency.
    package var ioQueueCount: Int = 0
    /// The `Server` header value, or nil to send none.
    package var serverName: String? = "LlamaServe"

    /// Creates a configuration with the defaults.
    package init() {}

    /// Creates a configuration for `host` and `port`, other fields at their defaults.
    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// One line of the access log: what was asked and how it was answered, never bodies or credentials.
package struct AccessLogEntry: Sendable {
    /// The request method.
    package var method: HTTPMethod
    /// The request path, without the query (which may carry secrets).
    package var path: String
    /// The status sent.
    package var status: Int
    /// The body bytes sent, framing excluded.
    package var bodyBytes: Int
    /// From the complete request to the last byte queued for sending.
    package var duration: Duration
    /// Whether the whole response was sent; false when it was cut short (client gone, write timeout, handler
    /// error mid-stream).
    package var isComplete: Bool
    /// Fields the handler attached to the response (`HTTPResponse.annotations`).
    package var fields: [(name: String, value: String)] = []
}

/// Errors of the transport.
package enum TransportError: Error, Equatable, CustomStringConvertible {
    /// The listening socket could not be set up; `reason` says which step failed and why.
    case bindFailed(String)
    /// The server was already started.
    case alreadyStarted
    /// The client went away (EOF, reset, broken pipe) while the response was being sent.
    case clientDisconnected
    /// The client read nothing for longer than the write timeout.
    case writeTimedOut
    /// The server is shutting down and the drain timeout expired.
    case shuttingDown
    /// A write came after the stream's producer had returned.
    case streamFinished

    /// A one-sentence description of the error.
    package var description: String {
        switch self {
        case .bindFailed(let reason): "could not listen: \(reason)"
        case .alreadyStarted: "the server is already started"
        case .clientDisconnected: "the client disconnected"
        case .writeTimedOut: "the client stopped reading (write timeout)"
        case .shuttingDown: "the server is shutting down"
        case .streamFinished: "the response stream has already ended"
        }
    }
}
