#if canImport(Glibc)
import Glibc
#endif

/// Locations of the shared reference data and the default model, found from the package root.
package enum Fixtures {
    /// The package root: the nearest ancestor of this source file that holds `Package.swift`.
    package static let packageRoot: String = {
        var path = #filePath
        while let slash = path.lastIndex(of: "/") {
            path = String(path[..<slash])
            if access(path + "/Package.swift", F_OK) == 0 { return path }
        }
        return "."
    }()

    /// `../shared/fixtures` next to the package root.
    package static var sharedFixtures: String { packageRoot + "/../shared/fixtures" }

    /// The Llama 2 SentencePiece vocabulary (vocab-only GGUF).
    package static var llamaVocabulary: String { sharedFixtures + "/vocab/ggml-vocab-llama-spm.gguf" }

    /// The StarCoder byte-level BPE vocabulary (vocab-only GGUF).
    package static var starcoderVocabulary: String { sharedFixtures + "/vocab/ggml-vocab-starcoder.gguf" }

    /// The default model, fetched by `scripts/fetch-model.sh` (environment `LLAMASERVE_TEST_MODEL` overrides).
    package static var defaultModel: String {
        if let env = getenv("LLAMASERVE_TEST_MODEL") { return String(cString: env) }
        return packageRoot + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    /// The package's own committed test data (`Tests/Fixtures`).
    package static var testFixtures: String { packageRoot + "/Tests/Fixtures" }

    /// Whether a file exists at `path`.
    package static func exists(_ path: String) -> Bool { access(path, R_OK) == 0 }

    /// Reads a whole file, or nil when it cannot be read.
    package static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// Writes `bytes` to a new temporary file and returns its path.
    package static func temporaryFile(_ bytes: [UInt8], suffix: String = ".gguf") -> String {
        var template = Array("/tmp/llamaserve-test-XXXXXX\(suffix)".utf8CString)
        let fd = mkstemps(&template, Int32(suffix.utf8.count))
        precondition(fd >= 0, "mkstemps failed")
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(n > 0, "write failed")
                offset += n
            }
        }
        close(fd)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
