import HTTP
import Testing

/// One request (or pipelined sequence) with the outcome it must have, whole or split at any point.
struct ParserCase: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: [UInt8]
    let expected: ParserOutcome

    init(_ name: String, _ raw: String, _ expected: ParserOutcome) {
        self.name = name
        self.raw = Array(raw.utf8)
        self.expected = expected
    }

    init(_ name: String, bytes: [UInt8], _ expected: ParserOutcome) {
        self.name = name
        self.raw = bytes
        self.expected = expected
    }

    var testDescription: String { name }
}

/// What parsing a byte sequence produced: the requests completed, then how the input ended.
struct ParserOutcome: Equatable, Sendable, CustomStringConvertible {
    struct Request: Equatable, Sendable {
        var method: String
        var path: String
        var query: String?
        var body: String
        var keepAlive: Bool
    }
    enum Ending: Equatable, Sendable {
        case complete  // every byte belonged to a finished request
        case incomplete  // more bytes are needed
        case error(HTTPParseError)
    }
    var requests: [Request]
    var ending: Ending
    var continues = 0

    var description: String { "\(requests.map { "\($0.method) \($0.path) body=\($0.body.utf8.count)" }) \(ending)" }
}

extension ParserOutcome {
    static func ok(_ method: String = "GET", _ path: String = "/", body: String = "", keepAlive: Bool = true, query: String? = nil)
        -> ParserOutcome
    {
        ParserOutcome(requests: [Request(method: method, path: path, query: query, body: body, keepAlive: keepAlive)], ending: .complete)
    }
    static func error(_ error: HTTPParseError) -> ParserOutcome { ParserOutcome(requests: [], ending: .error(error)) }
    static let incomplete = ParserOutcome(requests: [], ending: .incomplete)
    func expectingContinue() -> ParserOutcome {
        var copy = self
        copy.continues = 1
        return copy
    }
}

let G = "GET / HTTP/1.1\r\nHost: a\r\n"
let P = "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\n"
let chatPath = "/v1/chat/completions"

