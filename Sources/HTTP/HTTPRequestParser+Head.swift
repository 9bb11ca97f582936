/// The head of the request being parsed, filled in line by line.
struct PartialHead {
    var request = HTTPRequest(
        method: .get, target: "/", path: "/", query: nil, version: .http1_1, headers: HTTPHeaders(), body: [])
    var fields: [HTTPHeaders.Field] = []
    var sectionBytes = 0
    var contentLength = 0
    var isChunked = false
    var expectsContinue = false
    var extensionBytes = 0
}

extension HTTPRequestParser {
    /// Parses `method SP request-target SP HTTP-version CR` (RFC 9112 §3), single spaces only.
    mutating func parseRequestLine(_ line: Range<Int>) throws(HTTPParseError) {
        let parsed = buffer.withUnsafeBytes { all in
            // Safe: `line` lies inside the buffer, as nextLineEnd found it there.
            Result { () throws(HTTPParseError) in try Self.parseRequestLine(UnsafeRawBufferPointer(rebasing: all[line])) }
        }
        head.request = try parsed.get()
    }

    private static func parseRequestLine(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPRequest {
        guard let last = bytes.last, last == ASCII.cr else { throw .invalidLineEnding }
        let content = bytes.prefix(bytes.count - 1)
        guard let firstSpace = content.firstIndex(of: ASCII.space) else { throw .invalidRequestLine }
        let method = UnsafeRawBufferPointer(rebasing: content[..<firstSpace])
        let afterMethod = content[(firstSpace + 1)...]
        guard let secondSpace = afterMethod.firstIndex(of: ASCII.space) else { throw .invalidRequestLine }
        let target = UnsafeRawBufferPointer(rebasing: afterMethod[..<secondSpace])
        let version = UnsafeRawBufferPointer(rebasing: afterMethod[(secondSpace + 1)...])

        guard !method.isEmpty, method.allSatisfy(ASCII.isToken) else {
            throw method.contains(where: { $0 == ASCII.cr }) ? .invalidLineEnding : .invalidMethod
        }
        let parsedMethod = HTTPMethod.parse(method)
        try validateTarget(target, method: parsedMethod)
        let parsedVersion = try parseVersion(version)

        let targetString = String(decoding: target, as: UTF8.self)
        var request = HTTPRequest(
            method: parsedMethod, target: targetString, path: "", query: nil, version: .http1_1,
            headers: HTTPHeaders(), body: [])
        if target.first == ASCII.slash {
            if let mark = target.firstIndex(of: ASCII.questionMark) {
                request.path = String(decoding: target[..<mark], as: UTF8.self)
                request.query = String(decoding: target[(mark + 1)...], as: UTF8.self)
            } else {
                request.path = targetString
            }
        } else {
            (request.path, request.query) = HTTPRequest.splitTarget(targetString)
        }
        request.version = parsedVersion
        return request
    }

    private static func validateTarget(_ target: UnsafeRawBufferPointer, method: HTTPMethod) throws(HTTPParseError) {
        guard let first = target.first else { throw .invalidRequestLine }
        for byte in target where !ASCII.isTarget(byte) {
            throw byte == ASCII.cr ? .invalidLineEnding : .invalidTarget
        }
        if first == ASCII.slash { return }  // origin-form
        if target.count == 1 && first == ASCII.asterisk {  // asterisk-form, OPTIONS only (RFC 9112 §3.2.4)
            guard method == .options else { throw .invalidTarget }
            return
        }
        if method == .connect { return }  // authority-form
        // absolute-form: only http and https URIs make sense for an origin server.
        let lower = target.prefix(8).map(ASCII.lowercased)
        guard lower.starts(with: "http://".utf8) || lower.starts(with: "https://".utf8) else { throw .invalidTarget }
    }

    private static func parseVersion(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPVersion {
        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
        guard bytes.count == 8, bytes.starts(with: "HTTP/".utf8), bytes[6] == UInt8(ascii: "."),
            let major = decimalDigit(bytes[5]), let minor = decimalDigit(bytes[7])
        else {
            throw bytes.contains(ASCII.cr) ? .invalidLineEnding : .invalidVersion
        }
        guard major == 1, minor <= 1 else { throw .unsupportedVersion }
        return minor == 1 ? .http1_1 : .http1_0
    }

    /// Parses `field-name ":" OWS field-value OWS CR` (RFC 9112 §5).
    func parseFieldLine(_ line: Range<Int>) throws(HTTPParseError) -> HTTPHeaders.Field {
        let parsed = buffer.withUnsafeBytes { all in
            // Safe: `line` lies inside the buffer, as nextLineEnd found it there.
            Result { () throws(HTTPParseError) in try Self.parseFieldLine(UnsafeRawBufferPointer(rebasing: all[line])) }
        }
        return try parsed.get()
    }

    private static func parseFieldLine(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPHeaders.Field {
        guard let last = bytes.last, last == ASCII.cr else { throw .invalidLineEnding }
        let content = bytes.prefix(bytes.count - 1)
        guard let first = content.first else { throw .invalidLineEnding }
        if ASCII.isWhitespace(first) { throw .obsoleteLineFolding }
        var colon = content.startIndex
        while colon < content.endIndex && ASCII.isToken(content[colon]) { colon += 1 }
        guard colon < content.endIndex, content[colon] == ASCII.colon else {
            if colon < content.endIndex {
                let byte = content[colon]
                if ASCII.isWhitespace(byte) { throw .whitespaceBeforeColon }
                if byte == ASCII.cr { throw .invalidLineEnding }
            }
            throw .invalidHeaderName
        }
        guard colon > content.startIndex else { throw .invalidHeaderName }
        var valueStart = colon + 1
        var valueEnd = content.endIndex
        while valueStart < valueEnd && ASCII.isWhitespace(content[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart && ASCII.isWhitespace(content[valueEnd - 1]) { valueEnd -= 1 }
        for byte in content[valueStart..<valueEnd] where !ASCII.isFieldValue(byte) {
            throw byte == ASCII.cr ? .invalidLineEnding : .invalidHeaderValue
        }
        return (
            name: String(decoding: content[..<colon], as: UTF8.self),
            value: String(decoding: content[valueStart..<valueEnd], as: UTF8.self)
        )
    }

    /// Applies the rules that need the whole head: Host, message framing, Expect (RFC 9112 §6.3, §3.2).
    mutating func finishHead() throws(HTTPParseError) {
        var hostCount = 0
        var contentLength: Int?
        var codingCount = 0
        var hasUnknownCoding = false
        var hasTransferEncoding = false
        for field in head.fields {
            let name = field.name
            if ASCII.caseInsensitiveEquals(name, "host") {
                hostCount += 1
                guard hostCount == 1 else { throw .duplicateHost }
                guard field.value.utf8.allSatisfy(ASCII.isHost) else { throw .invalidHost }
            } else if ASCII.caseInsensitiveEquals(name, "content-length") {
                // RFC 9110 §8.6: identical repeated values may be accepted; anything else is an attack.
                for element in field.value.utf8.split(separator: ASCII.comma, omittingEmptySubsequences: false) {
                    let value = try parseContentLength(trimmed(element))
                    if let contentLength, contentLength != value { throw .conflictingContentLength }
                    contentLength = value
                }
            } else if ASCII.caseInsensitiveEquals(name, "transfer-encoding") {
                hasTransferEncoding = true
                // Empty list elements are allowed and ignored (RFC 9110 §5.6.1).
                for element in field.value.utf8.split(separator: ASCII.comma) {
                    let coding = trimmed(element)
                    if coding.isEmpty { continue }
                    codingCount += 1
                    if !ASCII.caseInsensitiveEquals(coding, "chunked".utf8) { hasUnknownCoding = true }
                }
            } else if ASCII.caseInsensitiveEquals(name, "expect") {
                head.expectsContinue = ASCII.caseInsensitiveEquals(field.value, "100-continue")
            }
        }
        let version = head.request.version
        if version == .http1_1 && hostCount == 0 { throw .missingHost }
        if hasTransferEncoding {
            guard contentLength == nil else { throw .contentLengthWithTransferEncoding }
            guard version == .http1_1 else { throw .transferEncodingInHTTP10 }
            guard codingCount > 0 else { throw .invalidTransferEncoding }
            guard !hasUnknownCoding else { throw .unsupportedTransferCoding }
            guard codingCount == 1 else { throw .invalidTransferEncoding }  // "chunked, chunked"
            head.isChunked = true
        } else if let contentLength {
            guard contentLength <= limits.maxBodyBytes else { throw .bodyTooLarge }
            head.contentLength = contentLength
            body.reserveCapacity(min(contentLength, 64 * 1024))
        }
        head.request.headers = HTTPHeaders(head.fields)
        head.expectsContinue = head.expectsContinue && version == .http1_1 && (head.isChunked || head.contentLength > 0)
        if head.isChunked {
            state = .chunkSizeLine
        } else if head.contentLength > 0 {
            state = .fixedBody(remaining: head.contentLength)
        } else {
            state = .requestLine
        }
    }

    /// `Content-Length = 1*DIGIT`, by hand: `Int("+5")` would accept the sign RFC 9112 forbids.
    private func parseContentLength(_ digits: some Collection<UInt8>) throws(HTTPParseError) -> Int {
        guard !digits.isEmpty else { throw .invalidContentLength }
        var value = 0
        for byte in digits {
            guard let digit = decimalDigit(byte) else { throw .invalidContentLength }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit)
            // A length that overflows is also over any body limit, but say what is wrong with it.
            guard !overflow1, !overflow2 else { throw .invalidContentLength }
            value = sum
        }
        return value
    }

    /// Parses `chunk-size [ chunk-ext ] CR` (RFC 9112 §7.1) and returns the size.
    mutating func parseChunkSizeLine(_ line: Range<Int>) throws(HTTPParseError) -> Int {
        guard let last = line.last.map({ buffer[$0] }), last == ASCII.cr else { throw .invalidLineEnding }
        var index = line.lowerBound
        let end = line.upperBound - 1
        var size = 0
        var digits = 0
        while index < end, let digit = ASCII.hexValue(buffer[index]) {
            digits += 1
            // At most 16 hex digits, and no overflow of Int (RFC 9112 §7.1 "anticipate large numerals").
            guard digits <= 16, size <= (Int.max - digit) >> 4 else { throw .invalidChunkSize }
            size = size << 4 | digit
            index += 1
        }
        guard digits > 0 else { throw .invalidChunkSize }
        if index < end {
            // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): skipped, but checked for bytes.
            while index < end && ASCII.isWhitespace(buffer[index]) { index += 1 }
            guard index < end, buffer[index] == ASCII.semicolon else { throw .invalidChunkSize }
            let extensionBytes = end - index
            guard extensionBytes <= limits.maxChunkExtensionBytes else { throw .chunkExtensionTooLong }
            for position in index..<end where !ASCII.isFieldValue(buffer[position]) {
                throw buffer[position] == ASCII.cr ? .invalidLineEnding : .invalidChunkExtension
            }
            head.extensionBytes += extensionBytes
        }
        let (total, overflow) = body.count.addingReportingOverflow(size)
        guard !overflow, total + head.extensionBytes <= limits.maxBodyBytes else { throw .bodyTooLarge }
        return size
    }
}

@inline(__always) private func decimalDigit(_ byte: UInt8) -> Int? {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte &- UInt8(ascii: "0")) : nil
}

private func trimmed<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> C.SubSequence {
    var slice = bytes[...]
    while let first = slice.first, ASCII.isWhitespace(first) { slice.removeFirst() }
    while let last = slice.last, ASCII.isWhitespace(last) { slice.removeLast() }
    return slice
}
