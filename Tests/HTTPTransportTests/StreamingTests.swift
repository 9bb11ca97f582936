import HTTP
import HTTPTransport
import Synchronization
import Testing

@Suite(.serialized) struct StreamingTests {
    @Test func eventsArriveAsTheyAreWritten() async throws {
        let gate = Probe()
        var router = Router()
        router.add(.get, "/events") { _, _ in
            .eventStream { writer in
                try await writer.write(ServerSentEvent(data: "first\nline", event: "token", id: "1"))
                // The second event waits for the client to have read the first: per-event flushing.
                while gate.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
                try await writer.write(ServerSentEvent(data: "[DONE]"))
            }
        }
        let (server, port) = try startServer(router)
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("GET /events HTTP/1.1\r\nHost: a\r\n\r\n")
        let head = try await client.readHead()
        #expect(head.header("content-type") == "text/event-stream")
        #expect(head.header("cache-control") == "no-cache")
        #expect(head.header("transfer-encoding") == "chunked")
        #expect(head.header("content-length") == nil)
        #expect(try await client.readChunk() == Array("event: token\nid: 1\ndata: first\ndata: line\n\n".utf8))
        gate.increment()
        #expect(try await client.readChunk() == Array("data: [DONE]\n\n".utf8))
        #expect(try await client.readChunk() == nil)
        // The connection is reusable after the stream.
        try client.send("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await client.readResponse().status == 404)
    }

    @Test func disconnectMidStreamCancelsTheHandler() async throws {
        let started = Probe()
        let cancelled = Probe()
        let writeFailed = Probe()
        var router = Router()
        router.add(.get, "/events") { _, _ in
            .eventStream { writer in
                started.increment()
                await withTaskCancellationHandler {
                    do {
                        while true {
                            try await writer.write(ServerSentEvent(data: "token"))
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    } catch {
                        writeFailed.increment()
                    }
                } onCancel: {
                    cancelled.increment()
                }
            }
        }
        let (server, port) = try startServer(router)
        defer { Task { await server.shutdown() } }
        do {
            let client = try TestClient(port: port)
            try client.send("GET /events HTTP/1.1\r\nHost: a\r\n\r\n")
            _ = try await client.readHead()
            _ = try await client.readChunk()
        }  // the client closes here
        #expect(started.count == 1)
        #expect(await eventually { cancelled.count == 1 && writeFailed.count == 1 })
        #expect(await eventually { server.connectionCount == 0 })
    }

    @Test func aClientThatStopsReadingDoesNotGrowServerBuffers() async throws {
        let produced = Probe()
        let finished = Probe()
        let bound = 64 * 1024
        let event = [UInt8](repeating: UInt8(ascii: "x"), count: 1024)
        var router = Router()
        router.add(.get, "/flood") { _, _ in
            .eventStream { writer in
                defer { finished.increment() }
                for _ in 0..<100_000 {  // 100 MiB if nothing held the producer back
                    try await writer.write(event)
                    produced.add(event.count)
                }
            }
        }
        let (server, port) = try startServer(router) {
            $0.maxOutboundBytes = bound
            $0.writeTimeout = .seconds(30)
        }
        defer { Task { await server.shutdown() } }
        var client: TestClient? = try TestClient(port: port, receiveBufferSize: 4096)
        try client?.send("GET /flood HTTP/1.1\r\nHost: a\r\n\r\n")
        // Wait until the producer is held back: its count stops moving for 100 ms.
        var last = -1
        for _ in 0..<50 where produced.count != last || last <= 0 {
            last = produced.count
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(produced.count == last)  // suspended, not spinning
        #expect(produced.count < 16 * 1024 * 1024)  // what socket buffers plus the bound can hold
        #expect(server.peakOutboundBytes <= bound + event.count + 16)  // at most one write past the bound
        #expect(finished.count == 0)
        client = nil  // disconnect: the suspended producer is released with an error
        #expect(await eventually { finished.count == 1 })
    }

    @Test func aStalledReaderIsAbortedAfterTheWriteTimeout() async throws {
        let cancelled = Probe()
        let event = [UInt8](repeating: UInt8(ascii: "y"), count: 4096)
        var router = Router()
        router.add(.get, "/flood") { _, _ in
            .eventStream { writer in
                do {
                    while true { try await writer.write(event) }
                } catch {
                    cancelled.increment()
                    throw error
                }
            }
        }
        let (server, port) = try startServer(router) {
            $0.maxOutboundBytes = 16 * 1024
            $0.writeTimeout = .milliseconds(300)
        }
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port, receiveBufferSize: 4096)
        try client.send("GET /flood HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(await eventually { cancelled.count == 1 })
        #expect(await eventually { server.connectionCount == 0 })
        withExtendedLifetime(client) {}
    }

    @Test func aWriterUsedAfterItsStreamEndedThrowsInsteadOfTrapping() async throws {
        let escaped = Mutex<(any ResponseBodyWriter)?>(nil)
        var router = Router()
        router.add(.get, "/events") { _, _ in
            .eventStream { writer in
                escaped.withLock { $0 = writer }
                try await writer.write(ServerSentEvent(data: "only"))
            }
        }
        let (server, port) = try startServer(router)
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("GET /events HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await client.readResponse().text == "data: only\n\n")
        let writer = try #require(escaped.withLock { $0 })
        await #expect(throws: TransportError.streamFinished) { try await writer.write(Array("late".utf8)) }
    }

    @Test func http10StreamIsDelimitedByClose() async throws {
        var router = Router()
        router.add(.get, "/events") { _, _ in
            .eventStream { writer in
                for index in 0..<3 { try await writer.write(ServerSentEvent(data: "\(index)")) }
            }
        }
        let (server, port) = try startServer(router)
        defer { Task { await server.shutdown() } }
        let client = try TestClient(port: port)
        try client.send("GET /events HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.header("transfer-encoding") == nil)
        #expect(response.header("connection") == "close")
        #expect(response.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
    }
}
