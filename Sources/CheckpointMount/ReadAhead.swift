import CheckpointFS
import CSystem
import Glibc

/// How far the kernel reads ahead of a sequential reader of the view.
///
/// A FUSE mount starts with the kernel's default of 128 KiB, and INIT can only lower it
/// (the kernel keeps the smaller of its own value and the `max_readahead` the daemon
/// answers), so the one way to raise it is the mount's backing device in sysfs,
/// `/sys/class/bdi/MAJOR:MINOR/read_ahead_kb`, which only root may write. A READ carries up
/// to 1 MiB (256 pages, as libfuse negotiates), so with 1 MiB of read-ahead about one
/// request is in flight. 2 MiB read a cold member faster in some runs, but every request in
/// flight holds a loop thread's 1 MiB buffer, and it took the daemon's peak in the benchmark
/// from 43 to 51 MB, over the memory budget; `read_ahead_kb=2048` is there for a reader who
/// wants it.
enum ReadAhead {
    /// What `checkpointfs mount` sets unless told otherwise.
    static let defaultKibibytes: UInt32 = 1024

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
