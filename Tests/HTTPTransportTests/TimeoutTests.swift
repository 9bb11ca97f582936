import HTTP
import HTTPTransport
import Testing

private func healthRouter() -> Router {
    var router = Router()
    router.addImmediate(.get, "/health") { _, _ in .json(#"{"status":"ok"}"#) }
    router.add(.post, "/echo") { request, _ in HTTPResponse(status: .ok, body: .bytes(request.body)) }
    return router
}

@Suite(.serialized) struct TimeoutTests {
    @Test func slowHeadersAreTimedOutWhileOthersAreServed() async throws {
        let (server, port) = try startServer(healthRouter()) { $0.headerTimeout = .milliseconds(300) }
        defer { Task { await server.shutdown() } }
        let slow = try TestClient(port: port)
        try slow.send("GET /health HTTP/1.1\r\nHost: a\r\n")  // never finishes the head
        let started = ContinuousClock.now
        let other = try TestClient(port: port)
        var served = 0
        while ContinuousClock.now - started < .milliseconds(200) {
            try other.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
            if try await other.readResponse().status == 200 { served += 1 }
        }
        #expect(served > 0)
        let response = try await slow.readResponse()
        #expect(response.status == 408)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(await slow.isClosedByServer())
        // Dribbling bytes does not extend the deadline: it runs from the head's first byte.
        let dribbler = try TestClient(port: port)
        try dribbler.send("GET /health HTTP/1.1\r\n")
        for _ in 0..<8 {
            try await Task.sleep(for: .milliseconds(50))
            try? dribbler.send("X-Slow: 1\r\n")
        }
        #expect(try await dribbler.readResponse().status == 408)
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        let (server, port) = try startServer(healthRouter()) { $0.idleTimeout = .milliseconds(300) }
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await client.readResponse().status == 200)
        let idleSince = ContinuousClock.now
        #expect(await client.isClosedByServer())
        #expect(ContinuousClock.now - idleSince >= .milliseconds(250))
        #expect(await eventually { server.connectionCount == 0 })
    }

    @Test func stalledBodyIsTimedOut() async throws {
        let (server, port) = try startServer(healthRouter()) { $0.bodyTimeout = .milliseconds(300) }
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        let response = try await client.readResponse()
        #expect(response.status == 408)
        #expect(await client.isClosedByServer())
    }

    @Test func aSteadyStreamOutlivesEveryTimeout() async throws {
        var router = Router()
        router.add(.get, "/events") { _, _ in
            .eventStream { writer in
                for index in 0..<15 {
                    try await Task.sleep(for: .milliseconds(50))
                    try await writer.write(ServerSentEvent(data: "\(index)"))
                }
            }
        }
        let (server, port) = try startServer(router) {
            $0.headerTimeout = .milliseconds(200)
            $0.idleTimeout = .milliseconds(200)
            $0.bodyTimeout = .milliseconds(200)
            $0.writeTimeout = .milliseconds(200)
        }
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("GET /events HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try await client.readResponse()  // 750 ms in all, every timeout 200 ms
        #expect(response.status == 200)
        #expect(response.text == (0..<15).map { "data: \($0)\n\n" }.joined())
    }
}
