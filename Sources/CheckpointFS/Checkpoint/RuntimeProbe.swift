import CSystem
import Foundation
import Glibc

/// Asks an OCI runtime binary whether it can checkpoint, and whether it can restore into a
/// pod, the way podman decides before it tries.
///
/// A runtime that cannot be started, fails, or does not answer in time is "not supported":
/// the probe never throws.
public struct RuntimeProbe: Sendable {
    /// The runtime: a path, or a name looked up in `PATH`.
    public var runtime: String
    /// How long one probe may run before the runtime and its children are killed.
    public var timeout: Duration

    public init(runtime: String, timeout: Duration = .seconds(10)) {
        self.runtime = runtime
        self.timeout = timeout
    }

    /// The answer to one question.
    public enum Answer: Sendable, Equatable {
        case supported
        /// Why not, in words for the user.
        case unsupported(reason: String)
    }

    /// Checkpoint support: `RUNTIME checkpoint --help` exits with status 0.
    public func checkpointSupport() -> Answer {
        let arguments = ["checkpoint", "--help"]
        switch RuntimeRun(runtime: runtime, arguments: arguments, timeout: timeout).outcome {
        case .exited(0, _):
            return .supported
        case let other:
            return .unsupported(reason: describe(other, arguments))
        }
    }

    /// Restoring into a pod: `RUNTIME restore --lsm-mount-context` complains that the flag
    /// needs an argument, which only a runtime that knows the flag does.
    public func podRestoreSupport() -> Answer {
        let arguments = ["restore", "--lsm-mount-context"]
        let outcome = RuntimeRun(runtime: runtime, arguments: arguments, timeout: timeout)
            .outcome
        switch outcome {
        case .exited(_, let output), .signalled(_, let output), .timedOut(let output):
            if output.contains(Self.needsArgument) { return .supported }
            if case .exited = outcome {
                return .unsupported(reason: "'\(shown(arguments))' does not say that "
                                    + "the flag needs an argument: the runtime lacks it")
            }
            return .unsupported(reason: describe(outcome, arguments))
        case .couldNotStart:
            return .unsupported(reason: describe(outcome, arguments))
        }
    }

    /// What runc and crun print for a flag given without its value.
    static let needsArgument = Array("flag needs an argument".utf8)

    private func shown(_ arguments: [String]) -> String {
        ([runtime] + arguments).joined(separator: " ")
    }

    private func describe(_ outcome: RuntimeRun.Outcome, _ arguments: [String]) -> String {
        switch outcome {
        case .exited(let status, _):
            return "'\(shown(arguments))' exited with status \(status)"
        case .signalled(let signal, _):
            return "'\(shown(arguments))' was killed by signal \(signal)"
        case .timedOut:
            return "'\(shown(arguments))' did not finish within \(timeout)"
        case .couldNotStart(let code):
            return "cannot run \(runtime): \(String(cString: strerror(code)))"
        }
    }
}

/// One run of a runtime with its standard output and error captured together, standard
/// input from /dev/null, in a process group of its own so a timeout kills its children too.
struct RuntimeRun {
    enum Outcome: Equatable {
        case exited(Int32, output: [UInt8])
        case signalled(Int32, output: [UInt8])
        case timedOut(output: [UInt8])
        /// posix_spawnp(3) failed: missing, not executable, bad interpreter.
        case couldNotStart(errno: Int32)
    }

    /// Output beyond this is read and dropped.
    static let outputLimit = 1 << 20
    /// How often a runtime that has closed its output is checked for having exited.
    static let pollInterval: Int32 = 20

    let outcome: Outcome

    init(runtime: String, arguments: [String], timeout: Duration) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            outcome = .couldNotStart(errno: ckpt_errno())
            return
        }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        defer { _ = close(readEnd) }
        // Only the copies dup2'ed onto 1 and 2 belong in the runtime.
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        let spawned = Self.spawn(runtime, arguments, output: writeEnd)
        _ = close(writeEnd)
        switch spawned {
        case .failure(let error):
            outcome = .couldNotStart(errno: error.errno)
        case .success(let pid):
            outcome = Self.collect(pid, readEnd, deadline: ContinuousClock.now + timeout)
        }
    }

    /// posix_spawnp(3) with the file actions and attributes described above.
    private static func spawn(_ runtime: String, _ arguments: [String], output: Int32)
        -> Result<pid_t, SystemError>
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let argv = ([runtime] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        var code = posix_spawnp(&pid, runtime, &actions, &attributes, argv, envp)
        // ETXTBSY: another process still holds the program open for writing, as for a moment
        // after it was written while something else forks. Give it a few chances to close.
        for attempt in 1...5 where code == ETXTBSY {
            usleep(useconds_t(20_000 * attempt))
            code = posix_spawnp(&pid, runtime, &actions, &attributes, argv, envp)
        }
        guard code == 0 else {
            return .failure(SystemError(errno: code, operation: "posix_spawnp", path: runtime))
        }
        return .success(pid)
    }

    /// Reads the output until the runtime has exited and closed it, or the deadline passes.
    private static func collect(_ pid: pid_t, _ readEnd: Int32, deadline: ContinuousClock.Instant)
        -> Outcome
    {
        var output: [UInt8] = []
        var endOfOutput = false
        var status: Int32?

        while true {
            if !endOfOutput {
                endOfOutput = read(readEnd, into: &output, waiting: pollInterval)
            } else {
                _ = poll(nil, 0, pollInterval)  // only waiting for the exit now
            }
            if status == nil { status = reap(pid, blocking: false) }

            if let status {
                // It exited: what it wrote is in the pipe; children that still hold the pipe
                // open are not waited for.
                while !endOfOutput && hasInput(readEnd) {
                    endOfOutput = read(readEnd, into: &output, waiting: 0)
                }
                _ = kill(-pid, SIGKILL)
                return decode(status, output)
            }
            if ContinuousClock.now >= deadline {
                _ = kill(-pid, SIGKILL)
                _ = reap(pid, blocking: true)
                return .timedOut(output: output)
            }
        }
    }

    /// Waits up to `milliseconds` for output and reads what there is.
    /// - Returns: whether the output has ended (end of file or a read error).
    private static func read(_ fd: Int32, into output: inout [UInt8], waiting milliseconds: Int32)
        -> Bool
    {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, milliseconds)
        guard ready > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0 { return ckpt_errno() != EINTR && ckpt_errno() != EAGAIN }
        if count == 0 { return true }
        let room = max(0, outputLimit - output.count)
        output.append(contentsOf: chunk[0..<min(count, room)])
        return false
    }

    private static func hasInput(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    /// waitpid(2); the raw status, or nil while the child runs (non-blocking).
    private static func reap(_ pid: pid_t, blocking: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { return status }
            if result == -1 && ckpt_errno() == EINTR { continue }
            return nil
        }
    }

    /// WIFEXITED/WEXITSTATUS and WTERMSIG by hand: the macros do not import.
    private static func decode(_ status: Int32, _ output: [UInt8]) -> Outcome {
        let signal = status & 0x7f
        return signal == 0
            ? .exited((status >> 8) & 0xff, output: output)
            : .signalled(signal, output: output)
    }
}
