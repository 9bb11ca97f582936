import HTTP
import Synchronization

/// What the access log records about one API request beyond the transport's view: token counts.
package final class RequestAnnotations: AccessLogAnnotations {
    private let counts = Mutex((prompt: 0, completion: 0, cached: 0))

    /// The annotations of the request the current task serves.
    @TaskLocal package static var current: RequestAnnotations?

    package init() {}

    package func record(_ record: GenerationRecord) {
        counts.withLock {
            $0.prompt += record.promptTokens
            $0.completion += record.completionTokens
            $0.cached += record.cachedTokens
        }
    }

    package var fields: [(name: String, value: String)] {
        let c = counts.withLock { $0 }
        guard c.prompt > 0 || c.completion > 0 else { return [] }
        return [("prompt_tokens", String(c.prompt)), ("completion_tokens", String(c.completion)),
                ("cached_tokens", String(c.cached))]
    }
}
