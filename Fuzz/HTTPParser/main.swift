// libFuzzer target for HTTPRequestParser, compiled together with Sources/HTTP by scripts/fuzz-http.sh.
//
// Input: byte 0 seeds the split points, the rest is the byte stream a client sent. The stream is parsed in
// one piece and again cut into fuzzer-chosen pieces; the two runs must agree exactly. Every request the
// parser accepts must respect the limits and survive a round trip: re-encoded canonically (Content-Length
// framing) and parsed again, it must come out the same. Any violation traps, which libFuzzer reports.

private let limits: HTTPParserLimits = {
    // Small limits, so the fuzzer reaches every limit path with short inputs.
    var limits = HTTPParserLimits()
    limits.maxRequestLineBytes = 256
    limits.maxHeaderSectionBytes = 1024
    limits.maxHeaderCount = 12
    limits.maxBodyBytes = 2048
    limits.maxChunkExtensionBytes = 64
    return limits
}()

private struct Outcome: Equatable {
    var requests: [Snapshot] = []
    var continues = 0
    var error: HTTPParseError?
    var leftover = 0
}

private struct Snapshot: Equatable {
    var method: String
    var target: String
    var path: String
    var query: String?
    var version: HTTPVersion
    var headers: [String]
    var body: [UInt8]
    var keepAlive: Bool

    init(_ request: HTTPRequest) {
        method = request.method.rawValue
        target = request.target
        path = request.path
        query = request.query
        version = request.version
        headers = request.headers.map { "\($0.name): \($0.value)" }
        body = request.body
        keepAlive = request.isKeepAlive
    }
}

private func parse(_ pieces: [ArraySlice<UInt8>]) -> Outcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = Outcome()
    for piece in pieces {
        parser.append(piece)
        do {
            while let event = try parser.next() {
                switch event {
                case .continueExpected: outcome.continues += 1
                case .request(let request): outcome.requests.append(Snapshot(request))
                }
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    outcome.leftover = parser.bufferedByteCount
    return outcome
}

/// The request as a well-behaved client would send it: same line and fields, Content-Length framing.
private func canonicalBytes(_ request: Snapshot) -> [UInt8] {
    var text = "\(request.method) \(request.target) \(request.version)\r\n"
    for field in request.headers {
        let name = field.prefix { $0 != ":" }.lowercased()
        if name == "content-length" || name == "transfer-encoding" { continue }
        text += field + "\r\n"
    }
    text += "Content-Length: \(request.body.count)\r\n\r\n"
    return Array(text.utf8) + request.body
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 1 else { return 0 }
    let all = Array(UnsafeBufferPointer(start: data, count: size))
    let seed = all[0]
    let input = all[1...]

    let whole = parse([input])

    // Pieces of 1 to 16 bytes, sizes drawn from a generator seeded by the first byte.
    var state = UInt32(seed) &* 2_654_435_761 | 1
    var pieces: [ArraySlice<UInt8>] = []
    var start = input.startIndex
    while start < input.endIndex {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        let length = seed & 0x80 != 0 ? 1 : Int(state % 16) + 1
        let end = min(start + length, input.endIndex)
        pieces.append(input[start..<end])
        start = end
    }
    let split = parse(pieces)
    precondition(whole == split, "split parse differs from whole parse")

    for request in whole.requests {
        precondition(request.body.count <= limits.maxBodyBytes, "body over the limit")
        precondition(request.headers.count <= limits.maxHeaderCount, "too many headers")
        precondition(request.version == .http1_0 || request.version == .http1_1, "unsupported version")
        let again = parse([canonicalBytes(request)[...]])
        // A canonical request can only fail on limits the re-encoding itself may cross.
        if let error = again.error {
            precondition(
                error == .headerSectionTooLarge || error == .tooManyHeaders || error == .requestLineTooLong,
                "canonical form rejected: \(error)")
            continue
        }
        precondition(again.requests.count == 1 && again.leftover == 0, "canonical form not one request")
        var expected = request
        expected.headers = request.headers.filter {
            let name = $0.prefix { $0 != ":" }.lowercased()
            return name != "content-length" && name != "transfer-encoding"
        } + ["Content-Length: \(request.body.count)"]
        precondition(again.requests[0] == expected, "round trip changed the request")
    }
    if let error = whole.error {
        precondition([400, 413, 414, 431, 501, 505].contains(error.status.code), "unexpected status")
    }
    return 0
}
