/// One server-sent event (HTML Living Standard §9.2, `text/event-stream`).
package struct ServerSentEvent: Sendable, Equatable {
    /// The payload; each line becomes its own `data:` line, so the client reassembles it exactly.
    package var data: String
    /// The event type, or nil for the default `message`.
    package var event: String?
    /// The event id, or nil.
    package var id: String?
    /// The reconnection delay in milliseconds, or nil.
    package var retry: Int?

    /// Creates an event.
    package init(data: String, event: String? = nil, id: String? = nil, retry: Int? = nil) {
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
    }

    /// The wire form: optional `event:`, `id:` and `retry:` lines, one `data:` line per line of `data`
    /// (split at CRLF, LF or CR), then an empty line.
    ///
    /// Line breaks in `event` and `id` (and NUL in `id`, which makes clients ignore it) are removed, so a
    /// value cannot inject fields of its own.
    package func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.utf8.count + 16)
        if let event { appendField("event", event, stripping: [ASCII.cr, ASCII.lf], to: &bytes) }
        if let id { appendField("id", id, stripping: [ASCII.cr, ASCII.lf, 0], to: &bytes) }
        if let retry, retry >= 0 {
            bytes.append(contentsOf: "retry: ".utf8)
            HTTPResponseEncoder.appendDecimal(retry, to: &bytes)
            bytes.append(ASCII.lf)
        }
        let utf8 = Array(data.utf8)
        var lineStart = 0
        var index = 0
        while index <= utf8.count {
            if index == utf8.count || utf8[index] == ASCII.lf || utf8[index] == ASCII.cr {
                bytes.append(contentsOf: "data: ".utf8)
                bytes.append(contentsOf: utf8[lineStart..<index])
                bytes.append(ASCII.lf)
                if index < utf8.count && utf8[index] == ASCII.cr && index + 1 < utf8.count && utf8[index + 1] == ASCII.lf {
                    index += 1
                }
                lineStart = index + 1
            }
            index += 1
        }
        bytes.append(ASCII.lf)
        return bytes
    }

    /// A comment line (`: text`), which clients ignore; sent as a keep-alive ping during long waits.
    package static func comment(_ text: String = "ping") -> [UInt8] {
        var bytes = Array(": ".utf8)
        bytes.append(contentsOf: text.utf8.filter { $0 != ASCII.cr && $0 != ASCII.lf })
        bytes.append(contentsOf: [ASCII.lf, ASCII.lf])
        return bytes
    }

    private func appendField(_ name: String, _ value: String, stripping: [UInt8], to bytes: inout [UInt8]) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(contentsOf: ": ".utf8)
        bytes.append(contentsOf: value.utf8.filter { !stripping.contains($0) })
        bytes.append(ASCII.lf)
    }
}
