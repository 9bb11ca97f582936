/// A type that turns generation requests into streams of generation events: the engine, or a fake in tests.
package protocol TextGenerator: Sendable {
    /// Admits `request` and returns its events; ending the stream's iteration early cancels the request.
    ///
    /// - Throws: `InferenceError` when the request is invalid or cannot be admitted now.
    func generate(_ request: GenerationRequest) async throws(InferenceError) -> AsyncThrowingStream<GenerationEvent, any Error>

    /// Current counters and gauges.
    var metrics: EngineMetrics { get }
}
