// swift-tools-version:6.0
import PackageDescription

// No package dependencies, by design: Foundation, Dispatch, Glibc and the toolchain's test libraries only.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
// Kernels are the hot loops: exclusivity checks cost more than they protect there (all access is through
// unsafe buffers whose bounds the callers validate).
let kernelSettings: [SwiftSetting] = strict + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"]),
]

let package = Package(
    name: "LlamaServe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "llamaserve", targets: ["LlamaServer"]),
    ],
    targets: [
        // Leaves: no project imports.
        .target(name: "GGUF", swiftSettings: strict),
        // Pure HTTP/1.1: parser, response encoding, SSE framing, router. Standard library only.
        .target(name: "HTTP", swiftSettings: strict),
        // Sockets and Dispatch: listener, connections, timeouts, backpressure, graceful shutdown.
        .target(name: "HTTPTransport", dependencies: ["HTTP"], swiftSettings: strict),
        // Serves /health and /events for the benchmark scripts under Benchmarks/http.
        .executableTarget(name: "HTTPBenchServer", dependencies: ["HTTP", "HTTPTransport"], swiftSettings: strict),
        // The executable: CLI, configuration, signals, wiring.
        .executableTarget(
            name: "LlamaServer",
            dependencies: ["GGUF"],
            swiftSettings: strict
        ),
        // Test-only helpers (GGUF writer, fixture locations).
        .target(name: "TestSupport", dependencies: ["GGUF"], swiftSettings: strict),

        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "HTTPTests", dependencies: ["HTTP"], exclude: ["Differential/llhttp_oracle.py"], swiftSettings: strict
        ),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTP", "HTTPTransport"], swiftSettings: strict),
    ]
)
