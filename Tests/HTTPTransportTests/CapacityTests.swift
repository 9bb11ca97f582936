import Glibc
import HTTP
import HTTPTransport
import Testing

@Suite(.serialized) struct CapacityTests {
    @Test func thousandIdleKeepAliveConnectionsAndTheServerStillAnswers() async throws {
        // Each connection costs two descriptors in this process (client and server side).
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 4096 {
            limit.rlim_cur = min(4096, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        var router = Router()
        router.addImmediate(.get, "/health") { _, _ in .json(#"{"status":"ok"}"#) }
        let (server, port) = try startServer(router)
        defer { Task { await server.shutdown() } }
        var clients: [TestClient] = []
        for _ in 0..<1000 {
            let client = try TestClient(port: port)
            try client.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
            clients.append(client)
        }
        for client in clients { #expect(try await client.readResponse().status == 200) }
        #expect(await eventually { server.connectionCount == 1000 })
        // All 1000 now sit idle; a new client is still served at once, and so is every old one.
        let fresh = try TestClient(port: port)
        try fresh.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await fresh.readResponse().status == 200)
        for client in clients.prefix(1000).enumerated().filter({ $0.offset % 100 == 0 }).map(\.element) {
            try client.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
        }
        #expect(server.connectionCount == 1001)
    }
}
