/// Finds stop strings in streamed text and holds back any tail that could be the start of one, so a stop
/// string never reaches the client, even when it spans tokens.
///
/// Matching is on UTF-8 bytes (what OpenAI-compatible servers compare), so it never depends on Unicode
/// normalization, and cuts always fall on character boundaries: a stop string starts with a lead byte.
package struct StopChecker: Sendable {
    package let stops: [[UInt8]]
    private var held: [UInt8] = []
    private let longest: Int

    package init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) }
        longest = self.stops.map(\.count).max() ?? 0
    }

    /// Adds newly decoded text. Returns the text that is now safe to emit and whether a stop string was found
    /// (then the returned text ends just before it and everything after is dropped).
    package mutating func append(_ text: String) -> (text: String, stopped: Bool) {
        guard !stops.isEmpty else { return (text, false) }
        held.append(contentsOf: text.utf8)
        var earliest: Int?
        for stop in stops {
            if let index = Self.firstIndex(of: stop, in: held), earliest.map({ index < $0 }) ?? true {
                earliest = index
            }
        }
        if let earliest {
            let out = String(decoding: held[..<earliest], as: UTF8.self)
            held.removeAll()
            return (out, true)
        }
        let keep = holdBackLength()
        let cut = held.count - keep
        let out = String(decoding: held[..<cut], as: UTF8.self)
        held.removeFirst(cut)
        return (out, false)
    }

    /// Returns what is held back, when generation ends for another reason.
    package mutating func finish() -> String {
        defer { held.removeAll() }
        return String(decoding: held, as: UTF8.self)
    }

    /// The length of the longest suffix of the held bytes that is a proper prefix of a stop string.
    private func holdBackLength() -> Int {
        let maximum = min(held.count, longest - 1)
        guard maximum > 0 else { return 0 }
        for length in stride(from: maximum, to: 0, by: -1) {
            let suffix = held[(held.count - length)...]
            if stops.contains(where: { $0.count > length && $0.starts(with: suffix) }) { return length }
        }
        return 0
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0] && haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
