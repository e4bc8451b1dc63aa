import CFuse3
import CheckpointFS
import CSystem
import Glibc

/// One libfuse low-level session serving a `ViewServer`.
///
/// The thin Swift side of fuse_session_new(3), fuse_session_mount(3),
/// fuse_set_signal_handlers(3), fuse_session_loop_mt(3) and their undoing.
final class FuseSession {
    private let session: OpaquePointer
    /// The server, retained for as long as the session can call into it.
    private let server: Unmanaged<ViewServer>
    private var mounted = false
    private var handlingSignals = false

    /// fuse_session_new(3) with `arguments` (program name first, then `-o` options).
    /// - Throws: `MountError.sessionRefused` when libfuse rejects an option; it names it on
    ///   standard error.
    init(arguments: [String], server: ViewServer) throws(MountError) {
        var operations = makeLowLevelOperations()
        let strings = arguments.map { strdup($0) }
        defer { strings.forEach { free($0) } }
        var argv = strings + [nil]
        let retained = Unmanaged.passRetained(server)
        let created = argv.withUnsafeMutableBufferPointer { pointers in
            var args = fuse_args(argc: Int32(strings.count), argv: pointers.baseAddress,
                                 allocated: 0)
            // fuse_opt_parse may replace argv with a copy of its own, which is freed here.
            defer { fuse_opt_free_args(&args) }
            return fuse_session_new(&args, &operations,
                                    MemoryLayout<fuse_lowlevel_ops>.size, retained.toOpaque())
        }
        guard let created else {
            retained.release()
            throw .sessionRefused(options: arguments.dropFirst().joined(separator: " "))
        }
        session = created
        self.server = retained
    }

    deinit {
        if handlingSignals { fuse_remove_signal_handlers(session) }
        if mounted { fuse_session_unmount(session) }
        fuse_session_destroy(session)
        server.release()
    }

    /// fuse_session_mount(3) at `mountPoint`, an absolute path.
    func mount(at mountPoint: String) throws(MountError) {
        guard fuse_session_mount(session, mountPoint) == 0 else {
            throw .mountFailed(mountPoint: mountPoint)
        }
        mounted = true
    }

    /// fuse_set_signal_handlers(3): SIGINT, SIGTERM and SIGHUP end the loop, which then
    /// unmounts; SIGPIPE is ignored.
    ///
    /// The three are also unblocked (pthread_sigmask(3)): a process inherits its parent's
    /// mask, and a daemon started from a thread that blocks them, as thread pools do,
    /// would otherwise never see them. The loop's threads inherit this thread's mask.
    func handleSignals() throws(MountError) {
        guard fuse_set_signal_handlers(session) == 0 else {
            throw .system(SystemError(errno: ckpt_errno(), operation: "sigaction", path: ""))
        }
        handlingSignals = true
        var stopping = sigset_t()
        sigemptyset(&stopping)
        for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&stopping, signal) }
        pthread_sigmask(SIG_UNBLOCK, &stopping, nil)
    }

    /// Receives and answers one request on this thread: called before `serve`, the kernel's
    /// INIT, which it sends first on every new connection (fuse_session_receive_buf(3),
    /// fuse_session_process_buf(3)). Once it returns, the kernel has applied what the
    /// connection settled, so the mount's settings can be changed on top of it.
    /// - Returns: false when nothing was received (a signal came, or the mount went); the
    ///   loop then sees the same.
    func serveInitRequest() -> Bool {
        var buffer = fuse_buf()
        defer { free(buffer.mem) }
        guard fuse_session_receive_buf(session, &buffer) > 0 else { return false }
        fuse_session_process_buf(session, &buffer)
        return true
    }

    /// Serves requests on a pool of threads until the mount goes or a signal arrives;
    /// fuse_session_loop_mt(3). Unmounts before it returns.
    /// - Returns: 0, or the negative errno that ended the loop.
    func serve() -> Int32 {
        let config = fuse_loop_cfg_create()
        defer { fuse_loop_cfg_destroy(config) }
        fuse_loop_cfg_set_clone_fd(config, 0)
        let status = fuse_session_loop_mt(session, config)
        if handlingSignals {
            fuse_remove_signal_handlers(session)
            handlingSignals = false
        }
        if mounted {
            fuse_session_unmount(session)
            mounted = false
        }
        // The loop reports the signal that ended it as a positive number: a clean stop.
        // ECONNABORTED means the kernel dropped the connection: seen when an unmount meets
        // requests still queued under heavy load, and after an abort through fusectl. The
        // mount is gone either way and nothing is left to serve, as with ENODEV.
        if status == -ECONNABORTED { return 0 }
        return min(status, 0)
    }
}
