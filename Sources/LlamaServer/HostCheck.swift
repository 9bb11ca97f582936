import ChatAPI
import HTTP

/// Refuses requests whose `Host` names another server: the DNS-rebinding guard (RELIABILITY.md T13,
/// CVE-2024-28224). A web page on `evil.example` whose name is re-pointed at 127.0.0.1 makes the browser send
/// same-origin requests to a loopback server, with `Host: evil.example`; CORS does not apply to them, and
/// without an API key nothing else would stop the page from using the model and reading the replies.
struct HostCheck: Responder {
    let inner: any Responder
    /// Accepted host names, lower case, without port or trailing dot (`[::1]` keeps its brackets).
    let allowed: Set<String>

    /// Names that always reach a loopback listener from this machine.
    static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "[::1]"]

    /// The guard for a server listening on `host` with the `allowed_hosts` setting, or nil when no check applies:
    /// `*` turns it off, and a server on another address is reached by names this process cannot know, so it is
    /// only checked against an explicit list.
    static func make(inner: any Responder, listeningOn host: String, allowedHosts: [String]) -> (any Responder)? {
        if allowedHosts.contains("*") { return nil }
        let isLoopback = ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.")
        if allowedHosts.isEmpty && !isLoopback { return nil }
        let listed = allowedHosts.map { normalized($0) }
        return HostCheck(inner: inner, allowed: Set(listed).union(isLoopback ? loopbackNames : []))
    }

    /// `Example.COM.:8080` → `example.com`; `[::1]:8080` → `[::1]`.
    static func normalized(_ host: String) -> String {
        var name = Substring(host.lowercased())
        if name.hasPrefix("[") {
            if let close = name.firstIndex(of: "]") { name = name[...close] }
        } else if let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        while name.hasSuffix(".") { name = name.dropLast() }
        return String(name)
    }

    private func refusal(_ request: HTTPRequest) -> HTTPResponse? {
        // HTTP/1.0 requests may omit Host; browsers never do, so there is nothing to guard against then.
        guard let host = request.headers["Host"], !allowed.contains(Self.normalized(host)) else { return nil }
        return APIError(
            status: 403, message: "Host '\(host)' is not served here; add it to allowed_hosts to accept it.",
            type: "invalid_request_error", code: "host_not_allowed"
        ).response
    }

    func respondImmediately(to request: HTTPRequest) -> HTTPResponse? {
        refusal(request) ?? inner.respondImmediately(to: request)
    }

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        if let refused = refusal(request) { return refused }
        return try await inner.respond(to: request)
    }
}
