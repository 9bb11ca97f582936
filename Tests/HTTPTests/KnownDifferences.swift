import HTTP

/// What our parser made of one input, in the terms the differential test compares.
struct OurVerdict: CustomStringConvertible {
    var bodies: [Int] = []
    var methods: [String] = []
    var error: HTTPParseError?
    /// More bytes were needed to finish the last request.
    var isIncomplete = false

    init(_ input: [UInt8]) {
        var parser = HTTPRequestParser()
        parser.append(input)
        do {
            while let event = try parser.next() {
                if case .request(let request) = event {
                    bodies.append(request.body.count)
                    methods.append(request.method.rawValue)
                }
            }
            isIncomplete = !parser.isBetweenRequests
        } catch {
            self.error = error
        }
    }

    var description: String { "\(bodies) \(error.map { "\($0)" } ?? (isIncomplete ? "incomplete" : "ok"))" }
}

/// The differences from llhttp we keep on purpose, each with its reason. A disagreement that matches none
/// of these fails the differential test.
enum KnownDifference {
    /// Methods llhttp's request parser knows (llhttp `src/llhttp/constants.ts`, HTTP and WebDAV methods).
    static let llhttpMethods: Set<String> = [
        "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL", "MOVE",
        "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY",
        "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR",
        "LINK", "UNLINK", "SOURCE", "QUERY",
    ]

    /// Returns why `ours` and `llhttp` may differ on `input`, or nil when they must not.
    static func explain(_ input: [UInt8], ours: OurVerdict, llhttp: LLHTTPResult) -> String? {
        let theirError = llhttp.error ?? ""
        let agreedPrefix = llhttp.bodies.starts(with: ours.bodies) || ours.bodies.starts(with: llhttp.bodies)
        // RFC 9110 §9.1: the method set is extensible; the router answers unknown ones with 405/404.
        if (ours.methods + requestLineMethods(input)).contains(where: { !llhttpMethods.contains($0) })
            && theirError.contains("method")
        {
            return "extension method that llhttp's fixed method list rejects"
        }
        guard agreedPrefix else { return nil }
        if let error = ours.error {
            switch error {
            case .tooManyHeaders, .headerSectionTooLarge, .requestLineTooLong, .bodyTooLarge, .chunkExtensionTooLong:
                return "size limit (RELIABILITY.md §1.3); httptools sets none"
            case .missingHost, .duplicateHost, .invalidHost:
                return "Host rules of RFC 9112 §3.2 (missing, repeated, or not uri-host[:port]); llhttp leaves Host to the application"
            case .unsupportedTransferCoding, .invalidTransferEncoding, .transferEncodingInHTTP10:
                return "transfer codings: only a single final chunked, never in HTTP/1.0 (RFC 9112 §6.1); llhttp passes other codings and repeats through"
            case .invalidRequestLine, .invalidVersion, .unsupportedVersion, .invalidTarget:
                return "strict request line: single spaces, HTTP/1.0 or 1.1 only (no HTTP/0.9 line), '*' only for OPTIONS, ASCII target; llhttp is lenient here"
            case .invalidLineEnding where llhttp.error == nil:
                return "stray LF between messages: we skip only CRLF (RFC 9112 §2.2), llhttp skips any CR/LF"
            case .invalidChunkSize where hasLongHexRun(input):
                return "chunk size of 16+ hex digits beyond Int.max and the body limit; llhttp counts in UInt64"
            default:
                break
            }
        }
        if theirError.contains("Data after `Connection: close`") {
            return "llhttp rejects bytes after a Connection: close request; our transport stops reading there instead"
        }
        // Line-level errors llhttp reports on the byte where the line goes wrong, before its end.
        let lineErrors = [
            "Expected LF after headers", "Expected LF after chunk size", "Missing expected LF after header value",
            "Invalid header token", "Expected HTTP/", "Invalid character in Content-Length", "Empty Content-Length",
            "Invalid `Transfer-Encoding` header value", "Invalid header value char", "Invalid character in chunk size",
            "Invalid method encountered", "Expected space after method", "Invalid characters in url",
            "Invalid minor version", "Invalid major version", "Expected CRLF after version",
        ]
        if ours.error == nil && ours.isIncomplete && lineErrors.contains(where: { theirError.hasPrefix($0) }) {
            return "llhttp rejects an unfinished line at once; we examine a line when its LF arrives (then reject it, or the header timeout ends the connection)"
        }
        // We accepted a request llhttp rejected (whatever we made of the bytes after it).
        if ours.bodies.count > llhttp.bodies.count || (ours.error == nil && ours.isIncomplete) {
            switch theirError {
            case "Duplicate Content-Length", "Invalid character in Content-Length":
                return "identical repeated Content-Length values are accepted (RFC 9110 §8.6); llhttp rejects any repeat"
            case "Content-Length can't be present with Transfer-Encoding":
                return "a Content-Length trailer field is discarded, never merged (RFC 9110 §6.5.1); llhttp treats it as a header"
            case let text where text.contains("chunk extension"):
                return "chunk extensions are ignored (only control bytes rejected); llhttp checks their token/quoted-string syntax"
            default:
                break
            }
        }
        return nil
    }

    /// The first token of every line that looks like a request line (`TOKEN SP /…`).
    private static func requestLineMethods(_ input: [UInt8]) -> [String] {
        input.split(separator: 10).compactMap { line in
            guard let space = line.firstIndex(of: 32), line.index(after: space) < line.endIndex,
                line[line.index(after: space)] == UInt8(ascii: "/"), space > line.startIndex
            else { return nil }
            let token = String(decoding: line[..<space], as: UTF8.self)
            return token.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") } ? token : nil
        }
    }

    private static func hasLongHexRun(_ input: [UInt8]) -> Bool {
        var run = 0
        for byte in input {
            run = (byte >= 48 && byte <= 57) || (byte | 0x20 >= 97 && byte | 0x20 <= 102) ? run + 1 : 0
            if run >= 16 { return true }
        }
        return false
    }
}
