import Dispatch
import Foundation
import HTTP
import Testing

/// The same inputs through our parser and through llhttp (Node's parser, via the PyPI package httptools):
/// each must be accepted or rejected alike, or the difference must be one of the explained ones below.
@Suite struct DifferentialTests {
    static let oracle = LLHTTPOracle()

    @Test(.enabled(if: oracle.isAvailable, "python3 with httptools is needed: pip install -r Tests/requirements.txt"))
    func acceptsAndRejectsLikeLLHTTP() async throws {
        let inputs = parserCorpus.map(\.raw) + DifferentialTests.mutants(count: 20_000)
        // The oracle blocks on a pipe for seconds: keep that off the cooperative pool, whose threads the
        // transport tests' handlers need.
        let theirs = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try DifferentialTests.oracle.run(inputs) }) }
        }
        var explained: [String: Int] = [:]
        var unexplained: [String] = []
        for (input, llhttp) in zip(inputs, theirs) {
            let ours = OurVerdict(input)
            if (ours.error != nil) == (llhttp.error != nil) && ours.bodies == llhttp.bodies { continue }
            if let reason = KnownDifference.explain(input, ours: ours, llhttp: llhttp) {
                explained[reason, default: 0] += 1
            } else {
                unexplained.append("\(String(decoding: input, as: UTF8.self).debugDescription) ours=\(ours) llhttp=\(llhttp)")
            }
        }
        let report = explained.sorted { $0.key < $1.key }.map { "\($0.value)\t\($0.key)" }.joined(separator: "\n")
        print("differential: \(inputs.count) inputs, \(explained.values.reduce(0, +)) explained differences, \(unexplained.count) unexplained\n\(report)")
        if let path = ProcessInfo.processInfo.environment["HTTP_DIFFERENTIAL_REPORT"] {
            try (report + "\n\n" + unexplained.joined(separator: "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        }
        #expect(unexplained.isEmpty, "\(unexplained.prefix(20).joined(separator: "\n"))")
    }

    /// Deterministic mutations of the valid corpus requests: byte flips, insertions of the bytes parsers
    /// disagree about, deletions and duplications.
    static func mutants(count: Int) -> [[UInt8]] {
        let seeds = parserCorpus.filter { $0.expected.ending != .incomplete && $0.raw.count < 2000 }.map(\.raw)
        let interesting: [UInt8] = Array("\r\n \t\0+-_,;:x0Az/\"=".utf8) + [0x7F, 0x80, 0xFF, 0x0B, 0x0C]
        var random = SplitMix64(seed: 0x4C6C_616D_6153_6572)
        var result: [[UInt8]] = []
        while result.count < count {
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0...Int(random.next() % 3) where !bytes.isEmpty {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 5 {
                case 0: bytes[position] = interesting[Int(random.next() % UInt64(interesting.count))]
                case 1: bytes.insert(interesting[Int(random.next() % UInt64(interesting.count))], at: position)
                case 2: bytes.remove(at: position)
                case 3: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                default:
                    let end = min(bytes.count, position + Int(random.next() % 12) + 1)
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                }
            }
            result.append(bytes)
        }
        return result
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What llhttp made of one input.
struct LLHTTPResult: Decodable, CustomStringConvertible {
    var bodies: [Int]
    var error: String?
    var description: String { "\(bodies) \(error ?? "ok")" }
}

/// Runs Tests/HTTPTests/Differential/llhttp_oracle.py.
struct LLHTTPOracle: Sendable {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Differential/llhttp_oracle.py").path

    var isAvailable: Bool { (try? invoke(["--version"], input: Data())) != nil }

    func run(_ inputs: [[UInt8]]) throws -> [LLHTTPResult] {
        let lines = inputs.map { $0.map { String(format: "%02x", $0) }.joined() }.joined(separator: "\n") + "\n"
        let output = try invoke([], input: Data(lines.utf8))
        let decoder = JSONDecoder()
        let results = try output.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(LLHTTPResult.self, from: Data($0)) }
        guard results.count == inputs.count else { throw OracleError("oracle answered \(results.count) of \(inputs.count)") }
        return results
    }

    private func invoke(_ arguments: [String], input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw OracleError("oracle exited with \(process.terminationStatus)") }
        return output
    }
}

struct OracleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
