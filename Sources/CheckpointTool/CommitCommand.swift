import CheckpointFS
import Foundation

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
        let tarPath = checkpoint + "/rootfs-diff.tar"
        let deletedPath = checkpoint + "/deleted.files"
        let hasTar = FileManager.default.fileExists(atPath: tarPath)
        let index = hasTar
            ? try TarIndex(path: tarPath) : TarIndex(emptyNamed: tarPath)
        var paths: [String] = []
        if let data = FileManager.default.contents(atPath: deletedPath) {
            paths = try JSONDecoder().decode([String]?.self, from: data) ?? []
        }
        let restore = Restore(
            index: index, tarPath: hasTar ? tarPath : nil,
            deletedList: DeletedPaths(displayName: deletedPath, paths: paths))
        if dryRun {
            let (_, outcome) = try restore.plan(rootPath: root)
            report(outcome)
            return ExitStatus.success
        }
        let outcome = try restore.commit(rootPath: root)
        report(outcome)
        return ExitStatus.success
    }

    private func report(_ outcome: ApplyOutcome) {
        for path in outcome.deletedTarContent {
            writeError("checkpointfs commit: warning: deleted path '\(path)' removes content "
                       + "the diff tar put there")
        }
        guard !quiet else { return }
        print("\(outcome.membersApplied) members applied, \(outcome.pathsRemoved) paths removed, "
              + "\(outcome.bytesWritten) bytes written")
    }
}
