import CheckpointFS

/// `checkpointfs commit`: applies a checkpoint to a container root, keeping a journal so that
/// a commit that was stopped is finished by running it again.
struct CommitCommand: ToolCommand {
    static let name = "commit"
    static let summary = "apply a checkpoint's file-system changes to a container root"
    static let synopsis = [
        "--root ROOT [--dry-run] [--again] [--state-dir DIR | --no-journal] [-q] CHECKPOINT",
    ]
    static let options = [
        OptionSpec(long: "root", short: "r", takesValue: true,
                   help: "the container root to change", valueName: "ROOT"),
        OptionSpec(long: "dry-run", short: "n", takesValue: false,
                   help: "print the changes as A/C/D lines and write nothing"),
        OptionSpec(long: "again", short: nil, takesValue: false,
                   help: "apply it even if it was committed to this root already"),
        OptionSpec(long: "state-dir", short: nil, takesValue: true,
                   help: "where commit journals are kept (default "
                       + "\(Restore.defaultStateDirectory))",
                   valueName: "DIR"),
        OptionSpec(long: "no-journal", short: nil, takesValue: false,
                   help: "keep no journal: stopped part-way, it may not finish when run again"),
        OptionSpec(long: "quiet", short: "q", takesValue: false,
                   help: "no progress and no summary"),
    ]

    var root: String
    var checkpoint: String
    var dryRun: Bool
    var again: Bool
    /// Where journals are kept; `nil` for a commit without one.
    var stateDirectory: String?
    var quiet: Bool

    init(arguments: ParsedArguments) throws(UsageError) {
        guard let root = arguments.value("root") else { throw UsageError("--root is required") }
        guard arguments.positionals.count == 1 else {
            throw UsageError("expected one CHECKPOINT, got \(arguments.positionals.count)")
        }
        self.root = root
        self.checkpoint = arguments.positionals[0]
        self.dryRun = arguments.flag("dry-run")
        self.again = arguments.flag("again")
        if arguments.flag("no-journal") {
            guard arguments.value("state-dir") == nil, !arguments.flag("again") else {
                throw UsageError("--no-journal goes with neither --state-dir nor --again")
            }
            self.stateDirectory = nil
        } else {
            self.stateDirectory = arguments.value("state-dir") ?? Restore.defaultStateDirectory
        }
        self.quiet = arguments.flag("quiet")
    }

    func run() throws -> Int32 {
        let (source, restore) = try CheckpointLoader.open(checkpoint, quiet: quiet)
        defer { source.close() }
        if dryRun {
            let report = try ChangeReport(restore: restore, root: root)
            print(report.rendered(as: .text), terminator: "")
            report.warn(as: Self.name)
            return ExitStatus.success
        }
        let progress = ProgressLine(
            "applying \(ProgressLine.shortName(restore.index.displayName))",
            total: restore.index.members.count, quiet: quiet)
        let start: JournaledCommit.Start
        let outcome: ApplyOutcome
        var journal: String?
        do {
            defer { progress.finish() }
            if let stateDirectory {
                let commit = try restore.commit(
                    rootPath: root, stateDirectory: stateDirectory,
                    checkpointFiles: source.sourceFiles, checkpointName: checkpoint,
                    again: again
                ) { progress.update($0 + 1) }
                (start, outcome, journal) = (commit.start, commit.outcome, commit.journal)
            } else {
                start = .fresh
                outcome = try restore.commit(rootPath: root) { progress.update($0 + 1) }
            }
        }
        report(outcome, start: start, journal: journal, members: restore.index.members.count)
        return ExitStatus.success
    }

    private func report(
        _ outcome: ApplyOutcome,
        start: JournaledCommit.Start,
        journal: String?,
        members: Int
    ) {
        ChangeReport.warnDeletedTarContent(outcome.deletedTarContent, as: Self.name)
        guard !quiet else { return }
        let done = "\(outcome.membersApplied) members applied, "
            + "\(outcome.pathsRemoved) paths removed, \(outcome.bytesWritten) bytes written"
        switch start {
        case .fresh:
            print(done)
        case .resumed(let step):
            print("finished a commit that had stopped at \(Self.describe(step, of: members)): "
                  + done)
        case .alreadyCommitted(let time):
            let when = Timestamp(seconds: time, nanoseconds: 0).rfc3339
            print("\(checkpoint) was committed to \(root) already, at \(when) "
                  + "(\(journal ?? "")): nothing to do; --again applies it once more")
        }
    }

    private static func describe(_ step: ApplyStep, of members: Int) -> String {
        switch step {
        case .member(let index): return "member \(index + 1) of \(members)"
        case .directoryTimes: return "setting directory times"
        case .deletedPath(let position): return "deleted path \(position + 1)"
        }
    }
}
