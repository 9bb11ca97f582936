import Foundation
import GGUF
import Model
import Tokenization

/// `llamaserve tokenize`: prints the token ids of a text, or times encoding with `--benchmark`.
enum TokenizeCommand {
    static let help = """
        usage: llamaserve tokenize --model MODEL.gguf [--parse-special] [--no-bos] [--pieces] (TEXT | --file PATH)
               llamaserve tokenize --model MODEL.gguf --file PATH --benchmark [--repeat N]

        Prints the token ids as one JSON array on the last line of stdout. Vocab-only GGUF files work.
          --model PATH      the GGUF file whose vocabulary to use
          --parse-special   read control-token text (<s>, <|im_start|>) as those tokens; off: plain text
          --no-bos          add no BOS/EOS (by default they are added as the vocabulary's add_bos_token and
                            add_eos_token say)
          --file PATH       read the text from a file (invalid UTF-8 becomes U+FFFD)
          --pieces          first print each token's id and piece, one per line
          --benchmark       time encoding only, best of --repeat runs, and print MB/s and tokens/s to
                            stderr instead of the ids (build with -c release for meaningful figures)
          --repeat N        benchmark repetitions (default 5)
        """

    static func run(_ arguments: [String]) throws {
        let args = try CommandLineArguments(
            arguments, valued: ["--model", "--file", "--repeat"],
            flags: ["--help", "--parse-special", "--no-bos", "--pieces", "--benchmark"], aliases: ["-h": "--help", "-m": "--model"])
        if args.flag("--help") { print(help); return }
        let modelPath = try args.required("--model")
        let text: String
        if let path = args.value("--file") {
            guard args.positional.isEmpty else { throw CLIError("give the text either as an argument or with --file, not both") }
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read '\(path)'") }
            text = String(decoding: data, as: UTF8.self)
        } else {
            guard args.positional.count == 1 else {
                throw CLIError("tokenize takes one TEXT argument (quote it) or --file PATH (see --help)")
            }
            text = args.positional[0]
        }
        let repeats = try args.integer("--repeat", default: 5, in: 1...1000)

        let loadStart = ContinuousClock.now
        let tokenizer = try loadTokenizer(modelPath)
        let loadTime = ContinuousClock.now - loadStart
        let addSpecial = !args.flag("--no-bos")
        let parseSpecial = args.flag("--parse-special")

        if args.flag("--benchmark") {
            benchmark(tokenizer, text: text, addSpecial: addSpecial, parseSpecial: parseSpecial, repeats: repeats, loadTime: loadTime)
            return
        }
        let ids = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
        if args.flag("--pieces") {
            for id in ids {
                let piece = String(decoding: tokenizer.piece(for: id), as: UTF8.self)
                print("\(id)\t\(piece.debugDescription)")
            }
        }
        print("[" + ids.map(String.init).joined(separator: ", ") + "]")
    }

    /// Loads a vocabulary from a GGUF file and makes its tokenizer.
    static func loadTokenizer(_ path: String) throws -> any Tokenizer {
        let file = try GGUFFile(contentsOf: path)
        return makeTokenizer(for: try Vocabulary(gguf: file))
    }

    /// Encodes `text` `repeats` times and reports the best run: encoding only, the file already in memory.
    private static func benchmark(
        _ tokenizer: any Tokenizer, text: String, addSpecial: Bool, parseSpecial: Bool, repeats: Int, loadTime: Duration
    ) {
        let megabytes = Double(text.utf8.count) / 1_000_000
        var best = Duration.seconds(1_000_000)
        var tokenCount = 0
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            let ids = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
            let elapsed = ContinuousClock.now - start
            tokenCount = ids.count
            best = min(best, elapsed)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        let vocabulary = tokenizer.vocabulary
        let report = """
            vocabulary: \(vocabulary.model.rawValue), \(vocabulary.count) tokens, \(vocabulary.mergeCount) merges, \
            loaded in \(format(milliseconds(loadTime), 1)) ms
            text: \(text.utf8.count) bytes -> \(tokenCount) tokens
            encode (best of \(repeats)): \(format(seconds * 1000, 1)) ms = \(format(megabytes / seconds, 2)) MB/s, \
            \(format(Double(tokenCount) / seconds / 1000, 0)) K tokens/s

            """
        FileHandle.standardError.write(Data(report.utf8))
    }

    private static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    private static func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
