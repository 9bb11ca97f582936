/// The options and positional arguments of one subcommand, parsed by a small hand-written parser.
///
/// Options are `--name value`, `--name=value`, or a bare `--flag`; which options take values is declared by
/// the command, so a typo is an error rather than a silently ignored word.
struct CommandLineArguments {
    private(set) var values: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []

    /// Parses `arguments`.
    ///
    /// - Parameters:
    ///   - valued: option names (with dashes) that take a value; single-dash aliases map to them in `aliases`.
    ///   - flags: option names that take no value.
    init(
        _ arguments: [String], valued: Set<String>, flags knownFlags: Set<String>, aliases: [String: String] = [:]
    ) throws(CLIError) {
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            if argument == "--" {
                positional.append(contentsOf: arguments[index...])
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1, !argument.dropFirst().allSatisfy(\.isNumber) else {
                positional.append(argument)
                continue
            }
            var inlineValue: String?
            if let eq = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                inlineValue = String(argument[argument.index(after: eq)...])
                argument = String(argument[..<eq])
            }
            let name = aliases[argument] ?? argument
            if valued.contains(name) {
                if let inlineValue {
                    values[name, default: []].append(inlineValue)
                } else {
                    guard index < arguments.count else { throw CLIError("option \(argument) needs a value") }
                    values[name, default: []].append(arguments[index])
                    index += 1
                }
            } else if knownFlags.contains(name) {
                guard inlineValue == nil else { throw CLIError("option \(argument) takes no value") }
                flags.insert(name)
            } else {
                throw CLIError("unknown option \(argument) (see --help)")
            }
        }
    }

    /// The last value given for `name`, if any.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value given for a repeatable option.
    func allValues(_ name: String) -> [String] { values[name] ?? [] }

    /// Whether the flag `name` was given.
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The value of `name` as an integer within `range`, or `defaultValue` when absent.
    func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(CLIError) -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let v = Int(text), range.contains(v), text.first != "+" else {
            throw CLIError("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return v
    }

    /// The value of `name` as a number within `range`, or nil when absent.
    func double(_ name: String, in range: ClosedRange<Double>) throws(CLIError) -> Double? {
        guard let text = value(name) else { return nil }
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw CLIError("\(name) must be a number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return v
    }

    /// The value of a required option.
    func required(_ name: String) throws(CLIError) -> String {
        guard let v = value(name) else { throw CLIError("missing required option \(name)") }
        return v
    }
}

/// A command-line error, printed as one line and answered with exit status 2.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
