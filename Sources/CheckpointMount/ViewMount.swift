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
        MallocArenas.shareOne()
        let server = ViewServer(view: view, timeout: options.cacheTimeout,
                                maxRead: options.maxRead)
        let session = try FuseSession(arguments: options.sessionArguments(source: source),
                                      server: server)
        try session.mount(at: mountPoint)
        try session.handleSignals()
        // INIT can only lower the read-ahead, so it is raised once INIT is answered.
        if session.serveInitRequest() {
            do {
                try ReadAhead.set(options.readAheadKibibytes, at: mountPoint)
            } catch {
                // Only a tuning: the view is the same, sequential reads are slower.
                DaemonLog.info("read-ahead left at the kernel's default: \(error)")
            }
        }
        ready()
        let status = session.serve()
        guard status == 0 else {
            throw .system(SystemError(errno: -status, operation: "fuse_session_loop_mt",
                                      path: mountPoint))
        }
    }

    /// Forks a daemon that mounts and serves; returns once the mount is ready.
    ///
    /// The daemon reports through a socket: `ready` once mounted, or why it failed, after
    /// which it exits. Its standard streams go to `/dev/null` and its messages to syslog
    /// once it is ready.
    /// - Throws: `MountError.daemonFailed` with the daemon's reason; no mount is left.
    public func serveInBackground() throws(MountError) {
        let channel: SocketPair
        do { channel = try SocketPair() } catch { throw .system(error) }
        let mountsBefore = try mountsHere()
        let child = fork()
        if child == 0 {
            Glibc.close(channel.reader)
            runDaemon(reportingTo: channel.writer)
        }
        let forkError = ckpt_errno()
        Glibc.close(channel.writer)
        guard child > 0 else {
            Glibc.close(channel.reader)
            throw .system(SystemError(errno: forkError, operation: "fork", path: ""))
        }
        let report = String(decoding: SocketPair.receiveAll(on: channel.reader), as: UTF8.self)
        Glibc.close(channel.reader)
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

    /// Closes every descriptor above standard error that this process inherited.
    ///
    /// Call it first, before anything is opened: a daemon that kept its caller's pipes or
    /// sockets would keep a caller that waits for their end (a shell's command
    /// substitution, a process runner watching a socket) waiting as long as the view is
    /// mounted. Descriptors are listed from `/proc/self/fd`.
    public static func closeInheritedDescriptors() throws(SystemError) {
        let listing = try FileDescriptor.openDirectory(atPath: "/proc/self/fd")
        for entry in try listing.directoryEntries() {
            guard let number = Int32(String(decoding: entry.name, as: UTF8.self)),
                  number > 2, number != listing.raw
            else { continue }
            // The listing's own copy is among them and already closed: EBADF, nothing else.
            _ = Glibc.close(number)
        }
    }

    /// The forked daemon: a session of its own, the mount, then the loop. Never returns.
    private func runDaemon(reportingTo report: Int32) -> Never {
        _ = setsid()
        var waiting = true
        do throws(MountError) {
            try serve {
                DaemonLog.detach()
                detachStandardStreams()
                SocketPair.send(Array(Self.readyMessage.utf8), on: report)
                Glibc.close(report)
                waiting = false
                DaemonLog.info("serving \(source) at \(mountPoint)")
            }
            DaemonLog.info("unmounted \(mountPoint)")
            exit(0)
        } catch {
            // Before `ready` the caller is still reading the socket and waits for the reason.
            if waiting { SocketPair.send(Array(error.description.utf8), on: report) }
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
