import ChatAPI
import Foundation
import GGUF
import Model
import Tokenization

/// A readable description of a model file, for `llamaserve info` and the server's startup line.
struct ModelSummary {
    let file: GGUFFile
    let model: LlamaModel?

    var architecture: String { file.metadata["general.architecture"]?.stringValue ?? "unknown" }
    var name: String { file.metadata["general.name"]?.stringValue ?? (file.path as NSString).lastPathComponent }

    /// Tensor types by total bytes, largest first: "Q4_1 65.7 MiB (210), Q8_0 28.7 MiB (1), F32 0.3 MiB (61)".
    var quantizationMix: String {
        var bytes: [GGMLType: Int] = [:]
        var counts: [GGMLType: Int] = [:]
        for tensor in file.tensors {
            bytes[tensor.type, default: 0] += tensor.byteCount
            counts[tensor.type, default: 0] += 1
        }
        return bytes.sorted { $0.value > $1.value }.map {
            "\($0.key.name) \(mib($0.value)) (\(counts[$0.key]!) tensors)"
        }.joined(separator: ", ")
    }

    var parameterCount: Int { file.tensors.reduce(0) { $0 + $1.elementCount } }

    var startupLine: String {
        "model \(name) (\(architecture), \(mib(file.byteCount)), \(formatCount(parameterCount)) parameters, \(quantizationMix))"
    }

    private func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    private func formatCount(_ n: Int) -> String {
        n >= 1_000_000_000 ? String(format: "%.2fB", Double(n) / 1e9) : String(format: "%.1fM", Double(n) / 1e6)
    }
}
