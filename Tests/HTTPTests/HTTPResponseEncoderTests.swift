import HTTP
import Testing

private func head(_ response: HTTPResponse, method: HTTPMethod = .get, version: HTTPVersion = .http1_1, keepAlive: Bool = true)
    -> String
{
    var bytes: [UInt8] = []
    let framing = HTTPResponseEncoder.framing(for: response, method: method, version: version)
    HTTPResponseEncoder.encodeHead(
        response, framing: framing, keepAlive: keepAlive, requestVersion: version,
        date: "Sun, 06 Nov 1994 08:49:37 GMT", server: "LlamaServe", into: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

@Suite struct HTTPResponseEncoderTests {
    @Test func encodesStatusLineLengthDateAndServer() {
        let text = head(.json(#"{"status":"ok"}"#))
        #expect(
            text == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
                + "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: LlamaServe\r\n\r\n")
    }

    @Test func streamsAreChunkedForHTTP11AndCloseDelimitedForHTTP10() {
        let stream = HTTPResponse.eventStream { _ in }
        #expect(HTTPResponseEncoder.framing(for: stream, method: .get, version: .http1_1) == .chunked)
        #expect(HTTPResponseEncoder.framing(for: stream, method: .get, version: .http1_0) == .closeDelimited)
        let text = head(stream)
        #expect(text.contains("Transfer-Encoding: chunked\r\n"))
        #expect(text.contains("Content-Type: text/event-stream\r\n"))
        #expect(text.contains("Cache-Control: no-cache\r\n"))
        #expect(!text.contains("Content-Length"))
    }

    @Test func connectionHeaderFollowsKeepAlive() {
        #expect(head(.json("{}"), keepAlive: false).contains("Connection: close\r\n"))
        #expect(head(.json("{}"), version: .http1_0).contains("Connection: keep-alive\r\n"))
        #expect(!head(.json("{}")).contains("Connection"))
    }

    @Test func bodilessStatusesHaveNoLength() {
        let text = head(HTTPResponse(status: .noContent, headers: ["Allow": "GET"]))
        #expect(!text.contains("Content-Length"))
        #expect(text.hasPrefix("HTTP/1.1 204 No Content\r\n"))
    }

    @Test func handlerCannotSplitTheResponseOrOverrideFraming() {
        var response = HTTPResponse.json("{}")
        response.headers.add(name: "X-Evil", value: "a\r\nSet-Cookie: x")
        response.headers.add(name: "Content-Length", value: "999")
        response.headers.add(name: "Bad Name", value: "v")
        let text = head(response)
        #expect(!text.contains("Set-Cookie"))
        #expect(!text.contains("999"))
        #expect(!text.contains("Bad Name"))
        #expect(text.contains("Content-Length: 2\r\n"))
    }

    @Test func chunkFraming() {
        var bytes: [UInt8] = []
        HTTPResponseEncoder.encodeChunk(Array(repeating: 65, count: 26), into: &bytes)
        HTTPResponseEncoder.encodeChunk([], into: &bytes)
        bytes += HTTPResponseEncoder.lastChunk
        #expect(String(decoding: bytes, as: UTF8.self) == "1a\r\n" + String(repeating: "A", count: 26) + "\r\n0\r\n\r\n")
    }

    @Test(arguments: [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"), (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"), (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
    ])
    func imfFixdate(seconds: Int, expected: String) {
        #expect(HTTPDate.imfFixdate(secondsSince1970: seconds) == expected)
    }

    @Test func jsonStringEscaping() {
        #expect(JSONString.quoted("a\"b\\c\nd\te\u{1}f\u{2028}é") == #""a\"b\\c\nd\te\u0001f\u2028é""#)
        let error = HTTPErrorResponse(.badRequest, message: "bad \"x\"", code: "c")
        #expect(error.jsonBody == #"{"error":{"message":"bad \"x\"","type":"invalid_request_error","param":null,"code":"c"}}"#)
    }
}

@Suite struct ServerSentEventTests {
    @Test func encodesDataLines() {
        #expect(ServerSentEvent(data: "hello").encoded() == Array("data: hello\n\n".utf8))
        #expect(ServerSentEvent(data: "a\nb\r\nc\rd").encoded() == Array("data: a\ndata: b\ndata: c\ndata: d\n\n".utf8))
        #expect(ServerSentEvent(data: "").encoded() == Array("data: \n\n".utf8))
    }

    @Test func encodesEventIdAndRetryWithoutInjection() {
        let event = ServerSentEvent(data: "x", event: "tok\nen", id: "7\r\ndata: evil", retry: 1500)
        #expect(String(decoding: event.encoded(), as: UTF8.self) == "event: token\nid: 7data: evil\nretry: 1500\ndata: x\n\n")
    }

    @Test func encodesComments() {
        #expect(ServerSentEvent.comment() == Array(": ping\n\n".utf8))
        #expect(ServerSentEvent.comment("a\nb") == Array(": ab\n\n".utf8))
    }
}

@Suite struct HTTPHeadersTests {
    @Test func lookupIsCaseInsensitiveAndOrdered() {
        var headers: HTTPHeaders = ["Content-Type": "text/plain", "X-A": "1"]
        headers.add(name: "x-a", value: "2")
        #expect(headers["CONTENT-TYPE"] == "text/plain")
        #expect(headers.values(for: "x-A") == ["1", "2"])
        headers.replaceOrAdd(name: "X-a", value: "3")
        #expect(headers.values(for: "x-a") == ["3"])
        headers.remove(name: "content-type")
        #expect(headers.count == 1)
        #expect(headers.containsToken("3", in: "X-A"))
    }
}
