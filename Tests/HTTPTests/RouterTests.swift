import HTTP
import Testing

private struct Teapot: HTTPResponseConvertible {
    var response: HTTPResponse { HTTPErrorResponse(HTTPStatus(code: 418, reasonPhrase: "I'm a teapot"), message: "short and stout").response }
}

private struct Secret: Error { let detail = "password=hunter2" }

private func bodyText(_ response: HTTPResponse) -> String {
    guard case .bytes(let bytes) = response.body else { return "<stream>" }
    return String(decoding: bytes, as: UTF8.self)
}

private func makeRouter() -> Router {
    var router = Router()
    router.add(.post, "/v1/chat/completions") { request, _ in .json(#"{"n":\#(request.body.count)}"#) }
    router.add(.get, "/v1/models/{id}") { _, parameters in .json(JSONString.quoted(parameters["id"] ?? "?")) }
    router.add(.get, "/v1/models/{id}/files/{name}") { _, parameters in
        .json(JSONString.quoted("\(parameters["id"] ?? "")+\(parameters["name"] ?? "")"))
    }
    router.addImmediate(.get, "/health") { _, _ in .json(#"{"status":"ok"}"#) }
    router.add(.get, "/teapot") { _, _ in throw Teapot() }
    router.add(.get, "/boom") { _, _ in throw Secret() }
    return router
}

@Suite struct RouterTests {
    let router = makeRouter()

    @Test func routesByMethodAndPath() async throws {
        let response = try await router.respond(to: HTTPRequest(method: .post, target: "/v1/chat/completions", body: [1, 2, 3]))
        #expect(response.status == .ok)
        #expect(bodyText(response) == #"{"n":3}"#)
    }

    @Test func pathParametersArePercentDecoded() async throws {
        let response = try await router.respond(to: HTTPRequest(method: .get, target: "/v1/models/llama%2D2?x=1"))
        #expect(bodyText(response) == #""llama-2""#)
        let two = try await router.respond(to: HTTPRequest(method: .get, target: "/v1/models/a/files/b"))
        #expect(bodyText(two) == #""a+b""#)
        let missing = try await router.respond(to: HTTPRequest(method: .get, target: "/v1/models/"))
        #expect(missing.status == .notFound)
    }

    @Test func unknownPathIs404WithOpenAIErrorJSON() async throws {
        let response = try await router.respond(to: HTTPRequest(method: .get, target: "/nope"))
        #expect(response.status == .notFound)
        #expect(response.headers["content-type"] == "application/json")
        #expect(bodyText(response) == #"{"error":{"message":"No route for /nope.","type":"invalid_request_error","param":null,"code":null}}"#)
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        let response = try await router.respond(to: HTTPRequest(method: .get, target: "/v1/chat/completions"))
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "OPTIONS, POST")
        let health = try await router.respond(to: HTTPRequest(method: .delete, target: "/health"))
        #expect(health.headers["Allow"] == "GET, HEAD, OPTIONS")
    }

    @Test func optionsListsTheMethods() async throws {
        let response = try await router.respond(to: HTTPRequest(method: .options, target: "/v1/chat/completions"))
        #expect(response.status == .noContent)
        #expect(response.headers["Allow"] == "OPTIONS, POST")
        let star = try await router.respond(to: HTTPRequest(method: .options, target: "*"))
        #expect(star.headers["Allow"] == "GET, HEAD, OPTIONS, POST")
    }

    @Test func headUsesTheGetHandler() async throws {
        let response = try await router.respond(to: HTTPRequest(method: .head, target: "/health"))
        #expect(response.status == .ok)
    }

    @Test func convertibleErrorsRenderThemselves() async throws {
        let response = try await router.respond(to: HTTPRequest(method: .get, target: "/teapot"))
        #expect(response.status.code == 418)
        #expect(bodyText(response).contains("short and stout"))
    }

    @Test func otherErrorsAre500WithoutDetails() async throws {
        let response = try await router.respond(to: HTTPRequest(method: .get, target: "/boom"))
        #expect(response.status == .internalServerError)
        #expect(bodyText(response).contains(#""type":"server_error""#))
        #expect(!bodyText(response).contains("hunter2"))
    }

    @Test func immediatePathSkipsSuspendingRoutes() {
        #expect(router.respondImmediately(to: HTTPRequest(method: .get, target: "/health")) != nil)
        #expect(router.respondImmediately(to: HTTPRequest(method: .get, target: "/nope"))?.status == .notFound)
        #expect(router.respondImmediately(to: HTTPRequest(method: .post, target: "/v1/chat/completions")) == nil)
    }
}
