import CheckpointFS

/// `checkpointfs diff`: the changes a restore of a checkpoint would make to a root, listed as
/// `podman diff` lists a container's.
struct DiffCommand: ToolCommand {
    static let name = "diff"
    static let summary = "list the changes a restore would make to a root (A/C/D, as podman diff)"
    static let synopsis = ["--root ROOT [--format text|json] [-q] CHECKPOINT"]
    static let options = [
        OptionSpec(long: "root", short: "r", takesValue: true,
                   help: "the container root the checkpoint applies to", valueName: "ROOT"),
        OptionSpec(long: "format", short: "f", takesValue: true,
                   help: "text (A/C/D lines, the default) or json (podman's diff --format json)",
                   valueName: "FORMAT"),
        OptionSpec(long: "quiet", short: "q", takesValue: false, help: "no progress"),
    ]

    var root: String
    var checkpoint: String
    var format: ChangeReport.Format
    var quiet: Bool

    init(arguments: ParsedArguments) throws(UsageError) {
        guard let root = arguments.value("root") else { throw UsageError("--root is required") }
        guard arguments.positionals.count == 1 else {
            throw UsageError("expected one CHECKPOINT, got \(arguments.positionals.count)")
        }
        self.root = root
        checkpoint = arguments.positionals[0]
        let formatName = arguments.value("format") ?? ChangeReport.Format.text.rawValue
        guard let format = ChangeReport.Format(rawValue: formatName) else {
            throw UsageError("--format must be text or json, not '\(formatName)'")
        }
        self.format = format
        quiet = arguments.flag("quiet")
    }

    func run() throws -> Int32 {
        let (source, restore) = try CheckpointLoader.open(checkpoint, quiet: quiet)
        defer { source.close() }
        let report = try ChangeReport(restore: restore, root: root)
        print(report.rendered(as: format), terminator: "")
        report.warn(as: Self.name)
        return ExitStatus.success
    }
}
