@testable import HTTPTransport
import Testing

@Suite struct ConnectionTimeoutsTests {
    let timeouts: ConnectionTimeouts = {
        var configuration = HTTPServerConfiguration()
        configuration.headerTimeout = .seconds(10)
        configuration.idleTimeout = .seconds(60)
        configuration.bodyTimeout = .seconds(30)
        configuration.writeTimeout = .seconds(60)
        configuration.lingerTimeout = .seconds(2)
        return ConnectionTimeouts(configuration: configuration)
    }()
    let second: UInt64 = 1_000_000_000

    @Test func headerTimeoutAnswers408() {
        #expect(timeouts.action(for: .head(since: 0), unsentSince: nil, now: 9 * second) == .none)
        #expect(timeouts.action(for: .head(since: 0), unsentSince: nil, now: 10 * second) == .requestTimeout)
    }

    @Test func idleAndLingerClose() {
        #expect(timeouts.action(for: .idle(since: 5), unsentSince: nil, now: 59 * second) == .none)
        #expect(timeouts.action(for: .idle(since: 0), unsentSince: nil, now: 60 * second) == .close)
        #expect(timeouts.action(for: .lingering(since: 0), unsentSince: nil, now: 2 * second) == .close)
    }

    @Test func bodyTimeoutCountsFromTheLastRead() {
        #expect(timeouts.action(for: .body(lastRead: 25 * second), unsentSince: nil, now: 50 * second) == .none)
        #expect(timeouts.action(for: .body(lastRead: 20 * second), unsentSince: nil, now: 50 * second) == .requestTimeout)
    }

    @Test func aRespondingConnectionIsOnlySubjectToWriteProgress() {
        #expect(timeouts.action(for: .responding, unsentSince: nil, now: 1000 * second) == .none)
        #expect(timeouts.action(for: .responding, unsentSince: 950 * second, now: 1000 * second) == .none)
        #expect(timeouts.action(for: .responding, unsentSince: 940 * second, now: 1000 * second) == .abortStalledWrite)
    }

    @Test func aClockThatDoesNotAdvanceNeverFires() {
        #expect(timeouts.action(for: .head(since: 10 * second), unsentSince: 10 * second, now: 5 * second) == .none)
    }

    @Test func sweepIntervalFollowsTheShortestTimeout() {
        #expect(timeouts.sweepInterval == 500_000_000)
        var configuration = HTTPServerConfiguration()
        configuration.headerTimeout = .milliseconds(1)
        #expect(ConnectionTimeouts(configuration: configuration).sweepInterval == 5_000_000)
    }
}
