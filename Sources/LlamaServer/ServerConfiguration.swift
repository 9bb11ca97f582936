import Foundation

/// Every setting of `llamaserve serve`, read from `Config/llamaserve.json`, then the environment
/// (`LLAMASERVE_<KEY>`), then command-line flags (`--key-name`), each overriding the one before.
struct ServerConfiguration {
    /// One setting: its key in the file, its flag, its environment variable, default and help.
    struct Setting {
        enum Kind { case string, integer(ClosedRange<Int>), boolean, list, choice([String]) }
        let key: String
        let kind: Kind
        let defaultValue: String
        let help: String
        var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }
        var environment: String { "LLAMASERVE_" + key.uppercased() }
    }

    static let settings: [Setting] = [
        .init(key: "model", kind: .string, defaultValue: "models/SmolLM2-135M-Instruct.Q4_1.gguf", help: "GGUF model file to serve"),
        .init(key: "alias", kind: .string, defaultValue: "", help: "model id reported to clients (default: the file name without .gguf)"),
        .init(key: "host", kind: .string, defaultValue: "127.0.0.1", help: "address to listen on (0.0.0.0 or :: for all interfaces)"),
        .init(key: "port", kind: .integer(0...65535), defaultValue: "8080", help: "TCP port (0 picks a free one)"),
        .init(key: "ctx_size", kind: .integer(0...1_048_576), defaultValue: "0", help: "context length of each request, prompt plus output (0: the model's, at most 8192); does not shrink with --parallel"),
        .init(key: "parallel", kind: .integer(1...256), defaultValue: "8", help: "sequences decoded at once"),
        .init(key: "threads", kind: .integer(0...256), defaultValue: "0", help: "compute threads (0: all cores)"),
        .init(key: "batch_size", kind: .integer(1...8192), defaultValue: "512", help: "tokens per forward pass; longer prompts are processed in chunks"),
        .init(key: "kv_cache_mib", kind: .integer(0...1_048_576), defaultValue: "0", help: "KV cache budget shared by all sequences, in MiB (0: room for min(parallel, 4) full contexts)"),
        .init(key: "repack_weights", kind: .boolean, defaultValue: "true", help: "copy Q4_0, Q4_K, Q5_K and Q6_K weights into the faster interleaved layout at load time (x86-64): memory for those weights instead of the file's mapped pages"),
        .init(key: "prefix_cache", kind: .boolean, defaultValue: "true", help: "reuse the KV of computed prompt prefixes"),
        .init(key: "max_queue", kind: .integer(0...100_000), defaultValue: "64", help: "requests that may wait for a slot; beyond it new requests get 429"),
        .init(key: "queue_timeout", kind: .integer(1...86_400), defaultValue: "300", help: "seconds a request may wait in the queue"),
        .init(key: "max_choices", kind: .integer(1...64), defaultValue: "8", help: "largest n a request may ask for"),
        .init(key: "chat_template", kind: .choice(["", "llama2", "chatml", "llama3", "mistral", "zephyr"]), defaultValue: "", help: "chat template (empty: recognised from the model)"),
        .init(key: "context_policy", kind: .choice(["error", "truncate"]), defaultValue: "error", help: "when a chat does not fit the context: answer context_length_exceeded, or drop the oldest turns (keeping the system prompt and the last user message)"),
        .init(key: "allow_special_tags", kind: .boolean, defaultValue: "false", help: "allow [INST], <<SYS>> and friends inside Llama 2 chat messages"),
        .init(key: "api_key", kind: .list, defaultValue: "", help: "API keys accepted as 'Authorization: Bearer KEY' (comma-separated; empty: no auth)"),
        .init(key: "api_key_file", kind: .string, defaultValue: "", help: "file with one API key per line"),
        .init(key: "allowed_hosts", kind: .list, defaultValue: "", help: "Host header names accepted, besides localhost, 127.0.0.1 and [::1] on a loopback address (DNS-rebinding guard; empty on another address: no check; * accepts any)"),
        .init(key: "cors_origins", kind: .list, defaultValue: "", help: "origins allowed by CORS (comma-separated; empty: CORS off; * allows any)"),
        .init(key: "log_format", kind: .choice(["text", "json"]), defaultValue: "text", help: "access log format"),
        .init(key: "log_prompts", kind: .boolean, defaultValue: "false", help: "debug: also log each API request body (prompts included) as a debug line; never the Authorization header or outputs"),
        .init(key: "metrics", kind: .boolean, defaultValue: "true", help: "serve Prometheus metrics at /metrics"),
        .init(key: "max_body_mib", kind: .integer(1...1024), defaultValue: "16", help: "largest request body, in MiB"),
        .init(key: "max_connections", kind: .integer(1...100_000), defaultValue: "1024", help: "open connections beyond which new ones get 503"),
        .init(key: "header_timeout", kind: .integer(1...3600), defaultValue: "10", help: "seconds a client has to send request headers"),
        .init(key: "idle_timeout", kind: .integer(1...86_400), defaultValue: "60", help: "seconds an idle keep-alive connection stays open"),
        .init(key: "write_timeout", kind: .integer(1...3600), defaultValue: "60", help: "seconds a write may make no progress before the connection is dropped"),
        .init(key: "drain_timeout", kind: .integer(0...3600), defaultValue: "30", help: "seconds running requests get to finish on SIGTERM"),
        .init(key: "sse_ping_interval", kind: .integer(1...3600), defaultValue: "10", help: "seconds between keep-alive comments on a silent stream"),
    ]

    private(set) var values: [String: String] = [:]
    /// Where each value came from, for error messages.
    private(set) var sources: [String: String] = [:]
    /// Problems that do not stop startup (an unknown `LLAMASERVE_*` variable, most likely a typo).
    private(set) var warnings: [String] = []

    /// Builds the configuration from the file (if any), the environment, then `arguments`.
    init(arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        for setting in Self.settings {
            values[setting.key] = setting.defaultValue
            sources[setting.key] = "the default"
        }
        let flagNames = Dictionary(uniqueKeysWithValues: Self.settings.map { ($0.flag, $0) })
        var parsed: [(String, String)] = []
        var configPath: String?
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            var inline: String?
            if let eq = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                inline = String(argument[argument.index(after: eq)...])
                argument = String(argument[..<eq])
            }
            let alias = ["-m": "--model", "-c": "--ctx-size", "-t": "--threads", "-np": "--parallel", "-b": "--batch-size"]
            argument = alias[argument] ?? argument
            if argument == "--config" {
                guard let value = inline ?? (index < arguments.count ? arguments[index] : nil) else {
                    throw CLIError("option --config needs a value")
                }
                if inline == nil { index += 1 }
                configPath = value
                continue
            }
            if argument.hasPrefix("--no-"), let setting = flagNames["--" + argument.dropFirst(5)], case .boolean = setting.kind {
                parsed.append((setting.key, "false"))
                continue
            }
            guard let setting = flagNames[argument] else { throw CLIError("unknown option \(argument) (see llamaserve serve --help)") }
            if case .boolean = setting.kind, inline == nil {
                parsed.append((setting.key, "true"))
                continue
            }
            guard let value = inline ?? (index < arguments.count ? arguments[index] : nil) else {
                throw CLIError("option \(argument) needs a value")
            }
            if inline == nil { index += 1 }
            parsed.append((setting.key, value))
        }
        let path = configPath ?? environment["LLAMASERVE_CONFIG"]
            ?? (FileManager.default.fileExists(atPath: "Config/llamaserve.json") ? "Config/llamaserve.json" : nil)
        if let path { try loadFile(path, explicit: configPath != nil || environment["LLAMASERVE_CONFIG"] != nil) }
        for setting in Self.settings {
            if let value = environment[setting.environment] {
                try set(setting, value, source: setting.environment)
            }
        }
        // A misspelt variable would otherwise be ignored in silence; a warning rather than an error, because
        // tools (and the tests) keep their own LLAMASERVE_* variables in the environment.
        let known = Set(Self.settings.map(\.environment)).union(["LLAMASERVE_CONFIG"])
        for name in environment.keys.sorted() where name.hasPrefix("LLAMASERVE_") && !known.contains(name) {
            warnings.append("warning: ignoring unknown environment variable \(name) (see llamaserve serve --help)")
        }
        // A list flag given several times (`--api-key A --api-key B`) accumulates; any other flag's last use wins.
        var flagLists: [String: [String]] = [:]
        for (key, value) in parsed {
            let setting = Self.settings.first { $0.key == key }!
            if case .list = setting.kind {
                flagLists[key, default: []].append(value)
                try set(setting, flagLists[key]!.joined(separator: ","), source: setting.flag)
            } else {
                try set(setting, value, source: setting.flag)
            }
        }
    }

    private mutating func loadFile(_ path: String, explicit: Bool) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            if explicit { throw CLIError("invalid configuration: cannot read the configuration file '\(path)'") }
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CLIError("invalid configuration: '\(path)' is not a JSON object")
        }
        // Sorted, so that of several bad keys the same one is reported every time.
        for (key, raw) in object.sorted(by: { $0.key < $1.key }) {
            guard let setting = Self.settings.first(where: { $0.key == key }) else {
                throw CLIError("invalid configuration: unknown key '\(key)' in '\(path)' (see Config/README.md)")
            }
            let value: String
            switch raw {
            case let b as Bool where CFGetTypeIDIsBool(raw): value = b ? "true" : "false"
            case let n as NSNumber: value = n.stringValue
            case let s as String: value = s
            case let a as [Any]:
                guard case .list = setting.kind else {
                    throw CLIError("invalid configuration: \(key) in '\(path)' takes one value, not an array")
                }
                guard let strings = a as? [String] else {
                    throw CLIError("invalid configuration: \(key) in '\(path)' must be an array of strings")
                }
                value = strings.joined(separator: ",")
            default: throw CLIError("invalid configuration: \(key) in '\(path)' must be a string, number or boolean")
            }
            try set(setting, value, source: "'\(key)' in \(path)")
        }
    }

    private mutating func set(_ setting: Setting, _ value: String, source: String) throws {
        switch setting.kind {
        case .integer(let range):
            guard let n = Int(value), range.contains(n), value.first != "+" else {
                throw CLIError("invalid configuration: \(setting.key) must be an integer from \(range.lowerBound) to \(range.upperBound), not '\(value)' (from \(source))")
            }
        case .boolean:
            guard ["true", "false", "1", "0", "yes", "no"].contains(value.lowercased()) else {
                throw CLIError("invalid configuration: \(setting.key) must be true or false, not '\(value)' (from \(source))")
            }
        case .choice(let options):
            guard options.contains(value) else {
                throw CLIError("invalid configuration: \(setting.key) must be one of \(options.filter { !$0.isEmpty }.joined(separator: ", ")), not '\(value)' (from \(source))")
            }
        case .string, .list:
            break
        }
        values[setting.key] = value
        sources[setting.key] = source
    }

    /// Where the value of `key` came from: "the default", "--port", "LLAMASERVE_PORT" or "'port' in FILE".
    func source(_ key: String) -> String { sources[key]! }

    func string(_ key: String) -> String { values[key]! }
    func integer(_ key: String) -> Int { Int(values[key]!)! }
    func bool(_ key: String) -> Bool { ["true", "1", "yes"].contains(values[key]!.lowercased()) }
    func list(_ key: String) -> [String] {
        values[key]!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `serve --print-config`: every setting's value and source as one JSON object, keys sorted. API keys are
    /// shown only as a count, so the output can be pasted into a bug report.
    var resolvedJSON: String {
        var object: [String: Any] = [:]
        for setting in Self.settings {
            var value: Any = values[setting.key]!
            if setting.key == "api_key" { value = "(\(list("api_key").count) keys)" }
            object[setting.key] = ["value": value, "source": sources[setting.key]!]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The help text listing every setting with its flag, type, environment variable and default.
    /// `Tests/EndToEnd/test_deploy_config.py` parses it to check `Config/README.md` and `Config/llamaserve.json`.
    static var help: String {
        var lines = [
            "usage: llamaserve serve [--config FILE] [options]", "",
            "Serves the OpenAI-compatible API. Settings come from Config/llamaserve.json (or --config FILE, or",
            "LLAMASERVE_CONFIG), then environment variables, then these flags; later sources win.",
            "--print-config prints the resulting settings and where each came from, then exits.", "",
        ]
        for s in settings {
            let shown = s.defaultValue.isEmpty ? "\"\"" : s.defaultValue
            let form: String
            let type: String
            switch s.kind {
            case .boolean:
                form = "--[no-]" + s.flag.dropFirst(2)
                type = "true or false"
            case .integer(let range):
                form = s.flag + " N"
                type = "integer \(range.lowerBound)...\(range.upperBound)"
            case .string:
                form = s.flag + " VALUE"
                type = "string"
            case .list:
                form = s.flag + " A,B"
                type = "list"
            case .choice(let options):
                form = s.flag + " VALUE"
                type = "one of " + options.map { $0.isEmpty ? "\"\"" : $0 }.joined(separator: "|")
            }
            lines.append("  \(form)".padding(toLength: 30, withPad: " ", startingAt: 0) + s.help)
            lines.append(String(repeating: " ", count: 30) + "\(type); env \(s.environment); default \(shown)")
        }
        return lines.joined(separator: "\n")
    }
}

/// Whether a bridged JSON value is a Boolean rather than a number (both arrive as NSNumber).
private func CFGetTypeIDIsBool(_ value: Any) -> Bool {
    guard let number = value as? NSNumber else { return false }
    return String(cString: number.objCType) == "c" || type(of: number) == type(of: NSNumber(value: true))
}
