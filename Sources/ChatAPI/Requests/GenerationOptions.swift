import Inference

/// The fields chat and completion requests share: sampling, limits, stops, streaming.
struct GenerationOptions {
    var sampling = SamplingParameters()
    /// nil: until the context is full (or an end-of-generation token).
    var maxTokens: Int?
    var stop: [String] = []
    var choices = 1
    var stream = false
    var includeUsage = false
    var ignoresEndOfGeneration = false

    /// The most entries accepted in `logit_bias` (OpenAI's limit).
    static let maximumLogitBiasEntries = 300
    /// The most stop strings accepted.
    static let maximumStops = 16
    /// The longest stop string accepted, in UTF-8 bytes: the engine looks for every stop string after each token
    /// and holds back up to this many bytes, so a megabyte-long stop string would stall every request.
    static let maximumStopBytes = 512

    static func parse(_ r: RequestObject, limits: APILimits, minimumMaxTokens: Int) throws(APIError) -> GenerationOptions {
        var o = GenerationOptions()
        var s = SamplingParameters()
        s.temperature = Float(try r.number("temperature", in: 0...2) ?? 1)
        s.topP = Float(try r.number("top_p", above: 0, atMost: 1) ?? 1)
        s.topK = try r.integer("top_k", in: -1...1_000_000).map { max(0, $0) } ?? 0
        s.minP = Float(try r.number("min_p", in: 0...1) ?? 0)
        s.presencePenalty = Float(try r.number("presence_penalty", in: -2...2) ?? 0)
        s.frequencyPenalty = Float(try r.number("frequency_penalty", in: -2...2) ?? 0)
        s.repetitionPenalty = Float(try r.number("repetition_penalty", above: 0, atMost: 10) ?? 1)
        if let seed = try r.integer("seed", in: Int.min...Int.max) { s.seed = UInt64(bitPattern: Int64(seed)) }
        if let bias = try r.object("logit_bias") {
            guard bias.object.pairs.count <= maximumLogitBiasEntries else {
                throw .invalid("logit_bias", "logit_bias may have at most \(maximumLogitBiasEntries) entries")
            }
            for (key, value) in bias.object.pairs {
                guard !key.isEmpty, key.utf8.count <= 10, key.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                    let id = Int(key), id < limits.vocabularySize
                else {
                    throw .invalid("logit_bias", "logit_bias key '\(key)' is not a token id in the vocabulary (0..<\(limits.vocabularySize))")
                }
                guard case .number(let n) = value, (-100...100).contains(n.value) else {
                    throw .invalid("logit_bias", "logit_bias value for token \(key) must be a number between -100 and 100")
                }
                s.logitBias[Int32(id)] = Float(n.value)
            }
        }
        o.sampling = s
        let range = minimumMaxTokens...limits.contextLength
        if let value = try r.integer("max_completion_tokens", in: range) {
            o.maxTokens = value
        } else {
            o.maxTokens = try r.integer("max_tokens", in: range)
        }
        o.choices = try r.integer("n", in: 1...limits.maxChoices) ?? 1
        if let bestOf = try r.integer("best_of", in: 1...limits.maxChoices), bestOf != o.choices {
            throw .invalid("best_of", "best_of is not supported (only best_of equal to n)")
        }
        if let stop = r.value("stop") {
            switch stop {
            case .string(let text): o.stop = [text]
            case .array(let items):
                guard items.count <= maximumStops else {
                    throw .invalid("stop", "stop may hold at most \(maximumStops) strings")
                }
                o.stop = try items.map { (item: JSONValue) throws(APIError) -> String in
                    guard case .string(let text) = item else {
                        throw .invalid("stop", "stop must be a string or an array of strings")
                    }
                    return text
                }
            default: throw .invalid("stop", "stop must be a string or an array of strings, not \(stop.typeName)")
            }
            o.stop.removeAll { $0.isEmpty }
            if o.stop.contains(where: { $0.utf8.count > maximumStopBytes }) {
                throw .invalid("stop", "each stop string may be at most \(maximumStopBytes) bytes long")
            }
        }
        o.stream = try r.bool("stream") ?? false
        if let options = try r.object("stream_options") {
            guard o.stream else { throw .invalid("stream_options", "stream_options is only allowed with stream: true") }
            o.includeUsage = try options.bool("include_usage") ?? false
        }
        o.ignoresEndOfGeneration = try r.bool("ignore_eos") ?? false
        _ = try r.string("user")
        _ = try r.string("model")
        try r.refuse("tools", "this server does not call tools")
        try r.refuse("tool_choice", "this server does not call tools")
        try r.refuse("functions", "this server does not call functions")
        try r.refuse("function_call", "this server does not call functions")
        if let format = try r.object("response_format") {
            let type = try format.string("type")
            guard type == nil || type == "text" else {
                throw .invalid("response_format", "response_format type '\(type!)' is not supported (only 'text')")
            }
        }
        return o
    }
}

/// Limits requests are checked against.
package struct APILimits: Sendable, Equatable {
    package var contextLength: Int
    package var vocabularySize: Int
    package var maxChoices: Int = 8

    package init(contextLength: Int, vocabularySize: Int, maxChoices: Int = 8) {
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.maxChoices = maxChoices
    }
}
