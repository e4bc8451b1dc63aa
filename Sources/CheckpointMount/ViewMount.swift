import CheckpointFS
import CSystem
import Glibc

/// A view served over FUSE at a mount point: the daemon of `checkpointfs mount`.
public final class ViewMount {
    public let view: any ViewFileSystem
    /// Absolute, without symlinks: libfuse unmounts by this path after a `chdir("/")`.
    public let mountPoint: String
    /// What the mount table shows as the source: the checkpoint path.
    public let source: String
    public let options: MountOptions

    public init(view: any ViewFileSystem, mountPoint: String, source: String,
                options: MountOptions)
    {
        precondition(mountPoint.hasPrefix("/"), "mount point must be absolute")
        self.view = view
        self.mountPoint = mountPoint
        self.source = source
        self.options = options
    }

    /// Mounts and serves in this process until the mount goes away or SIGINT, SIGTERM or
    /// SIGHUP arrives; nothing is left mounted when it returns or throws.
    /// - Parameter ready: called once the mount is in place and signals are handled.
    /// - Throws: `MountError` when libfuse refuses the options or the mount, or the loop
    ///   fails.
    public func serve(ready: () -> Void = {}) throws(MountError) {
        let server = ViewServer(view: view, timeout: options.cacheTimeout,
                                maxRead: options.maxRead)
        let session = try FuseSession(arguments: options.sessionArguments(source: source),
                                      server: server)
        try session.mount(at: mountPoint)
        try session.handleSignals()
        ready()
        let status = session.serve()
        guard status == 0 else {
            throw .system(SystemError(errno: -status, operation: "fuse_session_loop_mt",
                                      path: mountPoint))
        }
    }

    /// Forks a daemon that mounts and serves; returns once the mount is ready.
    ///
    /// The daemon reports through a pipe: `ready` once mounted, or why it failed, after
    /// which it exits. Its standard streams go to `/dev/null` and its messages to syslog
    /// once it is ready.
    /// - Throws: `MountError.daemonFailed` with the daemon's reason; no mount is left.
    public func serveInBackground() throws(MountError) {
        var ends: [Int32] = [-1, -1]
        guard pipe2(&ends, CKPT_O_CLOEXEC) == 0 else {
            throw .system(SystemError(errno: ckpt_errno(), operation: "pipe2", path: ""))
        }
        let mountsBefore = try mountsHere()
        let child = fork()
        if child == 0 {
            Glibc.close(ends[0])
            runDaemon(reportingTo: ends[1])
        }
        let forkError = ckpt_errno()
        Glibc.close(ends[1])
        guard child > 0 else {
            Glibc.close(ends[0])
            throw .system(SystemError(errno: forkError, operation: "fork", path: ""))
        }
        let report = readAll(ends[0])
        Glibc.close(ends[0])
        if report == Self.readyMessage { return }

        var status: Int32 = 0
        while waitpid(child, &status, 0) == -1 && ckpt_errno() == EINTR {}
        // The daemon died between mounting and reporting: take its dead mount away.
        if try mountsHere() > mountsBefore {
            _ = umount2(mountPoint, Int32(MNT_DETACH))
        }
        let reason = report.isEmpty ? "the daemon stopped (wait status \(status))" : report
        throw .daemonFailed(mountPoint: mountPoint, reason: reason)
    }

    private static let readyMessage = "ready"

    /// The forked daemon: a session of its own, the mount, then the loop. Never returns.
    private func runDaemon(reportingTo pipe: Int32) -> Never {
        _ = setsid()
        var waiting = true
        do throws(MountError) {
            try serve {
                DaemonLog.detach()
                detachStandardStreams()
                send(Self.readyMessage, to: pipe)
                Glibc.close(pipe)
                waiting = false
                DaemonLog.info("serving \(source) at \(mountPoint)")
            }
            DaemonLog.info("unmounted \(mountPoint)")
            exit(0)
        } catch {
            // Before `ready` the caller is still reading the pipe and waits for the reason.
            if waiting { send(error.description, to: pipe) }
            DaemonLog.error(error.description)
            exit(1)
        }
    }

    /// Points standard input, output and error at `/dev/null` and leaves the working
    /// directory, so the daemon holds no terminal and no directory busy.
    private func detachStandardStreams() {
        _ = chdir("/")
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else { return }
        for target: Int32 in 0...2 { _ = dup2(null, target) }
        if null > 2 { Glibc.close(null) }
    }

    private func mountsHere() throws(MountError) -> Int {
        do {
            return try MountTable.current().filter { $0.mountPoint == mountPoint }.count
        } catch {
            throw .system(error)
        }
    }
}

private func send(_ message: String, to pipe: Int32) {
    var bytes = Array(message.utf8)
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { Glibc.write(pipe, $0.baseAddress, $0.count) }
        if written < 0 && ckpt_errno() == EINTR { continue }
        if written <= 0 { return }
        bytes.removeFirst(written)
    }
}

private func readAll(_ pipe: Int32) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { Glibc.read(pipe, $0.baseAddress, $0.count) }
        if count < 0 && ckpt_errno() == EINTR { continue }
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
