import ChatAPI
import Dispatch
import Foundation
import GGUF
import HTTP
import HTTPTransport
import Inference
import Model
import Tokenization

/// `llamaserve serve`: the OpenAI-compatible server.
enum ServeCommand {
    static func run(_ arguments: [String]) async throws {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(ServerConfiguration.help)
            return
        }
        var arguments = arguments
        let printOnly = arguments.contains("--print-config")
        arguments.removeAll { $0 == "--print-config" }
        let config = try ServerConfiguration(arguments: arguments)
        if printOnly {
            // What the server would run with, and where each value came from; then exit without serving.
            for warning in config.warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
            print(config.resolvedJSON)
            return
        }
        let log = Logger(format: config.string("log_format"))
        for warning in config.warnings { log.event(warning) }
        let modelPath = config.string("model")
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw CLIError("invalid configuration: model file '\(modelPath)' (from \(config.source("model"))) does not exist; run `make model` for the default model, or pass --model")
        }
        let host = config.string("host")
        var keys = config.list("api_key")
        if !config.string("api_key_file").isEmpty {
            let path = config.string("api_key_file")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError("invalid configuration: api_key_file '\(path)' cannot be read")
            }
            keys += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if !["127.0.0.1", "::1", "localhost"].contains(host) && keys.isEmpty {
            log.event("warning: listening on \(host) without an API key: anyone who can reach this port can use the model")
        }

        let state = APIState()
        let metrics = APIMetrics()
        var gatewayConfiguration = APIGateway.Configuration()
        gatewayConfiguration.apiKeys = keys
        gatewayConfiguration.corsOrigins = config.list("cors_origins")
        gatewayConfiguration.metricsEnabled = config.bool("metrics")
        let gateway = APIGateway(router: makeAPIRouter(state: state), configuration: gatewayConfiguration, metrics: metrics, state: state)
        var responder: any Responder = config.bool("log_prompts") ? RequestBodyLogger(inner: gateway, log: log) : gateway
        if let guarded = HostCheck.make(inner: responder, listeningOn: host, allowedHosts: config.list("allowed_hosts")) {
            responder = guarded
        }
        if config.bool("log_prompts") {
            log.event("warning: --log-prompts is on: request bodies (prompts) are written to the log")
        }

        var http = HTTPServerConfiguration(host: host, port: config.integer("port"))
        http.maxConnections = config.integer("max_connections")
        http.parserLimits.maxBodyBytes = config.integer("max_body_mib") << 20
        http.headerTimeout = .seconds(config.integer("header_timeout"))
        http.idleTimeout = .seconds(config.integer("idle_timeout"))
        http.writeTimeout = .seconds(config.integer("write_timeout"))
        http.drainTimeout = .seconds(config.integer("drain_timeout"))
        let server = HTTPServer(configuration: http, responder: responder) { entry in log.access(entry) }
        let port: Int
        do {
            port = try server.start()
        } catch {
            throw CLIError("cannot listen on \(host):\(config.integer("port")): \(error)")
        }
        log.event("listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port) (model loading; /health answers 503 until ready)")

        installSignalHandlers(server: server, log: log)

        // Load while the server already answers /health with 503.
        let loaded = await Task.detached { () -> Result<LoadedModel, any Error> in
            Result { try load(config, log: log) }
        }.value
        switch loaded {
        case .failure(let error):
            state.set(.failed("\(error)"))
            log.event("error: \(error)")
            await server.shutdown()
            throw error
        case .success(let model):
            let template = chooseTemplate(config, file: model.file)
            let contextLength = model.engine.configuration.contextLength
            let service = APIService(
                generator: model.engine, tokenizer: model.tokenizer, template: template,
                modelTemplate: model.file.metadata["tokenizer.chat_template"]?.stringValue,
                modelName: modelName(config, path: modelPath),
                limits: APILimits(contextLength: contextLength, vocabularySize: model.model.hyperparameters.vocabularySize,
                                  maxChoices: config.integer("max_choices")),
                pingInterval: .seconds(config.integer("sse_ping_interval")),
                contextPolicy: ContextPolicy(rawValue: config.string("context_policy")) ?? .error,
                observer: { metrics.record($0) })
            state.set(.ready(service))
            log.event(ModelSummary(file: model.file, model: model.model).startupLine
                + ", template \(template.name), context \(contextLength), parallel \(model.engine.configuration.maxRunning)"
                + ", threads \(model.engine.configuration.threads), KV cache \(model.engine.metrics.kvBytesTotal >> 20) MiB")
            log.event("ready on http://\(host.contains(":") ? "[\(host)]" : host):\(port)")
        }
        // Serve until a signal ends the process.
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    static func load(_ config: ServerConfiguration, log: Logger) throws -> LoadedModel {
        let threads = config.integer("threads") == 0 ? ProcessInfo.processInfo.activeProcessorCount : config.integer("threads")
        let context = config.integer("ctx_size") == 0 ? nil : config.integer("ctx_size")
        let kv = config.integer("kv_cache_mib") == 0 ? nil : config.integer("kv_cache_mib")
        let file = try GGUFFile(contentsOf: config.string("model"))
        log.event("loading \(config.string("model")) (\(file.byteCount >> 20) MiB)")
        warmUp(file, log: log)
        return try LoadedModel.load(
            path: config.string("model"), file: file, repackWeights: config.bool("repack_weights"), threads: threads,
            contextLength: context, parallel: config.integer("parallel"),
            kvCacheMiB: kv, batchTokens: config.integer("batch_size"), maxQueue: config.integer("max_queue"),
            queueTimeout: .seconds(config.integer("queue_timeout")), prefixCaching: config.bool("prefix_cache"),
            maxChoices: config.integer("max_choices"))
    }

    /// Reads every page of the mapped file once, reporting progress, so the first request does not wait on disk.
    static func warmUp(_ file: GGUFFile, log: Logger) {
        let total = file.byteCount
        var touched = 0
        var nextReport = 25
        var sink: UInt8 = 0
        for tensor in file.tensors {
            let bytes = file.bytes(of: tensor)
            var offset = 0
            while offset < bytes.count {
                sink &+= bytes[offset]
                offset += 4096
            }
            touched += bytes.count
            if total > 256 << 20 && touched * 100 / total >= nextReport {
                log.event("loading: \(nextReport)%")
                nextReport += 25
            }
        }
        if sink == 1 { log.event("") }  // keeps the reads from being optimized away
    }

    static func chooseTemplate(_ config: ServerConfiguration, file: GGUFFile) -> any ChatTemplate {
        let modelTemplate = file.metadata["tokenizer.chat_template"]?.stringValue
        let allow = config.bool("allow_special_tags")
        let name = config.string("chat_template")
        if !name.isEmpty, let template = ChatTemplates.named(name, modelTemplate: modelTemplate, allowsSpecialTags: allow) {
            return template
        }
        return ChatTemplates.detect(from: modelTemplate, allowsSpecialTags: allow)
    }

    static func modelName(_ config: ServerConfiguration, path: String) -> String {
        let alias = config.string("alias")
        if !alias.isEmpty { return alias }
        let name = (path as NSString).lastPathComponent
        return name.hasSuffix(".gguf") ? String(name.dropLast(5)) : name
    }

    /// SIGTERM/SIGINT: stop accepting, let running requests finish (up to the drain timeout), exit 0. A second
    /// signal exits at once, unless it comes within a second of the first (`StopSignals`): one stop often
    /// arrives twice (a kill of the process group and a parent such as make or a shell forwarding the same
    /// signal), and that must drain, not cut every stream off.
    static func installSignalHandlers(server: HTTPServer, log: Logger) {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let stops = StopSignals()
        for number in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                switch stops.receive(atNanoseconds: DispatchTime.now().uptimeNanoseconds) {
                case .drain:
                    log.event("signal \(number): draining in-flight requests, then exiting")
                    Task {
                        await server.shutdown()
                        log.event("drained; exiting")
                        exit(0)
                    }
                case .repeated:
                    log.event("signal \(number) again within 1 s: the same stop, still draining (signal again later to exit now)")
                case .exitNow:
                    log.event("second signal: exiting now")
                    exit(1)
                }
            }
            source.resume()
            signalSources.append(source)
        }
    }

    nonisolated(unsafe) static var signalSources: [any DispatchSourceSignal] = []
}

