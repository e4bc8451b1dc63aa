import CheckpointFS

/// `checkpointfs import`: writes an exported checkpoint archive into a directory, without
/// its container configuration, or with `--config-only` nothing but that configuration.
struct ImportCommand: ToolCommand {
    static let name = "import"
    static let summary = "import a checkpoint archive into a directory, with the same checks "
        + "as commit"
    static let synopsis = ["[--config-only] [-q] ARCHIVE DEST"]
    static let options = [
        OptionSpec(long: "config-only", short: "c", takesValue: false,
                   help: "import only config.dump and spec.dump (otherwise all but these)"),
        OptionSpec(long: "quiet", short: "q", takesValue: false,
                   help: "no progress and no summary"),
    ]

    var archive: String
    var destination: String
    var selection: CheckpointImport.Selection
    var quiet: Bool

    init(arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count == 2 else {
            throw UsageError("expected ARCHIVE DEST, got \(arguments.positionals.count) "
                             + "arguments")
        }
        archive = arguments.positionals[0]
        destination = arguments.positionals[1]
        selection = arguments.flag("config-only") ? .configOnly : .withoutConfig
        quiet = arguments.flag("quiet")
    }

    func run() throws -> Int32 {
        let progress = ProgressLine("reading \(ProgressLine.shortName(archive))", bytes: 0,
                                    quiet: quiet)
        let outcome: ApplyOutcome
        do {
            defer { progress.finish() }
            outcome = try CheckpointImport.run(archive: archive, into: destination,
                                               selection: selection) {
                progress.update($0, total: $1)
            }
        }
        if !quiet {
            print("\(outcome.membersApplied) members imported into \(destination), "
                  + "\(outcome.bytesWritten) bytes written")
        }
        return ExitStatus.success
    }
}
