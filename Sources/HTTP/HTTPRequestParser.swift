/// The size limits a parser enforces; each has the status that answers it in ``HTTPParseError``.
package struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line in bytes, CR included (`414`).
    package var maxRequestLineBytes = 8 * 1024
    /// Largest header section in bytes, line ends included (`431`); also bounds the trailer section.
    package var maxHeaderSectionBytes = 32 * 1024
    /// Most header fields (`431`); also bounds the trailer fields.
    package var maxHeaderCount = 100
    /// Largest body, after de-chunking, with chunk extensions counted in (`413`).
    package var maxBodyBytes = 16 * 1024 * 1024
    /// Longest chunk extension of one chunk (`400`; CVE-2024-22019).
    package var maxChunkExtensionBytes = 4 * 1024

    /// Creates the default limits.
    package init() {}
}

/// What the parser produced from the bytes it has.
package enum HTTPParserEvent: Sendable {
    /// The head asked for `Expect: 100-continue` and a body follows: the server may send `100 Continue`.
    case continueExpected
    /// A complete request.
    case request(HTTPRequest)
}

/// An incremental HTTP/1.1 request parser (RFC 9112): bytes go in at arbitrary boundaries, complete
/// requests come out in order.
///
/// The parser is strict: anything ambiguous is an error, never a guess. Results do not depend on how the
/// input was split, because a line is only examined once its LF has arrived and every limit is checked
/// before content. After an error the parser stays failed: the connection must be closed.
///
///     var parser = HTTPRequestParser()
///     parser.append(bytes)
///     while let event = try parser.next() { … }
package struct HTTPRequestParser {
    /// The limits in force.
    package let limits: HTTPParserLimits

    // Bytes received and not yet consumed live in buffer[readIndex...]; scanIndex is where the search for
    // the next LF resumes, so a line dribbled in byte by byte is scanned once, not quadratically.
    var buffer: [UInt8] = []
    var readIndex = 0
    var scanIndex = 0
    var state = State.requestLine
    var head = PartialHead()
    var body: [UInt8] = []
    var failure: HTTPParseError?

    enum State: Equatable {
        case requestLine
        case headerLines
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd(sawCR: Bool)
        case trailerLines(bytes: Int, count: Int)
        case continueThenBody
    }

    /// Creates a parser with the given limits.
    package init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// The number of received bytes not yet consumed by a complete request.
    package var bufferedByteCount: Int { buffer.count - readIndex }

    /// A Boolean value indicating whether no part of a request has arrived since the last complete one.
    package var isBetweenRequests: Bool { state == .requestLine && readIndex == buffer.count }

    /// A Boolean value indicating whether the head is complete and the body is being received.
    package var isReceivingBody: Bool {
        switch state {
        case .requestLine, .headerLines: false
        default: true
        }
    }

    /// Adds received bytes.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes.
    package mutating func append(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Returns the next event the buffered bytes complete, or nil when more bytes are needed.
    ///
    /// - Throws: the first error in the input, and the same error on every later call.
    package mutating func next() throws(HTTPParseError) -> HTTPParserEvent? {
        if let failure { throw failure }
        do {
            return try step()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
            scanIndex = 0
        } else if readIndex >= 4096 && readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .requestLine:
                // RFC 9112 §2.2: ignore empty lines received before the request line.
                while buffer.count - readIndex >= 2 && buffer[readIndex] == ASCII.cr && buffer[readIndex + 1] == ASCII.lf {
                    readIndex += 2
                }
                if buffer.count - readIndex == 1 && buffer[readIndex] == ASCII.cr { return nil }
                guard let lineEnd = try nextLineEnd(limit: limits.maxRequestLineBytes, tooLong: .requestLineTooLong)
                else { return nil }
                try parseRequestLine(readIndex..<lineEnd)
                readIndex = lineEnd + 1
                state = .headerLines
            case .headerLines:
                let budget = limits.maxHeaderSectionBytes - head.sectionBytes
                guard let lineEnd = try nextLineEnd(limit: budget - 1, tooLong: .headerSectionTooLarge)
                else { return nil }
                head.sectionBytes += lineEnd + 1 - readIndex
                let line = readIndex..<lineEnd
                readIndex = lineEnd + 1
                if try isEmptyLine(line) {
                    try finishHead()
                    if case .requestLine = state { return .request(makeRequest()) }
                    if head.expectsContinue {
                        state = .continueThenBody
                        return .continueExpected
                    }
                } else {
                    guard head.fields.count < limits.maxHeaderCount else { throw .tooManyHeaders }
                    head.fields.append(try parseFieldLine(line))
                }
            case .continueThenBody:
                state = head.isChunked ? .chunkSizeLine : .fixedBody(remaining: head.contentLength)
            case .fixedBody(let remaining):
                let taken = min(remaining, buffer.count - readIndex)
                body.append(contentsOf: buffer[readIndex..<readIndex + taken])
                readIndex += taken
                if taken < remaining {
                    state = .fixedBody(remaining: remaining - taken)
                    return nil
                }
                state = .requestLine
                return .request(makeRequest())
            case .chunkSizeLine:
                let limit = 16 + 1 + limits.maxChunkExtensionBytes + 1
                guard let lineEnd = try nextLineEnd(limit: limit, tooLong: .chunkExtensionTooLong) else { return nil }
                let size = try parseChunkSizeLine(readIndex..<lineEnd)
                readIndex = lineEnd + 1
                state = size == 0 ? .trailerLines(bytes: 0, count: 0) : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let taken = min(remaining, buffer.count - readIndex)
                body.append(contentsOf: buffer[readIndex..<readIndex + taken])
                readIndex += taken
                if taken < remaining {
                    state = .chunkData(remaining: remaining - taken)
                    return nil
                }
                state = .chunkDataEnd(sawCR: false)
            case .chunkDataEnd(let sawCR):
                guard readIndex < buffer.count else { return nil }
                let byte = buffer[readIndex]
                readIndex += 1
                if !sawCR {
                    guard byte == ASCII.cr else { throw .invalidChunkTerminator }
                    state = .chunkDataEnd(sawCR: true)
                } else {
                    guard byte == ASCII.lf else { throw .invalidChunkTerminator }
                    state = .chunkSizeLine
                }
            case .trailerLines(let bytes, let count):
                let budget = limits.maxHeaderSectionBytes - bytes
                guard let lineEnd = try nextLineEnd(limit: budget - 1, tooLong: .headerSectionTooLarge)
                else { return nil }
                let line = readIndex..<lineEnd
                readIndex = lineEnd + 1
                if try isEmptyLine(line) {
                    state = .requestLine
                    return .request(makeRequest())
                }
                // RFC 9110 §6.5.1: trailers are checked for syntax and discarded, never merged into the head.
                guard count < limits.maxHeaderCount else { throw .tooManyHeaders }
                _ = try parseFieldLine(line)
                state = .trailerLines(bytes: bytes + line.count + 1, count: count + 1)
            }
        }
    }

    /// The index of the LF ending the line at `readIndex`, or nil when it has not arrived yet.
    ///
    /// - Throws: `tooLong` when the line (without its LF) is or must become longer than `limit`, whether or
    ///   not the LF has arrived, so the outcome does not depend on how the bytes were split.
    private mutating func nextLineEnd(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Int? {
        // Scanning through a buffer pointer keeps the hot loop free of array bounds checks; indices stay below
        // bytes.count by the loop condition.
        let found: Int? = buffer.withUnsafeBufferPointer { bytes in
            var index = max(scanIndex, readIndex)
            while index < bytes.count {
                if bytes[index] == ASCII.lf { return index }
                index += 1
            }
            return nil
        }
        guard let found else {
            scanIndex = buffer.count
            if buffer.count - readIndex > limit { throw tooLong }
            return nil
        }
        scanIndex = found + 1
        if found - readIndex > limit { throw tooLong }
        return found
    }

    /// Whether `line` (LF excluded) is the empty line `CR`; a line without its CR is a bare LF.
    private func isEmptyLine(_ line: Range<Int>) throws(HTTPParseError) -> Bool {
        guard !line.isEmpty, buffer[line.upperBound - 1] == ASCII.cr else { throw .invalidLineEnding }
        return line.count == 1
    }

    private mutating func makeRequest() -> HTTPRequest {
        var request = head.request
        request.body = body
        head = PartialHead()
        body = []
        return request
    }
}
