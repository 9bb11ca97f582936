/// A type that answers requests.
package protocol Responder: Sendable {
    /// Returns the response to `request`.
    ///
    /// Runs in its own task; the task is cancelled when the client disconnects. A thrown error that conforms
    /// to ``HTTPResponseConvertible`` renders itself; any other becomes a `500` JSON error.
    func respond(to request: HTTPRequest) async throws -> HTTPResponse

    /// Returns the response at once when it needs no suspension, or nil to have ``respond(to:)`` called in a
    /// task.
    ///
    /// The transport calls this on its I/O queue, so an implementation must be quick and must not block. It
    /// is the fast path for trivial routes (`/health`, `404`, `405`) that would otherwise pay for a task.
    func respondImmediately(to request: HTTPRequest) -> HTTPResponse?
}

extension Responder {
    /// Never answers immediately: every request goes through ``respond(to:)``.
    package func respondImmediately(to request: HTTPRequest) -> HTTPResponse? { nil }
}

extension Responder {
    /// Calls ``respond(to:)`` and turns a thrown error into its response, so the caller always gets one.
    package func respondRenderingErrors(to request: HTTPRequest) async -> HTTPResponse {
        do {
            return try await respond(to: request)
        } catch {
            return HTTPErrorResponse.response(for: error)
        }
    }
}