/// The corpus: valid controls first, then every rejection rule of RFC 9112 and RELIABILITY.md §1.
let parserCorpus: [ParserCase] = [
    // MARK: Valid
    ParserCase("simple GET", "\(G)\r\n", .ok()),
    ParserCase("path and query", "GET /v1/models?limit=2&x=%20 HTTP/1.1\r\nHost: a\r\n\r\n", .ok("GET", "/v1/models", query: "limit=2&x=%20")),
    ParserCase("empty query", "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n", .ok("GET", "/a", query: "")),
    ParserCase("HTTP/1.0 closes by default", "GET / HTTP/1.0\r\n\r\n", .ok(keepAlive: false)),
    ParserCase("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", .ok(keepAlive: true)),
    ParserCase("HTTP/1.1 Connection: close", "\(G)Connection: close\r\n\r\n", .ok(keepAlive: false)),
    ParserCase("Connection token list", "\(G)Connection: upgrade, CLOSE\r\n\r\n", .ok(keepAlive: false)),
    ParserCase("POST with Content-Length", "\(P)Content-Length: 5\r\n\r\nhello", .ok("POST", chatPath, body: "hello")),
    ParserCase("Content-Length with leading zeros", "\(P)Content-Length: 003\r\n\r\nabc", .ok("POST", chatPath, body: "abc")),
    ParserCase("Content-Length zero", "\(P)Content-Length: 0\r\n\r\n", .ok("POST", chatPath)),
    ParserCase("identical duplicate Content-Length", "\(P)Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", .ok("POST", chatPath, body: "abc")),
    ParserCase("identical Content-Length list", "\(P)Content-Length: 3, 3\r\n\r\nabc", .ok("POST", chatPath, body: "abc")),
    ParserCase("chunked body", "\(P)Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", .ok("POST", chatPath, body: "hello world")),
    ParserCase("chunked uppercase hex", "\(P)Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", .ok("POST", chatPath, body: "0123456789")),
    ParserCase("chunked with extensions", "\(P)Transfer-Encoding: chunked\r\n\r\n3;name=value;flag\r\nabc\r\n0;last\r\n\r\n", .ok("POST", chatPath, body: "abc")),
    ParserCase("chunked with trailers", "\(P)Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\nContent-Length: 99\r\n\r\n", .ok("POST", chatPath, body: "abc")),
    ParserCase("chunked coding case-insensitive", "\(P)Transfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", .ok("POST", chatPath, body: "x")),
    ParserCase("chunk size with leading zeros", "\(P)Transfer-Encoding: chunked\r\n\r\n0003\r\nabc\r\n000\r\n\r\n", .ok("POST", chatPath, body: "abc")),
    ParserCase("header names are case-insensitive", "GET / HTTP/1.1\r\nhOsT: a\r\ncontent-LENGTH: 1\r\n\r\nz", .ok(body: "z")),
    ParserCase("header values are trimmed", "GET / HTTP/1.1\r\nHost:   a \t\r\nX-Empty:\r\n\r\n", .ok()),
    ParserCase("obs-text in a header value", "\(G)X-Name: caf\u{E9}\r\n\r\n", .ok()),
    ParserCase("leading empty line ignored", "\r\n\(G)\r\n", .ok()),
    ParserCase("OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", .ok("OPTIONS", "*")),
    ParserCase("absolute-form target", "GET http://a/health?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", .ok("GET", "/health", query: "x=1")),
    ParserCase("unknown method token", "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", .ok("BREW", "/pot")),
    ParserCase("Host with port and IPv6 literal", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", .ok()),
    ParserCase("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", .ok()),
    ParserCase("Expect 100-continue", "\(P)Expect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", ParserOutcome.ok("POST", chatPath, body: "hi").expectingContinue()),
    ParserCase("Expect without a body", "\(G)Expect: 100-continue\r\n\r\n", .ok()),
    ParserCase("pipelined requests", "\(G)\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n\(P)Content-Length: 1\r\n\r\nz", ParserOutcome(requests: [
        .init(method: "GET", path: "/", body: "", keepAlive: true), .init(method: "GET", path: "/b", body: "", keepAlive: true),
        .init(method: "POST", path: chatPath, body: "z", keepAlive: true),
    ], ending: .complete)),
    ParserCase("incomplete head", "GET / HTTP/1.1\r\nHost: a\r\n", .incomplete),
    ParserCase("incomplete body", "\(P)Content-Length: 10\r\n\r\nabc", .incomplete),
    ParserCase("incomplete chunked body", "\(P)Transfer-Encoding: chunked\r\n\r\n5\r\nhel", .incomplete),
    ParserCase("100 headers is the limit", G + (0..<99).map { "X-\($0): v\r\n" }.joined() + "\r\n", .ok()),

    // MARK: Request line (400, 414, 505)
    ParserCase("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", .error(.invalidVersion)),
    ParserCase("HTTP/2.0 is unsupported", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .error(.unsupportedVersion)),
    ParserCase("HTTP/1.2 is unsupported", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .error(.unsupportedVersion)),
    ParserCase("HTTP/0.9 is unsupported", "GET / HTTP/0.9\r\n\r\n", .error(.unsupportedVersion)),
    ParserCase("missing version", "GET /\r\nHost: a\r\n\r\n", .error(.invalidRequestLine)),
    ParserCase("two-digit version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", .error(.invalidVersion)),
    ParserCase("double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidRequestLine)),
    ParserCase("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidRequestLine)),
    ParserCase("method with slash", "GE/T / HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidMethod)),
    ParserCase("method with NUL", "GE\u{0}T / HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidMethod)),
    ParserCase("target with control byte", "GET /a\u{1}b HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidTarget)),
    ParserCase("target with raw non-ASCII", "GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidTarget)),
    ParserCase("target without slash", "GET health HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidTarget)),
    ParserCase("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidTarget)),
    ParserCase("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidVersion)),
    ParserCase("bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", .error(.invalidLineEnding)),
    ParserCase("bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", .error(.invalidLineEnding)),
    ParserCase("request line over 8 KiB", "GET /" + String(repeating: "a", count: 8200) + " HTTP/1.1\r\nHost: a\r\n\r\n", .error(.requestLineTooLong)),
    ParserCase("request line over 8 KiB, never ended", "GET /" + String(repeating: "a", count: 8200), .error(.requestLineTooLong)),

    // MARK: Header fields (400, 431)
    ParserCase("whitespace before colon", "\(G)Content-Length : 0\r\n\r\n", .error(.whitespaceBeforeColon)),
    ParserCase("obs-fold", "\(G)X-A: b\r\n c\r\n\r\n", .error(.obsoleteLineFolding)),
    ParserCase("whitespace before first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", .error(.obsoleteLineFolding)),
    ParserCase("bare LF in headers", "\(G)X-A: b\n\r\n", .error(.invalidLineEnding)),
    ParserCase("bare LF ending the head", "\(G)\n", .error(.invalidLineEnding)),
    ParserCase("bare CR inside a value", "\(G)X-A: b\rc\r\n\r\n", .error(.invalidLineEnding)),
    ParserCase("NUL in a value", "\(G)X-A: b\u{0}c\r\n\r\n", .error(.invalidHeaderValue)),
    ParserCase("control character in a value", "\(G)X-A: b\u{7F}c\r\n\r\n", .error(.invalidHeaderValue)),
    ParserCase("empty header name", "\(G): v\r\n\r\n", .error(.invalidHeaderName)),
    ParserCase("header without colon", "\(G)X-A v\r\n\r\n", .error(.whitespaceBeforeColon)),
    ParserCase("non-token header name", "\(G)X(A): v\r\n\r\n", .error(.invalidHeaderName)),
    ParserCase("101 headers", G + (0..<100).map { "X-\($0): v\r\n" }.joined() + "\r\n", .error(.tooManyHeaders)),
    ParserCase("header section over 32 KiB", G + "X-Big: " + String(repeating: "b", count: 33_000) + "\r\n\r\n", .error(.headerSectionTooLarge)),
    ParserCase("header section over 32 KiB, never ended", G + "X-Big: " + String(repeating: "b", count: 33_000), .error(.headerSectionTooLarge)),

    // MARK: Host (400)
    ParserCase("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", .error(.missingHost)),
    ParserCase("repeated Host", "\(G)Host: b\r\n\r\n", .error(.duplicateHost)),
    ParserCase("repeated Host in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", .error(.duplicateHost)),
    ParserCase("Host with a path", "GET / HTTP/1.1\r\nHost: a/v1?x\r\n\r\n", .error(.invalidHost)),
    ParserCase("Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .error(.invalidHost)),

    // MARK: Framing and smuggling (400, 413, 501)
    ParserCase("Content-Length and Transfer-Encoding", "\(P)Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .error(.contentLengthWithTransferEncoding)),
    ParserCase("Transfer-Encoding then Content-Length", "\(P)Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", .error(.contentLengthWithTransferEncoding)),
    ParserCase("differing Content-Length", "\(P)Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", .error(.conflictingContentLength)),
    ParserCase("differing Content-Length list", "\(P)Content-Length: 3, 4\r\n\r\nabcd", .error(.conflictingContentLength)),
    ParserCase("Content-Length with plus sign", "\(P)Content-Length: +5\r\n\r\nhello", .error(.invalidContentLength)),
    ParserCase("negative Content-Length", "\(P)Content-Length: -1\r\n\r\n", .error(.invalidContentLength)),
    ParserCase("hex Content-Length", "\(P)Content-Length: 0x5\r\n\r\nhello", .error(.invalidContentLength)),
    ParserCase("Content-Length with inner space", "\(P)Content-Length: 1 2\r\n\r\n", .error(.invalidContentLength)),
    ParserCase("empty Content-Length", "\(P)Content-Length:\r\n\r\n", .error(.invalidContentLength)),
    ParserCase("Content-Length overflow", "\(P)Content-Length: 99999999999999999999999\r\n\r\n", .error(.invalidContentLength)),
    ParserCase("Content-Length over the body limit", "\(P)Content-Length: 16777217\r\n\r\n", .error(.bodyTooLarge)),
    ParserCase("gzip transfer coding", "\(P)Transfer-Encoding: gzip\r\n\r\n", .error(.unsupportedTransferCoding)),
    ParserCase("gzip, chunked", "\(P)Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", .error(.unsupportedTransferCoding)),
    ParserCase("chunked, gzip", "\(P)Transfer-Encoding: chunked, gzip\r\n\r\n", .error(.unsupportedTransferCoding)),
    ParserCase("chunked twice", "\(P)Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", .error(.invalidTransferEncoding)),
    ParserCase("chunked in two fields", "\(P)Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .error(.invalidTransferEncoding)),
    ParserCase("empty Transfer-Encoding", "\(P)Transfer-Encoding:\r\n\r\n", .error(.invalidTransferEncoding)),
    ParserCase("obfuscated chunked", "\(P)Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", .error(.unsupportedTransferCoding)),
    ParserCase("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .error(.transferEncodingInHTTP10)),

    // MARK: Chunked body (400, 413)
    ParserCase("chunk size with sign", "\(P)Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkSize)),
    ParserCase("chunk size with 0x", "\(P)Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkSize)),
    ParserCase("empty chunk size", "\(P)Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n", .error(.invalidChunkSize)),
    ParserCase("chunk size with trailing space", "\(P)Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", .error(.invalidChunkSize)),
    ParserCase("chunk size overflow", "\(P)Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n", .error(.invalidChunkSize)),
    ParserCase("chunk larger than the body limit", "\(P)Transfer-Encoding: chunked\r\n\r\n1000001\r\n", .error(.bodyTooLarge)),
    ParserCase("chunk data longer than its size", "\(P)Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", .error(.invalidChunkTerminator)),
    ParserCase("chunk data without CRLF", "\(P)Transfer-Encoding: chunked\r\n\r\n3\r\nabc0\r\n\r\n", .error(.invalidChunkTerminator)),
    ParserCase("bare LF after chunk size", "\(P)Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", .error(.invalidLineEnding)),
    ParserCase("chunk extension with control byte", "\(P)Transfer-Encoding: chunked\r\n\r\n3;a=\u{1}\r\nabc\r\n0\r\n\r\n", .error(.invalidChunkExtension)),
    ParserCase("chunk extension over 4 KiB", "\(P)Transfer-Encoding: chunked\r\n\r\n3;" + String(repeating: "e", count: 5000) + "\r\nabc\r\n0\r\n\r\n", .error(.chunkExtensionTooLong)),
    ParserCase("chunk extension over 4 KiB, never ended", "\(P)Transfer-Encoding: chunked\r\n\r\n3;" + String(repeating: "e", count: 5000), .error(.chunkExtensionTooLong)),
    ParserCase("obs-fold in a trailer", "\(P)Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", .error(.obsoleteLineFolding)),

    // MARK: An error ends the stream, even after a good request
    ParserCase("good request, then garbage", "\(G)\r\nGARBAGE\r\n\r\n", ParserOutcome(requests: [
        .init(method: "GET", path: "/", body: "", keepAlive: true),
    ], ending: .error(.invalidRequestLine))),
]
