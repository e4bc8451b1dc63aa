/// A subcommand of `checkpointfs`: its options, its validation, and its work.
///
/// `init(arguments:)` validates the command line completely before `run()` touches anything.
protocol ToolCommand {
    static var name: String { get }
    /// One line for the command list.
    static var summary: String { get }
    /// The synopsis lines, without the program name.
    static var synopsis: [String] { get }
    static var options: [OptionSpec] { get }

    init(arguments: ParsedArguments) throws(UsageError)
    /// Does the work; returns the exit status.
    func run() throws -> Int32
}

extension ToolCommand {
    static var helpText: String {
        var text = "usage:\n"
        for line in synopsis { text += "  checkpointfs \(name) \(line)\n" }
        text += "\n\(summary)\n"
        let all = options + [OptionSpec(long: "help", short: "h", takesValue: false,
                                         help: "show this help")]
        text += "\noptions:\n"
        for spec in all {
            var left = spec.short.map { "-\($0), " } ?? "    "
            left += "--\(spec.long)" + (spec.takesValue ? " \(spec.valueName)" : "")
            let padded = left.count < 26
                ? left + String(repeating: " ", count: 26 - left.count) : left + "  "
            text += "  \(padded)\(spec.help)\n"
        }
        return text
    }
}
