/// What a connection is waiting for, as far as its timeouts are concerned.
enum ConnectionWait: Equatable {
    /// Between requests with nothing buffered: the idle (keep-alive) timeout runs from `since`.
    case idle(since: UInt64)
    /// Part of a head has arrived: the header timeout runs from its first byte.
    case head(since: UInt64)
    /// The head is complete and the body is arriving: the body timeout runs from the last byte read.
    case body(lastRead: UInt64)
    /// A response is being produced or sent: no read timeout applies.
    case responding
    /// An error response was sent and the connection is closing: reads are discarded until `since` + linger.
    case lingering(since: UInt64)
}

/// What to do when a timeout fires.
enum TimeoutAction: Equatable {
    case none
    /// Close without a response (idle keep-alive, linger over).
    case close
    /// Send `408 Request Timeout`, then close (slow head or stalled body).
    case requestTimeout
    /// The client has not taken any bytes for the write timeout: abort and cancel the handler.
    case abortStalledWrite
}

/// The timeout rules of one connection, as a pure function of what it waits for and the clock, so they can
/// be tested without sockets or time passing.
///
/// A response that keeps moving is never cut: the read timeouts do not apply while responding, and the write
/// timeout only counts time in which unsent bytes made no progress at all.
struct ConnectionTimeouts: Equatable {
    var header: UInt64
    var idle: UInt64
    var body: UInt64
    var write: UInt64
    var linger: UInt64

    init(configuration: HTTPServerConfiguration) {
        header = configuration.headerTimeout.nanoseconds
        idle = configuration.idleTimeout.nanoseconds
        body = configuration.bodyTimeout.nanoseconds
        write = configuration.writeTimeout.nanoseconds
        linger = configuration.lingerTimeout.nanoseconds
    }

    /// The action due at `now`.
    ///
    /// - Parameters:
    ///   - wait: what the connection is waiting for.
    ///   - unsentSince: when unsent bytes last made progress, or nil when nothing is waiting to be sent.
    ///   - now: the current monotonic time in nanoseconds.
    func action(for wait: ConnectionWait, unsentSince: UInt64?, now: UInt64) -> TimeoutAction {
        if let unsentSince, elapsed(unsentSince, now) >= write { return .abortStalledWrite }
        switch wait {
        case .idle(let since): return elapsed(since, now) >= idle ? .close : .none
        case .head(let since): return elapsed(since, now) >= header ? .requestTimeout : .none
        case .body(let lastRead): return elapsed(lastRead, now) >= body ? .requestTimeout : .none
        case .responding: return .none
        case .lingering(let since): return elapsed(since, now) >= linger ? .close : .none
        }
    }

    /// How often the sweep should look: a quarter of the shortest timeout, between 5 ms and 1 s.
    var sweepInterval: UInt64 {
        let shortest = min(header, idle, body, write, linger)
        return min(max(shortest / 4, 5_000_000), 1_000_000_000)
    }

    private func elapsed(_ since: UInt64, _ now: UInt64) -> UInt64 { now >= since ? now - since : 0 }
}
