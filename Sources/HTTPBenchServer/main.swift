import Dispatch
import Foundation
import HTTP
import HTTPTransport

// A minimal server for the benchmark scripts in Benchmarks/http: `GET /health` and `GET /events?count=N`.
// Usage: HTTPBenchServer [--host H] [--port P] [--io-queues N] [--access-log]
// Prints "listening on H:PORT" once bound; SIGTERM or SIGINT drains and exits 0.

var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 8080)
var logRequests = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--host": configuration.host = arguments.next() ?? configuration.host
    case "--port": configuration.port = Int(arguments.next() ?? "") ?? configuration.port
    case "--io-queues": configuration.ioQueueCount = Int(arguments.next() ?? "") ?? 0
    case "--access-log": logRequests = true
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
        exit(2)
    }
}

let health = HTTPResponse.json(#"{"status":"ok"}"#)
var router = Router()
router.addImmediate(.get, "/health") { _, _ in health }
router.add(.get, "/events") { request, _ in
    let count = request.query.flatMap { query in
        query.split(separator: "&").first { $0.hasPrefix("count=") }.flatMap { Int($0.dropFirst(6)) }
    } ?? 100
    return .eventStream { writer in
        for index in 0..<max(0, min(count, 1_000_000)) {
            try await writer.write(ServerSentEvent(data: #"{"index":\#(index),"token":"hello"}"#))
        }
        try await writer.write(ServerSentEvent(data: "[DONE]"))
    }
}

@Sendable func printEntry(_ entry: AccessLogEntry) {
    FileHandle.standardOutput.write(
        Data("\(entry.method) \(entry.path) \(entry.status) \(entry.bodyBytes) \(entry.duration)\n".utf8))
}
let accessLog: (@Sendable (AccessLogEntry) -> Void)? = logRequests ? printEntry : nil
let server = HTTPServer(configuration: configuration, responder: router, accessLog: accessLog)
let port: Int
do {
    port = try server.start()
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
FileHandle.standardOutput.write(Data("listening on \(configuration.host):\(port)\n".utf8))

signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
// Top-level code is main-actor isolated, so the handlers must run on the main queue (which dispatchMain
// serves); on another queue Swift 6's isolation check traps.
let signalSources = [SIGTERM, SIGINT].map { number in
    let source = DispatchSource.makeSignalSource(signal: number, queue: .main)
    source.setEventHandler {
        Task {
            await server.shutdown()
            FileHandle.standardOutput.write(Data("drained, exiting\n".utf8))
            exit(0)
        }
    }
    source.resume()
    return source
}
withExtendedLifetime(signalSources) { dispatchMain() }
