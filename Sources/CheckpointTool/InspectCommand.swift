import CheckpointFS

/// `checkpointfs inspect`: what a checkpoint holds, read without extracting it.
struct InspectCommand: ToolCommand {
    static let name = "inspect"
    static let summary = "show what a checkpoint holds: container, CRIU images, file-system changes"
    static let synopsis = ["[--format table|json] [--largest N] [-q] CHECKPOINT"]
    static let options = [
        OptionSpec(long: "format", short: "f", takesValue: true,
                   help: "table (the default) or json", valueName: "FORMAT"),
        OptionSpec(long: "largest", short: nil, takesValue: true,
                   help: "how many of the diff tar's largest members to list (default 5)",
                   valueName: "N"),
        OptionSpec(long: "quiet", short: "q", takesValue: false, help: "no progress"),
    ]

    /// The output formats.
    enum Format: String {
        case table
        case json
    }

    var checkpoint: String
    var format: Format
    var largest: Int
    var quiet: Bool

    init(arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count == 1 else {
            throw UsageError("expected one CHECKPOINT, got \(arguments.positionals.count)")
        }
        checkpoint = arguments.positionals[0]
        let formatName = arguments.value("format") ?? Format.table.rawValue
        guard let format = Format(rawValue: formatName) else {
            throw UsageError("--format must be table or json, not '\(formatName)'")
        }
        self.format = format
        largest = 5
        if let text = arguments.value("largest") {
            guard let count = Int(text), count >= 0 else {
                throw UsageError("--largest needs a count, not '\(text)'")
            }
            largest = count
        }
        quiet = arguments.flag("quiet")
    }

    func run() throws -> Int32 {
        let progress = ProgressLine("reading \(ProgressLine.shortName(checkpoint))", bytes: 0,
                                    quiet: quiet)
        let summary: CheckpointSummary
        do {
            defer { progress.finish() }
            summary = try CheckpointSummary.read(checkpoint: checkpoint, largest: largest) {
                progress.update($0, total: $1)
            }
        }
        switch format {
        case .table: print(SummaryTable(summary).text, terminator: "")
        case .json: print(SummaryJSON.value(of: summary).text(indent: "  "), terminator: "")
        }
        return ExitStatus.success
    }
}
