import Dispatch
import Glibc
import HTTP
import HTTPTransport
import Synchronization

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A response as a test client read it off the wire.
struct WireResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A loopback client for integration tests: raw bytes out, parsed responses in.
///
/// Reads block, so the async API runs them on a Dispatch thread: a test blocked in `recv` on a cooperative
/// thread could starve the very handler task it waits for.
final class TestClient: @unchecked Sendable {
    // @unchecked: a client is used by one test at a time, one call at a time (each await completes before
    // the next call starts).
    let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `host`:`port` (an IPv4 or IPv6 literal); reads give up after `timeout`, a safety net
    /// against hangs that is long because CPU-heavy unit tests share the process (and its thread pool).
    init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(30), receiveBufferSize: Int32? = nil) throws {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else {
            throw TestFailure("cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        if var size = receiveBufferSize {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestFailure("connect: \(String(cString: strerror(code)))")
        }
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestFailure("send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads more bytes into the buffer; false on EOF.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffer += chunk[..<count]
            return true
        }
        if count == 0 { return false }
        throw TestFailure("recv: \(String(cString: strerror(errno)))")
    }

    private func readLine() throws -> String {
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                let line = buffer[..<lf]
                buffer.removeSubrange(...lf)
                return String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
            }
            guard try fill() else { throw TestFailure("connection closed mid-line") }
        }
    }

    private func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw TestFailure("connection closed mid-body") }
        }
        defer { buffer.removeSubrange(..<count) }
        return Array(buffer[..<count])
    }

    /// Reads a status line and headers.
    private func readHeadBlocking() throws -> WireResponse {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw TestFailure("bad status line: \(statusLine)")
        }
        var response = WireResponse(status: status, headers: [], body: [])
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw TestFailure("bad header: \(line)") }
            response.headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces))
        }
        return response
    }

    /// Reads one complete response (for a request with `method`).
    private func readResponseBlocking(method: String = "GET") throws -> WireResponse {
        var response = try readHeadBlocking()
        if response.status < 200 || response.status == 204 || response.status == 304 || method == "HEAD" {
            return response
        }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while let chunk = try readChunkBlocking() { response.body += chunk }
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            response.body = try readExactly(length)
        } else {
            response.body = try readToEndBlocking()
        }
        return response
    }

    /// Reads one chunk of a chunked body; nil for the last chunk (trailers consumed).
    private func readChunkBlocking() throws -> [UInt8]? {
        let sizeLine = try readLine()
        guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw TestFailure("bad chunk size: \(sizeLine)") }
        if size == 0 {
            while try !readLine().isEmpty {}
            return nil
        }
        let data = try readExactly(size)
        guard try readLine().isEmpty else { throw TestFailure("chunk not followed by CRLF") }
        return data
    }

    /// Reads until the server closes; returns everything not yet consumed.
    private func readToEndBlocking() throws -> [UInt8] {
        while try fill() {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// Whether the server closed the connection (EOF or reset) within the receive timeout, after any bytes.
    private func isClosedByServerBlocking() -> Bool {
        do {
            while try fill() {}
            return true
        } catch {
            return errno == ECONNRESET
        }
    }

    func readHead() async throws -> WireResponse { try await offload { try self.readHeadBlocking() } }
    func readResponse(method: String = "GET") async throws -> WireResponse {
        try await offload { try self.readResponseBlocking(method: method) }
    }
    func readChunk() async throws -> [UInt8]? { try await offload { try self.readChunkBlocking() } }
    func readToEnd() async throws -> [UInt8] { try await offload { try self.readToEndBlocking() } }
    func isClosedByServer() async -> Bool { (try? await offload { self.isClosedByServerBlocking() }) ?? false }

    private func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }
}

extension Substring {
    var trimmingSpaces: String { String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()) }
}

/// Starts a server on 127.0.0.1, port 0, with short timeouts suitable for tests.
func startServer(
    _ router: Router, host: String = "127.0.0.1", configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    accessLog: (@Sendable (AccessLogEntry) -> Void)? = nil
) throws -> (HTTPServer, Int) {
    var configuration = HTTPServerConfiguration(host: host, port: 0)
    configuration.headerTimeout = .seconds(5)
    // Generous: a loaded CI machine can delay handler tasks; only the drain-timeout test sets a short one.
    configuration.drainTimeout = .seconds(30)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, responder: router, accessLog: accessLog)
    let port = try server.start()
    return (server, port)
}

/// Waits (polling) until `condition` holds or `limit` passes; returns whether it held.
func eventually(within limit: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A thread-safe flag or counter that handlers set and tests read.
final class Probe: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    func add(_ amount: Int) { value.withLock { $0 += amount } }
    var count: Int { value.withLock { $0 } }
}
