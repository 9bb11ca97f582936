import Glibc
import HTTP
import HTTPTransport
import Testing

@Suite(.serialized) struct ShutdownTests {
    @Test func shutdownDrainsARunningStreamAndRefusesNewConnections() async throws {
        let started = Probe()
        var router = Router()
        router.addImmediate(.get, "/health") { _, _ in .json(#"{"status":"ok"}"#) }
        router.add(.get, "/events") { _, _ in
            .eventStream { writer in
                started.increment()
                for index in 0..<10 {
                    try await Task.sleep(for: .milliseconds(30))
                    try await writer.write(ServerSentEvent(data: "\(index)"))
                }
            }
        }
        let (server, port) = try startServer(router)
        let idle = try TestClient(port: port)
        try idle.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await idle.readResponse().status == 200)

        let streaming = try TestClient(port: port)
        try streaming.send("GET /events HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(await eventually { started.count == 1 })
        let shutdown = Task { await server.shutdown() }

        // The stream completes, with its last chunk, although shutdown began mid-stream.
        let response = try await streaming.readResponse()
        #expect(response.status == 200)
        #expect(response.text == (0..<10).map { "data: \($0)\n\n" }.joined())
        #expect(await streaming.isClosedByServer())
        // The idle keep-alive connection was closed, and the listener is gone.
        #expect(await idle.isClosedByServer())
        #expect(throws: TestFailure.self) { _ = try TestClient(port: port) }
        await shutdown.value
        #expect(server.connectionCount == 0)
    }

    @Test func drainTimeoutCutsAStreamThatWillNotEnd() async throws {
        let cancelled = Probe()
        var router = Router()
        router.add(.get, "/forever") { _, _ in
            .eventStream { writer in
                do {
                    while true {
                        try await writer.write(ServerSentEvent(data: "tick"))
                        try await Task.sleep(for: .milliseconds(20))
                    }
                } catch {
                    cancelled.increment()
                    throw error
                }
            }
        }
        let (server, port) = try startServer(router) { $0.drainTimeout = .milliseconds(300) }
        let client = try TestClient(port: port)
        try client.send("GET /forever HTTP/1.1\r\nHost: a\r\n\r\n")
        _ = try await client.readHead()
        let begun = ContinuousClock.now
        await server.shutdown()
        let took = ContinuousClock.now - begun
        #expect(took >= .milliseconds(250) && took < .seconds(20))  // cut at the drain timeout, not never
        #expect(await eventually { cancelled.count == 1 })
        #expect(server.connectionCount == 0)
    }

    @Test func concurrentShutdownsWaitForTheSameDrain() async throws {
        var router = Router()
        router.add(.get, "/slow") { _, _ in
            try await Task.sleep(for: .milliseconds(200))
            return .json("{}")
        }
        let (server, port) = try startServer(router)
        let client = try TestClient(port: port)
        try client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        try await Task.sleep(for: .milliseconds(20))
        async let first: Void = server.shutdown()
        async let second: Void = server.shutdown()
        _ = await (first, second)
        // Both returned only after the request in flight was answered and its connection closed.
        #expect(server.connectionCount == 0)
        let response = try await client.readResponse()
        #expect(response.status == 200)
        #expect(response.header("connection") == "close")
        await server.shutdown()  // and once more, after the fact: returns at once
    }
}
