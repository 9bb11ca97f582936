import Dispatch
import Glibc
import HTTP

extension Connection {
    /// Sends as much of the unsent bytes as the socket takes, in one `send` when it takes them all; waits for
    /// writability otherwise. Closes the connection once everything is out if it was asked to.
    func sendOutbound() {
        guard !isClosed else { return }
        var madeProgress = false
        while outboundOffset < outbound.count {
            let sent = outbound.withUnsafeBytes { bytes in
                // Safe: outboundOffset < outbound.count, checked by the loop condition.
                send(fd, bytes.baseAddress! + outboundOffset, bytes.count - outboundOffset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                outboundOffset += sent
                madeProgress = true
                continue
            }
            let code = errno
            if sent < 0 && code == EINTR { continue }
            if sent < 0 && (code == EAGAIN || code == EWOULDBLOCK) { break }
            abort(.clientDisconnected)  // EPIPE, ECONNRESET: the client is gone
            return
        }
        let unsent = outbound.count - outboundOffset
        if unsent == 0 {
            // Keep a modest buffer for the next response; give back what a large body or stream grew.
            outbound.removeAll(keepingCapacity: outbound.capacity <= 64 * 1024)
            outboundOffset = 0
            unsentSince = nil
            disarmWrite()
        } else {
            if madeProgress || unsentSince == nil { unsentSince = MonotonicClock.now() }
            if outboundOffset >= 64 * 1024 {
                outbound.removeSubrange(0..<outboundOffset)
                outboundOffset = 0
            }
            context.recordOutbound(unsent)
            armWrite()
        }
        exchange?.writer?.updateBacklog(unsent)
        if unsent == 0 && closeAfterFlush { beginClose() }
    }

    private func armWrite() {
        if isWriteArmed { return }
        isWriteArmed = true
        if let writeSource {
            writeSource.resume()
            return
        }
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: loop.queue)
        source.setEventHandler { [self] in handleWritable() }
        descriptorCloser.retain()
        source.setCancelHandler { [descriptorCloser] in descriptorCloser.release() }
        writeSource = source
        source.resume()
    }

    private func disarmWrite() {
        guard isWriteArmed, let writeSource else { return }
        isWriteArmed = false
        writeSource.suspend()
    }

    private func handleWritable() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !isClosed else { return }
        if exchange?.writer != nil {
            pullFromWriter()
            if exchange == nil {
                processInput()
                return
            }
        }
        sendOutbound()
    }

    /// Called (through the queue) when a stream writer has new bytes or has finished.
    func writerHasBytes(exchangeID: UInt64) {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        guard !isClosed, exchange?.id == exchangeID else { return }
        pullFromWriter()
        if exchange == nil {
            processInput()  // the stream ended: answer any pipelined request, then send
        } else {
            sendOutbound()
        }
    }

    /// Moves a stream's pending bytes behind the response head; completes the exchange when it finished.
    private func pullFromWriter() {
        guard var current = exchange, current.isHeadSent, let writer = current.writer else { return }
        let drained = writer.drain(into: &outbound, unsent: outbound.count - outboundOffset)
        current.bodyBytes = drained.bodyBytes
        exchange = current
        if drained.isAborted {
            // The handler threw mid-stream: the status is sent, so the only honest signal left is to cut
            // the body short (no last chunk) and close.
            exchange?.keepAlive = false
            completeExchange(isComplete: false)
        } else if drained.isFinished {
            completeExchange(isComplete: true)
        }
    }

    /// Ends the connection after a final response: half-closes, then reads and discards until the client
    /// closes or the linger time is over, so the client reads the response instead of a reset.
    private func beginClose() {
        guard lingerStart == nil else { return }
        Glibc.shutdown(fd, Int32(SHUT_WR))
        lingerStart = MonotonicClock.now()
        if isReadSuspended {
            isReadSuspended = false
            readSource.resume()
        }
    }

    /// Closes at once, cancelling the handler of a request in progress.
    func abort(_ reason: TransportError) {
        guard !isClosed else { return }
        if let exchange {
            exchange.task?.cancel()
            exchange.writer?.fail(reason)
            log(exchange, isComplete: false)
            self.exchange = nil
        }
        closeNow()
    }

    /// Releases the socket: cancels the dispatch sources (the descriptor is closed when both are gone).
    func closeNow() {
        guard !isClosed else { return }
        isClosed = true
        if let exchange {
            exchange.task?.cancel()
            exchange.writer?.fail(.clientDisconnected)
            self.exchange = nil
        }
        // Handlers capture the connection; clearing them breaks that cycle. A suspended source must be
        // resumed before it is cancelled and released.
        readSource.setEventHandler(handler: nil)
        if isReadSuspended { readSource.resume() }
        readSource.cancel()
        if let writeSource {
            writeSource.setEventHandler(handler: nil)
            if !isWriteArmed { writeSource.resume() }
            writeSource.cancel()
        }
        outbound = []
        loop.remove(self)
    }
}
