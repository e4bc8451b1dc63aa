import CSystem
import Glibc

/// One long option of a subcommand, with its short letter if it has one.
struct OptionSpec {
    var long: String
    var short: Character?
    var takesValue: Bool
    var help: String
    /// Name of the value in help text, such as `ROOT`.
    var valueName: String = "VALUE"
}

/// The outcome of parsing a subcommand's arguments with glibc's getopt_long(3).
struct ParsedArguments {
    /// Long option name to the values given (an empty string for a flag), in order.
    var values: [String: [String]] = [:]
    var positionals: [String] = []

    func flag(_ name: String) -> Bool { values[name] != nil }
    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
}

/// A command line that cannot be run: shown with the subcommand's usage, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum OptionParser {
    /// Parses `arguments` (without the program and subcommand names) against `specs`.
    static func parse(_ arguments: [String], specs: [OptionSpec]) throws(UsageError)
        -> ParsedArguments
    {
        var shortString = ":"  // report a missing value as ':', not '?'
        for spec in specs {
            if let short = spec.short {
                shortString += String(short) + (spec.takesValue ? ":" : "")
            }
        }

        // getopt_long keeps pointers into these: they live until the end of this function.
        let cNames = specs.map { strdup($0.long)! }
        let argv = (["checkpointfs"] + arguments).map { strdup($0) } + [nil]
        defer {
            cNames.forEach { free($0) }
            argv.forEach { free($0) }
        }
        var longOptions = specs.enumerated().map { index, spec in
            option(name: cNames[index], has_arg: spec.takesValue ? required_argument : no_argument,
                   flag: nil, val: Int32(1000 + index))
        }
        longOptions.append(option(name: nil, has_arg: 0, flag: nil, val: 0))

        var parsed = ParsedArguments()
        var mutableArgv = argv
        ckpt_getopt_reset()  // optind 0 makes glibc re-initialise its state
        while true {
            let code = getopt_long(Int32(argv.count - 1), &mutableArgv, shortString,
                                   longOptions, nil)
            if code == -1 { break }
            let spec: OptionSpec
            if code >= 1000 {
                spec = specs[Int(code) - 1000]
            } else if code == Int32(UInt8(ascii: "?")) {
                throw UsageError("unknown option '\(badOption(argv))'")
            } else if code == Int32(UInt8(ascii: ":")) {
                throw UsageError("option '\(badOption(argv))' needs a value")
            } else if let match = specs.first(where: {
                $0.short.map { Int32($0.asciiValue!) } == code
            }) {
                spec = match
            } else {
                throw UsageError("unknown option")
            }
            let value = spec.takesValue ? String(cString: ckpt_optarg()) : ""
            parsed.values[spec.long, default: []].append(value)
        }
        // getopt_long moved the positionals behind the options in its argv.
        parsed.positionals = mutableArgv[Int(ckpt_optind())..<(argv.count - 1)]
            .map { String(cString: $0!) }
        return parsed
    }

    private static func badOption(_ argv: [UnsafeMutablePointer<CChar>?]) -> String {
        let code = ckpt_optopt()
        if code != 0, let scalar = Unicode.Scalar(UInt32(code)) {
            return "-" + String(Character(scalar))
        }
        let index = Int(ckpt_optind()) - 1
        guard index >= 1, index < argv.count, let arg = argv[index] else { return "?" }
        return String(cString: arg)
    }
}
