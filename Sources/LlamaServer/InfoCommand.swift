import GGUF

/// `llamaserve info MODEL.gguf`: a readable summary of a model file.
enum InfoCommand {
    static let help = """
        usage: llamaserve info MODEL.gguf [--metadata]

        Prints the architecture, file size, quantization mix, hyperparameters, tokenizer and chat template.
          --metadata   also list every metadata key (long arrays abbreviated)
        """

    static func run(_ arguments: [String]) throws {
        let args = try CommandLineArguments(arguments, valued: [], flags: ["--help", "--metadata"], aliases: ["-h": "--help"])
        if args.flag("--help") { print(help); return }
        guard args.positional.count == 1 else { throw CLIError("info takes one model path (see --help)") }
        let file = try GGUFFile(contentsOf: args.positional[0])
        print("file:         \(file.path)")
        print("size:         \(file.byteCount) bytes, GGUF v\(file.version), \(file.tensors.count) tensors")
        if args.flag("--metadata") {
            for key in file.contents.metadataKeys {
                print("  \(key) = \(file.metadata[key]!)")
            }
        }
    }
}
