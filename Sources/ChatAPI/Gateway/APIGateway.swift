import HTTP
import Inference

/// The front of the API: authentication, CORS, `/metrics`, request counting and access-log annotations, in
/// front of the router.
package struct APIGateway: Responder {
    package struct Configuration: Sendable {
        /// Accepted `Authorization: Bearer` keys; empty disables authentication.
        package var apiKeys: [String] = []
        /// Origins allowed by CORS; empty disables CORS, `*` allows any origin.
        package var corsOrigins: [String] = []
        package var metricsEnabled = true
        /// Paths served without a key.
        package var openPaths: Set<String> = ["/health", "/v1/health"]

        package init() {}
    }

    let router: Router
    let configuration: Configuration
    let metrics: APIMetrics
    let state: APIState
    private let keys: [[UInt8]]

    package init(router: Router, configuration: Configuration, metrics: APIMetrics, state: APIState) {
        self.router = router
        self.configuration = configuration
        self.metrics = metrics
        self.state = state
        keys = configuration.apiKeys.map { Array($0.utf8) }
    }

    package func respondImmediately(to request: HTTPRequest) -> HTTPResponse? {
        // Only the open, synchronous routes (health) take the fast path; everything else needs checks.
        guard configuration.openPaths.contains(request.path), request.method != .options,
            var response = router.respondImmediately(to: request)
        else { return nil }
        addCORS(&response, request)
        metrics.countRequest(path: request.path, status: response.status.code)
        return response
    }

    package func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        var response = await dispatch(request)
        addCORS(&response, request)
        metrics.countRequest(path: request.path, status: response.status.code)
        return response
    }

    private func dispatch(_ request: HTTPRequest) async -> HTTPResponse {
        if request.method == .options, request.headers["Access-Control-Request-Method"] != nil {
            return preflight(request)
        }
        if !keys.isEmpty && !configuration.openPaths.contains(request.path) && !isAuthorized(request) {
            return APIError(
                status: 401, message: "Invalid or missing API key; send 'Authorization: Bearer YOUR_KEY'.",
                type: "invalid_request_error", code: "invalid_api_key"
            ).response
        }
        if request.path == "/metrics" && configuration.metricsEnabled && (request.method == .get || request.method == .head) {
            var engine: EngineMetrics?
            if case .ready(let service) = state.current { engine = service.generator.metrics }
            return HTTPResponse(
                status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render(engine: engine))
        }
        let annotations = RequestAnnotations()
        var response = await RequestAnnotations.$current.withValue(annotations) {
            await router.respondRenderingErrors(to: request)
        }
        if case .stream(let produce) = response.body {
            // The stream runs later, in the transport's task: carry the annotations into it.
            response.body = .stream { writer in
                try await RequestAnnotations.$current.withValue(annotations) { try await produce(writer) }
            }
        }
        response.annotations = annotations
        return response
    }

    /// Compares the bearer token with every key in time that depends only on the candidate's length, so timing
    /// reveals neither a key nor how much of it matched.
    private func isAuthorized(_ request: HTTPRequest) -> Bool {
        guard let header = request.headers["Authorization"], header.hasPrefix("Bearer ") else { return false }
        let candidate = Array(header.utf8.dropFirst(7))
        var matched = false
        for key in keys {
            // The whole length difference counts: truncated to a byte, a key repeated until the lengths differ by
            // a multiple of 256 would match.
            var difference = (key.count ^ candidate.count) | (key.isEmpty ? 1 : 0)
            for (i, byte) in candidate.enumerated() {
                difference |= Int(byte ^ (key.isEmpty ? 0 : key[i % key.count]))
            }
            matched = matched || difference == 0
        }
        return matched
    }

    private func allowedOrigin(_ request: HTTPRequest) -> String? {
        guard !configuration.corsOrigins.isEmpty, let origin = request.headers["Origin"] else { return nil }
        if configuration.corsOrigins.contains("*") { return "*" }
        return configuration.corsOrigins.contains(origin) ? origin : nil
    }

    private func addCORS(_ response: inout HTTPResponse, _ request: HTTPRequest) {
        guard let origin = allowedOrigin(request) else { return }
        response.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: origin)
        if origin != "*" { response.headers.replaceOrAdd(name: "Vary", value: "Origin") }
    }

    private func preflight(_ request: HTTPRequest) -> HTTPResponse {
        guard allowedOrigin(request) != nil else {
            return APIError(status: 403, message: "CORS: this origin is not allowed.", type: "invalid_request_error").response
        }
        return HTTPResponse(status: .noContent, headers: [
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        ])
    }
}
