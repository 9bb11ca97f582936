// swift-tools-version:6.0
import PackageDescription

// No package dependencies, by design: Foundation, Dispatch, Glibc and the toolchain's test libraries only.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
// Kernels are the hot loops: exclusivity checks cost more than they protect there (all access is through
// unsafe buffers whose bounds the callers validate). They are also optimized in debug builds, so the test
// suite's model runs take seconds, not minutes.
// On x86-64 the baseline is AVX2 + FMA + F16C (Haswell, 2013): without it every SIMD fused multiply-add is a
// library call, and the AVX2 kernels need it. There are no separate paths for newer CPUs (AVX-512, VNNI) yet.
#if arch(x86_64)
let cpuFlags = ["-target-cpu", "haswell"]
#else
let cpuFlags: [String] = []
#endif
// LLAMASERVE_PORTABLE_KERNELS=1 builds the kernels without their x86-64 paths (no intrinsics, no interleaved
// weights): the code arm64 runs, so it is compiled and tested on this x86-64 machine too (`make test-portable`).
let portableKernels: [SwiftSetting] =
    Context.environment["LLAMASERVE_PORTABLE_KERNELS"] == "1" ? [.define("PORTABLE_KERNELS")] : []
let kernelSettings: [SwiftSetting] = strict + portableKernels + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"] + cpuFlags),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "LlamaServe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "llamaserve", targets: ["LlamaServer"]),
    ],
    targets: [
        // Leaves: no project imports.
        // Hot loops over unsafe buffers: quantized dot products, matrix products, attention, thread pool.
        .target(name: "Kernels", dependencies: ["Prefetch"], swiftSettings: kernelSettings),
        // A software prefetch through the compiler's builtins (the only module built with -parse-stdlib).
        .target(name: "Prefetch", swiftSettings: [.unsafeFlags(["-parse-stdlib"])]),
        .target(name: "GGUF", swiftSettings: strict),
        // Tokenizers: SentencePiece and byte-level BPE, vocabulary, streaming detokenizer. Standard library only.
        .target(name: "Tokenization", swiftSettings: strict),
        // The model: hyperparameters, weights, KV cache, forward pass, vocabulary loading from GGUF.
        .target(
            name: "Model", dependencies: ["Kernels", "GGUF", "Tokenization"],
            swiftSettings: strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Sampling, scheduling and the engine.
        .target(name: "Inference", dependencies: ["Model", "Tokenization", "Kernels"], swiftSettings: strict),
        // The OpenAI-compatible API: JSON, chat templates, request validation, responders.
        .target(name: "ChatAPI", dependencies: ["HTTP", "Inference", "Model", "Tokenization"], swiftSettings: strict),
        // Pure HTTP/1.1: parser, response encoding, SSE framing, router. Standard library only.
        .target(name: "HTTP", swiftSettings: strict),
        // Sockets and Dispatch: listener, connections, timeouts, backpressure, graceful shutdown.
        .target(name: "HTTPTransport", dependencies: ["HTTP"], swiftSettings: strict),
        // Serves /health and /events for the benchmark scripts under Benchmarks/http.
        .executableTarget(name: "HTTPBenchServer", dependencies: ["HTTP", "HTTPTransport"], swiftSettings: strict),
        // The executable: CLI, configuration, signals, wiring.
        .executableTarget(
            name: "LlamaServer",
            dependencies: ["ChatAPI", "HTTP", "HTTPTransport", "Inference", "Model", "Kernels", "GGUF", "Tokenization"],
            swiftSettings: strict
        ),
        // Test-only helpers (GGUF writer, fixture locations).
        .target(name: "TestSupport", dependencies: ["GGUF"], swiftSettings: strict),

        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "TokenizationTests", dependencies: ["Tokenization", "Model", "GGUF", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "ChatAPITests", dependencies: ["ChatAPI", "Inference", "Model", "GGUF", "Tokenization", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "GGUF", "TestSupport"], swiftSettings: strict + portableKernels),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Kernels", "GGUF", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "InferenceTests", dependencies: ["Inference", "Model", "GGUF", "Tokenization", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "HTTPTests", dependencies: ["HTTP"], exclude: ["Differential/llhttp_oracle.py"], swiftSettings: strict
        ),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTP", "HTTPTransport"], swiftSettings: strict),
    ]
)
