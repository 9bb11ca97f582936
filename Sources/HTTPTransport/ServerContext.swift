import HTTP
import Synchronization

/// What every connection of one server shares: configuration, the responder, the access log, counters and
/// the draining flag. Immutable apart from atomics, so it is `Sendable` as is.
final class ServerContext: Sendable {
    let configuration: HTTPServerConfiguration
    let timeouts: ConnectionTimeouts
    let responder: any Responder
    let accessLog: (@Sendable (AccessLogEntry) -> Void)?
    /// Open connections, counted at accept and at close.
    let openConnections = Atomic<Int>(0)
    /// The most unsent bytes any connection has held; for tests and diagnostics.
    let peakOutboundBytes = Atomic<Int>(0)
    /// Set once shutdown starts: responses then close their connection.
    let isDraining = Atomic<Bool>(false)
    private let onAllClosed = Mutex<(@Sendable () -> Void)?>(nil)

    init(
        configuration: HTTPServerConfiguration, responder: any Responder,
        accessLog: (@Sendable (AccessLogEntry) -> Void)?
    ) {
        self.configuration = configuration
        self.timeouts = ConnectionTimeouts(configuration: configuration)
        self.responder = responder
        self.accessLog = accessLog
    }

    func connectionOpened() { openConnections.add(1, ordering: .relaxed) }

    func connectionClosed() {
        let remaining = openConnections.subtract(1, ordering: .acquiringAndReleasing).newValue
        if remaining == 0 && isDraining.load(ordering: .acquiring) {
            let callback = onAllClosed.withLock { callback in
                defer { callback = nil }
                return callback
            }
            callback?()
        }
    }

    /// Calls `callback` once no connection is open (now, if none is); used by shutdown.
    func whenAllClosed(_ callback: @escaping @Sendable () -> Void) {
        onAllClosed.withLock { $0 = callback }
        if openConnections.load(ordering: .acquiring) == 0 {
            let pending = onAllClosed.withLock { callback in
                defer { callback = nil }
                return callback
            }
            pending?()
        }
    }

    func recordOutbound(_ bytes: Int) {
        var current = peakOutboundBytes.load(ordering: .relaxed)
        while bytes > current {
            let (exchanged, original) = peakOutboundBytes.compareExchange(
                expected: current, desired: bytes, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
    }
}
