import CheckpointFS

/// `checkpointfs commit`: applies a checkpoint to a container root.
struct CommitCommand: ToolCommand {
    static let name = "commit"
    static let summary = "apply a checkpoint's file-system changes to a container root"
    static let synopsis = ["--root ROOT [--dry-run] [-q] CHECKPOINT"]
    static let options = [
        OptionSpec(long: "root", short: "r", takesValue: true,
                   help: "the container root to change", valueName: "ROOT"),
        OptionSpec(long: "dry-run", short: "n", takesValue: false,
                   help: "print the changes as A/C/D lines and write nothing"),
        OptionSpec(long: "quiet", short: "q", takesValue: false,
                   help: "no progress and no summary"),
    ]

    var root: String
    var checkpoint: String
    var dryRun: Bool
    var quiet: Bool

    init(arguments: ParsedArguments) throws(UsageError) {
        guard let root = arguments.value("root") else { throw UsageError("--root is required") }
        guard arguments.positionals.count == 1 else {
            throw UsageError("expected one CHECKPOINT, got \(arguments.positionals.count)")
        }
        self.root = root
        self.checkpoint = arguments.positionals[0]
        self.dryRun = arguments.flag("dry-run")
        self.quiet = arguments.flag("quiet")
    }

    func run() throws -> Int32 {
        let source = try CheckpointSource.open(path: checkpoint)
        defer { source.close() }
        let restore = try Restore(source: source)
        if dryRun {
            let report = try ChangeReport(restore: restore, root: root)
            print(report.rendered(as: .text), terminator: "")
            report.warn(as: Self.name)
            return ExitStatus.success
        }
        let progress = ProgressLine("applying \(restore.index.displayName)",
                                    total: restore.index.members.count, quiet: quiet)
        let outcome: ApplyOutcome
        do {
            defer { progress.finish() }
            outcome = try restore.commit(rootPath: root) { progress.update($0 + 1) }
        }
        report(outcome, summary: !quiet)
        return ExitStatus.success
    }

    private func report(_ outcome: ApplyOutcome, summary: Bool) {
        ChangeReport.warnDeletedTarContent(outcome.deletedTarContent, as: Self.name)
        guard summary else { return }
        print("\(outcome.membersApplied) members applied, \(outcome.pathsRemoved) paths removed, "
              + "\(outcome.bytesWritten) bytes written")
    }
}
