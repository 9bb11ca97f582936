import Dispatch
import HTTP
import Synchronization

extension Connection {
    /// Answers one complete request: at once when the responder can, in a task otherwise.
    func handle(_ request: HTTPRequest) {
        nextExchangeID &+= 1
        let id = nextExchangeID
        exchange = Exchange(
            id: id, method: request.method, path: request.path, version: request.version,
            keepAlive: request.isKeepAlive, start: MonotonicClock.now())
        if let response = context.responder.respondImmediately(to: request) {
            let writer = makeWriterIfStreaming(response, for: request, exchangeID: id)
            beginResponse(response, writer: writer, exchangeID: id)
            if let writer, case .stream(let produce) = response.body {
                exchange?.task = Task { await Connection.run(produce, with: writer) }
            }
            return
        }
        let responder = context.responder
        exchange?.task = Task { [self] in
            let response = await responder.respondRenderingErrors(to: request)
            let writer = makeWriterIfStreaming(response, for: request, exchangeID: id)
            loop.queue.async { [self] in
                beginResponse(response, writer: writer, exchangeID: id)
                processInput()
            }
            if let writer, case .stream(let produce) = response.body {
                await Connection.run(produce, with: writer)
            }
        }
    }

    private static func run(_ produce: @Sendable (any ResponseBodyWriter) async throws -> Void, with writer: StreamBodyWriter)
        async
    {
        do {
            try await produce(writer)
            writer.finish()
        } catch {
            writer.finish(aborted: true)
        }
    }

    /// A writer for a streamed body that will actually be sent (not for HEAD or bodiless statuses).
    /// Called from the handler's task, so it reads only immutable properties.
    private func makeWriterIfStreaming(_ response: HTTPResponse, for request: HTTPRequest, exchangeID: UInt64)
        -> StreamBodyWriter?
    {
        guard case .stream = response.body, !response.status.forbidsBody, request.method != .head else { return nil }
        let loop = loop
        return StreamBodyWriter(
            isChunked: request.version == .http1_1, bound: context.configuration.maxOutboundBytes,
            scheduleFlush: { [self] in loop.queue.async { [self] in writerHasBytes(exchangeID: exchangeID) } })
    }

    /// Queues the response head (and a complete body) behind anything already queued.
    func beginResponse(_ response: HTTPResponse, writer: StreamBodyWriter?, exchangeID: UInt64) {
        guard !isClosed, var current = exchange, current.id == exchangeID else {
            writer?.fail(.clientDisconnected)
            return
        }
        let framing = HTTPResponseEncoder.framing(for: response, method: current.method, version: current.version)
        let draining = context.isDraining.load(ordering: .relaxed)
        current.keepAlive = current.keepAlive && !draining && framing != .closeDelimited
        current.status = response.status.code
        current.annotations = response.annotations
        HTTPResponseEncoder.encodeHead(
            response, framing: framing, keepAlive: current.keepAlive, requestVersion: current.version,
            date: loop.dateHeader, server: context.configuration.serverName, into: &outbound)
        current.isHeadSent = true
        if let writer {
            current.writer = writer
            exchange = current
            return
        }
        if case .bytes(let body) = response.body, current.method != .head, !response.status.forbidsBody {
            outbound.append(contentsOf: body)
            current.bodyBytes = body.count
        }
        exchange = current
        completeExchange(isComplete: true)
    }

    /// Finishes the current exchange: logs it, then either readies the connection for the next request or
    /// marks it to close once its bytes are out.
    func completeExchange(isComplete: Bool) {
        guard let finished = exchange else { return }
        exchange = nil
        log(finished, isComplete: isComplete)
        let now = MonotonicClock.now()
        idleSince = now
        if !finished.keepAlive || context.isDraining.load(ordering: .relaxed) {
            closeAfterFlush = true  // a response that began before shutdown still closes after it
        } else if parser.bufferedByteCount > 0 {
            headStart = now  // a pipelined request is already arriving
        }
    }

    /// Queues an error response that ends the connection (parse errors, timeouts).
    func respondWithError(_ response: HTTPResponse) {
        guard !closeAfterFlush else { return }
        let body: [UInt8]
        if case .bytes(let bytes) = response.body { body = bytes } else { body = [] }
        HTTPResponseEncoder.encodeHead(
            response, framing: .contentLength(body.count), keepAlive: false, requestVersion: .http1_1,
            date: loop.dateHeader, server: context.configuration.serverName, into: &outbound)
        outbound.append(contentsOf: body)
        closeAfterFlush = true
        context.accessLog?(
            AccessLogEntry(
                method: HTTPMethod("-"), path: "-", status: response.status.code, bodyBytes: body.count,
                duration: .zero, isComplete: true, fields: []))
    }

    func log(_ exchange: Exchange, isComplete: Bool) {
        guard let accessLog = context.accessLog else { return }
        let elapsed = MonotonicClock.now() &- exchange.start
        accessLog(
            AccessLogEntry(
                method: exchange.method, path: exchange.path, status: exchange.status, bodyBytes: exchange.bodyBytes,
                duration: .nanoseconds(Int64(clamping: elapsed)), isComplete: isComplete,
                fields: exchange.annotations?.fields ?? []))
    }
}