/// `--log-prompts`: logs the body of each API request before it is answered. A debugging aid, off by default
/// because prompts are the users' data; headers (and so API keys) and outputs are never logged.
struct RequestBodyLogger: Responder {
    let inner: APIGateway
    let log: Logger
    /// Longer bodies are cut here, so one huge request cannot flood the log.
    static let maxLoggedBytes = 64 << 10

    func respondImmediately(to request: HTTPRequest) -> HTTPResponse? { inner.respondImmediately(to: request) }

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        if !request.body.isEmpty {
            let shown = String(decoding: request.body.prefix(Self.maxLoggedBytes), as: UTF8.self)
            let cut = request.body.count > Self.maxLoggedBytes ? " (first \(Self.maxLoggedBytes) of \(request.body.count) bytes)" : ""
            log.debug("request body of \(request.method.rawValue) \(request.path)\(cut)", payload: shown)
        }
        return try await inner.respond(to: request)
    }
}

/// What a stop signal means given the ones before it, safe to call from any thread.
final class StopSignals: @unchecked Sendable {
    enum Action { case drain, repeated, exitNow }

    static let repeatWindowNanoseconds: UInt64 = 1_000_000_000

    // Sendable because `firstAt` is only accessed under `lock`.
    private let lock = NSLock()
    private var firstAt: UInt64?

    func receive(atNanoseconds now: UInt64) -> Action {
        lock.lock()
        defer { lock.unlock() }
        guard let first = firstAt else {
            firstAt = now
            return .drain
        }
        return now &- first < Self.repeatWindowNanoseconds ? .repeated : .exitNow
    }
}
