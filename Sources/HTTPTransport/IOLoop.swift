import Dispatch
import Glibc
import HTTP

/// A serial queue that owns a share of the server's connections, like one event loop: their read and write
/// events, parsing, immediate responses and timeouts all run on it, so connection state needs no locks.
///
/// It also holds what its connections can share because they never run at the same time: the read buffer
/// and the formatted `Date` value.
final class IOLoop: @unchecked Sendable {
    // @unchecked: every mutable property below is touched only on `queue` (checked with dispatchPrecondition
    // at the entry points: the sweep timer, adopt, drain and force-close).
    let queue: DispatchQueue
    let context: ServerContext
    /// One read buffer for all connections of this loop: reads happen one at a time on `queue`.
    let readBuffer: UnsafeMutableRawBufferPointer
    private var connections: [Int32: Connection] = [:]
    private var sweepTimer: (any DispatchSourceTimer)?
    private var cachedDateSecond = -1
    private var cachedDate = ""

    init(index: Int, context: ServerContext) {
        queue = DispatchQueue(label: "llamaserve.http.io.\(index)")
        self.context = context
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit { readBuffer.deallocate() }

    /// Starts the timeout sweep.
    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let interval = context.timeouts.sweepInterval
        timer.schedule(
            deadline: .now() + .nanoseconds(Int(interval)), repeating: .nanoseconds(Int(interval)),
            leeway: .nanoseconds(Int(interval / 4)))
        timer.setEventHandler { [self] in sweep() }
        timer.resume()
        sweepTimer = timer
    }

    /// Stops the sweep; the loop has no connections left by then.
    func stop() {
        queue.async { [self] in
            sweepTimer?.cancel()
            sweepTimer = nil
        }
    }

    /// Takes ownership of an accepted socket.
    func adopt(_ fd: Int32) {
        dispatchPrecondition(condition: .onQueue(queue))
        let connection = Connection(fd: fd, loop: self)
        connections[fd] = connection
        connection.start()
    }

    /// Called by a connection once its socket is closed.
    func remove(_ connection: Connection) {
        connections[connection.fd] = nil
        context.connectionClosed()
    }

    /// The `Date` header value, formatted at most once a second.
    var dateHeader: String {
        let second = time(nil)
        if second != cachedDateSecond {
            cachedDateSecond = second
            cachedDate = HTTPDate.imfFixdate(secondsSince1970: second)
        }
        return cachedDate
    }

    /// Shutdown, step one: close idle connections; the others close after their current response.
    func beginDrain() {
        dispatchPrecondition(condition: .onQueue(queue))
        for connection in Array(connections.values) { connection.drainIfIdle() }
    }

    /// Shutdown, last step: close every remaining connection, cancelling its handler.
    func closeAll() {
        dispatchPrecondition(condition: .onQueue(queue))
        for connection in Array(connections.values) { connection.abort(.shuttingDown) }
    }

    private func sweep() {
        dispatchPrecondition(condition: .onQueue(queue))
        let now = MonotonicClock.now()
        for connection in Array(connections.values) { connection.checkTimeouts(now: now) }
    }
}
