import Dispatch
import Glibc
import HTTP

/// One accepted socket: reads and parses requests, hands them to the responder, writes responses in order,
/// and enforces its timeouts.
///
/// All state is confined to its loop's serial queue; handlers run in tasks and come back to the queue with
/// their response. Reading goes on while a response is in progress (up to a read-ahead bound), so a client
/// that disconnects is noticed at once and its handler's task cancelled.
final class Connection: @unchecked Sendable {
    // @unchecked: mutable state is touched only on `loop.queue`. Dispatch handlers target that queue, tasks
    // reach it with `loop.queue.async`, and the entry points check it with dispatchPrecondition.
    let fd: Int32
    let loop: IOLoop
    var context: ServerContext { loop.context }

    var parser: HTTPRequestParser
    /// The request being answered; at most one at a time, so pipelined responses stay in order.
    var exchange: Exchange?
    var nextExchangeID: UInt64 = 0

    var outbound: [UInt8] = []
    var outboundOffset = 0
    /// When unsent bytes last made progress; nil when nothing is waiting to be sent.
    var unsentSince: UInt64?
    /// Set once the connection must close after its unsent bytes are out.
    var closeAfterFlush = false
    var isClosed = false
    var lingerStart: UInt64?

    var idleSince: UInt64
    var headStart: UInt64 = 0
    var lastRead: UInt64 = 0

    let readSource: any DispatchSourceRead
    var isReadSuspended = false
    var writeSource: (any DispatchSourceWrite)?
    var isWriteArmed = false
    let descriptorCloser: DescriptorCloser

    /// One request in progress and what has been sent of its response.
    struct Exchange {
        let id: UInt64
        let method: HTTPMethod
        let path: String
        let version: HTTPVersion
        var keepAlive: Bool
        let start: UInt64
        var status = 0
        var annotations: (any AccessLogAnnotations)?
        var bodyBytes = 0
        var isHeadSent = false
        var task: Task<Void, Never>?
        var writer: StreamBodyWriter?
    }

    init(fd: Int32, loop: IOLoop) {
        self.fd = fd
        self.loop = loop
        parser = HTTPRequestParser(limits: loop.context.configuration.parserLimits)
        readSource = DispatchSource.makeReadSource(fileDescriptor: fd, queue: loop.queue)
        descriptorCloser = DescriptorCloser(fd: fd)
        idleSince = MonotonicClock.now()
    }

    func start() {
        readSource.setEventHandler { [self] in handleReadable() }
        descriptorCloser.retain()
        readSource.setCancelHandler { [descriptorCloser] in descriptorCloser.release() }
        readSource.resume()
    }

    // MARK: - Reading

    private func handleReadable() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !isClosed else { return }
        let buffer = loop.readBuffer
        // Safe: the buffer belongs to this loop and is only used on its queue, one read at a time.
        let count = recv(fd, buffer.baseAddress, buffer.count, 0)
        if count > 0 {
            if lingerStart != nil || closeAfterFlush { return }  // closing: discard what the client still sends
            let now = MonotonicClock.now()
            if parser.isBetweenRequests { headStart = now }
            lastRead = now
            parser.append(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            processInput()
        } else if count == 0 {
            peerClosed()
        } else {
            switch errno {
            case EAGAIN, EWOULDBLOCK, EINTR: return
            default: peerClosed()
            }
        }
    }

    /// Turns buffered bytes into requests while no response is in progress, then sends what is queued.
    func processInput() {
        while exchange == nil && !closeAfterFlush && !isClosed {
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                respondWithError(error.response)
                break
            }
            guard let event else { break }
            switch event {
            case .continueExpected: outbound.append(contentsOf: HTTPResponseEncoder.continueResponse)
            case .request(let request): handle(request)
            }
        }
        updateReadInterest()
        sendOutbound()
    }

    /// Reads while idle or while the pipelined read-ahead is small; stops reading otherwise, so a client
    /// cannot make the server buffer requests without limit.
    func updateReadInterest() {
        guard !isClosed else { return }
        let shouldRead = exchange == nil || parser.bufferedByteCount < context.configuration.maxReadAheadBytes
        if shouldRead && isReadSuspended {
            isReadSuspended = false
            readSource.resume()
        } else if !shouldRead && !isReadSuspended {
            isReadSuspended = true
            readSource.suspend()
        }
    }

    private func peerClosed() {
        if exchange != nil {
            abort(.clientDisconnected)
        } else {
            closeNow()
        }
    }

    // MARK: - Timeouts and shutdown

    /// What the connection waits for, for its timeouts.
    private var currentWait: ConnectionWait {
        if let lingerStart { return .lingering(since: lingerStart) }
        if exchange != nil || closeAfterFlush { return .responding }
        if parser.isReceivingBody { return .body(lastRead: lastRead) }
        if parser.isBetweenRequests { return .idle(since: idleSince) }
        return .head(since: headStart)
    }

    func checkTimeouts(now: UInt64) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !isClosed else { return }
        switch context.timeouts.action(for: currentWait, unsentSince: unsentSince, now: now) {
        case .none: break
        case .close: closeNow()
        case .requestTimeout:
            respondWithError(HTTPErrorResponse(.requestTimeout, message: "Request not received in time.").response)
            sendOutbound()
        case .abortStalledWrite: abort(.writeTimedOut)
        }
    }

    /// Closes the connection now if it is between requests; otherwise it closes after its current response.
    func drainIfIdle() {
        if exchange == nil && parser.isBetweenRequests && outboundOffset == outbound.count && !closeAfterFlush {
            closeNow()
        }
    }
}

/// Closes a descriptor once every dispatch source watching it has been cancelled: closing it earlier would
/// let the number be reused while a source still refers to it.
final class DescriptorCloser: @unchecked Sendable {
    // @unchecked: `users` is changed only on the owning connection's queue (retain in start and when the
    // write source is made, release in the sources' cancel handlers, which target the same queue).
    private let fd: Int32
    private var users = 0

    init(fd: Int32) { self.fd = fd }

    func retain() { users += 1 }

    func release() {
        users -= 1
        if users == 0 { close(fd) }
    }
}
