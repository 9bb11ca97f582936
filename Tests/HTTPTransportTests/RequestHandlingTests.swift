import HTTP
import HTTPTransport
import Synchronization
import Testing

private struct Boom: Error {}

private func echoRouter() -> Router {
    var router = Router()
    router.addImmediate(.get, "/health") { _, _ in .json(#"{"status":"ok"}"#) }
    router.add(.get, "/path/{n}") { request, parameters in
        try await Task.sleep(for: .milliseconds(Int(parameters["n"] ?? "0") ?? 0))
        return .json(JSONString.quoted(request.target))
    }
    router.add(.post, "/echo") { request, _ in
        HTTPResponse(status: .ok, headers: ["Content-Type": "application/octet-stream"], body: .bytes(request.body))
    }
    router.add(.get, "/boom") { _, _ in throw Boom() }
    return router
}

@Suite(.serialized) struct RequestHandlingTests {
    @Test func keepAliveReusesOneConnection() async throws {
        let (server, port) = try startServer(echoRouter())
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        for index in 0..<5 {
            try client.send("GET /path/\(index) HTTP/1.1\r\nHost: a\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "\"/path/\(index)\"")
            #expect(response.header("connection") == nil)
            #expect(response.header("date") != nil)
            #expect(response.header("server") == "LlamaServe")
        }
        #expect(server.connectionCount == 1)
    }

    @Test func servesIPv6() async throws {
        let (server, port) = try startServer(echoRouter(), host: "::1")
        defer { Task { await server.shutdown() } }
        let client = try TestClient(host: "::1", port: port)
        try client.send("GET /health HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        #expect(try await client.readResponse().status == 200)
        #expect(throws: TestFailure.self) { _ = try TestClient(host: "127.0.0.1", port: port) }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let (server, port) = try startServer(echoRouter())
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        // The first handler is the slowest: order must still be request order.
        try client.send(
            "GET /path/60 HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzGET /path/0 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await client.readResponse().text == "\"/path/60\"")
        #expect(try await client.readResponse().text == #"{"status":"ok"}"#)
        #expect(try await client.readResponse().text == "xyz")
        #expect(try await client.readResponse().text == "\"/path/0\"")
    }

    @Test func chunkedUploadIsDechunked() async throws {
        let (server, port) = try startServer(echoRouter())
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n")
        try await Task.sleep(for: .milliseconds(20))
        try client.send("6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "hello world")
        #expect(response.header("content-length") == "11")
    }

    @Test func expectContinueGetsInterimResponseBeforeTheBody() async throws {
        let (server, port) = try startServer(echoRouter())
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let interim = try await client.readHead()
        #expect(interim.status == 100)
        try client.send("body")
        let final = try await client.readResponse()
        #expect(final.status == 200)
        #expect(final.text == "body")
    }

    @Test func oversizedBodyIsRefusedBeforeItIsSent() async throws {
        let (server, port) = try startServer(echoRouter()) { $0.parserLimits.maxBodyBytes = 1000 }
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1001\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 413)
        #expect(response.header("connection") == "close")
        #expect(response.text.contains(#""type":"invalid_request_error""#))
        #expect(await client.isClosedByServer())
    }

    @Test func http10ClosesUnlessKeepAlive() async throws {
        let (server, port) = try startServer(echoRouter())
        defer { Task { await server.shutdown() } }
        let plain = try TestClient(port: port)
        try plain.send("GET /health HTTP/1.0\r\n\r\n")
        let first = try await plain.readResponse()
        #expect(first.status == 200)
        #expect(first.header("connection") == "close")
        #expect(await plain.isClosedByServer())

        let keepAlive = try TestClient(port: port)
        for _ in 0..<2 {
            try keepAlive.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let response = try await keepAlive.readResponse()
            #expect(response.header("connection") == "keep-alive")
        }
    }

    @Test func headHasHeadersButNoBody() async throws {
        let (server, port) = try startServer(echoRouter())
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("HEAD /health HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        let head = try await client.readResponse(method: "HEAD")
        #expect(head.header("content-length") == "15")
        // If HEAD had sent a body, it would be read here as the next status line.
        #expect(try await client.readResponse().text == #"{"status":"ok"}"#)
    }

    @Test(arguments: [
        MalformedRequest("smuggling: CL and TE", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        MalformedRequest("obs-fold", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400),
        MalformedRequest("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505),
        MalformedRequest("gzip coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        MalformedRequest("9 KB target", "GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\n\r\n", 414),
        MalformedRequest("40 KB header", "GET / HTTP/1.1\r\nHost: a\r\nX: \(String(repeating: "a", count: 40000))\r\n\r\n", 431),
    ])
    func malformedRequestsAreAnsweredAndClosed(_ malformed: MalformedRequest) async throws {
        let (request, status) = (malformed.request, malformed.status)
        let (server, port) = try startServer(echoRouter())
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send(request)
        let response = try await client.readResponse()
        #expect(response.status == status)
        #expect(response.header("connection") == "close")
        #expect(await client.isClosedByServer())
        // The server is unharmed.
        let next = try TestClient(port: port)
        try next.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await next.readResponse().status == 200)
    }

    @Test func throwingHandlerGives500AndTheServerKeepsServing() async throws {
        let (server, port) = try startServer(echoRouter())
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 500)
        #expect(response.text.contains(#""type":"server_error""#))
        try client.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await client.readResponse().status == 200)
    }

    @Test func connectionsBeyondTheLimitGet503() async throws {
        let (server, port) = try startServer(echoRouter()) { $0.maxConnections = 2 }
        defer { Task { await server.shutdown() } }
        let first = try TestClient(port: port)
        let second = try TestClient(port: port)
        #expect(await eventually { server.connectionCount == 2 })
        let third = try TestClient(port: port)
        let refused = try await third.readResponse()
        #expect(refused.status == 503)
        #expect(refused.header("retry-after") == "1")
        #expect(await third.isClosedByServer())
        for client in [first, second] {
            try client.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
        }
    }

    @Test func accessLogHasOneLinePerRequestWithoutSecrets() async throws {
        let lines = LogCollector()
        let (server, port) = try startServer(echoRouter(), accessLog: { lines.append($0) })
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("POST /echo?key=secret HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer sk-1\r\nContent-Length: 4\r\n\r\nbody")
        _ = try await client.readResponse()
        try client.send("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
        _ = try await client.readResponse()
        #expect(await eventually { lines.entries.count == 2 })
        let entries = lines.entries
        #expect(entries.map(\.method.rawValue) == ["POST", "GET"])
        #expect(entries.map(\.path) == ["/echo", "/nope"])
        #expect(entries.map(\.status) == [200, 404])
        #expect(entries[0].bodyBytes == 4)
        #expect(entries.allSatisfy { $0.isComplete })
        #expect(!"\(entries)".contains("secret") && !"\(entries)".contains("sk-1"))
    }
}

final class LogCollector: Sendable {
    private let storage = Mutex<[AccessLogEntry]>([])
    func append(_ entry: AccessLogEntry) { storage.withLock { $0.append(entry) } }
    var entries: [AccessLogEntry] { storage.withLock { $0 } }
}

struct MalformedRequest: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let request: String
    let status: Int
    init(_ name: String, _ request: String, _ status: Int) {
        testDescription = name
        self.request = request
        self.status = status
    }
}
