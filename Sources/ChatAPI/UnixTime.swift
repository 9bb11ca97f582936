#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ContinuousClock {
    /// Seconds since 1970, for the `created` field of responses.
    static var unixTime: Int { Int(time(nil)) }
}
