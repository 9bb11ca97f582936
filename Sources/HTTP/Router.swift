/// The values of a route's `{name}` segments, percent-decoded.
package struct RouteParameters: Sendable, Equatable {
    private var values: [(name: String, value: String)] = []

    /// Creates an empty parameter list.
    package init() {}

    /// The value of parameter `name`, or nil.
    package subscript(name: String) -> String? { values.first { $0.name == name }?.value }

    mutating func append(name: String, value: String) { values.append((name, value)) }

    /// Whether both lists have the same parameters in the same order.
    package static func == (lhs: RouteParameters, rhs: RouteParameters) -> Bool {
        lhs.values.elementsEqual(rhs.values) { $0 == $1 }
    }
}

/// A responder that dispatches on method and path.
///
/// Paths match exactly, segment by segment; a `{name}` segment matches any one non-empty segment. Answers
/// `404` (JSON) for unknown paths, `405` with `Allow` for a known path with another method, `HEAD` with the
/// `GET` handler, and `OPTIONS` with `204` and `Allow`. A thrown error renders itself if it is
/// ``HTTPResponseConvertible`` and becomes a `500` JSON error otherwise.
package struct Router: Responder {
    /// A handler that may suspend; it runs in a task that is cancelled when the client disconnects.
    package typealias Handler = @Sendable (HTTPRequest, RouteParameters) async throws -> HTTPResponse
    /// A handler that answers at once on the I/O queue: for trivial routes only, it must never block.
    package typealias ImmediateHandler = @Sendable (HTTPRequest, RouteParameters) -> HTTPResponse

    enum Action: Sendable {
        case suspending(Handler)
        case immediate(ImmediateHandler)
    }

    private struct Route: Sendable {
        var segments: [Segment]
        var actions: [HTTPMethod: Action]
    }

    private enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    private var literalRoutes: [String: [HTTPMethod: Action]] = [:]
    private var patternRoutes: [Route] = []

    /// Creates a router with no routes.
    package init() {}

    /// Adds a route whose handler may suspend.
    ///
    /// - Parameters:
    ///   - method: the method to match (`GET` also answers `HEAD`).
    ///   - pattern: a path such as `/v1/chat/completions` or `/v1/models/{id}`.
    ///   - handler: called with the request and the path parameters.
    package mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        insert(method, pattern, .suspending(handler))
    }

    /// Adds a route answered synchronously on the I/O queue, without a task (for `/health`).
    package mutating func addImmediate(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping ImmediateHandler) {
        insert(method, pattern, .immediate(handler))
    }

    private mutating func insert(_ method: HTTPMethod, _ pattern: String, _ action: Action) {
        let segments = Router.split(pattern).map { part -> Segment in
            part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2
                ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
        if segments.allSatisfy({ if case .literal = $0 { true } else { false } }) {
            literalRoutes[pattern, default: [:]][method] = action
        } else if let index = patternRoutes.firstIndex(where: { $0.segments == segments }) {
            patternRoutes[index].actions[method] = action
        } else {
            patternRoutes.append(Route(segments: segments, actions: [method: action]))
        }
    }

    /// Answers immediate routes and the router's own responses (404, 405, OPTIONS) without suspending;
    /// nil for routes whose handler may suspend.
    package func respondImmediately(to request: HTTPRequest) -> HTTPResponse? {
        switch resolve(request) {
        case .action(.immediate(let handler), let parameters): handler(request, parameters)
        case .action(.suspending, _): nil
        case .response(let response): response
        }
    }

    /// Dispatches to the matching route and renders what it throws.
    package func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        switch resolve(request) {
        case .action(.immediate(let handler), let parameters):
            return handler(request, parameters)
        case .action(.suspending(let handler), let parameters):
            do {
                return try await handler(request, parameters)
            } catch {
                return HTTPErrorResponse.response(for: error)
            }
        case .response(let response):
            return response
        }
    }

    private enum Resolution {
        case action(Action, RouteParameters)
        case response(HTTPResponse)
    }

    private func resolve(_ request: HTTPRequest) -> Resolution {
        if request.path == "*" {
            var all = Set<HTTPMethod>()
            for actions in literalRoutes.values { all.formUnion(actions.keys) }
            for route in patternRoutes { all.formUnion(route.actions.keys) }
            return .response(Router.optionsResponse(allowing: all))
        }
        guard let (actions, parameters) = match(request.path) else {
            return .response(HTTPErrorResponse(.notFound, message: "No route for \(request.path).").response)
        }
        if let action = actions[request.method] { return .action(action, parameters) }
        if request.method == .head, let action = actions[.get] { return .action(action, parameters) }
        if request.method == .options { return .response(Router.optionsResponse(allowing: Set(actions.keys))) }
        let allow = Router.allowValue(Set(actions.keys))
        return .response(
            HTTPErrorResponse(
                .methodNotAllowed, message: "Method \(request.method) is not allowed for \(request.path).",
                headers: ["Allow": allow]
            ).response)
    }

    private func match(_ path: String) -> ([HTTPMethod: Action], RouteParameters)? {
        if let actions = literalRoutes[path] { return (actions, RouteParameters()) }
        guard !patternRoutes.isEmpty else { return nil }
        let parts = Router.split(path)
        routes: for route in patternRoutes where route.segments.count == parts.count {
            var parameters = RouteParameters()
            for (segment, part) in zip(route.segments, parts) {
                switch segment {
                case .literal(let literal): if literal != part { continue routes }
                case .parameter(let name):
                    if part.isEmpty { continue routes }
                    parameters.append(name: name, value: percentDecoded(part))
                }
            }
            return (route.actions, parameters)
        }
        return nil
    }

    private static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }
    }

    private static func optionsResponse(allowing methods: Set<HTTPMethod>) -> HTTPResponse {
        HTTPResponse(status: .noContent, headers: ["Allow": allowValue(methods)])
    }

    private static func allowValue(_ methods: Set<HTTPMethod>) -> String {
        var all = methods
        if all.contains(.get) { all.insert(.head) }
        all.insert(.options)
        return all.map(\.rawValue).sorted().joined(separator: ", ")
    }
}

/// Decodes `%XX` escapes; returns the input unchanged when an escape is malformed or the result is not UTF-8.
func percentDecoded(_ text: Substring) -> String {
    guard text.contains("%") else { return String(text) }
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8)[...]
    while let byte = iterator.popFirst() {
        if byte == UInt8(ascii: "%") {
            guard let high = iterator.popFirst().flatMap(ASCII.hexValue),
                let low = iterator.popFirst().flatMap(ASCII.hexValue)
            else { return String(text) }
            bytes.append(UInt8(high << 4 | low))
        } else {
            bytes.append(byte)
        }
    }
    return String(validating: bytes, as: UTF8.self) ?? String(text)
}
