import Inference
import Synchronization

/// Prometheus metrics of the API, named after vLLM's `vllm:*` metrics with a `llamaserve_` prefix.
package final class APIMetrics: Sendable {
    /// A cumulative histogram with fixed bucket bounds.
    struct Histogram {
        let bounds: [Double]
        var counts: [Int]
        var sum = 0.0
        var count = 0

        init(_ bounds: [Double]) {
            self.bounds = bounds
            counts = [Int](repeating: 0, count: bounds.count)
        }

        mutating func observe(_ value: Double) {
            for (i, bound) in bounds.enumerated() where value <= bound { counts[i] += 1 }
            sum += value
            count += 1
        }
    }

    struct State {
        var requests: [String: Int] = [:]  // "route|status" → count
        var timeToFirstToken = Histogram([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])
        var timePerOutputToken = Histogram([0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.75, 1.5, 5])
        var latency = Histogram([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300])
        var promptTokens = 0
        var generationTokens = 0
    }

    private let state = Mutex(State())
    /// The routes counted by name; anything else is counted as "other" so clients cannot grow the label set.
    package static let routes: Set<String> = [
        "/health", "/v1/health", "/v1/chat/completions", "/v1/completions", "/v1/models", "/tokenize", "/detokenize",
        "/tokenizer_info", "/apply-template", "/metrics",
    ]

    package init() {}

    package func countRequest(path: String, status: Int) {
        let route = Self.routes.contains(path) ? path : (path.hasPrefix("/v1/models/") ? "/v1/models/{id}" : "other")
        state.withLock { $0.requests["\(route)|\(status)", default: 0] += 1 }
    }

    package func record(_ record: GenerationRecord) {
        state.withLock { s in
            s.promptTokens += record.promptTokens
            s.generationTokens += record.completionTokens
            s.latency.observe(record.duration.seconds)
            if let ttft = record.timeToFirstToken {
                s.timeToFirstToken.observe(ttft.seconds)
                if record.completionTokens > 1 {
                    s.timePerOutputToken.observe((record.duration - ttft).seconds / Double(record.completionTokens - 1))
                }
            }
        }
    }

    /// The Prometheus text exposition, with the engine's gauges and counters.
    package func render(engine: EngineMetrics?) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String) {
            out += "# HELP llamaserve_\(name) \(help)\n# TYPE llamaserve_\(name) \(type)\n"
        }
        func sample(_ name: String, _ value: Double, _ labels: String = "") {
            out += "llamaserve_\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(format(value))\n"
        }
        metric("requests_total", "counter", "HTTP requests by route and status.")
        for key in s.requests.keys.sorted() {
            let parts = key.split(separator: "|", maxSplits: 1)
            sample("requests_total", Double(s.requests[key]!), "route=\"\(parts[0])\",status=\"\(parts[1])\"")
        }
        metric("prompt_tokens_total", "counter", "Prompt tokens of finished requests.")
        sample("prompt_tokens_total", Double(s.promptTokens))
        metric("generation_tokens_total", "counter", "Generated tokens of finished requests.")
        sample("generation_tokens_total", Double(s.generationTokens))
        histogram("time_to_first_token_seconds", "Time from arrival to the first generated token.", s.timeToFirstToken, &out)
        histogram("time_per_output_token_seconds", "Time per generated token after the first.", s.timePerOutputToken, &out)
        histogram("e2e_request_latency_seconds", "Time from arrival to the last token.", s.latency, &out)
        if let e = engine {
            metric("num_requests_running", "gauge", "Sequences being decoded.")
            sample("num_requests_running", Double(e.runningSequences))
            metric("num_requests_waiting", "gauge", "Requests waiting for a slot.")
            sample("num_requests_waiting", Double(e.waitingRequests))
            metric("kv_cache_usage_perc", "gauge", "Fraction of KV-cache blocks in use (prefix cache included).")
            sample("kv_cache_usage_perc", e.kvUsage)
            metric("kv_cache_blocks_used", "gauge", "KV-cache blocks in use.")
            sample("kv_cache_blocks_used", Double(e.kvBlocksUsed))
            metric("kv_cache_blocks_total", "gauge", "KV-cache blocks in all.")
            sample("kv_cache_blocks_total", Double(e.kvBlocksTotal))
            metric("prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.")
            sample("prefix_cache_queries_total", Double(e.prefixCacheQueriedTokens))
            metric("prefix_cache_hits_total", "counter", "Prompt tokens found in the prefix cache.")
            sample("prefix_cache_hits_total", Double(e.prefixCacheHitTokens))
            metric("num_preemptions_total", "counter", "Sequences preempted for lack of KV memory.")
            sample("num_preemptions_total", Double(e.preemptionsTotal))
            metric("engine_steps_total", "counter", "Forward passes run.")
            sample("engine_steps_total", Double(e.stepsTotal))
        }
        return out
    }

    private func histogram(_ name: String, _ help: String, _ h: Histogram, _ out: inout String) {
        out += "# HELP llamaserve_\(name) \(help)\n# TYPE llamaserve_\(name) histogram\n"
        for (bound, count) in zip(h.bounds, h.counts) {
            out += "llamaserve_\(name)_bucket{le=\"\(format(bound))\"} \(count)\n"
        }
        out += "llamaserve_\(name)_bucket{le=\"+Inf\"} \(h.count)\n"
        out += "llamaserve_\(name)_sum \(format(h.sum))\nllamaserve_\(name)_count \(h.count)\n"
    }

    private func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
