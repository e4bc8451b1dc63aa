import CheckpointFS

/// `checkpointfs create`: the diff tar and deleted list that turn a base root into a changed
/// root, written into a checkpoint directory.
struct CreateCommand: ToolCommand {
    static let name = "create"
    static let summary = "write rootfs-diff.tar and deleted.files from a changed root and its base"
    static let synopsis = [
        "--base BASE --changed CHANGED --output DIR [--allow-lossy] [--no-rebuild] "
            + "[--trust-mtime] [--list] [-q]",
    ]
    static let options = [
        OptionSpec(long: "base", short: "b", takesValue: true,
                   help: "the root the container started from", valueName: "BASE"),
        OptionSpec(long: "changed", short: "c", takesValue: true,
                   help: "the container's root as it is now", valueName: "CHANGED"),
        OptionSpec(long: "output", short: "o", takesValue: true,
                   help: "the directory to write into (made if missing)", valueName: "DIR"),
        OptionSpec(long: "allow-lossy", short: nil, takesValue: false,
                   help: "also write what cannot come back exactly, with warnings (else exit 3)"),
        OptionSpec(long: "no-rebuild", short: nil, takesValue: false,
                   help: "deletions go to deleted.files as podman's do (their directories' "
                       + "mtimes are lost)"),
        OptionSpec(long: "trust-mtime", short: nil, takesValue: false,
                   help: "files with equal size, mtime, mode, owner, xattrs are not read"),
        OptionSpec(long: "list", short: "l", takesValue: false,
                   help: "print the change list (A/C/D lines, as podman diff) first"),
        OptionSpec(long: "quiet", short: "q", takesValue: false, help: "no summary"),
    ]

    var base: String
    var changed: String
    var output: String
    var options: CreateOptions
    var list: Bool
    var quiet: Bool

    init(arguments: ParsedArguments) throws(UsageError) {
        guard let base = arguments.value("base") else { throw UsageError("--base is required") }
        guard let changed = arguments.value("changed") else {
            throw UsageError("--changed is required")
        }
        guard let output = arguments.value("output") else {
            throw UsageError("--output is required")
        }
        guard arguments.positionals.isEmpty else {
            throw UsageError("unexpected argument '\(arguments.positionals[0])'")
        }
        self.base = base
        self.changed = changed
        self.output = output
        self.options = CreateOptions(
            compareContents: !arguments.flag("trust-mtime"),
            rebuildDirectories: !arguments.flag("no-rebuild"),
            allowLossy: arguments.flag("allow-lossy"))
        self.list = arguments.flag("list")
        self.quiet = arguments.flag("quiet")
    }

    func run() throws -> Int32 {
        let baseRoot = try FileDescriptor.openDirectory(atPath: base)
        let changedRoot = try FileDescriptor.openDirectory(atPath: changed)
        let plan = try CheckpointDiff.plan(base: baseRoot, changed: changedRoot, options: options)
        if list {
            for change in plan.changes { print(change.line) }
        }
        if !plan.inexpressible.isEmpty {
            guard options.allowLossy else {
                writeError("checkpointfs create: "
                           + CreateError.inexpressible(plan.inexpressible).description)
                return ExitStatus.refused
            }
            for change in plan.inexpressible {
                writeError("checkpointfs create: warning: not reproduced: \(change)")
            }
        }
        try CheckpointDiff.write(plan, from: changedRoot,
                                 to: try CheckpointDiff.openOutput(atPath: output))
        if !quiet { printSummary(plan) }
        return ExitStatus.success
    }

    private func printSummary(_ plan: DiffPlan) {
        let count = { (kind: FileChange.Kind) in plan.changes.filter { $0.kind == kind }.count }
        print("\(count(.added)) added, \(count(.changed)) changed, \(count(.deleted)) deleted")
        let tar = plan.members.isEmpty
            ? "no rootfs-diff.tar (nothing to add or change)"
            : "rootfs-diff.tar: \(plan.members.count) members, \(plan.dataSize) bytes of data"
        print(tar)
        print(plan.deletedPaths.isEmpty
              ? "no deleted.files (nothing deleted)"
              : "deleted.files: \(plan.deletedPaths.count) paths")
        if !plan.rebuiltDirectories.isEmpty {
            let names = plan.rebuiltDirectories.map(\.displayPath).joined(separator: " ")
            print("re-created with all their content: \(names)")
        }
    }
}
