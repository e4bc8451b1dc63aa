import CheckpointFS
import CSystem
import Glibc

/// Taking a view away: an ordinary unmount, or clearing a mount whose daemon is gone.
public enum ViewUnmount {
    public enum Outcome: Sendable, Equatable {
        /// Unmounted as `fusermount3 -u` would; the daemon sees the end and exits.
        case unmounted
        /// The daemon was dead or not answering and the mount was in use: its connection
        /// was aborted and the mount detached (lazy unmount), as `umount -l` does.
        case clearedDeadMount
    }

    /// Unmounts the view at `path`.
    ///
    /// As root this is umount2(2); otherwise fusermount3(1) does it. A mount in use is left
    /// alone while its daemon answers (`busy`); when the daemon is gone, killed with SIGKILL
    /// for instance, every access answers "Transport endpoint is not connected", and the
    /// mount is cleared instead.
    /// - Throws: `MountError.notMounted`, `.notAView` for any other kind of mount, `.busy`,
    ///   or `.system`.
    public static func unmount(_ path: String) throws(MountError) -> Outcome {
        let mountPoint: String
        let entry: MountTableEntry?
        do {
            mountPoint = try MountPoint.resolveWithoutLast(path)
            entry = try MountTable.entry(at: mountPoint)
        } catch {
            throw .system(error)
        }
        guard let entry else { throw .notMounted(mountPoint: mountPoint) }
        guard entry.type == "fuse.checkpointfs" else {
            throw .notAView(mountPoint: mountPoint, type: entry.type)
        }

        let asRoot = geteuid() == 0
        let failure = asRoot ? unmountAsRoot(mountPoint, lazy: false)
            : runFusermount(["-u", "-q", mountPoint])
        guard let failure else { return .unmounted }
        if asRoot && failure != EBUSY {
            throw .system(SystemError(errno: failure, operation: "umount2", path: mountPoint))
        }

        // In use. Only a daemon that still answers keeps it; otherwise nothing ever will.
        if daemonAnswers(at: mountPoint) { throw .busy(mountPoint: mountPoint) }
        if asRoot { abortConnection(entry) }
        let detached = asRoot ? unmountAsRoot(mountPoint, lazy: true)
            : runFusermount(["-u", "-z", "-q", mountPoint])
        if let detached {
            throw .system(SystemError(errno: detached, operation: "umount2", path: mountPoint))
        }
        return .clearedDeadMount
    }

    /// umount2(2), never following a symlink at the mount point.
    /// - Returns: nil on success, else the errno.
    private static func unmountAsRoot(_ mountPoint: String, lazy: Bool) -> Int32? {
        let flags = Int32(UMOUNT_NOFOLLOW) | (lazy ? Int32(MNT_DETACH) : 0)
        while umount2(mountPoint, flags) != 0 {
            let code = ckpt_errno()
            if code != EINTR { return code }
        }
        return nil
    }

    /// Runs fusermount3(1) with `arguments`; nil when it succeeds, else EBUSY (it reports
    /// the reason itself on standard error, and busy is the one we act on).
    private static func runFusermount(_ arguments: [String]) -> Int32? {
        let argv = (["fusermount3"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        guard posix_spawnp(&child, "fusermount3", nil, nil, argv, Glibc.environ) == 0 else {
            return ENOENT
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) == -1 && ckpt_errno() == EINTR {}
        return status == 0 ? nil : EBUSY
    }

    /// Whether the daemon answers a statfs(2) on the mount within a few seconds.
    ///
    /// A killed daemon's mount answers ENOTCONN at once; a hung daemon never answers, so
    /// the call runs on a thread of its own, which the aborted connection releases later.
    private static func daemonAnswers(at mountPoint: String) -> Bool {
        guard let channel = try? SocketPair() else { return true }
        defer { Glibc.close(channel.reader) }
        let probe = StatfsProbe(path: mountPoint, reply: channel.writer)
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<StatfsProbe>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, Unmanaged.passRetained(probe).toOpaque())
        guard started == 0 else {
            Glibc.close(channel.writer)
            return true
        }
        pthread_detach(thread)

        var waiting = pollfd(fd: channel.reader, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, 5000) == 1 else { return false }
        return SocketPair.receiveAll(on: channel.reader) == [0]
    }

    /// Writes 1 to the connection's `abort` file (fusectl), which fails every pending and
    /// future request at once. Mounts fusectl at its usual place if nobody has.
    private static func abortConnection(_ entry: MountTableEntry) {
        let connections = "/sys/fs/fuse/connections"
        let abortFile = "\(connections)/\(entry.minor)/abort"
        if access(abortFile, F_OK) != 0 {
            _ = mount("fusectl", connections, "fusectl", 0, nil)
        }
        let file = open(abortFile, O_WRONLY | CKPT_O_CLOEXEC)
        guard file >= 0 else { return }
        _ = Glibc.write(file, "1", 1)
        Glibc.close(file)
    }
}

/// The statfs(2) call of `ViewUnmount.daemonAnswers`, run on its own thread.
private final class StatfsProbe {
    let path: String
    /// Where one byte goes: 0 when the daemon answered. A late answer finds the reader
    /// gone and is dropped.
    let reply: Int32

    init(path: String, reply: Int32) {
        self.path = path
        self.reply = reply
    }

    func run() {
        var info = statfs()
        let answered = statfs(path, &info) == 0
        SocketPair.send([answered ? 0 : 1], on: reply)
        Glibc.close(reply)
    }
}
