import CheckpointFS

/// Why a mount or an unmount failed; every case names the mount point or the option.
public enum MountError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A `-o` option we cannot pass on.
    case invalidOption(option: String, reason: String)
    /// libfuse refused the session options (it says which on standard error).
    case sessionRefused(options: String)
    /// fuse_session_mount(3) failed (libfuse says why on standard error).
    case mountFailed(mountPoint: String)
    /// The background daemon stopped before the mount was ready.
    case daemonFailed(mountPoint: String, reason: String)
    /// Nothing is mounted there.
    case notMounted(mountPoint: String)
    /// Something other than a checkpointfs view is mounted there.
    case notAView(mountPoint: String, type: String)
    /// The view is in use and its daemon is alive.
    case busy(mountPoint: String)
    /// The mount point cannot hold a view: not a directory, already holding one, or inside
    /// the root the view is made of.
    case unusableMountPoint(mountPoint: String, reason: String)
    case system(SystemError)

    public var description: String {
        switch self {
        case .invalidOption(let option, let reason):
            return "option '\(option)': \(reason)"
        case .sessionRefused(let options):
            return "libfuse refused the options '\(options)'"
        case .mountFailed(let mountPoint):
            return "\(mountPoint): mount failed"
        case .daemonFailed(let mountPoint, let reason):
            return "\(mountPoint): \(reason)"
        case .notMounted(let mountPoint):
            return "\(mountPoint): not mounted"
        case .notAView(let mountPoint, let type):
            return "\(mountPoint): not a checkpointfs mount (type \(type))"
        case .busy(let mountPoint):
            return "\(mountPoint): busy (a process uses the mount)"
        case .unusableMountPoint(let mountPoint, let reason):
            return "\(mountPoint): cannot mount a view here: \(reason)"
        case .system(let error):
            return error.description
        }
    }
}
