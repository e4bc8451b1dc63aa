import CheckpointMount
import CSystem
import Foundation
import Glibc
@testable import CheckpointFS

/// Why a view could not be mounted or taken away in a test.
struct MountHarnessError: Error, CustomStringConvertible {
    var description: String
}

/// A view served by the real `checkpointfs mount -f`, run as a child process.
///
/// The mount is ready when `/proc/self/mountinfo` shows it. Unmounting uses
/// `fusermount3 -u`, then `-u -z`, and a daemon that does not exit after that is killed:
/// a hung daemon cannot hang the tests.
final class MountHarness: @unchecked Sendable {
    /// The mount point, resolved.
    let mountPoint: String
    /// The daemon's process id.
    let daemon: pid_t
    /// The daemon's standard output and error.
    let logPath: String
    private var exitStatus: Int32?

    /// How long to wait for a mount to appear or a daemon to exit before giving up: a guard
    /// against hangs, never a measure of speed.
    static let patience: Double = 60

    /// The `checkpointfs` program built with the tests, next to the test bundle.
    static let program: String = {
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        while directory.path != "/" {
            directory.deleteLastPathComponent()
            let candidate = directory.appendingPathComponent("checkpointfs").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "checkpointfs not found next to the test bundle"
    }()

    /// Starts `checkpointfs mount -f --root ROOT CHECKPOINT MOUNTPOINT EXTRA...` and waits
    /// until the mount is there.
    /// - Throws: when the daemon exits first; the error holds what it wrote.
    init(root: String, checkpoint: String, mountPoint: String, extra: [String] = [])
        throws
    {
        self.mountPoint = try MountPoint.resolve(mountPoint)
        logPath = self.mountPoint + ".log"
        daemon = try Self.spawn(
            [Self.program, "mount", "-f", "--root", root, checkpoint, self.mountPoint] + extra,
            log: logPath)
        let deadline = Date().addingTimeInterval(Self.patience)
        while try !Self.isMounted(self.mountPoint) {
            if let status = reap(blocking: false) {
                detachLeftover()
                throw MountHarnessError(
                    description: "daemon exited with \(status) before mounting: \(log())")
            }
            guard Date() < deadline else {
                kill(daemon, SIGKILL)
                _ = reap(blocking: true)
                detachLeftover()
                throw MountHarnessError(description: "no mount after \(Self.patience) s")
            }
            usleep(5000)
        }
    }

    deinit {
        if exitStatus == nil { _ = unmount() }
        detachLeftover()
    }

    /// A lazy unmount of whatever view is still at the mount point: a test that failed, or
    /// a daemon that died, must not leave a dead mount behind.
    private func detachLeftover() {
        if (try? Self.isMounted(mountPoint)) != false {
            _ = try? Command.run("/usr/bin/fusermount3", ["-u", "-z", mountPoint])
        }
    }

    /// What the daemon wrote so far.
    func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The path of `relative` inside the view.
    func path(_ relative: String) -> String {
        relative.isEmpty ? mountPoint : mountPoint + "/" + relative
    }

    /// Unmounts and waits for the daemon.
    /// - Returns: the daemon's wait status.
    @discardableResult
    func unmount() -> Int32 {
        if (try? Self.isMounted(mountPoint)) ?? true {
            let clean = try? Command.run("/usr/bin/fusermount3", ["-u", mountPoint])
            if clean?.status != 0 {
                _ = try? Command.run("/usr/bin/fusermount3", ["-u", "-z", mountPoint])
            }
        }
        return waitForExit()
    }

    /// Sends `signal` to the daemon.
    func signal(_ signal: Int32) {
        kill(daemon, signal)
    }

    /// Waits for the daemon to exit, killing it if it does not within the patience.
    /// - Returns: its wait status.
    func waitForExit() -> Int32 {
        let deadline = Date().addingTimeInterval(Self.patience)
        while Date() < deadline {
            if let status = reap(blocking: false) { return status }
            usleep(5000)
        }
        kill(daemon, SIGKILL)
        return reap(blocking: true)!
    }

    private func reap(blocking: Bool) -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let result = waitpid(daemon, &status, blocking ? 0 : WNOHANG)
        guard result == daemon else { return nil }
        exitStatus = status
        return status
    }

    /// The exit code in a wait status; nil when a signal ended the process.
    static func exitCode(_ status: Int32) -> Int32? {
        status & 0x7f == 0 ? (status >> 8) & 0xff : nil
    }

    /// Whether a view is mounted at `mountPoint`.
    static func isMounted(_ mountPoint: String) throws -> Bool {
        try MountTable.entry(at: mountPoint)?.type == "fuse.checkpointfs"
    }

    /// posix_spawn(3) of `arguments` with both outputs going to `log`.
    private static func spawn(_ arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // The test's threads block signals; the daemon starts with none blocked or caught.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw SystemError(errno: status, operation: "posix_spawn", path: arguments[0])
        }
        return pid
    }

    /// Runs the `checkpointfs` program to its end.
    @discardableResult
    static func tool(_ arguments: [String]) throws -> CommandResult {
        try Command.run(program, arguments)
    }
}

/// A scratch directory with a lower root, a checkpoint directory and a mount point.
final class MountScratch: @unchecked Sendable {
    let directory: TemporaryDirectory
    var root: String { directory.path("root") }
    var checkpoint: String { directory.path("checkpoint") }
    var mountPoint: String { directory.path("mnt") }

    /// Makes the three directories; the checkpoint holds `members` as its diff tar and
    /// `deleted` as its deleted list.
    init(members: [TarBuilder.Entry] = [], deleted: [String] = []) throws {
        directory = try TemporaryDirectory("mount")
        for path in [root, checkpoint, mountPoint] {
            try FileManager.default.createDirectory(atPath: path,
                                                    withIntermediateDirectories: false)
        }
        try Data(TarBuilder.archive(members))
            .write(to: URL(fileURLWithPath: checkpoint + "/rootfs-diff.tar"))
        let list = try JSONEncoder().encode(deleted)
        try list.write(to: URL(fileURLWithPath: checkpoint + "/deleted.files"))
    }

    /// Writes a file of the lower root, making its parents.
    func writeLower(_ relative: String, _ content: String) throws {
        let url = URL(fileURLWithPath: root + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
    }

    /// Mounts the view in the foreground, as a child process.
    func mount(extra: [String] = []) throws -> MountHarness {
        try MountHarness(root: root, checkpoint: checkpoint, mountPoint: mountPoint,
                         extra: extra)
    }
}
