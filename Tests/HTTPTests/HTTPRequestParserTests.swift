import HTTP
import Testing

/// Feeds `chunks` to a fresh parser, draining events after each, and returns what came out.
func parse(_ chunks: [ArraySlice<UInt8>], limits: HTTPParserLimits = HTTPParserLimits()) -> ParserOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParserOutcome(requests: [], ending: .incomplete)
    for chunk in chunks {
        parser.append(chunk)
        do {
            while let event = try parser.next() {
                switch event {
                case .continueExpected:
                    outcome.continues += 1
                case .request(let request):
                    outcome.requests.append(
                        .init(
                            method: request.method.rawValue, path: request.path, query: request.query,
                            body: String(decoding: request.body, as: UTF8.self), keepAlive: request.isKeepAlive))
                }
            }
        } catch {
            outcome.ending = .error(error)
            return outcome
        }
    }
    outcome.ending = parser.bufferedByteCount == 0 && parser.isBetweenRequests ? .complete : .incomplete
    return outcome
}

// Serialized: the corpus runs hundreds of CPU-bound cases; in parallel they would crowd out the loopback
// tests' handler tasks on a 2-core machine.
@Suite(.serialized) struct HTTPRequestParserTests {
    @Test("corpus case, in one piece", arguments: parserCorpus)
    func wholeInput(_ testCase: ParserCase) {
        #expect(parse([testCase.raw[...]]) == testCase.expected)
    }

    @Test("corpus case, byte by byte", arguments: parserCorpus)
    func byteByByte(_ testCase: ParserCase) {
        #expect(parse(testCase.raw.indices.map { testCase.raw[$0...$0] }) == testCase.expected)
    }

    @Test("corpus case, split in two at every offset", arguments: parserCorpus.filter { $0.raw.count < 400 })
    func everySplit(_ testCase: ParserCase) {
        for split in 0...testCase.raw.count {
            let outcome = parse([testCase.raw[..<split], testCase.raw[split...]])
            #expect(outcome == testCase.expected, "split at \(split)")
            if outcome != testCase.expected { return }
        }
    }

    @Test func corpusHasEnoughCases() {
        #expect(parserCorpus.count >= 50)
        let errors = Set(parserCorpus.compactMap { if case .error(let e) = $0.expected.ending { e } else { nil } })
        // Every rejection rule has at least one case.
        #expect(errors == Set(HTTPParseError.allCases))
    }

    @Test func errorsMapToTheirStatus() {
        #expect(HTTPParseError.requestLineTooLong.status.code == 414)
        #expect(HTTPParseError.headerSectionTooLarge.status.code == 431)
        #expect(HTTPParseError.tooManyHeaders.status.code == 431)
        #expect(HTTPParseError.bodyTooLarge.status.code == 413)
        #expect(HTTPParseError.unsupportedTransferCoding.status.code == 501)
        #expect(HTTPParseError.unsupportedVersion.status.code == 505)
        #expect(HTTPParseError.obsoleteLineFolding.status.code == 400)
        #expect(HTTPParseError.contentLengthWithTransferEncoding.status.code == 400)
    }

    @Test func anErrorIsSticky() {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/9.9\r\n".utf8))
        #expect(throws: HTTPParseError.unsupportedVersion) { try parser.next() }
        parser.append(Array("Host: a\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.unsupportedVersion) { try parser.next() }
    }

    @Test func bodyLimitIsConfigurable() {
        var limits = HTTPParserLimits()
        limits.maxBodyBytes = 4
        let fixed = Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello".utf8)
        #expect(parse([fixed[...]], limits: limits).ending == .error(.bodyTooLarge))
        let chunked = Array("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".utf8)
        #expect(parse([chunked[...]], limits: limits).ending == .error(.bodyTooLarge))
        let fits = Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd".utf8)
        #expect(parse([fits[...]], limits: limits) == .ok("POST", "/", body: "abcd"))
    }

    @Test func bodyTooLargeIsReportedBeforeTheBodyArrives() {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.bodyTooLarge) { try parser.next() }
    }

    @Test func continueIsSignalledBeforeTheBody() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8))
        guard case .continueExpected? = try parser.next() else {
            Issue.record("expected continueExpected")
            return
        }
        #expect(try parser.next() == nil)
        #expect(parser.isReceivingBody)
        parser.append(Array("ok".utf8))
        guard case .request(let request)? = try parser.next() else {
            Issue.record("expected the request")
            return
        }
        #expect(request.body == Array("ok".utf8))
    }

    @Test func headersKeepOrderAndDuplicates() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\nAuthorization: Bearer k\r\n\r\n".utf8))
        guard case .request(let request)? = try parser.next() else {
            Issue.record("expected a request")
            return
        }
        #expect(request.headers.values(for: "X-A") == ["1", "2"])
        #expect(request.headers["authorization"] == "Bearer k")
        #expect(request.headers.map(\.name) == ["Host", "X-A", "x-a", "Authorization"])
    }

    @Test func stateReportsBetweenRequests() throws {
        var parser = HTTPRequestParser()
        #expect(parser.isBetweenRequests)
        parser.append(Array("GET / HT".utf8))
        #expect(try parser.next() == nil)
        #expect(!parser.isBetweenRequests)
        parser.append(Array("TP/1.1\r\nHost: a\r\n\r\n".utf8))
        _ = try parser.next()
        #expect(parser.isBetweenRequests)
    }
}
