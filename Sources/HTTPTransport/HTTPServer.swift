import Dispatch
import Glibc
import HTTP
import Synchronization

/// An HTTP/1.1 server on POSIX sockets driven by Dispatch sources.
///
/// Connections are spread over a few serial I/O queues (one per processor by default); each request is
/// answered by the responder, in a task unless it answers immediately. See `Docs/HTTP.md` for the model.
///
///     let server = HTTPServer(configuration: configuration, responder: router)
///     let port = try server.start()
///     …
///     await server.shutdown()
package final class HTTPServer: Sendable {
    private let context: ServerContext
    private let acceptQueue = DispatchQueue(label: "llamaserve.http.accept")
    private let state = Mutex(State())

    private struct State {
        var isStarted = false
        var listener: SendableSource?
        var loops: [IOLoop] = []
        var nextLoop = 0
        var port = 0
        var shutdown: Task<Void, Never>?
    }

    /// Creates a server; nothing is bound until ``start()``.
    ///
    /// - Parameters:
    ///   - configuration: address, limits and timeouts.
    ///   - responder: answers every request (usually a ``Router``).
    ///   - accessLog: called once per request on an I/O queue; it must be quick and must not block.
    package init(
        configuration: HTTPServerConfiguration, responder: any Responder,
        accessLog: (@Sendable (AccessLogEntry) -> Void)? = nil
    ) {
        context = ServerContext(configuration: configuration, responder: responder, accessLog: accessLog)
    }

    /// Binds, listens and starts accepting.
    ///
    /// - Returns: the bound port (the one the system picked when the configured port is 0).
    /// - Throws: ``TransportError/bindFailed(_:)`` when the address cannot be bound.
    @discardableResult
    package func start() throws(TransportError) -> Int {
        let configuration = context.configuration
        // A peer that resets mid-write must give EPIPE, not kill the process (send also passes MSG_NOSIGNAL).
        signal(SIGPIPE, SIG_IGN)
        let (fd, port) = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
        let processors = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let loopCount = configuration.ioQueueCount > 0 ? configuration.ioQueueCount : max(1, processors / 2)
        let loops = (0..<loopCount).map { IOLoop(index: $0, context: context) }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        let alreadyStarted = state.withLock { state -> Bool in
            if state.isStarted { return true }
            state.isStarted = true
            state.loops = loops
            state.listener = SendableSource(source: source)
            state.port = port
            return false
        }
        guard !alreadyStarted else {
            close(fd)
            throw .alreadyStarted
        }
        for loop in loops { loop.queue.async { loop.start() } }
        let sendableSource = SendableSource(source: source)
        source.setEventHandler { [self] in acceptConnections(fd: fd, listener: sendableSource) }
        source.setCancelHandler { close(fd) }
        source.resume()
        return port
    }

    /// The bound port, or 0 before ``start()``.
    package var port: Int { state.withLock { $0.port } }

    /// The number of open connections.
    package var connectionCount: Int { context.openConnections.load(ordering: .relaxed) }

    /// The most unsent response bytes any one connection has held since start: stays near
    /// ``HTTPServerConfiguration/maxOutboundBytes`` however slowly clients read.
    package var peakOutboundBytes: Int { context.peakOutboundBytes.load(ordering: .relaxed) }

    /// Stops accepting, lets requests and streams in progress finish for up to the drain timeout, closes
    /// every connection (cancelling handlers still running), and returns.
    ///
    /// Idle keep-alive connections close at once; busy ones answer with `Connection: close`. New connection
    /// attempts are refused from the start, as the listening socket is closed.
    package func shutdown() async {
        // Every caller waits for the same drain; a second signal must not start another.
        let drain = state.withLock { state -> Task<Void, Never>? in
            if let running = state.shutdown { return running }
            guard let listener = state.listener else { return nil }
            let loops = state.loops
            let task = Task { await self.drain(listener: listener, loops: loops) }
            state.shutdown = task
            return task
        }
        await drain?.value
    }

    private func drain(listener: SendableSource, loops: [IOLoop]) async {
        context.isDraining.store(true, ordering: .releasing)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            acceptQueue.async {
                listener.source.cancel()
                continuation.resume()
            }
        }
        for loop in loops { loop.queue.async { loop.beginDrain() } }
        let drainTimeout = context.configuration.drainTimeout
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumed = Mutex(false)
            let resumeOnce: @Sendable () -> Void = {
                let first = resumed.withLock { wasResumed in
                    defer { wasResumed = true }
                    return !wasResumed
                }
                if first { continuation.resume() }
            }
            context.whenAllClosed(resumeOnce)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: drainTimeout.nanoseconds))) {
                for loop in loops { loop.queue.async { loop.closeAll() } }
            }
        }
        for loop in loops { loop.stop() }
        state.withLock { state in
            state.listener = nil
            state.loops = []
        }
    }

    private func acceptConnections(fd: Int32, listener: SendableSource) {
        let configuration = context.configuration
        // Bounded per event so one burst cannot starve the queue; the source fires again if more are waiting.
        for _ in 0..<64 {
            guard let client = Socket.accept(fd) else {
                let code = errno
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                    // Out of descriptors: pause accepting briefly instead of spinning on the same error.
                    listener.source.suspend()
                    acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) { listener.source.resume() }
                }
                return
            }
            if context.openConnections.load(ordering: .relaxed) >= configuration.maxConnections
                || context.isDraining.load(ordering: .relaxed)
            {
                Self.reject(client)
                continue
            }
            Socket.setNoDelay(client)
            context.connectionOpened()
            let loop = state.withLock { state -> IOLoop in
                defer { state.nextLoop = (state.nextLoop + 1) % state.loops.count }
                return state.loops[state.nextLoop]
            }
            loop.queue.async { loop.adopt(client) }
        }
    }

    /// Answers a connection over the limit with `503` and closes it, without ever giving it a loop.
    private static func reject(_ fd: Int32) {
        let response = HTTPErrorResponse(
            .serviceUnavailable, message: "The server is at its connection limit; retry later.",
            headers: ["Retry-After": "1"]
        ).response
        var bytes: [UInt8] = []
        if case .bytes(let body) = response.body {
            HTTPResponseEncoder.encodeHead(
                response, framing: .contentLength(body.count), keepAlive: false, requestVersion: .http1_1,
                date: HTTPDate.imfFixdate(secondsSince1970: time(nil)), server: nil, into: &bytes)
            bytes.append(contentsOf: body)
        }
        // Take whatever request bytes already arrived, so closing does not turn into a reset that would
        // destroy the response before the client reads it.
        var scratch = [UInt8](repeating: 0, count: 4096)
        // Safe: each call passes a buffer's own base address and count.
        _ = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        Glibc.shutdown(fd, Int32(SHUT_WR))
        close(fd)
    }
}

/// A dispatch source that may be captured by `@Sendable` closures.
struct SendableSource: @unchecked Sendable {
    // @unchecked: dispatch sources are thread-safe objects (resume, suspend and cancel may be called from any
    // thread); the Swift overlay just does not say so on Linux.
    let source: any DispatchSourceRead
}
