import Glibc

/// Thin, checked wrappers over the socket calls the transport makes.
enum Socket {
    /// Creates a non-blocking listening socket bound to `host`:`port` and returns it with the bound port.
    static func listen(host: String, port: Int, backlog: Int32) throws(TransportError) -> (fd: Int32, port: Int) {
        guard (0...65535).contains(port) else { throw .bindFailed("port \(port) is out of range") }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .bindFailed("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address for \(host)"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                lastError = "socket: \(errorText())"
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                lastError = "bind \(host):\(port): \(errorText())"
                close(fd)
                continue
            }
            guard Glibc.listen(fd, backlog) == 0, setNonBlocking(fd) else {
                lastError = "listen: \(errorText())"
                close(fd)
                continue
            }
            return (fd, boundPort(fd))
        }
        throw .bindFailed(lastError)
    }

    /// The local port of a bound socket.
    static func boundPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        // Safe: sockaddr_storage is large and aligned enough for every address family; the kernel writes at
        // most `length` bytes into it.
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return 0 }
        let family = Int32(storage.ss_family)
        // Safe: the family says which address type the kernel stored.
        return withUnsafePointer(to: &storage) { pointer -> Int in
            switch family {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            default: 0
            }
        }
    }

    /// Accepts one connection as a non-blocking, close-on-exec socket; nil with `errno` set when none is ready
    /// or accepting failed.
    static func accept(_ listener: Int32) -> Int32? {
        // accept4 is not exported by the Glibc module (it needs _GNU_SOURCE), so set the flags afterwards.
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        guard setNonBlocking(fd) else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Disables Nagle's algorithm: a response written while the previous one's ACK is delayed would otherwise
    /// wait ~40 ms (the trap that holds llama.cpp's server to 231 requests/s).
    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func setNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}

/// Monotonic time in nanoseconds, for deadlines that wall-clock changes must not move.
enum MonotonicClock {
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturated to the range of `UInt64` (negative becomes 0).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max : whole &+ UInt64(attoseconds / 1_000_000_000)
    }
}
