import Foundation

/// The `llamaserve` executable: dispatches to a subcommand and turns errors into one-line messages.
@main
enum LlamaServe {
    static let commands: [(name: String, summary: String, run: @Sendable ([String]) async throws -> Void)] = [
        ("serve", "run the OpenAI-compatible server (see serve --help for every setting)", ServeCommand.run),
        ("info", "print a readable summary of a GGUF model", InfoCommand.run),
        ("tokenize", "print the token ids of a text (or time encoding)", TokenizeCommand.run),
        ("detokenize", "print the text of token ids", DetokenizeCommand.run),
        ("generate", "complete a raw prompt and stream the text", GenerateCommand.run),
        ("bench", "measure prompt processing and generation speed (llama-bench's pp and tg)", BenchCommand.run),
    ]

    static func main() async {
        let missing = CPUCheck.missingFeatures()
        guard missing.isEmpty else {
            fail("this x86-64 build needs AVX2, FMA and F16C (Intel Haswell / AMD Excavator or newer); this CPU lacks "
                + missing.joined(separator: ", "))
        }
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, name != "--help", name != "-h", name != "help" else {
            printUsage()
            exit(arguments.isEmpty ? 2 : 0)
        }
        arguments.removeFirst()
        guard let command = commands.first(where: { $0.name == name }) else {
            fail("unknown command '\(name)' (commands: \(commands.map(\.name).joined(separator: ", ")))")
        }
        do {
            try await command.run(arguments)
        } catch {
            fail("\(error)")
        }
    }

    static func printUsage() {
        print("usage: llamaserve <command> [options]\n\ncommands:")
        for command in commands {
            print("  \(command.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(command.summary)")
        }
        print("\n`llamaserve <command> --help` describes a command's options.")
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("llamaserve: \(message)\n".utf8))
        exit(2)
    }
}
