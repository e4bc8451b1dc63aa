import CheckpointMount

/// `checkpointfs unmount`: takes a view away, also one whose daemon has died.
struct UnmountCommand: ToolCommand {
    static let name = "unmount"
    static let summary = "unmount a view; clears one whose daemon was killed"
    static let synopsis = ["MOUNTPOINT"]
    static let options: [OptionSpec] = []

    var mountPoint: String

    init(arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count == 1 else {
            throw UsageError("expected one MOUNTPOINT, got \(arguments.positionals.count)")
        }
        mountPoint = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        if try ViewUnmount.unmount(mountPoint) == .clearedDeadMount {
            writeError("checkpointfs unmount: \(mountPoint): no daemon answered; "
                       + "its connection was aborted and the mount detached")
        }
        return ExitStatus.success
    }
}
