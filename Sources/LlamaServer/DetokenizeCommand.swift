import Tokenization

/// `llamaserve detokenize`: prints the text of token ids.
enum DetokenizeCommand {
    static let help = """
        usage: llamaserve detokenize --model MODEL.gguf [--unparse-special] [--keep-bos] ID...

        Prints the text the token ids decode to, followed by a newline. IDs may be separate arguments or one
        JSON array as `tokenize` prints it ("[1, 2, 3]"). Vocab-only GGUF files work.
          --unparse-special   print control tokens (<s>, <|im_end|>) as their text; off: they print nothing
          --keep-bos          keep a leading BOS (and trailing EOS) the vocabulary adds; by default they are
                              dropped, so `detokenize $(tokenize TEXT)` prints TEXT
        The SentencePiece dummy-prefix space is removed where encoding adds it (at the start and after each
        special token). Bytes that are not valid UTF-8 print as U+FFFD.
        """

    static func run(_ arguments: [String]) throws {
        let args = try CommandLineArguments(
            arguments, valued: ["--model"], flags: ["--help", "--unparse-special", "--keep-bos"],
            aliases: ["-h": "--help", "-m": "--model"])
        if args.flag("--help") { print(help); return }
        let tokenizer = try TokenizeCommand.loadTokenizer(try args.required("--model"))
        let ids = try parseIDs(args.positional, vocabularySize: tokenizer.vocabulary.count)
        print(tokenizer.decode(ids, removeSpecial: !args.flag("--keep-bos"), unparseSpecial: args.flag("--unparse-special")))
    }

    /// Reads ids from arguments such as `1 2 3`, `[1, 2, 3]` or `1,2,3`, each within the vocabulary.
    static func parseIDs(_ arguments: [String], vocabularySize: Int) throws(CLIError) -> [TokenID] {
        let words = arguments.joined(separator: " ").split { " ,[]\n\t".contains($0) }
        guard !words.isEmpty else { throw CLIError("detokenize needs at least one token id (see --help)") }
        var ids: [TokenID] = []
        for word in words {
            guard let id = Int(word) else { throw CLIError("'\(word)' is not a token id") }
            guard (0..<vocabularySize).contains(id) else {
                throw CLIError("token id \(id) is outside the vocabulary (0 to \(vocabularySize - 1))")
            }
            ids.append(TokenID(id))
        }
        return ids
    }
}
