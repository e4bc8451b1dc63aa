import CFuse3
import Glibc
import Synchronization

/// The daemon's messages: standard error in the foreground, syslog(3) once detached, when
/// standard error is gone. libfuse's own messages follow the same way.
enum DaemonLog {
    private static let detached = Atomic<Bool>(false)

    /// From now on write to syslog as `checkpointfs[PID]`, libfuse's messages included.
    static func detach() {
        openlog("checkpointfs", LOG_PID, LOG_DAEMON)
        detached.store(true, ordering: .releasing)
        fuse_set_log_func { level, format, arguments in
            guard let format, let arguments else { return }
            var text = [UInt8](repeating: 0, count: 1024)
            text.withUnsafeMutableBytes {
                _ = vsnprintf($0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count,
                              format, arguments)
            }
            let message = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
            DaemonLog.write(priority: Int32(level.rawValue), message)
        }
    }

    static func error(_ message: String) { write(priority: LOG_ERR, message) }
    static func info(_ message: String) { write(priority: LOG_INFO, message) }

    /// `priority` is a syslog level; libfuse's `fuse_log_level` uses the same numbers.
    private static func write(priority: Int32, _ message: String) {
        if detached.load(ordering: .acquiring) {
            message.withCString { text in withVaList([text]) { vsyslog(priority, "%s", $0) } }
        } else {
            let line = message.hasSuffix("\n") ? message : message + "\n"
            _ = line.utf8CString.withUnsafeBufferPointer {
                Glibc.write(2, $0.baseAddress, $0.count - 1)
            }
        }
    }
}
