import HTTP
import Synchronization

/// The writer a streaming handler gets: it frames each write as a chunk into a buffer shared with the
/// connection's I/O queue, and suspends the producer while the connection holds too many unsent bytes.
///
/// Writes do not hop to the I/O queue one by one: they append under a lock and schedule at most one flush,
/// so events produced faster than the queue runs go out together in one `send` (batching), while a lone
/// event is flushed as soon as the queue gets to it (latency).
final class StreamBodyWriter: ResponseBodyWriter {
    private struct State {
        /// Framed bytes not yet taken by the connection.
        var pending: [UInt8] = []
        /// Unsent bytes the connection already holds, as of its last flush.
        var backlog = 0
        var isFlushScheduled = false
        var isFinished = false
        var isAborted = false
        var failure: TransportError?
        var waiter: CheckedContinuation<Void, any Error>?
        var bodyBytes = 0
    }

    private let state = Mutex(State())
    private let isChunked: Bool
    private let bound: Int
    private let scheduleFlush: @Sendable () -> Void

    /// - Parameters:
    ///   - isChunked: frame writes as chunks (HTTP/1.1) or send them raw (close-delimited HTTP/1.0).
    ///   - bound: the most unsent bytes (pending plus backlog) before writers suspend.
    ///   - scheduleFlush: asks the connection's queue to take the pending bytes.
    init(isChunked: Bool, bound: Int, scheduleFlush: @escaping @Sendable () -> Void) {
        self.isChunked = isChunked
        self.bound = bound
        self.scheduleFlush = scheduleFlush
    }

    func write(_ bytes: [UInt8]) async throws {
        try Task.checkCancellation()
        guard !bytes.isEmpty else { return }
        let (mustSchedule, mustWait) = try state.withLock { state throws(TransportError) -> (Bool, Bool) in
            if let failure = state.failure { throw failure }
            // A writer that escaped its handler must not trap the server: the stream is over, say so.
            if state.isFinished { throw .streamFinished }
            if isChunked {
                HTTPResponseEncoder.encodeChunk(bytes, into: &state.pending)
            } else {
                state.pending.append(contentsOf: bytes)
            }
            state.bodyBytes += bytes.count
            let mustSchedule = !state.isFlushScheduled
            state.isFlushScheduled = true
            return (mustSchedule, state.pending.count + state.backlog > bound)
        }
        if mustSchedule { scheduleFlush() }
        if mustWait { try await waitForSpace() }
    }

    private func waitForSpace() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, TransportError>? = state.withLock { state in
                    if let failure = state.failure { return .failure(failure) }
                    if state.pending.count + state.backlog <= bound { return .success(()) }
                    state.waiter = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            fail(.clientDisconnected)
        }
    }

    /// Ends the body once the producer returned: queues the last chunk, or, when the producer threw
    /// (`aborted`), marks the body as cut short so the connection closes without one.
    func finish(aborted: Bool = false) {
        let mustSchedule = state.withLock { state -> Bool in
            guard state.failure == nil, !state.isFinished else { return false }
            state.isFinished = true
            state.isAborted = aborted
            if isChunked && !aborted { state.pending.append(contentsOf: HTTPResponseEncoder.lastChunk) }
            let mustSchedule = !state.isFlushScheduled
            state.isFlushScheduled = true
            return mustSchedule
        }
        if mustSchedule { scheduleFlush() }
    }

    /// Makes every pending and later write throw `error`; the first failure wins.
    func fail(_ error: TransportError) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.failure == nil { state.failure = error }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: error)
    }

    /// What the connection takes in one flush.
    struct Drained {
        var isFinished: Bool
        var isAborted: Bool
        var bodyBytes: Int
    }

    /// Moves the pending bytes to `outbound` (on the connection's queue), where `unsent` bytes already wait.
    ///
    /// The backlog is updated in the same critical section, so a producer never sees the bytes in neither
    /// place and overshoots the bound.
    func drain(into outbound: inout [UInt8], unsent: Int) -> Drained {
        state.withLock { state in
            state.backlog = unsent + state.pending.count
            if outbound.isEmpty {
                swap(&outbound, &state.pending)  // reuse the writer's buffer instead of copying it
            } else {
                outbound.append(contentsOf: state.pending)
                state.pending.removeAll(keepingCapacity: true)
            }
            state.isFlushScheduled = false
            return Drained(isFinished: state.isFinished, isAborted: state.isAborted, bodyBytes: state.bodyBytes)
        }
    }

    /// Records how many bytes the connection still holds and wakes a waiting producer when there is room.
    func updateBacklog(_ unsent: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            state.backlog = unsent
            guard state.pending.count + unsent <= bound, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}
