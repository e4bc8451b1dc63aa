import CheckpointFS
import CheckpointMount

/// `checkpointfs mount`: serves the merged read-only view of a root with a checkpoint
/// applied, as a FUSE file system.
struct MountCommand: ToolCommand {
    static let name = "mount"
    static let summary = "mount the read-only view of a container root with a checkpoint applied"
    static let synopsis = ["--root ROOT CHECKPOINT MOUNTPOINT [-f] [-d] [-o OPTIONS] [-q]"]
    static let options = [
        OptionSpec(long: "root", short: "r", takesValue: true,
                   help: "the container root the checkpoint applies to", valueName: "ROOT"),
        OptionSpec(long: "foreground", short: "f", takesValue: false,
                   help: "serve in the foreground until unmounted or interrupted"),
        OptionSpec(long: "debug", short: "d", takesValue: false,
                   help: "trace every FUSE request on standard error (implies -f)"),
        OptionSpec(long: "options", short: "o", takesValue: true,
                   help: "FUSE mount options such as allow_other, max_read=N, "
                       + "read_ahead_kb=N (default 1024) "
                       + "(always ro, nosuid, nodev, default_permissions)",
                   valueName: "OPTIONS"),
        OptionSpec(long: "quiet", short: "q", takesValue: false,
                   help: "no progress while the checkpoint is read"),
    ]

    var root: String
    var checkpoint: String
    var mountPoint: String
    var mountOptions: MountOptions
    var quiet: Bool

    init(arguments parsed: ParsedArguments) throws(UsageError) {
        let operands = parsed.positionals
        guard let root = parsed.value("root") else { throw UsageError("--root is required") }
        guard operands.count == 2 else {
            throw UsageError("expected CHECKPOINT and MOUNTPOINT, got \(operands.count) operands")
        }
        self.root = root
        checkpoint = operands[0]
        mountPoint = operands[1]
        mountOptions = MountOptions()
        mountOptions.foreground = parsed.flag("foreground")
        mountOptions.debug = parsed.flag("debug")
        do {
            for list in parsed.all("options") { try mountOptions.add(list) }
        } catch {
            throw UsageError(error.description)
        }
        if mountOptions.debug { mountOptions.foreground = true }
        quiet = parsed.flag("quiet")
    }

    func run() throws -> Int32 {
        try ViewMount.closeInheritedDescriptors()
        let target = try MountPoint.resolve(mountPoint)
        try MountPoint.checkUsable(target, root: root)
        let source = try CheckpointLoader.openSource(checkpoint, quiet: quiet)
        defer { source.close() }
        let view: MergedView
        do {
            let indexing = CheckpointLoader.indexingLine(source, path: checkpoint, quiet: quiet)
            defer { indexing.finish() }
            view = try MergedView(source: source, rootPath: root) {
                indexing.update($0, total: $1)
            }
        }
        // The view holds the diff tar open; no file of the checkpoint is needed by name
        // any more, so a cached copy goes now rather than outliving a killed daemon.
        source.close()
        ChangeReport.warnDeletedTarContent(view.outcome.deletedTarContent, as: Self.name)

        let mount = ViewMount(view: view, mountPoint: target,
                              source: (try? MountPoint.resolve(checkpoint)) ?? checkpoint,
                              options: mountOptions)
        if mountOptions.foreground {
            try mount.serve()
        } else {
            try mount.serveInBackground()
            // The daemon serves its own copy; this process exits now, and taking the tree
            // apart node by node first would only keep the caller waiting.
            _ = Unmanaged.passRetained(view)
        }
        return ExitStatus.success
    }
}
