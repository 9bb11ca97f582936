import Foundation
import HTTP
import HTTPTransport

/// Server log lines on stderr: events, and one access-log line per request (text or JSON lines). Never
/// prompts, outputs or keys; request bodies only through `debug`, which `--log-prompts` alone calls.
struct Logger: Sendable {
    let isJSON: Bool

    init(format: String) { isJSON = format == "json" }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    private func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func event(_ message: String) {
        if isJSON {
            let level = message.hasPrefix("warning:") ? "warning" : message.hasPrefix("error:") ? "error" : "info"
            write(json(["time": Self.timestamp(), "level": level, "message": message]))
        } else {
            write("\(Self.timestamp()) \(message)")
        }
    }

    /// A debug line with a payload kept on one line: escaped in text, a JSON string in JSON lines.
    func debug(_ message: String, payload: String) {
        if isJSON {
            write(json(["time": Self.timestamp(), "level": "debug", "message": message, "body": payload]))
        } else {
            var escaped = ""
            for scalar in payload.unicodeScalars {
                switch scalar {
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                case "\\": escaped += "\\\\"
                case _ where scalar.value < 0x20 || scalar.value == 0x7F: escaped += "\\u{\(String(scalar.value, radix: 16))}"
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            write("\(Self.timestamp()) debug \(message): \(escaped)")
        }
    }

    func access(_ entry: AccessLogEntry) {
        let milliseconds = Double(entry.duration.components.seconds) * 1000 + Double(entry.duration.components.attoseconds) / 1e15
        if isJSON {
            var object: [String: Any] = [
                "time": Self.timestamp(), "method": entry.method.rawValue, "path": entry.path, "status": entry.status,
                "bytes": entry.bodyBytes, "duration_ms": (milliseconds * 10).rounded() / 10, "complete": entry.isComplete,
            ]
            for field in entry.fields { object[field.name] = Int(field.value) ?? 0 }
            write(json(object))
        } else {
            var line = "\(Self.timestamp()) \(entry.method.rawValue) \(entry.path) \(entry.status) \(entry.bodyBytes)B "
                + String(format: "%.1fms", milliseconds)
            for field in entry.fields { line += " \(field.name)=\(field.value)" }
            if !entry.isComplete { line += " incomplete" }
            write(line)
        }
    }

    private func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
