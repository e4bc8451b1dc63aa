import CheckpointFS
import CSystem
import Glibc

/// How far the kernel reads ahead of a sequential reader of the view.
///
/// A FUSE mount starts with the kernel's default of 128 KiB, and INIT can only lower it
/// (the kernel keeps the smaller of its own value and the `max_readahead` the daemon
/// answers), so the one way to raise it is the mount's backing device in sysfs,
/// `/sys/class/bdi/MAJOR:MINOR/read_ahead_kb`, which only root may write. A READ carries up
/// to 1 MiB (256 pages, as libfuse negotiates), so with 1 MiB of read-ahead one request is
/// in flight and the daemon's disk read and its reply take turns; with 2 MiB the next
/// request is already being served while one is answered. 4 MiB read no faster on two
/// cores, and each request in flight holds a thread's 1 MiB buffer.
enum ReadAhead {
    /// What `checkpointfs mount` sets unless told otherwise.
    static let defaultKibibytes: UInt32 = 2048

    /// Sets the read-ahead of the FUSE mount at `mountPoint` to `kibibytes` KiB.
    /// - Throws: `SystemError` when the mount is not in the mount table or its sysfs file
    ///   cannot be written (not root, or sysfs read-only in a container).
    static func set(_ kibibytes: UInt32, at mountPoint: String) throws(SystemError) {
        guard let entry = try MountTable.entry(at: mountPoint) else {
            throw SystemError(errno: ENOENT, operation: "find in mountinfo", path: mountPoint)
        }
        let path = "/sys/class/bdi/\(entry.major):\(entry.minor)/read_ahead_kb"
        let file = try FileDescriptor.open(atPath: path, flags: O_WRONLY)
        let text = Array("\(kibibytes)\n".utf8)
        let written = text.withUnsafeBytes { pwrite(file.raw, $0.baseAddress, $0.count, 0) }
        guard written == text.count else {
            throw SystemError(errno: written < 0 ? ckpt_errno() : EIO, operation: "write",
                              path: path)
        }
    }
}
